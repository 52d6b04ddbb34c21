"""The table of European national identifier types: entity type, country, keyword
languages, python-stdnum module, written shape and keywords. Pure data, read without
Presidio by the policy vocabulary (`policies/vocabulary.py`) and by the recognizers
(`national_ids.py`)."""

from __future__ import annotations

from dataclasses import dataclass

# Separators inside a written identifier: "65 929 970 489", "811218-9876", "756.1234.5678.97".
_S = r"[ .\-/]?"


@dataclass(frozen=True)
class IdType:
    """One identifier: its type, country, languages of its keywords, where it is found
    (`family`: cogate's `national_ids` rules and/or Presidio's recognizer), an example."""

    entity: str
    country: str
    languages: tuple[str, ...]
    family: str
    example: str
    stdnum: str  # the python-stdnum module whose is_valid decides
    pattern: str  # the written value, separators allowed where people type them
    keywords: tuple[str, ...]
    alone: bool = False  # found without a keyword (a shape ordinary numbers do not have)
    presidio: str = ""  # Presidio's recognizer class for the same type, enabled beside ours


_EU_VAT_PREFIX = (
    "AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI|CHE"
)

NATIONAL_IDS: tuple[IdType, ...] = (
    IdType(
        "DE_TAX_ID", "DE", ("de", "en"), "national_ids+presidio", "65 929 970 489",
        "de.idnr", rf"\d{{2}}{_S}\d{{3}}{_S}\d{{3}}{_S}\d{{3}}",
        ("steuer-id", "steuerid", "steuer id", "steueridentifikationsnummer",
         "steuer-identifikationsnummer", "identifikationsnummer", "idnr", "id-nr",
         "tax id", "tin"),
        presidio="DeTaxIdRecognizer",
    ),
    IdType(
        "DE_ID_CARD", "DE", ("de", "en"), "national_ids+presidio", "T220001293",
        "", r"[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{7}\d{1,2}",
        ("personalausweis", "ausweisnummer", "ausweis", "id card", "identity card",
         "dokumentennummer"),
        presidio="DeIdCardRecognizer",
    ),
    IdType(
        "DE_VAT_ID", "DE", ("de", "en"), "national_ids+presidio", "DE136695976",
        "de.vat", r"DE ?\d{3} ?\d{3} ?\d{3}",
        ("ust-idnr", "ust-id", "ustidnr", "umsatzsteuer", "vat", "mwst", "ust"),
        presidio="DeVatIdRecognizer",
    ),
    IdType(
        "FR_NIR", "FR", ("fr", "en"), "national_ids", "2 87 03 75 115 123 78",
        "fr.nir",
        rf"[12]{_S}\d{{2}}{_S}\d{{2}}{_S}(?:\d{{2}}|2[AB]){_S}\d{{3}}{_S}\d{{3}}{_S}\d{{2}}",
        ("nir", "sécurité sociale", "securite sociale", "numéro de sécu", "insee",
         "social security"),
        alone=True,
    ),
    IdType(
        "FR_SIRET", "FR", ("fr", "en"), "national_ids", "732 829 320 00074",
        "fr.siret", rf"\d{{3}}{_S}\d{{3}}{_S}\d{{3}}{_S}\d{{5}}", ("siret",),
    ),
    IdType(
        "FR_SIREN", "FR", ("fr", "en"), "national_ids", "732 829 320",
        "fr.siren", rf"\d{{3}}{_S}\d{{3}}{_S}\d{{3}}", ("siren", "rcs"),
    ),
    IdType(
        "ES_NIF", "ES", ("es", "en"), "national_ids+presidio", "12345678Z",
        "es.dni", rf"\d{{8}}{_S}[A-Z]",
        ("dni", "nif", "documento nacional", "identidad"),
        alone=True, presidio="EsNifRecognizer",
    ),
    IdType(
        "ES_NIE", "ES", ("es", "en"), "national_ids+presidio", "X1234567L",
        "es.nie", rf"[XYZ]{_S}\d{{7}}{_S}[A-Z]",
        ("nie", "extranjero", "extranjería"),
        alone=True, presidio="EsNieRecognizer",
    ),
    IdType(
        "IT_FISCAL_CODE", "IT", ("it", "en"), "national_ids+presidio", "RSSMRA85T10A562S",
        "it.codicefiscale",
        r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]",
        ("codice fiscale", "cf"),
        alone=True, presidio="ItFiscalCodeRecognizer",
    ),
    IdType(
        "IT_VAT_CODE", "IT", ("it", "en"), "national_ids+presidio", "06468690125",
        "it.iva", r"(?:IT ?)?\d{11}",
        ("partita iva", "p.iva", "p. iva", "piva", "p.i.", "vat"),
        presidio="ItVatCodeRecognizer",
    ),
    IdType(
        "NL_BSN", "NL", ("nl", "en"), "national_ids", "111222333",
        "nl.bsn", rf"\d{{4}}{_S}\d{{2}}{_S}\d{{3}}|\d{{3}}{_S}\d{{3}}{_S}\d{{3}}",
        ("bsn", "burgerservicenummer", "sofinummer", "sofi-nummer"),
    ),
    IdType(
        "BE_NATIONAL_NUMBER", "BE", ("nl", "fr", "de", "en"), "national_ids", "85.07.30-033.28",
        "be.nn", rf"\d{{2}}{_S}\d{{2}}{_S}\d{{2}}{_S}\d{{3}}{_S}\d{{2}}",
        ("rijksregisternummer", "rijksregister", "registre national", "numéro national",
         "national number", "insz", "niss", "nationalregisternummer"),
    ),
    IdType(
        "PL_PESEL", "PL", ("pl", "en"), "national_ids+presidio", "44051401458",
        "pl.pesel", r"\d{11}", ("pesel",), presidio="PlPeselRecognizer",
    ),
    IdType(
        "PL_NIP", "PL", ("pl", "en"), "national_ids", "123-456-32-18",
        "pl.nip", r"\d{3}-?\d{3}-?\d{2}-?\d{2}|\d{3}-\d{2}-\d{2}-\d{3}", ("nip",),
    ),
    IdType(
        "PT_NIF", "PT", ("pt", "en"), "national_ids", "123 456 789",
        "pt.nif", rf"\d{{3}}{_S}\d{{3}}{_S}\d{{3}}",
        ("nif", "contribuinte", "identificação fiscal", "identificacao fiscal"),
    ),
    IdType(
        "AT_SOCIAL_SECURITY", "AT", ("de", "en"), "national_ids", "1237 010180",
        "at.vnr", rf"\d{{4}}{_S}\d{{6}}",
        ("sozialversicherungsnummer", "versicherungsnummer", "svnr", "sv-nummer",
         "sv-nr", "e-card"),
    ),
    IdType(
        "CH_AHV", "CH", ("de", "fr", "it", "en"), "national_ids", "756.1234.5678.97",
        "ch.ssn", rf"756{_S}\d{{4}}{_S}\d{{4}}{_S}\d{{2}}",
        ("ahv", "avs", "sozialversicherungsnummer"),
        alone=True,
    ),
    IdType(
        "SE_PERSONNUMMER", "SE", ("sv", "en"), "national_ids+presidio", "811218-9876",
        "se.personnummer", r"(?:19|20)?\d{6}[-+ ]?\d{4}",
        ("personnummer", "personnr", "samordningsnummer"),
        presidio="SePersonnummerRecognizer",
    ),
    IdType(
        "DK_CPR", "DK", ("da", "en"), "national_ids", "211062-5629",
        "dk.cpr", r"\d{6}-?\d{4}", ("cpr", "personnummer", "cpr-nummer", "cpr-nr"),
    ),
    IdType(
        "NO_FODSELSNUMMER", "NO", ("no", "en"), "national_ids", "151086 95088",
        "no.fodselsnummer", r"\d{6} ?\d{5}",
        ("fødselsnummer", "fodselsnummer", "personnummer", "f.nr"),
    ),
    IdType(
        "FI_PERSONAL_IDENTITY_CODE", "FI", ("fi", "sv", "en"), "national_ids+presidio",
        "131052-308T", "fi.hetu", r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]",
        ("hetu", "henkilötunnus", "personbeteckning"),
        alone=True, presidio="FiPersonalIdentityCodeRecognizer",
    ),
    IdType(
        "EU_VAT", "EU", ("de", "fr", "es", "it", "nl", "pt", "pl", "sv", "en"), "national_ids",
        "FR40303265045", "eu.vat", rf"(?:{_EU_VAT_PREFIX}) ?[0-9A-Z](?:[ .]?[0-9A-Z]){{7,13}}",
        ("vat", "mwst", "ust", "uid", "tva", "iva", "btw", "moms", "alv", "nip", "nif",
         "umsatzsteuer", "intracom"),
    ),
)  # fmt: skip
