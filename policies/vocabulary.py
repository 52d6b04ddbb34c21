"""The entity types a policy may name: one vocabulary, checked, with no aliases.

`TYPES` lists every type the registered recognizers produce (Presidio's predefined ones and
cogate's own) with its family, languages and one example; a policy's `custom` recognizers add
theirs. The table is read without loading Presidio or spaCy, so `cogate policy check` and
`serve` reject a mistyped type at once; `policies/detect/types.py` derives the same set from
the live recognizer roster, and a test keeps the two equal, so a recognizer added without a
row here fails the suite instead of its type being refused.

A name a user guesses (`IBAN`, `SSN`, `EMAIL`) is an error that names the right type:
accepting it silently would make a policy mean something its author cannot see.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from cogate.policies.recognizers.europe.id_table import NATIONAL_IDS


@dataclass(frozen=True)
class EntityType:
    """One entity type: the recognizer family that finds it, its languages and an example."""

    name: str
    family: str
    example: str
    languages: tuple[str, ...] = ("en",)


def _rows(family: str, *rows: tuple[str, str]) -> list[EntityType]:
    return [EntityType(name, family, example) for name, example in rows]


_TABLE: list[EntityType] = [
    *_rows(
        "ner",  # spaCy's named entities, mapped to Presidio's names, plus cogate's name rules
        ("PERSON", "Isabel Martinez"),
        ("LOCATION", "221B Baker Street, London"),
        ("NRP", "Portuguese"),
        ("DATE_TIME", "March 3, 1961"),
        ("ORGANIZATION", "Goldman Sachs"),
    ),
    *_rows(
        "contact",
        ("EMAIL_ADDRESS", "isabel.martinez@example.com"),
        ("PHONE_NUMBER", "+1 212-555-0187"),
        ("URL", "https://intranet.example.com/u/imartinez"),
        ("IP_ADDRESS", "192.168.14.22"),
        ("MAC_ADDRESS", "00:1A:2B:3C:4D:5E"),
        ("USERNAME", "github handle: imartinez_dev"),
        ("GPS_COORDINATES", "40.7128, -74.0060"),
    ),
    *_rows(
        "financial",
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
        ("US_BANK_NUMBER", "account 000123456789"),
        ("ABA_ROUTING_NUMBER", "routing 021000021"),
        ("CRYPTO", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
    ),
    *_rows(
        "national-id",
        ("US_SSN", "078-05-1120"),
        ("US_ITIN", "912-70-1234"),
        ("US_PASSPORT", "passport 912803456"),
        ("US_DRIVER_LICENSE", "driver license D1234567"),
        ("PASSPORT", "passport no. K1234567"),
        ("UK_NHS", "NHS number 943 476 5919"),
        ("UK_NINO", "AB 12 34 56 C"),
        ("MEDICAL_LICENSE", "DEA BB1388568"),
    ),
    *_rows("secret", ("SECRET", "AKIAIOSFODNN7EXAMPLE")),
    *_rows(
        "health",  # HIPAA Safe Harbor identifiers (policies/recognizers/regulated.py)
        ("MEDICAL_RECORD_NUMBER", "MRN: 00482913"),
        ("HEALTH_PLAN_NUMBER", "member ID XJH448120931"),
        ("FAX_NUMBER", "fax (617) 555-0199"),
        ("VEHICLE_ID", "VIN 1HGCM82633A004352"),
        ("DEVICE_ID", "pacemaker serial no. PM-7731-0042"),
        ("AGE_OVER_89", "a 93-year-old"),
        ("PRECISE_DATE", "03/14/2021"),
        ("ID_NUMBER", "claim number CLM-2024-118834"),
    ),
    *_rows(
        "payment",  # PCI DSS sensitive authentication data
        ("CARD_CVV", "CVV 737"),
        ("CARD_EXPIRY", "exp 09/27"),
        ("CARD_TRACK_DATA", ";4111111111111111=27091010000000000?"),
    ),
]

# European national identifiers, from their own table (one row per type, with its languages).
# A digit-only identifier is found after one of its keywords: the example shows it with one.
_TABLE += [
    EntityType(
        spec.entity,
        "national-id",
        spec.example if spec.alone else f"{spec.keywords[0]}: {spec.example}",
        spec.languages,
    )
    for spec in NATIONAL_IDS
]

TYPES: dict[str, EntityType] = {row.name: row for row in _TABLE}


def known_types(custom: Iterable[str] = ()) -> set[str]:
    """Every type a policy may name: the table's and those its `custom` recognizers define."""
    return set(TYPES) | set(custom)


# Words users reach for that share no letters with the type's name; named in the error only.
_HINTS = {"NAME": "PERSON", "ADDRESS": "LOCATION", "DOB": "DATE_TIME", "BIRTHDATE": "DATE_TIME"}


def closest(name: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """The known types nearest to a mistyped `name`: a usual word's type, then those
    containing all its words (`IBAN` → IBAN_CODE, `SSN` → US_SSN), then the nearest
    spellings (`PERSN` → PERSON)."""
    pool = sorted(known)
    upper = name.upper().replace("-", "_")
    words = [w for w in upper.split("_") if w]
    containing = sorted(
        (t for t in pool if words and all(w in t.split("_") for w in words)), key=len
    )
    spelled = difflib.get_close_matches(upper, pool, n=limit, cutoff=0.6)
    hinted = [_HINTS[upper]] if _HINTS.get(upper) in pool else []
    out: list[str] = []
    for candidate in [*hinted, *containing, *spelled]:
        if candidate not in out:
            out.append(candidate)
    return out[:limit]


def unknown_type_errors(
    names: Iterable[str],
    key: str,
    known: set[str],
    *,
    categories: Iterable[str] = (),
    listed: bool = False,
) -> list[str]:
    """One line per name under `key` that is no known type (nor one of `categories`),
    naming the closest types and the fix. `key` is a mapping (`actions`, `thresholds`: the
    line names `actions.IBAN`) or, with `listed`, a list (`routes.0.match.found`).
    `default` is a key of `actions`, not a type."""
    allowed = known | set(categories)
    errors = []
    for name in names:
        if (name == "default" and not listed) or name in allowed:
            continue
        near = closest(name, known)
        fix = f"use {' or '.join(near)}" if near else "use a known type"
        where = f"key `{key}`" if listed else f"key `{key}.{name}`"
        errors.append(
            f"  {where}: bad value {json.dumps(name, ensure_ascii=False)}: unknown entity "
            f"type; fix: {fix} (names are exact; `cogate policy types` lists them, a "
            "`custom` recognizer defines new ones)"
        )
    return errors
