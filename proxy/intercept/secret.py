"""The secret that lets the gateway trust the intercept addon's destination hint.

`cogate serve` writes a fresh secret to DATA_DIR/intercept-secret (owner-only) when it starts;
the mitmproxy addon reads it and sends it with every intercepted request. The hint only picks
among upstreams the gateway already knows: a header never makes the gateway fetch a new URL.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import click
from cogate.core.errors import GatewayError
from cogate.core.private_files import create_once, private_dir, write_private
from cogate.core.settings import Settings

SECRET_FILE = "intercept-secret"
# The addon (proxy/intercept/mitm_addon.py) spells these the same; a test keeps them equal.
DESTINATION_HEADER = "x-cogate-destination"
SECRET_HEADER = "x-cogate-intercept-secret"

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class InterceptRefused(GatewayError):
    status = 403
    type = "authentication_error"
    code = "intercept_secret_mismatch"


def secret_path(data_dir: Path) -> Path:
    return Path(data_dir) / SECRET_FILE


def rotate_secret(data_dir: Path) -> Path:
    """Write a new secret, readable by the owner only; an addon holding the old one is refused."""
    data_dir = private_dir(Path(data_dir))
    target = secret_path(data_dir)
    write_private(target, (secrets.token_urlsafe(32) + "\n").encode("ascii"))
    return target


def shared_secret(data_dir: Path) -> Path:
    """Keep the data dir's secret if it is usable, else create one (replicas sharing a data dir).

    Replicas behind one load balancer share the data dir; if each start rotated the secret,
    the newest replica would lock out every addon talking to the others. Creation is atomic,
    so replicas starting together agree on one secret.
    """
    data_dir = private_dir(Path(data_dir))
    target = secret_path(data_dir)
    if read_secret(data_dir) is None:
        if target.exists():
            target.unlink()  # unsafe (not owner-only) or empty: replace it
        create_once(target, (secrets.token_urlsafe(32) + "\n").encode("ascii"))
    return target


def read_secret(data_dir: Path) -> str | None:
    """The current secret, or None when the gateway never wrote one (or it is unsafe to use)."""
    path = secret_path(data_dir)
    try:
        info = path.stat()
        if info.st_mode & 0o077 or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            return None
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return value or None


def secret_matches(data_dir: Path, sent: str) -> bool:
    expected = read_secret(data_dir)
    if expected is None or not sent:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def destination_hint(settings: Settings, headers: Mapping[str, str]) -> str | None:
    """The intercepted host an addon request was meant for; None for a direct request.

    Raises InterceptRefused when a hint comes without the current secret, or names a host
    this gateway has no upstream for.
    """
    hint = headers.get(DESTINATION_HEADER)
    if hint is None:
        return None
    sent = headers.get(SECRET_HEADER, "")
    if not secret_matches(settings.data_dir, sent):
        raise InterceptRefused(
            f"the {DESTINATION_HEADER} header is accepted only from `cogate intercept` with the "
            "current secret; restart `cogate intercept` with the same --data-dir as `cogate serve`"
        )
    host = hint.strip().lower().rstrip(".")
    if not _HOSTNAME.match(host):
        raise InterceptRefused(
            f"{DESTINATION_HEADER} must be a host name", code="intercept_destination_invalid"
        )
    default_host = (urlsplit(settings.upstream).hostname or "").lower()
    anthropic_host = (urlsplit(settings.anthropic_upstream).hostname or "").lower()
    if (
        settings.intercept_upstreams
        and host not in settings.intercept_upstreams
        and host not in (default_host, anthropic_host)
    ):
        # Once hosts are mapped, an unmapped one must not silently reach (and leak its key to)
        # the default upstream.
        raise InterceptRefused(
            f"this gateway has no upstream for the intercepted host {host}; start `cogate serve` "
            f"with --intercept-upstream {host}=URL",
            type="cogate_error",
            code="intercept_destination_not_configured",
        )
    return host


def parse_intercept_upstreams(
    ctx: click.Context | None, param: click.Parameter | None, values: tuple[str, ...]
) -> dict[str, str] | None:
    """Click callback for `cogate serve --intercept-upstream HOST=URL` (repeatable)."""
    if not values:
        return None
    mapping: dict[str, str] = {}
    for value in values:
        host, sep, url = value.partition("=")
        host = host.strip().lower().rstrip(".")
        url = url.strip()
        if not sep or not _HOSTNAME.match(host) or not url.startswith(("http://", "https://")):
            raise click.BadParameter(
                f"{value!r}: use HOST=URL, e.g. api.openai.com=https://api.openai.com/v1",
                ctx=ctx,
                param=param,
            )
        mapping[host] = url.rstrip("/")
    return mapping
