"""Places of a profile or a letter: profile location fields, country names, street
addresses and units."""

from __future__ import annotations

import re

from cogate.policies.recognizers.base import CAPITALISED, Rule, trie_regex

_I = re.IGNORECASE

PROFILE_LOCATION_RULES = [
    Rule(
        "profile_location",
        re.compile(
            rf"(?m)^[ \t\-*]*(?:location|city|hometown|home[ _]town|address|lives in)[ \t]*[:=]"
            rf"[ \t]*({CAPITALISED})[ \t]*$",
            _I,
        ),
        0.75,
        group=1,
    ),
]


def _country_names() -> list[str]:
    # Country names from phonenumbers' bundled data (offline, installed with Presidio).
    from phonenumbers import geocoder
    from phonenumbers.phonenumberutil import SUPPORTED_REGIONS

    ambiguous = {"Jordan", "Chad", "Turkey", "Georgia", "Jersey", "Guinea", "Niger"}
    names = {geocoder._region_display_name(region, "en") for region in SUPPORTED_REGIONS}
    return sorted((n for n in names if n and n not in ambiguous), key=len, reverse=True)


_STREET = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|"
    r"place|pl|terrace|parkway|pkwy|highway|hwy|square|sq|circle|cir|crescent|close)"
)


ADDRESS_RULES = [
    Rule("country", re.compile(r"\b" + trie_regex(_country_names()) + r"\b", _I), 0.6),
    Rule(
        "street_address",
        re.compile(
            rf"\b\d{{1,5}}[A-Za-z]?(?:[ \t]+\d{{1,5}})?[ \t]+(?:[^\W\d_][\w'.\-]*[ \t]+){{0,4}}"
            rf"{_STREET}\b\.?",
            _I,
        ),
        0.6,
    ),
    Rule(
        "address_unit",
        re.compile(r"\b(?:suite|apt\.?|apartment|unit|p\.?\s?o\.?\s?box)[ \t]*#?\d{1,6}\b", _I),
        0.6,
    ),
]
