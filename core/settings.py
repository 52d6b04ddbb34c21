"""The one settings object: flags, then `COGATE_*` environment variables, then defaults.

Built once at the edge (CLI or test) and passed down; nothing reads the environment later.
"""

from __future__ import annotations

import ipaddress
import typing
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEFAULT_UPSTREAM = "https://api.openai.com/v1"
DEFAULT_ANTHROPIC_UPSTREAM = "https://api.anthropic.com"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("cogate", appauthor=False))


# Log levels as operators spell them; uvicorn and logging know the values.
LOG_LEVELS = {"debug": "debug", "info": "info", "warning": "warning", "warn": "warning"}
LOG_LEVELS |= {"error": "error", "critical": "critical", "fatal": "critical"}


class CommaListEnv(EnvSettingsSource):
    """`COGATE_*` variables where a list may be written as `a,b` (and a mapping as
    `k=v,k=v`) as well as JSON: `COGATE_PUBLIC_HOSTS=gw.example.com` means one host."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        if not isinstance(value, str) or value.lstrip().startswith(("[", "{")):
            return super().decode_complex_value(field_name, field, value)
        items = [item.strip() for item in value.split(",") if item.strip()]
        if typing.get_origin(field.annotation) is dict:
            pairs = [item.partition("=") for item in items]
            bad = [item for item, (_, sep, _) in zip(items, pairs, strict=True) if not sep]
            if bad:
                raise ValueError(f"{bad[0]!r} is not KEY=VALUE; write k=v,k=v or a JSON object")
            return {key.strip(): val.strip() for key, _, val in pairs}
        return items


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COGATE_", extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)
    upstream: str = DEFAULT_UPSTREAM  # OpenAI-compatible surfaces (base URL ends in /v1)
    anthropic_upstream: str = DEFAULT_ANTHROPIC_UPSTREAM  # Anthropic surfaces (no /v1)
    # When set, replaces the app's Authorization header towards the upstream.
    upstream_api_key: SecretStr | None = None
    policy: Path | None = None
    data_dir: Path = Field(
        default_factory=default_data_dir,
        validation_alias=AliasChoices("data_dir", "COGATE_HOME", "COGATE_DATA_DIR"),
    )
    # Required from clients (header `x-cogate-token`) when set; required to bind off loopback.
    token: SecretStr | None = None

    connect_timeout: float = 10.0
    read_timeout: float = 600.0
    # "lean": one-write requests, httptools parsing (proxy/upstream/transport.py); "httpcore":
    # httpx's own transport, kept as a fallback (COGATE_UPSTREAM_TRANSPORT=httpcore).
    upstream_transport: Literal["lean", "httpcore"] = "lean"
    max_body_bytes: int = 4 * 1024 * 1024
    # Largest single stream event cogate parses to restore; a larger one ends the stream
    # with an error event (a hostile upstream must not make it buffer without bound).
    max_sse_event_bytes: int = Field(default=1024 * 1024, ge=1024)
    log_level: str = "info"
    log_json: bool = False

    # Local model (collaboration modes). local_enabled=False runs without one: the sketch,
    # logits and local modes then refuse with 503 (serve sets it when its start probe crashed).
    local_enabled: bool = True
    local_model: Path | None = None
    local_threads: int | None = None
    local_context: int = 4096
    local_queue: int = 8
    # "process": llama.cpp runs in a supervised worker process, so its crash fails one request
    # instead of ending the gateway; "thread": in this process (offline tools).
    local_isolation: Literal["process", "thread"] = "process"
    # --- the user's own runtime (issue 28) ---
    # An OpenAI-compatible base URL (http://127.0.0.1:11434/v1) or `unix:/path/to/socket`
    # serving sketch, local and logits instead of the embedded model; None: the embedded one.
    local_url: str | None = None
    local_model_name: str | None = None  # None: the first model the runtime's /models lists
    # Non-loopback hosts the runtime may live on (comma-separated in COGATE_LOCAL_ALLOW_HOSTS);
    # every call to one is an egress ledger entry.
    local_allow_hosts: list[str] = Field(default_factory=list)
    # --- end of the user's own runtime ---

    # "process": spaCy's NER runs in a worker process beside the pattern recognizers (less
    # latency when a second core is free); "inline": in this process; "auto": a worker when
    # the gateway may use two cores or more, used for each text that finds a core free for it.
    ner_isolation: Literal["auto", "process", "inline"] = "auto"

    # Intercepted host -> upstream base URL; the gateway forwards only to these and `upstream`.
    intercept_upstreams: dict[str, str] = Field(default_factory=dict)

    # PostgreSQL for a team of replicas (ledger, vault); None: SQLite in the data dir.
    database_url: str | None = None

    # Ledger checkpoints.
    checkpoint_every: int = 256
    checkpoint_seconds: float = 300.0
    # Stored bodies older than this many days are pruned hourly (hashes, chain and proofs
    # stay); None keeps them until `cogate audit prune`.
    retention_days: float | None = Field(default=None, gt=0)
    # Where each ledger entry's metadata streams (file:PATH, syslog://HOST:PORT, https://…).
    audit_sink: str | None = None
    audit_sink_buffer: int = Field(default=10_000, ge=1)  # lines held while the sink is down
    # OTLP/HTTP collector for the gateway's spans (the standard OpenTelemetry variable).
    otel_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("otel_endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT"),
    )

    # Longest a detection or policy stage may take before the request is refused.
    stage_budget_s: float = 30.0

    # Host header values that name this gateway besides the loopback names (DNS rebinding).
    public_hosts: list[str] = Field(default_factory=list)
    # Browser origins allowed to call the gateway; a request from any other Origin gets 403.
    allowed_origins: list[str] = Field(default_factory=list)

    # -- per-identity quotas (issue 27): one caller never evicts another's state ----------
    # Conversation vaults one identity may hold at once, and stored ids (responses,
    # conversations, compaction items) it may have cogate remember; past either: 429.
    vaults_per_identity: int = Field(default=1_000, ge=1)
    stored_ids_per_identity: int = Field(default=10_000, ge=1)
    # The whole process's bound in memory mode (PostgreSQL holds identities × quota rows).
    max_vaults: int = Field(default=100_000, ge=1)
    max_stored_ids: int = Field(default=500_000, ge=1)
    # Slow clients (proxy/defences/slow_clients.py): a request's headers must arrive within
    # `header_timeout_s` of its first byte (or of the connection's opening), its whole body
    # within `body_timeout_s` of the headers' end; a slower client is disconnected.
    header_timeout_s: float = Field(default=10.0, gt=0)
    body_timeout_s: float = Field(default=60.0, gt=0)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, CommaListEnv(settings_cls), dotenv_settings, file_secret_settings

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level_spelling(cls, value: object) -> object:
        level = LOG_LEVELS.get(str(value).strip().lower())
        if level is None:
            raise ValueError("log_level must be one of debug, info, warning, error, critical")
        return level

    @field_validator("database_url")
    @classmethod
    def _database_is_postgres(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "database_url must be a PostgreSQL URL such as "
                "postgresql://cogate@db.internal:5432/cogate"
            )
        return value or None

    @field_validator("local_url")
    @classmethod
    def _local_url_shape(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://", "unix:/")):
            raise ValueError(
                "local_url must be an OpenAI-compatible base URL such as "
                "http://127.0.0.1:11434/v1 or a unix socket such as unix:/run/llm.sock, "
                f"got {value!r}"
            )
        return value.rstrip("/") if value else None

    @field_validator("upstream", "anthropic_upstream")
    @classmethod
    def _upstream_is_http(cls, value: str, info: ValidationInfo) -> str:
        if not value.startswith(("http://", "https://")):
            example = (
                DEFAULT_UPSTREAM if info.field_name == "upstream" else DEFAULT_ANTHROPIC_UPSTREAM
            )
            guess = ""
            if "://" not in value and "/" not in value:  # a bare host: its base URL
                guess = f"https://{value}" + ("/v1" if info.field_name == "upstream" else "")
            raise ValueError(
                f"{info.field_name} must be an http(s) URL"
                + (f"; use {guess}" if guess else f" such as {example}")
            )
        return value.rstrip("/")

    @field_validator("anthropic_upstream")
    @classmethod
    def _anthropic_upstream_is_base(cls, value: str) -> str:
        # The Messages paths carry their own /v1, as with ANTHROPIC_BASE_URL.
        if value.endswith("/v1"):
            raise ValueError(
                "anthropic_upstream must be a base URL without /v1, such as "
                f"{DEFAULT_ANTHROPIC_UPSTREAM}, got {value!r}"
            )
        return value

    @property
    def binds_loopback(self) -> bool:
        return is_loopback(self.host)

    def upstream_for(self, intercepted_host: str | None, api: str = "openai") -> str:
        """The configured upstream for an intercepted host, else the base URL of the wire
        API family (`openai` or `anthropic`, a surface's `upstream`)."""
        if intercepted_host and intercepted_host in self.intercept_upstreams:
            return self.intercept_upstreams[intercepted_host].rstrip("/")
        return self.anthropic_upstream if api == "anthropic" else self.upstream


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
