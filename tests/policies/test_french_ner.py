"""French sentences read by the French pipeline (fr_core_news_sm), decided per sentence;
English text never builds the language identifier nor loads the French pipeline; the
worker refuses a text whose French pipeline cannot load, and keeps serving."""

from __future__ import annotations

from pathlib import Path

import pytest
from cogate.policies.detect.analyzer import build_analyzer, spacy_package
from cogate.policies.detect.engine import Detector
from cogate.policies.detect.languages import FRENCH_PIPELINE, LanguageId, sentences
from cogate.policies.detect.ner_process import NerProcess, NerUnavailable
from cogate.policies.detect.ner_worker import entities
from cogate.policies.schema import load_policy

PROSE = Path(__file__).resolve().parents[2] / "bench" / "prose" / "fr.txt"
# The English model alone finds neither the names nor the places of these French sentences
# (it read "Le rapport de Thomas Girard" as an organisation; found nothing in the other).
MIXED = (
    "Can you summarise this note for me? Le rapport de Thomas Girard est prêt. "
    "C'est Yannick Le Bihan qui signe le bail à Lorient. Thanks a lot, Mark Evans."
)
ENGLISH = [
    "Hi, I'm Maria Gonzalez from Valencia; write to maria.g@example.com or call 555-0142.",
    "Zoë ordered a café au lait in Des Moines before the résumé review with Dr. Okafor.",
    "Dear Mr. Le Roux,\n\nthe Acme Corp office in Leeds confirmed Tuesday's meeting.\n",
]


def found(detector: Detector, text: str) -> set[tuple[str, str]]:
    return {(text[s.start : s.end], s.entity_type) for s in detector.detect(text)}


@pytest.fixture(scope="module", params=["inline", "process"])
def detector(request: pytest.FixtureRequest) -> Detector:
    return Detector(load_policy(None), ner=request.param)


def test_french_sentences_get_the_french_models_names_and_places(detector: Detector) -> None:
    spans = found(detector, MIXED)
    assert {
        ("Thomas Girard", "PERSON"),
        ("Yannick Le Bihan", "PERSON"),
        ("Lorient", "LOCATION"),
        ("Mark Evans", "PERSON"),  # the English sentence still read by the English model
    } <= spans
    # Offsets exact: nothing of the French words around the names is taken.
    assert not any(value.startswith(("Le rapport", "C'est")) for value, _ in spans)


def test_a_lone_surrogate_in_a_french_sentence_is_read(detector: Detector) -> None:
    text = "Merci de vérifier le tableau \udc80 avant vendredi avec Hélène Rousseau."
    assert ("Hélène Rousseau", "PERSON") in found(detector, text)


def test_a_title_stays_for_the_model(detector: Detector) -> None:
    text = "Envoyez le contrat à Madame Sophie Garnier avant vendredi, merci."
    assert ("Sophie Garnier", "PERSON") in found(detector, text)


def test_french_common_words_are_no_places(detector: Detector) -> None:
    for text in (
        "Écris une courte introduction pour le manuel.",
        "La réunion est reportée à la semaine prochaine.",
        '{"tool": "notes.search", "summary": "Le serveur redémarre après la mise à jour."}',
    ):
        assert found(detector, text) == set(), text


def test_long_french_prose_is_shared_between_worker_and_gateway_alike() -> None:
    text = PROSE.read_text()
    policy = load_policy(None)
    inline = Detector(policy, ner="inline").raw(text)
    shared = Detector(policy, ner="process").raw(text)
    assert shared == inline
    names = {text[s.start : s.end] for s in inline if s.entity_type == "PERSON"}
    assert {"Julien Marchand", "Élodie Fontaine", "Nathalie Lemoine", "Hugo"} <= names
    assert "Monsieur" not in names  # the French model's title alone


def test_language_is_decided_per_sentence() -> None:
    ids = LanguageId()
    text = (
        "Please check the attached invoice. Merci de vérifier le tableau avant vendredi. "
        "Nous partons à Lyon demain.\nThe meeting in Des Moines moved to Tuesday. "
        "La reunión se ha aplazado a la semana que viene. Il rapporto è pronto per la revisione."
    )
    french = [text[start:end] for start, end in ids.french_ranges(text)]
    assert french == [
        "Merci de vérifier le tableau avant vendredi. Nous partons à Lyon demain."
    ]  # two French sentences in a row are one run; Spanish, Italian and English are not
    # French words in title case make an address or a name, not a French sentence: the
    # English model keeps reading it as it did (it covers this line as a name).
    assert ids.french_ranges("Apt. 712\nCite De L'Interieur 13 70486") == []
    short = "v3.5 is out. notes.search ok! Oui."
    assert [short[s:e] for s, e in sentences(short)] == [
        "v3.5 is out. ",
        "notes.search ok! ",
        "Oui.",
    ]


def test_english_text_never_builds_the_identifier_nor_loads_the_french_pipeline() -> None:
    analyzer = build_analyzer(load_policy(None).spacy_model, ("US",), "inline")
    french = analyzer.nlp_engine.french  # type: ignore[attr-defined]
    assert french is not None and french.package == FRENCH_PIPELINE
    for text in ENGLISH:
        analyzer.analyze(text, language="en")
    assert not french.loaded
    assert not french.ids.built  # no sign of French in any: the identifier is never asked


def test_the_worker_reads_english_text_without_the_french_pipeline() -> None:
    detector = Detector(load_policy(None), ner="process")
    worker = detector.ner_worker
    assert worker is not None
    before = worker.french_texts
    for text in ENGLISH:
        detector.raw(text)
    assert worker.french_texts == before


def test_a_french_text_whose_pipeline_cannot_load_is_refused() -> None:
    ner = NerProcess(spacy_package("en_core_web_sm"), french_package="no_such_pipeline")
    try:
        text = "Le rapport de Thomas Girard est prêt."
        with pytest.raises(NerUnavailable) as refused:
            ner.submit(text, [(0, len(text))]).result()
        assert refused.value.status == 503 and "Girard" not in str(refused.value)
        # The worker lives on: English text is still read, by the English pipeline.
        english = ner.submit("Barack Obama was born in Hawaii.").result()
        assert {label for *_, label in english} == {"PERSON", "GPE"}
        assert ner.status()["deaths"] == 0
    finally:
        ner.close()


def test_french_ranges_are_blanked_for_the_english_pipeline() -> None:
    seen: list[str] = []

    class Doc:
        ents: list = []

    def english(text: str) -> Doc:
        seen.append(text)
        return Doc()

    text = "Hello there. Bonjour à tous.\nBye."
    at, end = text.index("Bonjour"), text.index("Bye.")
    entities(english, text, [(at, end)], lambda: english)
    assert seen[0] == "Hello there. " + " " * len("Bonjour à tous.") + "\nBye."
    assert seen[1] == "Bonjour à tous.\n"
