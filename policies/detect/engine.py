"""Detection: Presidio's AnalyzerEngine on a NER-only spaCy pipeline, built once per process.

Texts are normalised (NFKC, invisible characters removed) before analysis and spans are
mapped back. Results are cached by the text's content hash, so a chat app that resends
the whole history every turn pays detection on its new text only.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from typing import Literal

from cachetools import LRUCache
from cogate.policies.detect.analyzer import NerIsolation, SegmentedSpacyEngine, shared_analyzer
from cogate.policies.detect.free_cores import FreeCores
from cogate.policies.detect.groups import GROUPED_TYPES, widened
from cogate.policies.detect.ner_process import NerProcess
from cogate.policies.detect.normalize import normalize
from cogate.policies.detect.not_numbers import id_not_phone, version_not_ip
from cogate.policies.recognizers.project import custom_recognizers
from cogate.policies.recognizers.spacy_names import NER_LANGUAGE
from cogate.policies.recognizers.technical import (
    foreign_sentence,
    is_technical,
    product_name,
    unsupported,
)
from cogate.policies.schema import Policy

# "technical": a field that holds instructions, tool descriptions or schemas by its place.
TextKind = Literal["any", "technical"]


@dataclass(frozen=True)
class Span:
    """A detected entity in a text: offsets, type, score and recognizer, never the value."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str


class AnalysisCache:
    """Content-addressed, bounded (LRU) store of analyses: text hash → spans."""

    def __init__(self, max_entries: int = 8192) -> None:
        self.max_entries = max_entries
        self._items: LRUCache[str, tuple[Span, ...]] = LRUCache(maxsize=max_entries)
        # cachetools caches are not thread-safe, and detection runs in worker threads.
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> tuple[Span, ...] | None:
        with self._lock:
            spans = self._items.get(key)
            if spans is None:
                self.misses += 1
                return None
            self.hits += 1
            return spans

    def put(self, key: str, spans: tuple[Span, ...]) -> None:
        with self._lock:
            self._items[key] = spans

    def __len__(self) -> int:
        return len(self._items)


class Detector:
    """Everything a policy detects in a text, after its thresholds and allow list."""

    def __init__(
        self,
        policy: Policy,
        cache: AnalysisCache | None = None,
        *,
        all_types: bool = False,
        ner: NerIsolation = "inline",
    ) -> None:
        self.policy = policy
        self.analyzer = shared_analyzer(policy.spacy_model, tuple(policy.phone_regions), ner)
        self.custom = custom_recognizers(policy.custom)
        self.cache = cache if cache is not None else AnalysisCache()
        entities = set(self.analyzer.get_supported_entities("en"))
        entities.update(spec.entity for spec in policy.custom)
        if not all_types:
            # Types the policy keeps are not looked for at all: their recognizers cost time.
            entities = {e for e in entities if policy.action_for(e) != "keep"}
            if policy.entities is not None:
                entities &= set(policy.entities)
        self.entities = sorted(entities)
        self._key = (
            policy.detection_key()
            + hashlib.sha256(",".join(self.entities).encode()).hexdigest()[:8]
        )
        self._allow = {value.strip().casefold() for value in policy.allow_list}
        self._lock = _ANALYZE_LOCK

    @property
    def ner_worker(self) -> NerProcess | None:
        """NER's worker process, when this detector's analyzer runs NER in one."""
        engine = self.analyzer.nlp_engine
        return engine.ner if isinstance(engine, SegmentedSpacyEngine) else None

    @property
    def free_cores(self) -> FreeCores | None:
        """Under `auto`, what decides for each text whether the worker reads it."""
        engine = self.analyzer.nlp_engine
        return engine.free_cores if isinstance(engine, SegmentedSpacyEngine) else None

    def raw(self, text: str, kind: TextKind = "any") -> tuple[Span, ...]:
        """Every candidate span (original offsets), cached by content. `kind="technical"`:
        the text is a tool description, a schema or instructions whatever its look, where
        a name or place of the NER alone is not enough (`recognizers/technical.py`)."""
        if not text.strip():
            return ()
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        key = self._key + kind[0] + digest
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        norm = normalize(text)
        with self._lock:  # spaCy pipelines are not documented as thread-safe
            results = self.analyzer.analyze(
                text=norm.text,
                language="en",
                entities=self.entities,
                ad_hoc_recognizers=self.custom or None,
            )
        spans = []
        technical: bool | None = None
        for result in results:
            start, end = result.start, result.end
            name = (result.recognition_metadata or {}).get("recognizer_name", "unknown")
            if result.entity_type == "PERSON" and product_name(norm.text[start:end]):
                continue
            if _NOT_THAT_NUMBER.get(result.entity_type, _never)(norm.text, start, end):
                continue  # a version, not an IP; an id or a timestamp, not a phone
            if result.entity_type in ("PERSON", "LOCATION"):
                if technical is None:
                    technical = kind == "technical" or is_technical(norm.text)
                # Technical text, or a sentence in another language than the NER's (the
                # French pipeline's spans are in French sentences: its own language).
                doubtful = technical or (
                    name == "SpacyRecognizer"
                    and NER_LANGUAGE not in (result.recognition_metadata or {})
                    and foreign_sentence(norm.text, start, end)
                )
                if doubtful and unsupported(
                    norm.text, result.entity_type, start, end, name, prose=not technical
                ):
                    continue
            if result.entity_type in GROUPED_TYPES:
                start, end = widened(norm.text, start, end)
            start, end = norm.span(start, end)
            if end <= start:
                continue
            spans.append(Span(result.entity_type, start, end, float(result.score), name))
        found = tuple(sorted(spans, key=lambda s: (s.start, s.end, s.entity_type)))
        self.cache.put(key, found)
        return found

    def detect(self, text: str, *, acting_only: bool = True, kind: TextKind = "any") -> list[Span]:
        """The spans the policy acts on: above threshold, not allowed, not `keep`, merged.

        `acting_only=False` keeps the types the policy keeps (for measurement).
        """
        policy = self.policy
        chosen = []
        hex_ids = hex_identifiers(text)
        for span in self.raw(text, kind):
            if span.score < policy.threshold_for(span.entity_type):
                continue
            if hex_ids and span.entity_type not in HEX_TYPES and on_hex(span, hex_ids):
                continue  # digits or letters of a device id, hash or UUID: no card, no name
            if policy.entities is not None and span.entity_type not in policy.entities:
                continue
            if acting_only and policy.action_for(span.entity_type) == "keep":
                continue
            if self._allow and text[span.start : span.end].strip().casefold() in self._allow:
                continue
            chosen.append(span)
        return merge_overlaps(chosen, rank=lambda t: policy.action_for(t) == "block")

    def analyze_parts(
        self, texts: list[str], *, sep: str = "", acting_only: bool = True
    ) -> list[list[Span]]:
        """Spans per piece for text split over several pieces (content parts of a message).

        The pieces are scanned joined by `sep` (a name or number split across two parts
        is whole there) and each piece alone; a span crossing a boundary is cut into the
        part inside each piece it touches, so every piece loses its share of the value.
        """
        per_piece: list[list[Span]] = [list(self.detect(t, acting_only=acting_only)) for t in texts]
        if len(texts) > 1:
            joined = sep.join(texts)
            bounds, offset = [], 0
            for text in texts:
                bounds.append((offset, offset + len(text)))
                offset += len(text) + len(sep)
            for span in self.detect(joined, acting_only=acting_only):
                for index, (lo, hi) in enumerate(bounds):
                    start, end = max(span.start, lo), min(span.end, hi)
                    if end > start:
                        per_piece[index].append(
                            Span(
                                span.entity_type, start - lo, end - lo, span.score, span.recognizer
                            )
                        )
        policy = self.policy
        return [
            merge_overlaps(spans, rank=lambda t: policy.action_for(t) == "block")
            for spans in per_piece
        ]


_ANALYZE_LOCK = threading.Lock()


def _never(text: str, start: int, end: int) -> bool:
    return False


_NOT_THAT_NUMBER = {"IP_ADDRESS": version_not_ip, "PHONE_NUMBER": id_not_phone}


def merge_overlaps(spans: list[Span], rank=lambda entity_type: 0) -> list[Span]:
    """Overlapping spans become one covering their union, typed by the strongest member.

    A union rather than a winner: the part of a weaker span outside the stronger one
    would otherwise leave in clear. `rank` puts types the policy blocks first, so a
    blocked entity is never hidden inside a placeholder of another type; then a pattern
    (an email, a number) types the span rather than the statistical NER around it.
    """
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    merged: list[list[Span]] = []
    for span in ordered:
        if merged and span.start < max(s.end for s in merged[-1]):
            merged[-1].append(span)
        else:
            merged.append([span])
    out = []
    for group in merged:
        best = max(
            group,
            key=lambda s: (
                rank(s.entity_type),
                s.recognizer != "SpacyRecognizer",
                s.score,
                s.end - s.start,
            ),
        )
        start = min(s.start for s in group)
        end = max(s.end for s in group)
        out.append(Span(best.entity_type, start, end, best.score, best.recognizer))
    return out


# A hexadecimal identifier (a device id, a hash, a UUID): 16 or more hex digits and hyphens
# standing alone, with at least one letter a-f. Digit runs inside one are no card halves,
# phone numbers or licences, and its letters no names or places (Claude Code's
# `metadata.user_id` carries a random 64-digit device id: about one in thirty held a run the
# split-card rule took for a card, and the request was refused).
# (The letter is looked for in the match itself: a lookahead for it would be satisfied by
# a letter past the match's end, as in `001-432-815-4117-Fax`, and a phone number would
# read as a hex token.)
_HEX_ID = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f][0-9A-Fa-f-]{15,}(?![0-9A-Za-z])")
_HEX_LETTER = re.compile(r"[A-Fa-f]")
# Types a hex token may itself be (a key, a wallet, a MAC address `3c-22-fb-7a-91-0e`): kept.
HEX_TYPES = frozenset({"SECRET", "CRYPTO", "MAC_ADDRESS"})


def hex_identifiers(text: str) -> list[tuple[int, int]]:
    if len(text) < 16:
        return []
    return [m.span() for m in _HEX_ID.finditer(text) if _HEX_LETTER.search(m.group())]


def on_hex(span: Span, ranges: list[tuple[int, int]]) -> bool:
    """Inside a hex identifier; for the NER, mostly one (`sha: 9fceb02d…`, `nginx@sha256:…`
    read as a place): the model guessing at a hash, a commit or a digest."""
    if any(start <= span.start and span.end <= end for start, end in ranges):
        return True
    if span.recognizer != "SpacyRecognizer":
        return False
    hexed = sum(max(0, min(end, span.end) - max(start, span.start)) for start, end in ranges)
    return 2 * hexed >= span.end - span.start
