"""Who is calling: a token's identity on a shared gateway, a credential's hash otherwise.

Once any token was issued (or `COGATE_TOKEN`, the identity `default`) every request must
carry a valid token: in `x-cogate-token`, or as `Authorization: Bearer <token>` when the
gateway holds the upstream credential itself (`COGATE_UPSTREAM_API_KEY`), the habit of apps
that can set only a base URL and an API key. Each issuance is an identity of its own
(`audit.tokens.identity_id`). Without tokens (personal mode) the identity is a keyed hash
of the caller's upstream credential, so two API keys never share a pseudonym vault; a
request with no credential is an identity of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from cogate.audit.paths import LedgerPaths
from cogate.audit.tokens import TOKEN_PREFIX, TokenStore, identity_id, token_hash
from cogate.core.errors import GatewayError, Unauthorized
from cogate.core.private_files import create_once, private_dir
from cogate.core.settings import Settings
from starlette.datastructures import Headers

TOKEN_HEADER = "x-cogate-token"
KEY_FILE = "identity-hmac.key"
DEFAULT_IDENTITY = "default"


@dataclass(frozen=True)
class Caller:
    identity: str
    # Apps whose routes this caller may use; None in personal mode (the header selects).
    bound_apps: tuple[str, ...] | None
    metrics_label: str
    # The token came as `Authorization: Bearer`: that header is the gateway's, not the app's
    # upstream credential, and must never be forwarded.
    bearer: bool = False


def identity_key(data_dir: Path) -> bytes:
    """The installation's key for hashing credentials into identities (owner-only)."""
    keys = private_dir(LedgerPaths(data_dir).keys_dir)
    return bytes.fromhex(create_once(keys / KEY_FILE, secrets.token_hex(32).encode()).decode())


class Identities:
    def __init__(self, settings: Settings, store: TokenStore) -> None:
        self.settings = settings
        self.store = store
        self._key = identity_key(settings.data_dir)
        # The data dir's SQLite file answers a token look-up in microseconds (a WAL reader
        # never waits for the ledger's writer): less than a hop to a worker thread costs. A
        # shared database is a network round trip and must stay off the event loop.
        self.local = settings.database_url is None

    def shared(self) -> bool:
        # Revoking the last token must not turn the gateway back into an open personal one.
        return self.settings.token is not None or self.store.any_issued()

    def authenticate(self, headers: Headers) -> Caller:
        """The caller of a request; raises Unauthorized on a shared gateway without a token.

        Fails closed: when the token store cannot be read (a shared database down), the
        request is refused with 503 rather than let through as personal mode.
        """
        try:
            return self._authenticate(headers)
        except GatewayError:
            raise
        except Exception:  # noqa: BLE001 - any store failure refuses; the type is logged only
            raise GatewayError(
                "cannot check access tokens: the token store is unavailable; check the "
                "gateway's database (`cogate tokens list`) and retry",
                status=503,
                code="token_store_unavailable",
            ) from None

    def _authenticate(self, headers: Headers) -> Caller:
        if not self.shared():
            return self._personal(headers)
        sent, bearer = self._presented(headers)
        configured = self.settings.token
        if configured is not None and hmac.compare_digest(
            sent.encode(), configured.get_secret_value().encode()
        ):
            return Caller(DEFAULT_IDENTITY, (), DEFAULT_IDENTITY, bearer)
        digest = token_hash(sent)
        found = self.store.lookup_by_hash(digest) if sent else None
        if found is None:
            raise Unauthorized(
                "this gateway requires an access token: send a valid one in the x-cogate-token "
                "header, or as `Authorization: Bearer <token>` when the gateway holds the "
                "upstream key (its operator creates tokens with `cogate tokens add NAME`)"
            )
        return Caller(identity_id(found.name, digest), found.apps, found.name, bearer)

    def _presented(self, headers: Headers) -> tuple[str, bool]:
        """The token the request presents, and whether it came as the Bearer credential."""
        sent = headers.get(TOKEN_HEADER, "")
        if sent:
            return sent, False
        scheme, _, value = headers.get("authorization", "").partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value or not self._is_gateway_token(value):
            return "", False
        if self.settings.upstream_api_key is None:
            # Accepting it would leave the request without an upstream credential, and
            # forwarding it would hand the gateway's token to the upstream.
            raise Unauthorized(
                "a cogate token was sent as the Bearer credential, but this gateway holds no "
                "upstream key to send in its place: send the token in x-cogate-token and the "
                "upstream key as Bearer, or have the operator set COGATE_UPSTREAM_API_KEY"
            )
        return value, True

    def _is_gateway_token(self, value: str) -> bool:
        configured = self.settings.token
        if configured is not None and hmac.compare_digest(
            value.encode(), configured.get_secret_value().encode()
        ):
            return True
        return value.startswith(TOKEN_PREFIX)

    def _personal(self, headers: Headers) -> Caller:
        credential = headers.get("authorization") or headers.get("x-api-key")
        if not credential:
            # No credential to tell callers apart: this request gets a vault of its own.
            return Caller("anonymous:" + secrets.token_hex(8), None, "personal")
        digest = hmac.new(self._key, credential.encode(), hashlib.sha256).hexdigest()
        return Caller("personal:" + digest[:16], None, "personal")
