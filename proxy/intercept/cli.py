"""`cogate intercept` and `cogate intercept ca`: the CLI over mitmdump supervision
(intercept_mitmdump) and the CA files (intercept_ca), for apps that cannot change their
base URL.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from cogate.core.private_files import private_dir
from cogate.core.settings_flags import build_settings
from cogate.proxy.intercept.ca import prepare_ca
from cogate.proxy.intercept.mitmdump import (
    InterceptError,
    find_mitmdump,
    mitmdump_command,
    run_mitmdump,
)
from cogate.proxy.intercept.secret import secret_path

DEFAULT_LISTEN = "127.0.0.1:8080"
DEFAULT_HOSTS = ("api.openai.com",)


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{value!r}: use HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host, int(port)


@click.group(invoke_without_command=True)
@click.option("--gateway", help="URL of `cogate serve` (default http://COGATE_HOST:COGATE_PORT).")
@click.option(
    "--listen", default=DEFAULT_LISTEN, show_default=True, help="HOST:PORT for the proxy."
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data dir `cogate serve` uses (holds the CA and the shared secret).",
)
@click.option(
    "--intercept-host",
    "hosts",
    multiple=True,
    help="Host whose API calls go to the gateway (repeatable; default api.openai.com).",
)
@click.option(
    "--mode",
    default="regular",
    show_default=True,
    help="mitmproxy mode: regular (HTTPS_PROXY), reverse:https://api.openai.com@443 "
    "(hosts-file entry), local:APP (capture a process; root).",
)
@click.option("--app", help="App name sent as x-cogate-app when the app sends none.")
@click.option("--mitmdump", envvar="COGATE_MITMDUMP", help="Path to mitmdump (default .mitm-venv).")
@click.pass_context
def intercept(
    ctx: click.Context,
    gateway: str | None,
    listen: str,
    data_dir: Path | None,
    hosts: tuple[str, ...],
    mode: str,
    app: str | None,
    mitmdump: str | None,
) -> None:
    """Route apps' LLM API calls through the gateway via mitmproxy; other traffic passes untouched.

    Start `cogate serve` with the same --data-dir, then point apps at the proxy with the lines
    `cogate intercept ca` prints (HTTPS_PROXY and the CA bundle). Runs until stopped.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = build_settings(data_dir=data_dir)
    listen_at = parse_listen(listen)
    if gateway is None:
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        gateway = f"http://{host}:{settings.port}"
    hosts = tuple(h.strip().lower() for h in hosts if h.strip()) or DEFAULT_HOSTS
    try:
        tool = find_mitmdump(mitmdump)
        private_dir(settings.data_dir)
        ca = prepare_ca(settings.data_dir, str(tool))
    except InterceptError as exc:
        raise click.ClickException(str(exc)) from None
    if not secret_path(settings.data_dir).exists():
        click.echo(
            f"note: no gateway secret in {settings.data_dir} yet; start `cogate serve --data-dir "
            f"{settings.data_dir}` or intercepted calls are refused",
            err=True,
        )
    cmd = mitmdump_command(
        tool,
        gateway=gateway,
        listen=listen_at,
        data_dir=settings.data_dir,
        hosts=hosts,
        mode=mode,
        app=app,
    )
    env = dict(os.environ)
    if settings.token is not None:
        env["COGATE_TOKEN"] = settings.token.get_secret_value()
    click.echo(f"cogate intercept: {', '.join(hosts)} -> {gateway}; proxy on {listen}", err=True)
    click.echo(ca.describe(listen, proxy_line=mode == "regular"), err=True)
    try:
        code = run_mitmdump(cmd, env)
    except InterceptError as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(code)


@intercept.command("ca")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data dir `cogate serve` and `cogate intercept` use.",
)
@click.option(
    "--listen",
    default=DEFAULT_LISTEN,
    show_default=True,
    help="The proxy's HOST:PORT, for the HTTPS_PROXY line.",
)
@click.option("--mitmdump", envvar="COGATE_MITMDUMP", help="Path to mitmdump (default .mitm-venv).")
@click.option("--json", "as_json", is_flag=True, help="Print paths and variables as JSON.")
def ca_command(data_dir: Path | None, listen: str, mitmdump: str | None, as_json: bool) -> None:
    """Print the CA certificate, a ready bundle (system roots + CA) and the variables to set.

    The output can be evaluated by a shell: eval "$(cogate intercept ca --data-dir DIR)".
    """
    import json

    parent = click.get_current_context().parent
    if data_dir is None and parent is not None:
        data_dir = parent.params.get("data_dir")  # `cogate intercept --data-dir D ca`
    settings = build_settings(data_dir=data_dir)
    parse_listen(listen)
    try:
        private_dir(settings.data_dir)
        files = prepare_ca(settings.data_dir, mitmdump)
    except InterceptError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(
            json.dumps(
                {"ca_cert": str(files.cert), "bundle": str(files.bundle), "env": files.env(listen)},
                indent=2,
            )
        )
    else:
        click.echo(files.describe(listen))
