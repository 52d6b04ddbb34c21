"""Where values sit in a JSON text: character spans, so signed blocks can be copied unchanged.

Anthropic rejects a thinking block whose bytes changed, and re-encoding JSON changes bytes
(escapes, spacing, number forms). `spans` finds the exact text of chosen values in the raw
request; `splice` encodes a rewritten body and puts those texts back where they belong.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"
Pattern = Sequence[str | None]  # object keys; None: every element of an array
Path = tuple[str | int, ...]  # keys and indexes from the root to a value
Found = dict[Path, tuple[int, int]]  # where each matched value starts and ends


class Verbatim:
    """A value to be written as the exact text it had in the raw JSON."""

    def __init__(self, text: str) -> None:
        self.text = text


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i


def _value_end(text: str, i: int) -> int:
    _, end = _DECODER.raw_decode(text, i)
    return end


def spans(text: str, pattern: Pattern) -> Found:
    """The span of every value whose path matches `pattern`, keyed by its concrete path.

    With duplicate keys the last one wins, as it does for `json.loads`.
    """
    found: Found = {}
    _walk(text, _skip(text, 0), tuple(pattern), (), found)
    return found


def _walk(
    text: str,
    i: int,
    pattern: Pattern,
    path: Path,
    found: Found,
) -> int:
    """Walk the value at `i`, recording matches; returns the index after the value."""
    if not pattern:
        end = _value_end(text, i)
        found[path] = (i, end)
        return end
    head, rest = pattern[0], pattern[1:]
    if text[i] == "{" and head is not None:
        return _walk_object(text, i, head, rest, path, found)
    if text[i] == "[" and head is None:
        return _walk_array(text, i, rest, path, found)
    return _value_end(text, i)


def _walk_object(text: str, i: int, head: str, rest: Pattern, path: Path, found: Found) -> int:
    i = _skip(text, i + 1)
    if text[i] == "}":
        return i + 1
    while True:
        key, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        i = _skip(text, i + 1)  # the colon
        if key == head:
            # An earlier duplicate's matches are replaced by this one's.
            for old in [p for p in found if p[: len(path) + 1] == (*path, key)]:
                del found[old]
            i = _walk(text, i, rest, (*path, key), found)
        else:
            i = _value_end(text, i)
        i = _skip(text, i)
        if text[i] == "}":
            return i + 1
        i = _skip(text, i + 1)  # the comma


def _walk_array(text: str, i: int, rest: Pattern, path: Path, found: Found) -> int:
    i = _skip(text, i + 1)
    if text[i] == "]":
        return i + 1
    index = 0
    while True:
        i = _walk(text, i, rest, (*path, index), found)
        index += 1
        i = _skip(text, i)
        if text[i] == "]":
            return i + 1
        i = _skip(text, i + 1)


def splice(body: Any) -> bytes:
    """Encode `body` compactly; each `Verbatim` in it is written as its original text."""
    nonce = secrets.token_hex(16)
    texts: list[str] = []

    def mark(node: Any) -> Any:
        if isinstance(node, Verbatim):
            texts.append(node.text)
            return f"\x00verbatim-{nonce}-{len(texts) - 1}\x00"
        if isinstance(node, dict):
            return {k: mark(v) for k, v in node.items()}
        if isinstance(node, list):
            return [mark(v) for v in node]
        return node

    encoded = json.dumps(mark(body), ensure_ascii=False, separators=(",", ":"))
    # The random nonce cannot occur in the app's own text, so each marker is ours.
    for n, original in enumerate(texts):
        marker = json.dumps(f"\x00verbatim-{nonce}-{n}\x00")
        encoded = encoded.replace(marker, original, 1)
    return encoded.encode("utf-8")
