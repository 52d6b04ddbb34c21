"""The shapes a contract's settings and opaque values are held to.

Settings: enums, flags, number ranges, identifiers, model names. Opaque values: ciphertext
(what an upstream encrypted or signed) is relayed as it came only when it looks like
ciphertext — long, of a base64 alphabet, with high entropy; any other value is scanned as
text, so plain text put where ciphertext belongs cannot slip through.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from .contract import Arr, Free, Node, Opaque, Setting, Walk
from .fields import ID

__all__ = [
    "FLAG",
    "IDENT",
    "IDENTS",
    "MODEL",
    "NUMBER_ANY",
    "cipher",
    "enum",
    "looks_like_ciphertext",
    "num",
]


def enum(*values: str) -> Setting:
    allowed = frozenset(values)
    return Setting(lambda v: v in allowed, "one of " + ", ".join(sorted(allowed)))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def num(lo: float, hi: float) -> Setting:
    """A number in [lo, hi]: a card number in `max_output_tokens` is off its shape."""
    return Setting(lambda v: _is_number(v) and lo <= v <= hi, f"a number from {lo} to {hi}")


FLAG = Setting(lambda v: isinstance(v, bool), "true or false")
IDENT = Setting(
    lambda v: isinstance(v, str) and ID.fullmatch(v) is not None,
    "an identifier (1-128 of A-Z a-z 0-9 _ . : / -)",
)
IDENTS = Arr(IDENT)
# A vendor's model name: the identifier shape, scanned as words like any identifier except
# the names vendors publish, which read as words give false findings ("claude").
_VENDOR_MODEL = re.compile(
    r"(gpt|o\d|claude|chatgpt|codex|text-embedding|text-moderation|omni|davinci|babbage|"
    r"computer-use|dall-e|whisper|tts|gemini|llama|mistral|qwen|smollm|phi|gemma|"
    r"meta-llama/|mistralai/|google/|microsoft/|huggingfacetb/|deepseek|nvidia/|ibm|"
    r"tiiuae/|openai/|anthropic/)"
    r"[A-Za-z0-9_.:/-]*",
    re.IGNORECASE,
)


def _model(value: Any, w: Walk) -> Any:
    if value is None:
        return value
    if not isinstance(value, str) or ID.fullmatch(value) is None:
        from .fields import refuse

        raise refuse(w.path(), "a model name (1-128 of A-Z a-z 0-9 _ . : / -)")
    if _VENDOR_MODEL.fullmatch(value):
        return value
    return w.scanner.text(value, w.path(), words=True)


MODEL: Node = Opaque(_model, "a model name: vendors' names kept, any other scanned as words")
NUMBER_ANY = num(-1e15, 1e15)

_CIPHER_ALPHABET = re.compile(r"[A-Za-z0-9+/=_\-.:]+")
MIN_CIPHER = 24


def _entropy(value: str) -> float:
    counts = Counter(value)
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


def looks_like_ciphertext(value: Any) -> bool:
    """Long, of a base64 alphabet, with digits or symbols, and of high entropy (random
    bytes encoded give about 6 bits a character; words without spaces about 4)."""
    if not isinstance(value, str) or len(value) < MIN_CIPHER:
        return False
    if _CIPHER_ALPHABET.fullmatch(value) is None:
        return False
    if not any(c.isdigit() or c in "+/=_-" for c in value):
        return False
    threshold = 4.3 if len(value) >= 64 else 3.9
    return _entropy(value) >= threshold


def _cipher(value: Any, w: Walk) -> Any:
    if looks_like_ciphertext(value):
        return value
    return Free().walk(value, w)


def cipher(note: str = "") -> Node:
    """Ciphertext relayed unchanged; anything else scanned as text."""
    return Opaque(_cipher, note or "relayed when it looks like ciphertext, else scanned")
