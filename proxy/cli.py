"""The `cogate` command: noun groups with verbs (`serve`, `policy`, `audit`, `intercept`,
`collab`)."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from cogate.core.private_files import private_dir
from cogate.core.settings import Settings
from cogate.core.settings_flags import build_settings
from cogate.proxy import __version__
from cogate.proxy.intercept.secret import parse_intercept_upstreams

if TYPE_CHECKING:
    from cogate.policies.schema import Policy


class LazyGroup(click.Group):
    """Command groups imported when named: `cogate serve` and `cogate policy check` must
    answer a bad setting in about a second, not after importing every other command's
    dependencies (the collaboration tools alone pull in scipy)."""

    lazy = {
        "policy": "cogate.policies.cli:policy",
        "collab": "cogate.collab.logits.cli:collab",
        "audit": "cogate.audit.cli:audit",
        "intercept": "cogate.proxy.intercept.cli:intercept",
        "tokens": "cogate.proxy.tokens_cli:tokens",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, name = self.lazy[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), name)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option(
    "--policy",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy YAML, or a shipped policy's name (default, strict, hipaa, gdpr, pci).",
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Audit data dir."
)
@click.option(
    "--database-url",
    help="postgresql://USER@HOST:PORT/DB: ledger and vault shared by replicas "
    "(COGATE_DATABASE_URL; default SQLite in the data dir).",
)
@click.option("--token", help="Access token clients send in x-cogate-token (or COGATE_TOKEN).")
@click.option("--log-level", help="debug, info, warning (warn), error or critical.")
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
# --- the user's own runtime (issue 28) ---
@click.option(
    "--local-url",
    help="Your model runtime for sketch/local/logits: an OpenAI-compatible base URL on "
    "loopback (Ollama http://127.0.0.1:11434/v1) or unix:/path (COGATE_LOCAL_URL).",
)
@click.option(
    "--local-model",
    "local_model_name",
    metavar="NAME",
    help="Model to ask the runtime for (default: the first its /models lists).",
)
@click.option(
    "--local-allow-host",
    "local_allow_hosts",
    multiple=True,
    metavar="HOST",
    help="Allow --local-url on this non-loopback host; each call is then an egress entry "
    "(repeatable; COGATE_LOCAL_ALLOW_HOSTS).",
)
# --- end of the user's own runtime ---
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
    for name in ("public_hosts", "allowed_origins", "local_allow_hosts"):
        flags[name] = list(flags[name]) or None  # none given: the COGATE_* variable, else []
    started = time.monotonic()
    settings = build_settings(**flags)
    # Seconds before spaCy and the local model load.
    policy = _check_policy_or_exit(settings, "--policy" if flags.get("policy") else "COGATE_POLICY")
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
    # Imported after the checks: Presidio pulls in transformers and torch (seconds).
    click.echo("cogate: starting (loading the detection stack)…", err=True)
    import uvicorn
    from cogate.proxy.app import create_app
    from cogate.proxy.banner import banner_lines
    from cogate.proxy.local_gate import LocalRuntimeBroken, RuntimeNotAllowed, check_local_runtime
    from cogate.proxy.logs import configure_logging

    configure_logging(settings)
    click.echo("cogate: checking the local model runtime…", err=True)
    try:
        settings, local = check_local_runtime(settings)
    except LocalRuntimeBroken as exc:
        click.echo(str(exc), err=True)
        sys.exit(3)
    except RuntimeNotAllowed as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo("\n".join(banner_lines(settings, policy, local)), err=True)
    click.echo(
        f"cogate: loading spaCy ({policy.spacy_model}), Presidio and the policy; "
        "opening the ledger…",
        err=True,
    )

    def ready() -> None:
        click.echo(f"cogate: ready in {time.monotonic() - started:.1f} s", err=True)

    from cogate.proxy.defences.slow_clients import guarded_protocol

    uvicorn.run(
        create_app(settings, local=local, on_ready=ready),
        http=guarded_protocol(settings.header_timeout_s, settings.body_timeout_s),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # access lines can carry query strings; our own log carries ids only
        timeout_graceful_shutdown=30,
    )


def _check_policy_or_exit(settings: Settings, source: str) -> Policy:
    """The policy serve will run (with its routes' policies), or exit 2 naming the error."""
    from cogate.policies.schema import PolicyError, check_policy

    try:
        return check_policy(settings.policy)
    except PolicyError as exc:
        sep = " " if source.startswith("--") else "="
        click.echo(f"cogate: {source}{sep}{settings.policy}: {exc}", err=True)
        sys.exit(2)


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
    from cogate.audit.backends import open_tokens

    store = open_tokens(settings.data_dir, settings.database_url)
    try:
        return store.any_issued()
    finally:
        store.close()
