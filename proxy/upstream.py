"""The shared upstream HTTP client: pooled, explicit timeouts, never reads proxy variables."""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from cogate.core.settings import Settings

# Headers that describe one hop or one encoding and must not be copied between connections.
HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
        "host",
        "set-cookie",
    }
)


def no_cookies() -> CookieJar:
    """A jar that keeps nothing: the one client serves every caller, so a cookie the upstream
    sets for one request must never ride along on another caller's request."""
    return CookieJar(DefaultCookiePolicy(allowed_domains=[]))


def build_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """One client per process. `trust_env=False`: a proxy variable must never loop traffic
    back through an interceptor, and no .netrc credential may be attached."""
    return httpx.AsyncClient(
        cookies=no_cookies(),
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        ),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        trust_env=False,
        follow_redirects=False,
        transport=transport,
    )


def response_headers(headers: httpx.Headers) -> dict[str, str]:
    """Upstream response headers worth relaying to the app."""
    return {k: v for k, v in headers.items() if k.lower() not in HOP_HEADERS}
