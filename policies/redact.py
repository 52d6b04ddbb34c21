"""Apply a policy's actions to the text fields of one exchange.

A `Redaction` is the `fields.Scanner` of one request: it detects, replaces per action
(pseudonymize through the conversation's vault, mask, keyed hash, drop, block), and
records findings and removed values on the exchange. Messages never quote a value.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from cogate.core.errors import PolicyBlocked
from cogate.core.exchange import Finding

from .detect import Detector, Span
from .schema import Policy
from .vault import Vault, label_for


def mask(value: str) -> str:
    """Letters and digits become `*`; separators stay, so the shape remains readable."""
    return "".join("*" if char.isalnum() else char for char in value)


def keyed_hash(key: bytes, entity_type: str, value: str) -> str:
    digest = hmac.new(key, f"{entity_type}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"<{label_for(entity_type)}:{digest[:16]}>"


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
    ) -> None:
        self.policy = policy
        self.policy_id = policy_id
        self.detector = detector
        self.vault = vault
        self.hash_key = hash_key
        self.outcome = outcome
        self.dry_run = dry_run  # record blocked types instead of refusing (policy test)

    def spans(self, value: str, context: str) -> list[Span]:
        if not context:
            return self.detector.detect(value)
        shift = len(context)
        return [
            Span(s.entity_type, s.start - shift, s.end - shift, s.score, s.recognizer)
            for s in self.detector.detect(context + value)
            if s.end > shift
        ]

    def text(self, value: str, path: str, context: str = "") -> str:
        spans = self.spans(value, context)
        if not spans:
            return value
        out, last = [], 0
        for span in spans:
            start = max(span.start, 0)
            raw = value[start : span.end]
            action = self.policy.action_for(span.entity_type)
            finding = Finding(span.entity_type, start, span.end, span.score, span.recognizer, path)
            if action == "block":
                if not self.dry_run:
                    raise PolicyBlocked(
                        f"the policy {self.policy_id!r} blocks requests containing "
                        f"{span.entity_type} (found in {path}); remove it from the request or "
                        f"change `actions.{span.entity_type}` in the policy"
                    )
                self.outcome.blocked.append(finding)
                replacement = f"[{label_for(span.entity_type)} BLOCKED]"
            elif action == "pseudonymize":
                replacement = self.vault.pseudonym(span.entity_type, raw, avoid=value)
            elif action == "mask":
                replacement = mask(raw)
            elif action == "hash":
                if self.hash_key is None:
                    raise RuntimeError("the hash action needs a key; none was configured")
                replacement = keyed_hash(self.hash_key, span.entity_type, raw)
            else:  # drop
                replacement = ""
            out.append(value[last:start])
            out.append(replacement)
            last = span.end
            self.outcome.findings.append(finding)
            self.outcome.removed.append((span.entity_type, raw))
        out.append(value[last:])
        return "".join(out)

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
