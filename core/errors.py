"""Errors the gateway turns into OpenAI-shaped responses.

Library code raises these (or plain exceptions); only the HTTP edge turns them into
`{"error": {"message", "type", "code"}}` bodies. Messages never carry a private value.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """A refusal with an HTTP status and an OpenAI-shaped body."""

    status: int = 500
    type: str = "cogate_error"
    code: str = "internal_error"
    # A refusal the policy decided (not a fault): the pipeline records it in the ledger as an
    # entry of kind `refusal`.
    refusal: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type
        if code is not None:
            self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.code, self.param)


class BadRequest(GatewayError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class Unauthorized(GatewayError):
    status = 401
    type = "authentication_error"
    code = "cogate_token_required"


class PolicyBlocked(GatewayError):
    """The policy forbids sending this request (a blocked entity type, unscannable content)."""

    status = 403
    type = "cogate_policy_violation"
    code = "blocked_by_policy"
    refusal = True


class SensitiveTaskRefused(BadRequest):
    """The task states a sensitive matter the policy keeps local, and no local mode runs."""

    code = "sensitive_task_refused"
    refusal = True


class StageFailed(GatewayError):
    """A pipeline stage raised: the request is refused and nothing is forwarded."""

    status = 500
    type = "cogate_error"
    code = "pipeline_stage_failed"


class LedgerUnavailable(GatewayError):
    status = 503
    type = "cogate_error"
    code = "audit_ledger_unavailable"


class UpstreamUnreachable(GatewayError):
    status = 502
    type = "upstream_error"
    code = "upstream_unreachable"


class UpstreamTimeout(GatewayError):
    status = 504
    type = "upstream_error"
    code = "upstream_timeout"


class Overloaded(GatewayError):
    status = 503
    type = "cogate_error"
    code = "overloaded"


class QuotaExceeded(GatewayError):
    """One caller reached its own share of the gateway's state (vaults, stored ids); other
    callers are not affected, and nothing of theirs is evicted to make room."""

    status = 429
    type = "cogate_quota_exceeded"
    code = "quota_exceeded"


class NotFound(GatewayError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


def error_body(message: str, type: str, code: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "code": code, "param": param}}
