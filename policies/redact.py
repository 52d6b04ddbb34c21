"""Apply a policy's actions to the text fields of one exchange.

A `Redaction` is the `fields.Scanner` of one request: it detects, replaces per action
(pseudonymize through the conversation's vault, mask, keyed hash, drop, block), and
records findings and removed values on the exchange. Messages never quote a value.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from cogate.core.errors import PolicyBlocked
from cogate.core.exchange import Finding
from cogate.policies.detect.engine import (
    HEX_TYPES,
    Detector,
    Span,
    TextKind,
    hex_identifiers,
    merge_overlaps,
    on_hex,
)
from cogate.policies.literals import LITERAL, literal_spans
from cogate.policies.schema import Policy
from cogate.policies.vault.memory import Vault, label_for


def mask(value: str) -> str:
    """Letters and digits become `*`; separators stay, so the shape remains readable."""
    return "".join("*" if char.isalnum() else char for char in value)


def keyed_hash(key: bytes, entity_type: str, value: str) -> str:
    digest = hmac.new(key, f"{entity_type}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"<{label_for(entity_type)}:{digest[:16]}>"


# Fields that hold the app's or agent's own instructions, tool descriptions and schemas:
# a name or place of the NER alone is not replaced there (see `recognizers/technical.py`).
_TECHNICAL_FIELD = re.compile(
    r"^(?:system|instructions)\b|tools\[|input_schema|\.parameters\b|json_schema|"
    r"response_format"
)


def text_kind(path: str) -> TextKind:
    return "technical" if _TECHNICAL_FIELD.search(path) else "any"


@dataclass
class Outcome:
    """What a redaction did, for callers without an Exchange (the CLI's `policy test`)."""

    findings: list[Finding] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    blocked: list[Finding] = field(default_factory=list)


class Redaction:
    def __init__(
        self,
        policy: Policy,
        policy_id: str,
        detector: Detector,
        vault: Vault,
        hash_key: bytes | None,
        outcome: Outcome,
        *,
        dry_run: bool = False,
        relayed: Callable[[str], bool] | None = None,
    ) -> None:
        self.policy = policy
        self.policy_id = policy_id
        self.detector = detector
        self.vault = vault
        self.hash_key = hash_key
        self.outcome = outcome
        self.dry_run = dry_run  # record blocked types instead of refusing (policy test)
        self._labels: set[str] | None = None
        self._relayed = relayed

    def relayed_before(self, signature: str) -> bool:
        """Whether cogate gave this signed block to this request's caller in an answer."""
        return self._relayed is not None and self._relayed(signature)

    def _detect(self, value: str, context: str, kind: TextKind = "any") -> list[Span]:
        if not context:
            return self.detector.detect(value, kind=kind)
        shift = len(context)
        return [
            Span(s.entity_type, s.start - shift, s.end - shift, s.score, s.recognizer)
            for s in self.detector.detect(context + value, kind=kind)
            if s.end > shift
        ]

    def spans(
        self, value: str, context: str, *, words: bool = False, kind: TextKind = "any"
    ) -> list[Span]:
        """What to replace in `value`: detected values and placeholder-shaped literals.

        `words`: the value is an identifier or a key (`Margaret_Thornbury`, `eleanor-vance`)
        and is also read with `_`/`-` as spaces; the union of both readings is replaced.
        """
        found = self._detect(value, context, kind)
        if words and ("_" in value or "-" in value):
            spaced = self._detect(value.replace("_", " ").replace("-", " "), context, kind)
            # Read as words, a call id's UUID (`msg_01a24fd4-…-0900c7907e30`) is no longer
            # one hex token: its parts are still no names or places.
            hexes = hex_identifiers(value)
            found += [
                s
                for s in spaced
                if not (hexes and s.entity_type not in HEX_TYPES and on_hex(s, hexes))
            ]
        if words and kind == "technical":
            # A schema's property key or a tool's name (`max_results`, `Discard`) is replaced
            # on a pattern or a names-list finding, never on the NER's reading alone.
            found = [span for span in found if span.recognizer != "SpacyRecognizer"]
        literals = literal_spans(value, self.mintable())
        if not literals and not words:
            return found
        block = self.policy.action_for
        return merge_overlaps(found + literals, rank=lambda t: block(t) == "block")

    def mintable(self) -> set[str]:
        """Placeholder labels this redaction can mint or restore (see `literal_spans`)."""
        if self._labels is None:
            labels = {label_for(e) for e in self.detector.entities} | {label_for(LITERAL)}
            self._labels = labels | self.vault.labels()
        return self._labels

    def text(self, value: str, path: str, context: str = "", *, words: bool = False) -> str:
        spans = self.spans(value, context, words=words, kind=text_kind(path))
        if not spans:
            return value
        out, last = [], 0
        for span in spans:
            start = max(span.start, 0)
            out.append(value[last:start])
            out.append(self._replace(value[start : span.end], span, start, path, value))
            last = span.end
        out.append(value[last:])
        return "".join(out)

    def texts(self, values: list[str], paths: list[str]) -> list[str]:
        """The text parts of one message, scanned as the one text the model reads.

        A value split across parts (`"Please greet Marg"` + `"aret Thornbury."`) is found in
        the joined text; its replacement goes into the part where it starts and the rest of
        it is removed from the parts it runs into.
        """
        if len(values) < 2:
            return [self.text(v, p) for v, p in zip(values, paths, strict=True)]
        joined = "".join(values)
        starts = [0]
        for value in values:
            starts.append(starts[-1] + len(value))
        pieces: list[list[str]] = [[] for _ in values]
        cursor = 0
        for span in self.spans(joined, ""):
            self._copy(joined, cursor, span.start, starts, pieces)
            part = bisect.bisect_right(starts, span.start) - 1
            offset = starts[part]
            local = Span(
                span.entity_type,
                span.start - offset,
                span.end - offset,
                span.score,
                span.recognizer,
            )
            raw = joined[span.start : span.end]
            pieces[part].append(self._replace(raw, local, local.start, paths[part], joined))
            cursor = span.end
        self._copy(joined, cursor, len(joined), starts, pieces)
        return ["".join(p) for p in pieces]

    @staticmethod
    def _copy(joined: str, lo: int, hi: int, starts: list[int], pieces: list[list[str]]) -> None:
        """Copy joined[lo:hi] back into the parts it came from."""
        for part in range(len(pieces)):
            a, b = max(lo, starts[part]), min(hi, starts[part + 1])
            if a < b:
                pieces[part].append(joined[a:b])

    def _replace(self, raw: str, span: Span, start: int, path: str, avoid: str) -> str:
        """The replacement of one found value (recorded on the outcome); raises to block."""
        literal = span.entity_type == LITERAL
        action = "pseudonymize" if literal else self.policy.action_for(span.entity_type)
        finding = Finding(span.entity_type, start, span.end, span.score, span.recognizer, path)
        if action == "block":
            if not self.dry_run:
                # Kept on the outcome so the refusal entry names the type (and tags the value).
                self.outcome.blocked.append(finding)
                self.outcome.removed.append((span.entity_type, raw))
                raise PolicyBlocked(
                    f"the policy {self.policy_id!r} blocks requests containing "
                    f"{span.entity_type} (found in {path}); remove it from the request or "
                    f"change `actions.{span.entity_type}` in the policy"
                )
            self.outcome.blocked.append(finding)
            replacement = f"[{label_for(span.entity_type)} BLOCKED]"
        elif action == "pseudonymize":
            replacement = self.vault.pseudonym(span.entity_type, raw, avoid=avoid)
        elif action == "mask":
            replacement = mask(raw)
        elif action == "hash":
            if self.hash_key is None:
                raise RuntimeError("the hash action needs a key; none was configured")
            replacement = keyed_hash(self.hash_key, span.entity_type, raw)
        else:  # drop
            replacement = ""
        self.outcome.findings.append(finding)
        self.outcome.removed.append((span.entity_type, raw))
        return replacement

    def unscannable(self, path: str, kind: str) -> bool:
        choice = self.policy.unscannable
        if choice == "allow":
            return True
        if choice == "drop":
            return False
        raise PolicyBlocked(
            f"the policy {self.policy_id!r} refuses content it cannot scan ({kind} at {path}); "
            "send text only, or set `unscannable: drop` (remove such content) or "
            "`unscannable: allow` in the policy"
        )
