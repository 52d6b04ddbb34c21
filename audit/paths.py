"""Where the ledger's files live inside the data dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LedgerPaths:
    data_dir: Path

    @property
    def audit_dir(self) -> Path:
        return self.data_dir / "audit"

    @property
    def db(self) -> Path:
        return self.audit_dir / "ledger.sqlite3"

    @property
    def checkpoint_file(self) -> Path:
        return self.audit_dir / "checkpoints.jsonl"

    @property
    def default_state(self) -> Path:
        return self.audit_dir / "verify-state.json"

    @property
    def keys_dir(self) -> Path:
        # Apart from the database: copying or leaking the DB does not give away the keys.
        return self.data_dir / "keys"
