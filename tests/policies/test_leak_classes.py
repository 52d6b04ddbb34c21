"""Tables of issue 13's recognition classes: secrets in configuration text (2), separators
and splits (3), recognition misses (5) and over-redaction (8), positive and negative."""

# ruff: noqa: E501  (a table of literal cases reads best one case per line)
from __future__ import annotations

import pytest
from cogate.policies.detect.engine import Detector

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ7rT9vB2k"
RSA_BODY = (
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7Qk\n"
    "rmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/V"
)

# (text, entity type, a value the policy must act on as a whole)
POSITIVE = [
    # class 2: keys that end in a credential word, glued by `_`; provider key shapes
    ("DB_PASSWORD=Tr0ub4dor3xyz", "SECRET", "Tr0ub4dor3xyz"),
    (f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}", "SECRET", AWS_SECRET),
    (
        "OPENAI_API_KEY=sk-proj-Zq8Xw2Lm4Np6Rt0Vb3Hc5Jd7Kf9Gs1",
        "SECRET",
        "sk-proj-Zq8Xw2Lm4Np6Rt0Vb3Hc5Jd7Kf9Gs1",
    ),
    (
        "STRIPE_SECRET_KEY=sk_live_51HqLyjWDarjtT1zdp7dcXyZ",
        "SECRET",
        "sk_live_51HqLyjWDarjtT1zdp7dcXyZ",
    ),
    ("POSTGRES_PASSWORD: 'Kx9!mPq2#vL'", "SECRET", "Kx9!mPq2#vL"),
    ("export PGPASSWORD=hunter2go", "SECRET", "hunter2go"),
    ("db:\n  password: abc12\n", "SECRET", "abc12"),
    ('{"password": "s3cr3t-Passw0rd"}', "SECRET", "s3cr3t-Passw0rd"),
    (
        "maps AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY ok",
        "SECRET",
        "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    ),
    ("use rk_live_51HqLyjWDarjtT1zdp7dcXyZab", "SECRET", "rk_live_51HqLyjWDarjtT1zdp7dcXyZab"),
    (
        "xapp-1-A0123456789-1234567890123-abcdef0123456789",
        "SECRET",
        "xapp-1-A0123456789-1234567890123-abcdef0123456789",
    ),
    (
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "SECRET",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ),
    (
        "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "SECRET",
        "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ),
    (
        "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",
        "SECRET",
        "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",
    ),
    (f"is {AWS_SECRET} valid?", "SECRET", AWS_SECRET),
    (f"[default]\naws_secret_access_key = {AWS_SECRET}\n", "SECRET", AWS_SECRET),
    (f"what is this?\n{RSA_BODY}\n", "SECRET", RSA_BODY),
    # class 3: Unicode dashes, `_`, `/`, `.`, glued to letters
    (
        "card 4111\u20131111\u20131111\u20131111",
        "CREDIT_CARD",
        "4111\u20131111\u20131111\u20131111",
    ),
    ("card 4111_1111_1111_1111", "CREDIT_CARD", "4111_1111_1111_1111"),
    ("card 4111/1111/1111/1111", "CREDIT_CARD", "4111/1111/1111/1111"),
    ("pay 4111.1111.1111.1111 now", "CREDIT_CARD", "4111.1111.1111.1111"),
    ("ref:card4111111111111111exp1227", "CREDIT_CARD", "4111111111111111"),
    ("amex 3782\u2013822463\u201310005", "CREDIT_CARD", "3782\u2013822463\u201310005"),
    ("ssn 536\u201322\u20138841", "US_SSN", "536\u201322\u20138841"),
    ("ssn 536_22_8841", "US_SSN", "536_22_8841"),
    ("ssn 536/22/8841", "US_SSN", "536/22/8841"),
    ("id:ssn536228841;ok", "US_SSN", "536228841"),
    ("first half 4111 1111, second half 1111 1111", "CREDIT_CARD", "1111 1111"),
    # class 5: names in other scripts, addressed first names, places and identifiers
    ("请把报告发给张伟", "PERSON", "张伟"),
    ("王秀英女士的电话是多少？", "PERSON", "王秀英"),
    ("田中さんに連絡してください", "PERSON", "田中"),
    ("山田太郎様へのメール", "PERSON", "山田太郎"),
    ("김민준 씨에게 전화하세요", "PERSON", "김민준"),
    ("제 이름은 이지훈입니다", "PERSON", "이지훈"),
    ("Напиши письмо Ивану Петрову", "PERSON", "Ивану Петрову"),
    ("Встреча с Сергеем Ивановичем Кузнецовым", "PERSON", "Сергеем Ивановичем Кузнецовым"),
    ("أرسل التقرير إلى محمد العلي", "PERSON", "محمد العلي"),
    ("कृपया राहुल शर्मा को फोन करें", "PERSON", "राहुल शर्मा"),
    ("प्रिया जी को ईमेल भेजें", "PERSON", "प्रिया"),
    ("Ask Priya to call back.", "PERSON", "Priya"),
    ("tell nguyen that the car is ready", "PERSON", "nguyen"),
    ("221B Baker Street, London NW1 6XE", "LOCATION", "221B Baker Street"),
    ("221B Baker Street, London NW1 6XE", "LOCATION", "NW1 6XE"),
    ("Springfield, IL 62704", "LOCATION", "62704"),
    ("my MAC is 00:1A:2B:3C:4D:5E", "MAC_ADDRESS", "00:1A:2B:3C:4D:5E"),
    ("passport number C01X00T47", "PASSPORT", "C01X00T47"),
    ("my NI number is AB 12 34 56 C", "UK_NINO", "AB 12 34 56 C"),
    ("routing number 021000021", "ABA_ROUTING_NUMBER", "021000021"),
    ("meet at 40.7484, -73.9857", "GPS_COORDINATES", "40.7484, -73.9857"),
    ("my github is eleanor-vance-87", "USERNAME", "eleanor-vance-87"),
]

# (entity type that must not be found, text)
NEGATIVE = [
    ("SECRET", "PASSWORD_MIN_LENGTH=12"),
    ("SECRET", "self._password = password"),
    ("SECRET", "password = os.environ['DB_PASSWORD']"),
    ("SECRET", "const token = process.env.API_TOKEN;"),
    ("SECRET", "password: str = Field(min_length=8)"),
    ("SECRET", "max_tokens: 4096"),
    ("SECRET", "commit 3adfa28f49179a6a5b2c8d9e1f0a1b2c3d4e5f60"),
    ("SECRET", "compass: north"),
    (
        "SECRET",
        "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQG",
    ),
    ("CREDIT_CARD", "order 4111.1111.1111.1112 failed"),  # fails Luhn
    ("CREDIT_CARD", "build 20261129.1234.5678.9012"),
    ("US_SSN", "released 2023/01/04"),
    ("US_SSN", "version 666.12.3456"),
    ("PERSON", "Remind me to Email HelpBot about the Valencia trip."),
    ("PERSON", "Ask everyone to join at noon."),
    ("PERSON", "tell them that the build is green"),
    ("PERSON", "帮我写一首关于秋天的诗"),
    ("PERSON", "今日は天気がいいですね。皆さん、おはようございます"),
    ("PERSON", "오늘 날씨가 좋네요"),
    ("PERSON", "Один из нас опоздал."),
    ("PERSON", "الطقس جميل اليوم"),
    ("PERSON", "आज मौसम अच्छा है"),
    ("PERSON", "raise TimeoutError('gave up')"),
    ("LOCATION", "Напиши короткое стихотворение о весне"),
    ("LOCATION", "Explain the difference between TCP and UDP."),
    ("LOCATION", "Convert 72 degrees Fahrenheit to Celsius."),
    ("GPS_COORDINATES", "scores 0.8123, 0.9123, 0.7712"),
    ("ABA_ROUTING_NUMBER", "order 021000021 shipped"),  # no routing context
    ("USERNAME", "I pushed it to GitHub yesterday"),
    ("USERNAME", "my github is great"),
]


def _covered(spans, entity: str, start: int, end: int) -> bool:
    return any(s.entity_type == entity and s.start <= start and s.end >= end for s in spans)


@pytest.mark.parametrize(("text", "entity", "value"), POSITIVE, ids=[p[2][:24] for p in POSITIVE])
def test_positive(detector: Detector, text: str, entity: str, value: str) -> None:
    start = text.index(value)
    spans = detector.detect(text)
    assert _covered(spans, entity, start, start + len(value)), [
        (s.entity_type, text[s.start : s.end], s.recognizer) for s in spans
    ]


@pytest.mark.parametrize(("entity", "text"), NEGATIVE, ids=[n[1][:24] for n in NEGATIVE])
def test_negative(detector: Detector, entity: str, text: str) -> None:
    found = [s for s in detector.detect(text) if s.entity_type == entity]
    assert not found, [(s.entity_type, text[s.start : s.end], s.recognizer) for s in found]


@pytest.mark.parametrize(
    ("pieces", "values"),
    [
        (["Please greet Marg", "aret Thornbury."], ["Marg", "aret Thornbury"]),
        (["My card is 4111 1111 ", "1111 1111, thanks"], ["4111 1111", "1111 1111"]),
        (["ssn 536-22-", "8841"], ["536-22-", "8841"]),
    ],
)
def test_analyze_parts_finds_values_split_across_pieces(detector: Detector, pieces, values) -> None:
    per_piece = detector.analyze_parts(pieces)
    assert len(per_piece) == len(pieces)
    for piece, spans, value in zip(pieces, per_piece, values, strict=True):
        start = piece.index(value)
        assert any(s.start <= start and s.end >= start + len(value) for s in spans), spans


def test_analyze_parts_of_one_piece_is_detect(detector: Detector) -> None:
    text = "Ask Priya to call back."
    assert detector.analyze_parts([text]) == [detector.detect(text)]
