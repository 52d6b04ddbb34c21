"""Names of every country (issue 26): the compact file derived from the installed
`names-dataset`, building it when it is missing, and names of each language and script
that the Census list and the English NER miss, without everyday words becoming people."""

from __future__ import annotations

import fcntl
import json
import threading
from pathlib import Path

import pytest
from cogate.policies.detect.engine import Detector
from cogate.policies.recognizers.world import names as world


def covered(detector: Detector, text: str, value: str) -> bool:
    at = text.index(value)
    hit: set[int] = set()
    for span in detector.detect(text):
        hit.update(range(span.start, span.end))
    return set(range(at, at + len(value))) <= hit


def test_loader_reads_the_names_of_the_installed_dataset() -> None:
    names = world.world_names()
    for given in ("Wojciech", "Daan", "Sanne", "Tiago", "Friedrich", "Lukas", "Björn"):
        assert world.fold(given) in names.given, given
    for surname in ("Krawczyk", "Lundqvist", "Esposito", "Oliveira", "Dijkstra"):
        assert world.fold(surname) in names.surnames, surname
    # Hebrew, Greek and Cyrillic spellings are kept as spelt for the script rules.
    assert {"משה", "Γιώργος", "Александр"} <= names.given_spelt
    # Frequent German and English words from mis-parsed entries are no given names.
    for word in ("Bitte", "Server", "Firma", "Tabelle"):
        assert world.fold(word) not in names.given, word
    assert "LETTERS" in names.surname_words
    name = world.default_path().name
    assert name == f"names-dataset-{world.dataset_version()}-top-v{world.FORMAT}.json"


def test_a_missing_file_is_built_from_the_package_once(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "names.json"
    built = world.load(path)  # builds it (in a child process, under the lock)
    assert path.exists()
    assert built == world.load(world.default_path())  # the same derivation as the cache's
    stamp = path.stat().st_mtime_ns
    assert world.load(path) == built
    assert path.stat().st_mtime_ns == stamp  # read, not built again


def test_a_process_waiting_on_the_lock_reads_the_file_another_built(tmp_path: Path) -> None:
    path = tmp_path / "names.json"
    result: dict[str, world.WorldNames] = {}
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process is building it
        reader = threading.Thread(target=lambda: result.setdefault("names", world.load(path)))
        reader.start()
        reader.join(timeout=0.5)
        assert reader.is_alive()  # waits for the lock instead of building a second copy
        body = {"format": world.FORMAT, "given": {"XX": ["Zebulon"]}, "surnames": {}}
        path.write_text(json.dumps(body | {"surname_words": []}))
        fcntl.flock(lock, fcntl.LOCK_UN)
        reader.join()
    assert result["names"].given == {"ZEBULON"}  # read what the other built, not rebuilt


def test_a_file_of_another_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "names.json"
    path.write_text('{"format": 0, "given": {}, "surnames": {}}')
    with pytest.raises(RuntimeError, match="delete it"):
        world.load(path)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Bitte schick das Angebot an Jörg Hoffmann, danke.", "Jörg Hoffmann"),
        ("J'ai transmis le dossier à Gaëlle Lefort hier soir.", "Gaëlle Lefort"),
        ("Por favor, reenvía el contrato a Iker Etxeberria mañana.", "Iker Etxeberria"),
        ("Per favore manda la fattura a Luca Ferretti domani.", "Luca Ferretti"),
        ("Stuur de offerte morgen naar Joris van den Broek.", "Joris van den Broek"),
        ("INSERT INTO clientes VALUES (3, 'Vasco Antunes');", "Vasco Antunes"),
        ("Raport przygotował wczoraj Przemysław Wróbel.", "Przemysław Wróbel"),
        ("Sätt Sixten Wallin som kopia på mejlet.", "Sixten Wallin"),
        ("Avtalet skrevs under av Per Sjöberg i går.", "Per Sjöberg"),
        (
            '{"from": "Sanne van der Linden <info@firma.example>", "unread": true}',
            "Sanne van der Linden",
        ),
        ('login failed user="Ingrid Halvorsen" attempts=3', "Ingrid Halvorsen"),  # guard
    ],
)
def test_names_of_every_country(detector: Detector, text: str, name: str) -> None:
    assert covered(detector, text, name)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("קבעתי פגישה עם אבי לוי מחר.", "אבי לוי"),
        ("שלחתי את ההצעה ולמשה כהן.", "משה כהן"),
        ('{"customer_name": "שירה ברגר"}', "שירה ברגר"),
        ("Τηλεφώνησα στον Κώστα Παπαδάκη χθες.", "Κώστα Παπαδάκη"),
        ("Η Ευαγγελία Σταματοπούλου έστειλε την προσφορά.", "Ευαγγελία Σταματοπούλου"),
        ("โปรดติดต่อคุณสมพร แสงทอง ด้วยครับ", "สมพร แสงทอง"),
        ("สวัสดีครับ ผมชื่อสมชาย ใจดี", "สมชาย ใจดี"),
        ("ชื่อ-นามสกุล: สมศักดิ์ มั่นคง", "สมศักดิ์ มั่นคง"),
        ("Я отримав лист від Олександра Шевченка.", "Олександра Шевченка"),
        ("Зустріч з Тарасом Коваленком перенесли.", "Тарасом Коваленком"),
        ("Передай документы Ивану Петрову завтра.", "Ивану Петрову"),
        ("Письмо от Марии Ивановны Смирновой пришло.", "Марии Ивановны Смирновой"),
        ("Подзвони Юлії Марченко після обіду.", "Юлії Марченко"),
    ],
)
def test_names_in_other_scripts(detector: Detector, text: str, name: str) -> None:
    assert covered(detector, text, name)


@pytest.mark.parametrize(
    "text",
    [
        "Per Natale il server resta spento.",
        "Der Server startet nach dem Update neu.",
        "Fonts: DM Sans, Hedvig Letters Sans, Hedvig Letters Serif, IBM Plex Mono.",
        "Who's coming to Costa Rica with me?",
        "Cron fields: minute, hour, day of month, month, Mon DoW.",
        "Παρακαλώ έλεγξε τον πίνακα μέχρι την Παρασκευή.",
        "כתוב הקדמה קצרה למדריך.",
        "คุณสามารถดาวน์โหลดไฟล์ได้ที่นี่",
        "กรุณาเปลี่ยนชื่อไฟล์ก่อนส่ง",
        "ชื่อผู้ใช้ของคุณคือ admin",
        "Віра в успіх допомагає команді.",
    ],
)
def test_everyday_words_are_no_people(detector: Detector, text: str) -> None:
    people = [s for s in detector.detect(text) if s.entity_type == "PERSON"]
    assert people == [], [text[s.start : s.end] for s in people]


def test_swedish_av_introduces_a_person_not_a_street(detector: Detector) -> None:
    # "av" (by) is no abbreviation of "avenida" without its dot: the name stays a PERSON.
    text = "Jag fick ett mejl av Anna Svensson."
    found = {(text[s.start : s.end], s.entity_type) for s in detector.detect(text)}
    assert ("Anna Svensson", "PERSON") in found
    street = "Av. Liberdade 12, 1250-096 Lisboa"
    assert all(s.entity_type != "PERSON" for s in detector.detect(street))


def test_a_thai_polite_particle_is_no_surname(detector: Detector) -> None:
    text = "ฉันชื่อว่ามาลี ค่ะ"
    people = [text[s.start : s.end] for s in detector.detect(text) if s.entity_type == "PERSON"]
    assert people == ["มาลี"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # greetings of each language, which the NER runs into the name or misses
        ("Gentile Pietro Bianchi, le invio il documento.", "Pietro Bianchi"),
        ("Beste Dean van Drenthe, hierbij het rapport.", "Dean van Drenthe"),
        ("Dzień dobry Elżbieta Szczerek, przesyłam raport.", "Elżbieta Szczerek"),
        # a German noun and a preposition the NER runs into the name
        ("Bitte leite die Rechnung an Brian Rosemann weiter.", "Brian Rosemann"),
        # person fields of other languages, hyphenated given names
        ('{"kunde": "Hans-Albert Dobes", "status": "offen"}', "Hans-Albert Dobes"),
        ('{"klant": "Joris Verbeek"}', "Joris Verbeek"),
        ('{"cliente": "Desiderio Vigil"}', "Desiderio Vigil"),
        # a name in another script inside an English sentence
        ("Please forward the invoice to Омелян Наливайко.", "Омелян Наливайко"),
        ("Please forward the invoice to Θεοφίλη Ζενεμπίσης.", "Θεοφίλη Ζενεμπίσης"),
        ("Please forward the invoice to לביא ביטון.", "לביא ביטון"),
        ("Hi ธีร์ธวัน ทองเนื้อดี, here is the report.", "ธีร์ธวัน ทองเนื้อดี"),
    ],
)
def test_names_after_greetings_in_fields_and_in_other_scripts(
    detector: Detector, text: str, name: str
) -> None:
    assert covered(detector, text, name)


def test_a_name_field_holding_a_word_is_no_person(detector: Detector) -> None:
    text = '{"kunde": "offen", "name": "build", "naam": "rapport"}'
    assert [s for s in detector.detect(text) if s.entity_type == "PERSON"] == []
