"""JSON bodies as they go on the wire: one encoding for what the ledger records and sends."""

from __future__ import annotations

import json
from typing import Any


def encode_json(body: Any) -> bytes:
    """Compact UTF-8 JSON (no ASCII escaping): the bytes that leave and that are audited."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
