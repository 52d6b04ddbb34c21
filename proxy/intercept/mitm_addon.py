"""cogate's mitmproxy addon: intercepted LLM API calls go to the cogate gateway, never the cloud.

Runs inside mitmproxy's own interpreter (`mitmdump -s mitm_addon.py`), so it imports only
mitmproxy and the standard library. `cogate intercept` starts it with the right options.
"""

# No `from __future__ import annotations`: mitmproxy loads this file without registering it in
# sys.modules, and dataclasses with string annotations then fail to build.
import json
import logging
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mitmproxy import ctx, exceptions, http
from mitmproxy.proxy import server_hooks

log = logging.getLogger("cogate.intercept")

# Keep equal to cogate.proxy.intercept.secret (checked by a test): the addon cannot import cogate.
DESTINATION_HEADER = "x-cogate-destination"
SECRET_HEADER = "x-cogate-intercept-secret"
TOKEN_HEADER = "x-cogate-token"
APP_HEADER = "x-cogate-app"
DEFAULT_HOSTS = ("api.openai.com",)
READY_LINE = "cogate intercept: addon ready"
NOT_READY = "cogate intercept: addon not ready"
STARTUP_FAILED = "cogate intercept: addon cannot start"
LAZY_REQUIRED = (
    "connection_strategy must be lazy: with eager, mitmproxy connects to the real LLM host "
    "as soon as the app opens its tunnel"
)

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


@dataclass(frozen=True)
class Gateway:
    scheme: str
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


@dataclass(frozen=True)
class Config:
    gateway: Gateway
    hosts: frozenset[str]
    secret_file: Path
    app: str | None
    token: str | None


def parse_gateway(value: str) -> Gateway:
    """`http://127.0.0.1:8787` (a trailing `/v1` is accepted: the addon keeps the app's path)."""
    if not value:
        raise ValueError(
            "cogate_gateway is not set: pass the gateway URL, e.g. http://127.0.0.1:8787"
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"cogate_gateway must be an http(s) URL such as http://127.0.0.1:8787, got {value!r}"
        )
    if parts.path.rstrip("/") not in ("", "/v1") or parts.query or parts.fragment:
        raise ValueError(
            f"cogate_gateway must be the gateway's origin (http://HOST:PORT), got {value!r}: "
            "the app's own /v1/... path is kept"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValueError(f"cogate_gateway has an invalid port: {value!r}") from None
    return Gateway(parts.scheme, parts.hostname, port)


def parse_hosts(values: Sequence[str]) -> frozenset[str]:
    """Intercepted host names, lower-cased; at least one, no wildcards or ports."""
    hosts = set()
    for raw in values:
        for item in raw.split(","):
            host = item.strip().lower().rstrip(".")
            if not host:
                continue
            if not _HOSTNAME.match(host):
                raise ValueError(
                    f"cogate_hosts entry {item.strip()!r} is not a host name; list names such as "
                    "api.openai.com (no scheme, port or wildcard)"
                )
            hosts.add(host)
    if not hosts:
        raise ValueError(
            "cogate_hosts is empty: list at least one host to intercept, e.g. api.openai.com"
        )
    return frozenset(hosts)


def allow_pattern(host: str) -> str:
    """The `allow_hosts` regex that decrypts exactly this host (mitmproxy matches `host:port`)."""
    return "^" + re.escape(host) + r"(:\d+)?$"


def check_passthrough(
    hosts: frozenset[str], allow_hosts: Sequence[str], ignore_hosts: Sequence[str]
) -> None:
    """An intercepted host that mitmproxy tunnels undecrypted would reach the cloud directly."""
    for host in sorted(hosts):
        for probe in (f"{host}:443", f"{host}:80"):
            allowed = not allow_hosts or any(
                re.search(r, probe, re.IGNORECASE) for r in allow_hosts
            )
            ignored = any(re.search(r, probe, re.IGNORECASE) for r in ignore_hosts)
            if not allowed or ignored:
                raise ValueError(
                    f"{host} is intercepted but mitmproxy's allow_hosts/ignore_hosts would pass "
                    f"{probe} through undecrypted, straight to the cloud; add "
                    f"{allow_pattern(host)!r} to allow_hosts and remove it from ignore_hosts"
                )


def parse_config(
    *,
    gateway: str,
    hosts: Sequence[str],
    secret_file: str,
    app: str,
    token: str | None,
    connection_strategy: str,
    allow_hosts: Sequence[str],
    ignore_hosts: Sequence[str],
) -> Config:
    if connection_strategy != "lazy":
        raise ValueError(LAZY_REQUIRED)
    if not secret_file:
        raise ValueError("cogate_secret_file is not set: pass DATA_DIR/intercept-secret")
    parsed_hosts = parse_hosts(hosts)
    check_passthrough(parsed_hosts, allow_hosts, ignore_hosts)
    return Config(
        gateway=parse_gateway(gateway),
        hosts=parsed_hosts,
        secret_file=Path(secret_file).expanduser(),
        app=app or None,
        token=token or None,
    )


class SecretFile:
    """The shared secret written by the gateway at start; re-read whenever the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: tuple[int, int, int] | None = None
        self._value = ""

    def read(self) -> str:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            raise ValueError(
                f"no intercept secret at {self.path}: start `cogate serve` with the same "
                "--data-dir as `cogate intercept`"
            ) from None
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ValueError(
                f"{self.path} is readable by other users; restart `cogate serve` to rewrite it"
            )
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise ValueError(f"{self.path} belongs to another user; run cogate as the same user")
        key = (info.st_ino, info.st_mtime_ns, info.st_size)
        if key != self._key:
            value = self.path.read_text(encoding="ascii").strip()
            if not value:
                raise ValueError(f"{self.path} is empty; restart `cogate serve` to rewrite it")
            self._key, self._value = key, value
        return self._value


def error_response(status: int, message: str, code: str) -> http.Response:
    body = {"error": {"message": message, "type": "cogate_error", "code": code, "param": None}}
    return http.Response.make(status, json.dumps(body), {"content-type": "application/json"})


class CogateIntercept:
    def __init__(self) -> None:
        self.config: Config | None = None
        self.problem: str | None = "the addon has not been configured yet"
        self.secret: SecretFile | None = None
        # Known even before the configuration is complete, for the guards.
        self.hosts: frozenset[str] = frozenset(DEFAULT_HOSTS)

    def load(self, loader) -> None:
        loader.add_option(
            "cogate_gateway",
            str,
            "",
            "URL of the cogate gateway that receives intercepted LLM API calls, e.g. http://127.0.0.1:8787.",
        )
        loader.add_option(
            "cogate_hosts",
            Sequence[str],
            list(DEFAULT_HOSTS),
            "Hosts whose API calls go to the gateway; never connected to directly.",
        )
        loader.add_option(
            "cogate_secret_file",
            str,
            "",
            "File holding the secret shared with the gateway (DATA_DIR/intercept-secret).",
        )
        loader.add_option(
            "cogate_app",
            str,
            "",
            "App name sent as x-cogate-app when the app sends none (policy routing, audit).",
        )

    def configure(self, updated: set[str]) -> None:
        watched = {
            "cogate_gateway",
            "cogate_hosts",
            "cogate_secret_file",
            "cogate_app",
            "connection_strategy",
            "allow_hosts",
            "ignore_hosts",
        }
        if not updated & watched:
            return
        opts = ctx.options
        # A malformed value is refused outright (mitmproxy then rolls it back) ...
        try:
            if "cogate_gateway" in updated and opts.cogate_gateway:
                parse_gateway(opts.cogate_gateway)
            if "cogate_hosts" in updated:
                self.hosts = parse_hosts(opts.cogate_hosts)
        except ValueError as exc:
            raise exceptions.OptionsError(str(exc)) from None
        # ... while an incomplete or unsafe setup (eager connections, undecrypted LLM hosts) only
        # leaves the addon not ready: it refuses every intercepted call until it is. Raising here
        # too would make mitmproxy's rollback re-validate the defaults and report their error.
        try:
            self.config = parse_config(
                gateway=opts.cogate_gateway,
                hosts=opts.cogate_hosts,
                secret_file=opts.cogate_secret_file,
                app=opts.cogate_app,
                # From the environment, not an option: options show up in the process list.
                token=os.environ.get("COGATE_TOKEN"),
                connection_strategy=opts.connection_strategy,
                allow_hosts=opts.allow_hosts,
                ignore_hosts=opts.ignore_hosts,
            )
        except ValueError as exc:
            self.config, self.problem = None, str(exc)
            log.warning("%s: %s", NOT_READY, self.problem)
            return
        self.problem = None
        self.hosts = self.config.hosts
        if self.secret is None or self.secret.path != self.config.secret_file:
            self.secret = SecretFile(self.config.secret_file)

    def running(self) -> None:
        # `cogate intercept` waits for one of these lines before it reports the proxy as ready.
        if self.config is None:
            log.error("%s: %s", STARTUP_FAILED, self.problem)
        else:
            log.warning(
                "%s: %s -> %s",
                READY_LINE,
                ",".join(sorted(self.config.hosts)),
                self.config.gateway.url,
            )

    def is_intercepted(self, flow: http.HTTPFlow) -> bool:
        hosts = self.hosts
        names = {flow.request.host, flow.request.pretty_host}
        if flow.server_conn.address:
            names.add(flow.server_conn.address[0])
        if flow.client_conn.sni:
            names.add(flow.client_conn.sni)
        return any(name and name.lower().rstrip(".") in hosts for name in names)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        # Redirect here, not in `request`: by then a streamed request already has its connection.
        if flow.response or flow.error or not self.is_intercepted(flow):
            return
        destination = flow.request.host.lower().rstrip(".")
        if destination not in self.hosts:
            destination = (flow.request.pretty_host or "").lower().rstrip(".")
        flow.metadata["cogate_destination"] = destination
        try:
            self._redirect(flow, destination)
        except Exception as exc:
            # mitmproxy logs addon errors and lets the flow go on: refuse it ourselves instead.
            log.error("cogate intercept refused a request to %s: %s", destination, exc)
            flow.request.stream = False
            flow.response = error_response(
                503,
                f"cogate intercept could not route this request through the gateway: {exc}",
                "intercept_unavailable",
            )

    def _redirect(self, flow: http.HTTPFlow, destination: str) -> None:
        if self.config is None or self.secret is None:
            raise ValueError(self.problem or "the addon is not configured")
        secret = self.secret.read()
        request, gateway = flow.request, self.config.gateway
        # An app must not choose its own destination hint or credentials for the gateway.
        for name in (DESTINATION_HEADER, SECRET_HEADER, TOKEN_HEADER):
            request.headers.pop(name, None)
        request.scheme = gateway.scheme
        request.host = gateway.host
        request.port = gateway.port
        request.host_header = f"{gateway.host}:{gateway.port}"
        request.headers[DESTINATION_HEADER] = destination
        request.headers[SECRET_HEADER] = secret
        if self.config.token:
            request.headers[TOKEN_HEADER] = self.config.token
        if self.config.app and APP_HEADER not in request.headers:
            request.headers[APP_HEADER] = self.config.app

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        # Without this mitmproxy buffers the whole answer and SSE events arrive all at once.
        if "cogate_destination" in flow.metadata and flow.response is not None:
            flow.response.stream = True

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        """Fail closed: whatever happened before, never open a connection to an intercepted host."""
        hosts = self.hosts | (self.config.hosts if self.config else frozenset())
        server = data.server
        names = {server.sni, server.address[0] if server.address else None}
        for name in names:
            if name and str(name).lower().rstrip(".") in hosts:
                data.server.error = (
                    f"cogate intercept refuses direct connections to {name}: its API calls go "
                    "through the cogate gateway only"
                )
                log.error("refused a direct connection to intercepted host %s", name)
                return


addons = [CogateIntercept()]
