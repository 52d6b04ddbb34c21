"""Give the app its own values back: placeholders in answers, whole or streamed.

Models do not always copy `[PERSON_1]` faithfully: they HTML-escape it, change its case,
add spaces, escape it for Markdown or drop the brackets. The pattern below finds those
forms; a match whose label and number are in the conversation's vault is replaced, any
other text is left alone. Streams are restored per text field, holding back only a tail
that could still become a placeholder.
"""

from __future__ import annotations

import json
from typing import Any

import regex
from cogate.policies.urls import EMPTY, UrlContext, UrlGuard
from cogate.policies.vault.memory import Vault

_OPEN = r"(?:\\?\[|&\#0{0,4}91;|&lsqb;|&lbrack;|\\?<|&lt;|&\#0{0,4}60;)"
_CLOSE = r"(?:\\?\]|&\#0{0,4}93;|&rsqb;|&rbrack;|\\?>|&gt;|&\#0{0,4}62;)"
# Every quantifier is bounded: a match can never be longer than MAX_HOLD, so the work per
# starting position is constant and restoring is linear in the text, whatever the upstream
# sends (an unbounded `\s*` or word list let one crafted event cost minutes of CPU).
_SP = r"\s{0,3}"
_SEP = rf"(?:{_SP}(?:_|\\_|-){_SP}|\s{{1,3}})"
_WORD = r"[A-Za-z]{1,20}"
_CAPS = r"[A-Z]{1,20}"
PLACEHOLDER = regex.compile(
    rf"{_OPEN}{_SP}(?P<label>{_WORD}(?:{_SEP}{_WORD}){{0,3}}){_SEP}?(?P<num>\d{{1,6}}){_SP}{_CLOSE}"
    rf"|(?<![A-Za-z0-9_\\])(?P<blabel>{_CAPS}(?:(?:_|\\_){_CAPS}){{0,3}})(?:_|\\_)(?P<bnum>\d{{1,6}})"
    rf"(?![A-Za-z0-9_])"
)
MAX_HOLD = 64  # longest mangled placeholder we wait for; longer tails are released


def _label(raw: str) -> str:
    return "_".join(regex.findall(r"[A-Za-z]+", raw)).upper()


def placeholder_label(match: regex.Match) -> str:
    """The vault label a PLACEHOLDER match names, however the model spelled it."""
    return _label(match.group("label") or match.group("blabel"))


def hold_point(buffer: str, lo: int = 0) -> int:
    """Where the tail that could still grow into a placeholder starts (len: nothing held).

    The earliest position from `lo` on, in the last MAX_HOLD characters, from which the
    rest of the buffer is a placeholder or the beginning of one.
    """
    for start in range(max(lo, len(buffer) - MAX_HOLD), len(buffer)):
        could_start = buffer[start] in _STARTS or buffer[start].isupper()
        if could_start and PLACEHOLDER.fullmatch(buffer, start, partial=True) is not None:
            return start
    return len(buffer)


_STARTS = set("[\\&<")


class TextRestorer:
    """Replaces the placeholders of one vault in texts (never inside a disallowed URL)."""

    def __init__(self, vault: Vault, urls: UrlGuard | None = None) -> None:
        self.vault = vault
        self.urls = urls or UrlGuard()
        self.withheld = 0  # placeholders kept because they sat in a URL

    def value_of(self, match: regex.Match) -> str | None:
        label = match.group("label") or match.group("blabel")
        number = match.group("num") or match.group("bnum")
        return self.vault.value(_label(label), int(number))

    def replace(
        self,
        text: str,
        matches,
        *,
        json_escape: bool = False,
        upto: int | None = None,
        start: int = 0,
        context: UrlContext = EMPTY,
    ):
        found = []
        for match in matches:
            if upto is not None and match.end() > upto:
                break
            value = self.value_of(match)
            if value is not None:
                found.append((match, value))
        kept = self.urls.blocked(text, start, [m.span() for m, _ in found], context)
        if not found and upto is None and start == 0:
            return text
        self.withheld += len(kept)
        out, last = [], start
        for n, (match, value) in enumerate(found):
            if n in kept:
                continue
            begin = match.start()
            if json_escape:
                value = json.dumps(value, ensure_ascii=False)[1:-1]
            elif _kept_backslash(match.group()):
                begin += 1  # the app's own backslash before the value, not Markdown escaping
            out.append(text[last:begin])
            out.append(value)
            last = match.end()
        out.append(text[last:upto])
        return "".join(out)

    def restore(self, text: str, *, json_escape: bool = False, context: UrlContext = EMPTY) -> str:
        if not text:
            return text
        return self.replace(
            text,
            PLACEHOLDER.finditer(text, concurrent=True),
            json_escape=json_escape,
            context=context,
        )

    def chain(self) -> ChainedText:
        """A restorer for the texts of one answer in order (parts, items, blocks)."""
        return ChainedText(self)


class ChainedText:
    """Restores the texts of one answer in order, each read as the continuation of the
    one before: an app may join them (the SDKs' `output_text` does), so a URL begun in
    one part stays a URL in the next."""

    def __init__(self, text: TextRestorer, context: UrlContext = EMPTY) -> None:
        self.text = text
        self.context = context

    def restore(self, text: str, *, json_escape: bool = False) -> str:
        out = self.text.restore(text, json_escape=json_escape, context=self.context)
        self.context = self.text.urls.advance(self.context, text)
        return out


def _kept_backslash(placeholder: str) -> bool:
    # Markdown escaping by a model escapes both brackets (`\[PERSON\_1\]`); a backslash
    # before an unescaped placeholder was in the text the placeholder replaced a value in.
    return placeholder.startswith("\\") and not placeholder[:-1].endswith("\\")


class VaultRestorer:
    """The `Restorer` (core/exchange.py) of one exchange: its conversation vault's values back."""

    def __init__(self, vault: Vault, url_hosts: list[str] | tuple[str, ...] = ()) -> None:
        self.text = TextRestorer(vault, UrlGuard(url_hosts))

    @property
    def withheld(self) -> int:
        return self.text.withheld

    def restore_json(self, body: Any) -> Any:
        return self._walk(body, key=None)

    def _walk(self, node: Any, key: str | None) -> Any:
        if isinstance(node, str):
            # Tool-call arguments are JSON inside a string: values must stay JSON-escaped.
            return self.text.restore(node, json_escape=key == "arguments")
        if isinstance(node, dict):
            return {k: self._walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [self._walk(item, key) for item in node]
        return node

    def held(self) -> HeldText:
        return HeldText(self.text)


class HeldText:
    """Restores text that arrives in pieces, per key (one text field of one stream).

    Holds back only a tail that could still grow into a placeholder; every surface's
    stream restorer keys it by its own field identity (choice index and field name, item id
    and content index, content-block index). Keys of one `lane` (the text parts and blocks
    of one answer) share the URL context: each continues the text released before it.
    """

    def __init__(self, text: TextRestorer) -> None:
        self.text = text
        self.pending: dict[tuple, str] = {}
        # The last character released per key: the bare form's look-behind must see it.
        self.before: dict[tuple, str] = {}
        # What the app saw before, per lane: a URL may begin events (or parts) before its
        # placeholder arrives.
        self.contexts: dict[tuple, UrlContext] = {}
        # The context each key began in, for whole snapshots of it (`.done` events).
        self.started: dict[tuple, UrlContext] = {}

    def holds(self, key: tuple) -> bool:
        return key in self.pending

    def release(
        self, key: tuple, piece: str, *, final: bool, json_escape: bool, lane: tuple | None = None
    ) -> str:
        """The restored text of `piece` that can be given out now (all of it when `final`)."""
        lane = key if lane is None else lane
        context = self.contexts.get(lane, EMPTY)
        self.started.setdefault(key, context)
        before = self.before.get(key, "")
        buffer = before + self.pending.pop(key, "") + piece
        lo = len(before)
        if len(buffer) == lo:
            return ""
        hold = len(buffer) if final else hold_point(buffer, lo)
        out = self.text.replace(
            buffer,
            PLACEHOLDER.finditer(buffer, lo, hold, concurrent=True),
            json_escape=json_escape,
            upto=hold,
            start=lo,
            context=context,
        )
        self.contexts[lane] = self.text.urls.advance(context, buffer[lo:hold])
        if hold < len(buffer):
            self.pending[key] = buffer[hold:]
        if hold > lo:
            self.before[key] = buffer[hold - 1]
        return out

    def snapshot(
        self, key: tuple, whole: str, *, json_escape: bool, lane: tuple | None = None
    ) -> str:
        """`whole` (a `.done` event's text of `key`) restored in the context `key` began in
        (a key never streamed: its lane's), so it withholds what its deltas withheld."""
        context = self.started.get(key) or self.contexts.get(key if lane is None else lane, EMPTY)
        return self.text.restore(whole, json_escape=json_escape, context=context)
