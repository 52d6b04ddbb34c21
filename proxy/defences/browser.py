"""Browser defences: a web page must not be able to use the gateway on the user's behalf.

DNS rebinding gives a page a name that resolves to loopback, so only Host values that name
the gateway are served (421 otherwise). A cross-site form or `no-cors` fetch cannot send
`application/json` without a CORS preflight (which the gateway never answers), so POST
bodies must declare it (415). A request that carries a foreign Origin is refused (403).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from cogate.core.errors import error_body
from cogate.core.settings import Settings, is_loopback

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WILDCARD_BINDS = ("0.0.0.0", "::", "")
BODY_METHODS = ("POST", "PUT", "PATCH")


def host_name(value: str) -> str:
    """The name in a Host header, without port, brackets or trailing dot, lower-cased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else ""
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def allowed_hosts(settings: Settings) -> frozenset[str]:
    names = {"localhost", *(host_name(h) for h in settings.public_hosts)}
    if settings.host not in WILDCARD_BINDS:
        names.add(host_name(settings.host))
    return frozenset(names)


def _has_body(headers: dict[str, str]) -> bool:
    # A request without a body carries no data to smuggle; it gets its 400/404/405 as usual.
    return headers.get("content-length", "0").strip() != "0" or "transfer-encoding" in headers


def media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


class BrowserGuard:
    """ASGI middleware refusing requests a browser could have been tricked into sending."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.hosts = allowed_hosts(settings)
        self.origins = frozenset(o.strip().lower().rstrip("/") for o in settings.allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.check(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, message, code = refusal
        body = json.dumps(error_body(message, "invalid_request_error", code)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def check(self, scope: Scope) -> tuple[int, str, str] | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        name = host_name(headers.get("host", ""))
        if not (name in self.hosts or (name and is_loopback(name))):
            return (
                421,
                "this gateway does not serve that Host; use a loopback address or start "
                "`cogate serve` with --public-host NAME",
                "misdirected_request",
            )
        origin = headers.get("origin")
        if origin is not None and origin.strip().lower().rstrip("/") not in self.origins:
            return (
                403,
                "requests from a web page's Origin are refused; start `cogate serve` with "
                "--allow-origin ORIGIN to allow one",
                "origin_not_allowed",
            )
        if scope["method"] in BODY_METHODS and _has_body(headers):
            kind = media_type(headers.get("content-type", ""))
            if kind != "application/json":
                return (
                    415,
                    f"request bodies must be sent as Content-Type: application/json, not "
                    f"{kind[:40] or 'none'!r}",
                    "unsupported_media_type",
                )
        return None
