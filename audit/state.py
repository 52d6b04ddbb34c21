"""The verifier's memory: the last checkpoint it trusted (as rekor-cli keeps in ~/.rekor).

Keep it somewhere the ledger's writer cannot rewrite (`--state`) to catch a rolled-back data dir.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .keys import private_dir, write_private


@dataclass
class TrustedState:
    ledger: str
    key: str
    size: int
    root: str
    time: str


def load(path: Path) -> TrustedState | None:
    if not path.exists():
        return None
    try:
        return TrustedState(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"the verifier state {path} is unreadable ({exc}); restore it or delete it to "
            "trust the ledger afresh"
        ) from None


def save(path: Path, state: TrustedState) -> None:
    private_dir(path.parent)
    write_private(path, (json.dumps(asdict(state), indent=2) + "\n").encode())
