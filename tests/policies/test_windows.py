"""The e-mail recognizer that scans only runs holding an '@' finds what Presidio's finds."""

from __future__ import annotations

import random

import pytest
from cogate.policies.detect.analyzer import PRESIDIO_FLAGS
from cogate.policies.recognizers.base import OfflineEmailRecognizer
from cogate.policies.recognizers.windows import WindowedEmailRecognizer

EDGES = [
    "maria.kowalski@example.com",
    "write to maria@example.org.",
    "(jonas@mailbox.io)",
    "<a href='mailto:priya.okafor@acme-corp.com'>Priya</a>",
    "a@b@c.example.com and x@y",
    "login ok for tomasz.hartmann@northwind.net in 12ms",
    "élodie.dupont@exemple.fr, 王@例子.中国, user+tag@sub.domain.co.uk",
    "\tfirst@example.com\r\nsecond@example.com\u00a0third@example.com",
    "trailing.dot@example.com. @alone name@ @@ a@b.c",
]


def found(recognizer, text: str) -> list[tuple[int, int, float]]:
    return [(r.start, r.end, r.score) for r in recognizer.analyze(text, ["EMAIL_ADDRESS"])]


def texts(seed: int) -> list[str]:
    rng = random.Random(seed)
    words = ["def f(x):", "return", "INFO", "pid=41", "user", "at", "@", "-", ".", "\n", "  "]
    out = []
    for _ in range(20):
        parts = [rng.choice(words + EDGES) for _ in range(rng.randint(5, 200))]
        out.append(rng.choice(["", " ", "\n"]).join(parts))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_the_same_addresses_as_presidios_recognizer(seed: int) -> None:
    stock, windowed = OfflineEmailRecognizer(), WindowedEmailRecognizer()
    for recognizer in (stock, windowed):
        recognizer.global_regex_flags = PRESIDIO_FLAGS  # as the analyzer configures them
    total = 0
    for text in texts(seed) + EDGES:
        expected = found(stock, text)
        assert found(windowed, text) == expected, text
        total += len(expected)
    assert total > 50
