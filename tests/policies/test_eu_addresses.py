"""Street addresses of DE, FR, ES, IT, NL, PT and PL are replaced whole, postcode and city
included, in prose and inside JSON strings; English words that name street types elsewhere
("via", "place", "route") do not make an address on their own."""

from __future__ import annotations

import pytest
from cogate.policies.detect.engine import Detector


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Envoyez-le au 14 rue des Lilas, 75011 Paris.", "14 rue des Lilas, 75011 Paris"),
        ("Vivo en calle Mayor 7, 28013 Madrid.", "calle Mayor 7, 28013 Madrid"),
        ("Keizersgracht 123, 1015 CJ Amsterdam", "Keizersgracht 123, 1015 CJ Amsterdam"),
        ('{"addr": "Hauptstraße 5, 10115 Berlin"}', "Hauptstraße 5, 10115 Berlin"),
        ('{"address": "Hauptstraße 5\\n10115 Berlin"}', "Hauptstraße 5\\n10115 Berlin"),
        ("Abito in via Roma 12, 20121 Milano (MI).", "via Roma 12, 20121 Milano (MI)"),
        ("Mieszkam przy ul. Długa 5/3, 00-238 Warszawa.", "ul. Długa 5/3, 00-238 Warszawa"),
        ("Moro na Rua Augusta 120, 1100-053 Lisboa.", "Rua Augusta 120, 1100-053 Lisboa"),
        ("Wir wohnen in der Berliner Straße 12a.", "Berliner Straße 12a"),
    ],
)
def test_address_replaced_whole(detector: Detector, text: str, address: str) -> None:
    at = text.index(address)
    covered = set()
    for span in detector.detect(text):
        covered.update(range(span.start, span.end))
    assert set(range(at, at + len(address))) <= covered


@pytest.mark.parametrize(
    "text",
    [
        "sent via Slack 3 times, place Order 5 via HTTP 2",
        "We raised 50000 Euro last year.",
        "Take route 66 and the Route Planner 2 docs.",
    ],
)
def test_not_addresses(detector: Detector, text: str) -> None:
    spans = detector.detect(text)
    assert not [s for s in spans if s.recognizer.startswith("eu_")]
