"""The ledger's canonical JSON is RFC 8785 byte for byte, whichever encoder writes it: a
different byte would break every hash chain the verifier re-derives."""

from __future__ import annotations

import json

import rfc8785
from cogate.audit.hashing import _plain, canonical
from hypothesis import given, settings
from hypothesis import strategies as st

from .helpers import completion, egress

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def rfc(obj: object) -> bytes | None:
    try:
        return rfc8785.dumps(obj)
    except Exception:  # noqa: BLE001 - a value RFC 8785 cannot write must not be written
        return None


@settings(max_examples=600, deadline=None)
@given(VALUES)
def test_any_json_value_is_written_as_rfc8785_writes_it(value):
    expected = rfc(value)
    if expected is None:
        try:
            canonical(value)
        except Exception:  # noqa: BLE001
            return
        raise AssertionError("a value RFC 8785 refuses was written")
    assert canonical(value) == expected


CASES = [
    {"b": 1, "a": [True, None, "x"]},
    {"s": 'quote " backslash \\ controls \x00\x01\x1f\x7f \b\f\n\r\t'},
    {"s": "no-break\u00a0 line sep\u2028 para\u2029 emoji \U0001f600 cjk \u4e2d"},
    {"ms": 0.0001, "big": 123456789012345.6, "small": 0.12345678901234568, "n": -2.5},
    {"whole": 2.0, "tiny": 1e-7, "huge": 1e21, "zero": -0.0, "mid": 1e16 + 2.0},
    {"int": 2**53 - 1, "neg": -(2**53) + 1},
    {"\u00e9": 1, "e": 2, "\U0001f600": 3, "\uff61": 4},
]


def test_edge_values_match_rfc8785():
    for case in CASES:
        assert canonical(case) == rfc8785.dumps(case), case


def test_ledger_entries_take_the_fast_encoder():
    from cogate.audit.entries import completion_fields, egress_fields

    fields, _ = egress_fields(egress(1, removed=[("PERSON", "Ada")]), b"k" * 32)
    done = completion_fields(completion("7", 1))
    for entry in (fields, done, {**done, "timings": {"upstream_ms": 12.345, "total": 0.5}}):
        entry = {**entry, "seq": 9, "prev": "sha256:" + "0" * 64, "time": "2026-01-01T00:00Z"}
        assert _plain(entry)
        assert canonical(entry) == rfc8785.dumps(entry)
        assert json.loads(canonical(entry)) == entry


def test_a_lone_surrogate_is_refused_as_rfc8785_refuses_it():
    value = {"s": "half \ud800 pair"}
    assert rfc(value) is None
    try:
        canonical(value)
    except Exception:  # noqa: BLE001 - rfc8785's own error
        return
    raise AssertionError("a lone surrogate was written")
