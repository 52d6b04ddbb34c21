"""What `cogate serve` says when it starts: what it runs (version, policy, upstreams, data
dir, ledger, local model, address) and the lines to paste into an app's shell."""

from __future__ import annotations

from urllib.parse import urlsplit

from cogate.core.settings import Settings
from cogate.policies.schema import SHIPPED, Policy
from cogate.proxy import __version__
from cogate.proxy.local_gate import LocalStatus
from cogate.proxy.reach import configured_upstreams


def gateway_url(settings: Settings) -> str:
    """The URL apps use: the bind address, or the first public name when bound to all."""
    host = settings.host
    if host in ("0.0.0.0", "::") and settings.public_hosts:
        host = settings.public_hosts[0]
    elif host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _ledger(settings: Settings) -> str:
    if settings.database_url:
        parts = urlsplit(settings.database_url)  # never the password
        return f"PostgreSQL {parts.hostname}:{parts.port or 5432}{parts.path}"
    return f"SQLite {settings.data_dir / 'audit' / 'ledger.sqlite3'}"


def _local_model(settings: Settings, local: LocalStatus) -> str:
    if local.status == "disabled":
        return "disabled (sketch, logits and local modes answer 503)"
    if local.status == "missing":
        return f"missing ({local.reason})"
    model = settings.local_model.name if settings.local_model else "embedded SmolLM2-135M"
    return f"{model} ({settings.local_isolation}; loads on first use)"


def banner_lines(settings: Settings, policy: Policy, local: LocalStatus) -> list[str]:
    """The banner, one line per fact, then the export lines for apps."""
    source = str(settings.policy) if settings.policy else "default"
    shipped = " (shipped)" if source in SHIPPED else ""
    upstreams = "; ".join(f"{n} {u}" for n, u in configured_upstreams(settings).items())
    url = gateway_url(settings)
    return [
        f"cogate {__version__}",
        f"  policy       {policy.name}{shipped} from {source}, mode {policy.mode}, "
        f"{len(policy.routes)} routes, {policy.content_hash()}",
        f"  upstreams    {upstreams}",
        f"  data dir     {settings.data_dir}",
        f"  ledger       {_ledger(settings)}",
        f"  local model  {_local_model(settings, local)}",
        f"  listening    {url}",
        "  point apps at it:",
        f"    export OPENAI_BASE_URL={url}/v1",
        f"    export ANTHROPIC_BASE_URL={url}",
    ]
