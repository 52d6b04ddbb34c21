"""`cogate audit`: review and verify the ledger, and the compliance commands (proofs, data-subject
search). Library errors become messages and exit codes here, nowhere else."""

from __future__ import annotations

from .commands import audit
from .proofs import COMMANDS

for _command in COMMANDS:
    audit.add_command(_command)

__all__ = ["audit"]
