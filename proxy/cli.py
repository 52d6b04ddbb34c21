"""The `cogate` command: noun groups with verbs (`serve`, `policy`, `audit`, `intercept`,
`collab`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from cogate.audit.backends import open_tokens
from cogate.audit.cli import audit
from cogate.collab.logits.cli import collab
from cogate.core.private_files import private_dir
from cogate.core.settings import Settings
from cogate.policies.cli import policy
from cogate.proxy import __version__
from cogate.proxy.intercept.cli import intercept
from cogate.proxy.intercept.secret import parse_intercept_upstreams
from cogate.proxy.options import build_settings
from cogate.proxy.tokens_cli import tokens


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cogate")
def main() -> None:
    """cogate: a local privacy gateway between your apps and cloud LLM APIs."""


@main.command()
@click.option("--host", help="Address to bind (default 127.0.0.1; others need a token).")
@click.option("--port", type=int, help="Port to listen on (default 8787).")
@click.option("--upstream", help="OpenAI-compatible base URL to forward to.")
@click.option(
    "--anthropic-upstream",
    help="Anthropic base URL, without /v1 (default https://api.anthropic.com).",
)
@click.option("--policy", type=click.Path(dir_okay=False, path_type=Path), help="Policy YAML.")
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Audit data dir."
)
@click.option(
    "--database-url",
    help="postgresql://USER@HOST:PORT/DB: ledger and vault shared by replicas "
    "(COGATE_DATABASE_URL; default SQLite in the data dir).",
)
@click.option("--token", help="Access token clients send in x-cogate-token (or COGATE_TOKEN).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--log-json", is_flag=True, default=None, help="Log JSON lines (COGATE_LOG_JSON).")
@click.option(
    "--intercept-upstream",
    "intercept_upstreams",
    multiple=True,
    metavar="HOST=URL",
    callback=parse_intercept_upstreams,
    help="Upstream for calls `cogate intercept` caught on HOST (repeatable; default --upstream).",
)
@click.option(
    "--public-host",
    "public_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name clients use to reach the gateway besides loopback (repeatable).",
)
@click.option(
    "--allow-origin",
    "allowed_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A browser Origin allowed to call the gateway, e.g. https://app.example (repeatable).",
)
@click.option(
    "--retention-days",
    type=float,
    help="Prune stored request bodies older than this many days, hourly; the chain, "
    "checkpoints and proofs keep verifying (COGATE_RETENTION_DAYS).",
)
@click.option(
    "--audit-sink",
    metavar="file:PATH|syslog://HOST:PORT|https://URL",
    help="Stream each ledger entry's metadata (never bodies or values) as JSON lines, "
    "at least once (COGATE_AUDIT_SINK).",
)
def serve(**flags: Any) -> None:
    """Run the gateway. Point apps at http://HOST:PORT/v1 (OPENAI_BASE_URL)."""
    import uvicorn
    from cogate.proxy.app import create_app
    from cogate.proxy.local_gate import LocalRuntimeBroken, check_local_runtime
    from cogate.proxy.logs import configure_logging

    for name in ("public_hosts", "allowed_origins"):
        flags[name] = list(flags[name]) or None  # none given: the COGATE_* variable, else []
    settings = build_settings(**flags)
    if settings.audit_sink:
        from cogate.audit.compliance.sinks import parse_sink

        try:
            parse_sink(settings.audit_sink).close()
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    private_dir(settings.data_dir)
    if not settings.binds_loopback and settings.token is None and not _tokens_issued(settings):
        click.echo(
            f"refusing to bind {settings.host} without access tokens: anyone who can reach it "
            "could use your upstream key. Create identities with `cogate tokens add NAME` (or pass "
            "--token or set COGATE_TOKEN), and have clients send theirs in x-cogate-token.",
            err=True,
        )
        sys.exit(2)
    _check_port(settings)
    configure_logging(settings)
    try:
        settings, local = check_local_runtime(settings)
    except LocalRuntimeBroken as exc:
        click.echo(str(exc), err=True)
        sys.exit(3)
    uvicorn.run(
        create_app(settings, local=local),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # access lines can carry query strings; our own log carries ids only
        timeout_graceful_shutdown=30,
    )


def _check_port(settings: Settings) -> None:
    """One line naming the fix when the port is taken, before seconds of start-up."""
    import socket

    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            click.echo(
                f"error: cannot listen on {settings.host}:{settings.port} "
                f"({exc.strerror or exc}); another program (an earlier `cogate serve`?) holds "
                "it: stop it or pass another --port",
                err=True,
            )
            sys.exit(2)


def _tokens_issued(settings: Settings) -> bool:
    store = open_tokens(settings.data_dir, settings.database_url)
    try:
        return store.any_issued()
    finally:
        store.close()


main.add_command(policy)
main.add_command(collab)
main.add_command(audit)
main.add_command(intercept)
main.add_command(tokens)
