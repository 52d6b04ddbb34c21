"""Names in code, tool output and logs: the value of a name field (`name="Sofía Martínez"`,
`"customer_name": "Giulia Rossi"`, `customer_name=Joost Visser`), git trailers and mail
headers (`Author: Jan Lis <jan@…>`, `Signed-off-by:`), and quoted SQL or code values that
start with a known given name (`VALUES ('Luca Esposito', …)`). The English NER reads code
poorly and no sentence surrounds these values."""

from __future__ import annotations

import regex
from cogate.policies.recognizers.base import RegexRecognizer, Rule
from cogate.policies.recognizers.names import known_given
from cogate.policies.recognizers.technical import PRODUCTS

# A capitalised word of a name in any Latin or other cased script, and the particles inside.
_CAP = r"\p{Lu}[\p{Ll}'\u2019]+(?:-\p{Lu}?[\p{Ll}'\u2019]+)*"  # "Hans-Albert", "Jean-luc"
_PARTICLE = r"(?:de|da|di|del|della|dos|das|van|von|der|den|ter|le|la|du)"
_FULL = rf"{_CAP}(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_CAP}){{1,3}}"
# Scripts without case (Hebrew, Thai, Arabic, Devanagari): two to four words of them.
_UNCASED = r"[\p{Hebrew}\p{Thai}\p{Arabic}\p{Devanagari}\p{M}]{2,}"
_UNCASED_FULL = rf"{_UNCASED}(?:[ \t]+{_UNCASED}){{1,3}}"
# Fields that hold a person, in English and in the eight other languages cogate reads
# (`"kunde": "…"`, `"cliente": "…"`, `"klant": "…"`, `"imię": "…"`).
_FIELD_WORDS = (
    "name author owner contact recipient sender assignee customer client patient employee "
    "user member person "
    "kunde kundin empfänger absender ansprechpartner mitarbeiter vorname nachname "
    "nom prénom prenom destinataire expéditeur expediteur "
    "cliente nombre apellido apellidos destinatario remitente paciente empleado "
    "nome cognome mittente paziente dipendente "
    "klant naam voornaam achternaam ontvanger afzender medewerker "
    "apelido sobrenome destinatário remetente funcionário "
    "klient imię imie nazwisko odbiorca nadawca pacjent pracownik "
    "kund namn förnamn efternamn mottagare avsändare anställd"
)
FIELD_WORDS = tuple(_FIELD_WORDS.split())
_FIELD = (
    r"(?<![\p{L}_])(?i:(?:full|first|last|display|customer|contact|client|patient|employee|"
    r"author|owner|user|person|recipient|sender|assignee|member)[_\-]?name|"
    rf"{'|'.join(sorted(FIELD_WORDS, key=len, reverse=True))})"
)
_END = r"(?=[\"'<,;)\]}\t\n]|[ \t]+<|[ \t]+[\p{Ll}\p{N}]|$)"


def _no_product(value: str) -> bool:
    return not any(word.lower() in PRODUCTS for word in value.split())


def _given_first(value: str) -> bool:
    return known_given(value.split()[0]) and _no_product(value)


CODE_NAME_RULES = [
    Rule(
        "name_field",
        # The `:` or `=` first and the field name looked back from it: a field-name
        # alternation tried at every position of a 64 KB agent turn cost ~20 ms.
        regex.compile(
            rf"[:=](?<={_FIELD}[\"']?[ \t]*[:=])[ \t]*[\"']?({_FULL}|{_UNCASED_FULL}){_END}"
        ),
        0.7,
        group=1,
        validate=_no_product,
        cues=FIELD_WORDS,
    ),
    Rule(
        "trailer_name",
        regex.compile(
            r"(?m)^[ \t]*(?i:author|signed-off-by|co-authored-by|reviewed-by|acked-by|"
            rf"tested-by|reported-by|from|to|cc|reply-to|committer):[ \t]*({_FULL})[ \t]*<"
        ),
        0.8,
        group=1,
        validate=_no_product,
    ),
    Rule(
        # A mail's display name: `"from": "Iris van der Meer <info@…>"`, `To: Jan Lis <…>`.
        "display_name",
        regex.compile(rf"(?<![\p{{L}}])({_FULL})[ \t]*<[^<>@\s]+@[^<>\s]+>"),
        # Above the NER's 0.85: a display name is surer than the model's reading of it,
        # whose span technical text may then drop.
        0.9,
        group=1,
        validate=_no_product,
    ),
    Rule(
        "quoted_name",
        regex.compile(rf"(?<=[\"'])({_FULL})(?=[\"'])"),
        0.6,
        group=1,
        validate=_given_first,
    ),
]


def code_name_recognizer() -> RegexRecognizer:
    return RegexRecognizer("PERSON", CODE_NAME_RULES, "CodeNameRecognizer")
