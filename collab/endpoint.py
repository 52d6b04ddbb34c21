"""Where the user's own model runtime lives, checked once at start-up: the local model must be
local.

`--local-url` is an OpenAI-compatible base URL or `unix:/path/to/socket`. A URL's host is
resolved once, here, and every later call goes to that pinned address (no DNS rebinding onto
another host). Every address must be loopback; any other host is refused unless the user
named it with `--local-allow-host`, and then the endpoint is `remote`: each call to it is an
egress ledger entry, because the private context then leaves this device.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

UNIX_BASE_PATH = "/v1"  # a socket serves the API under the usual prefix

Resolver = Callable[[str, int], list[str]]


class RuntimeNotLocal(ValueError):
    """The runtime's URL leaves this device and the user did not allow its host."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Endpoint:
    """The runtime's address as pinned at start-up."""

    url: str  # as the user gave it (shown in errors and /cogate/health)
    base_path: str  # "/v1"
    scheme: str  # "http" | "https" | "unix"
    host: str = ""  # the name the user gave ("" for a socket)
    port: int = 0
    address: str = ""  # the pinned IP address ("" for a socket)
    socket_path: str = ""
    remote: bool = False  # an allowed non-loopback host: every call is an egress entry

    @property
    def netloc(self) -> str:
        """What the ledger names as the destination host."""
        if self.scheme == "unix":
            return f"unix:{self.socket_path}"
        return f"{self.host}:{self.port}"

    def request_url(self, path: str) -> str:
        """The URL a call is sent to: the pinned address, never the name again."""
        target = f"{self.base_path}/{path.lstrip('/')}"
        if self.scheme == "unix":
            return f"http://localhost{target}"
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{host}:{self.port}{target}"

    def headers(self) -> dict[str, str]:
        """The Host header of the name the user gave (virtual hosts, TLS)."""
        if self.scheme == "unix":
            return {"host": "localhost"}
        return {"host": self.host if self.port in (80, 443) else f"{self.host}:{self.port}"}

    def extensions(self) -> dict[str, Any]:
        # TLS to a pinned address still checks the certificate against the name given.
        return {"sni_hostname": self.host} if self.scheme == "https" else {}

    def client(self, timeout: httpx.Timeout) -> httpx.AsyncClient:
        """An HTTP client for this runtime: no proxies from the environment, no redirects."""
        transport = httpx.AsyncHTTPTransport(uds=self.socket_path or None, retries=0)
        return httpx.AsyncClient(
            transport=transport, trust_env=False, follow_redirects=False, timeout=timeout
        )


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def resolve_endpoint(
    url: str, allow_hosts: Sequence[str] = (), resolver: Resolver = system_resolver
) -> Endpoint:
    """Check and pin the runtime's URL; raises RuntimeNotLocal naming the rule."""
    if url.startswith("unix:"):
        path = url.removeprefix("unix:")
        if not path.startswith("/"):
            raise RuntimeNotLocal(
                f"--local-url {url}: a unix socket needs an absolute path, e.g. unix:/run/llm.sock"
            )
        return Endpoint(url, UNIX_BASE_PATH, "unix", socket_path=path)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RuntimeNotLocal(
            f"--local-url {url!r} is neither an http(s) URL nor unix:/path; give e.g. "
            "http://127.0.0.1:11434/v1"
        )
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolver(host, port)
    except OSError as exc:
        raise RuntimeNotLocal(
            f"--local-url {url}: cannot resolve {host} ({type(exc).__name__}); give an "
            "address such as 127.0.0.1"
        ) from None
    if not addresses:
        raise RuntimeNotLocal(f"--local-url {url}: {host} resolves to no address")
    allowed = host.lower() in {h.strip().lower() for h in allow_hosts}
    outside = [a for a in addresses if not _is_loopback(a)]
    if outside and not allowed:
        raise RuntimeNotLocal(
            f"the local model must be local: --local-url {url} resolves to "
            f"{', '.join(outside)}, which is not a loopback address (127.0.0.0/8, ::1) nor a "
            f"unix socket. Run the runtime on loopback, or, if the private context may leave "
            f"this device for {host}, name it with --local-allow-host {host} "
            "(COGATE_LOCAL_ALLOW_HOSTS); every call to it is then an egress entry in the ledger"
        )
    # Pinned: a loopback address when there is one, else the first the resolver gave.
    address = next((a for a in addresses if _is_loopback(a)), addresses[0])
    return Endpoint(
        url,
        parts.path.rstrip("/"),
        parts.scheme,
        host=host,
        port=port,
        address=address,
        remote=bool(outside),
    )
