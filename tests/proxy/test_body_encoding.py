"""Compressed request bodies: decoded, limited after decoding, unknown encodings refused."""

from __future__ import annotations

import gzip

import brotli
import pytest
import zstandard
from cogate.proxy.defences.body_encoding import DecodedTooLarge, UnsupportedEncoding, decode_body

BODY = b'{"model":"m","input":"hello"}'
CODECS = {
    "zstd": zstandard.ZstdCompressor().compress,
    "gzip": gzip.compress,
    "br": brotli.compress,
}


@pytest.mark.parametrize("encoding", sorted(CODECS))
def test_decodes(encoding: str) -> None:
    assert decode_body(CODECS[encoding](BODY), encoding, 1000) == BODY


@pytest.mark.parametrize("encoding", sorted(CODECS))
def test_limit_applies_after_decoding(encoding: str) -> None:
    bomb = CODECS[encoding](b"{" + b" " * 5_000_000 + b"}")
    assert len(bomb) < 10_000
    with pytest.raises(DecodedTooLarge):
        decode_body(bomb, encoding, 100_000)


def test_identity_and_absent_header_pass_through() -> None:
    assert decode_body(BODY, None, 100) == BODY
    assert decode_body(BODY, "identity", 100) == BODY


def test_stacked_encodings_are_undone_in_reverse() -> None:
    raw = CODECS["br"](CODECS["gzip"](BODY))
    assert decode_body(raw, "gzip, br", 1000) == BODY


def test_unknown_encoding_is_415_naming_it() -> None:
    with pytest.raises(UnsupportedEncoding) as refused:
        decode_body(BODY, "compress", 1000)
    assert refused.value.status == 415 and "compress" in refused.value.message


@pytest.mark.parametrize("encoding", sorted(CODECS))
def test_corrupt_data_is_refused(encoding: str) -> None:
    with pytest.raises(UnsupportedEncoding) as refused:
        decode_body(b"not compressed at all", encoding, 1000)
    assert refused.value.status == 400
