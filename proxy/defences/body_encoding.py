"""Decode compressed request bodies (Content-Encoding zstd, gzip, br) before scanning.

A compressed body is never forwarded unread: it is decoded here, limited in size after
decoding (a small body can expand enormously), and the decoded JSON is what the privacy
engine scans and the gateway forwards. An encoding cogate cannot decode is refused (415).
"""

from __future__ import annotations

import zlib

import brotli
import zstandard
from cogate.core.errors import GatewayError


class UnsupportedEncoding(GatewayError):
    status = 415
    type = "invalid_request_error"
    code = "unsupported_content_encoding"


class DecodedTooLarge(GatewayError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


SUPPORTED = ("zstd", "gzip", "br", "identity")


def decode_body(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """The body after undoing `encoding` (a Content-Encoding header value), at most `limit`
    bytes once decoded."""
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    body = raw
    for coding in reversed(codings):  # listed in the order they were applied
        body = _decode_one(body, coding, limit)
    return body


def _decode_one(data: bytes, coding: str, limit: int) -> bytes:
    if coding == "identity":
        return data
    try:
        if coding == "zstd":
            out = _zstd(data, limit)
        elif coding in ("gzip", "x-gzip"):
            out = _zlib(zlib.decompressobj(16 + zlib.MAX_WBITS), data, limit)
        elif coding == "br":
            out = _brotli(data, limit)
        else:
            raise UnsupportedEncoding(
                f"Content-Encoding {coding!r} is not supported; send the body uncompressed "
                f"or with one of {', '.join(SUPPORTED)}"
            )
    except (zstandard.ZstdError, zlib.error, brotli.error):
        raise UnsupportedEncoding(
            f"the request body is not valid {coding} data; check the Content-Encoding header",
            status=400,
            code="bad_content_encoding",
        ) from None
    return out


def _too_large(limit: int) -> DecodedTooLarge:
    return DecodedTooLarge(
        f"request body exceeds this gateway's limit of {limit} bytes after decompression"
    )


def _zstd(data: bytes, limit: int) -> bytes:
    reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
    out = reader.read(limit + 1)
    while len(out) <= limit:
        more = reader.read(limit + 1 - len(out))
        if not more:
            break
        out += more
    if len(out) > limit:
        raise _too_large(limit)
    return out


def _zlib(decoder: zlib._Decompress, data: bytes, limit: int) -> bytes:
    out = decoder.decompress(data, limit + 1)
    if len(out) > limit or decoder.unconsumed_tail:
        raise _too_large(limit)
    return out + decoder.flush()


def _brotli(data: bytes, limit: int) -> bytes:
    decoder = brotli.Decompressor()
    out = decoder.process(data, output_buffer_limit=limit + 1)
    if len(out) > limit or not decoder.is_finished():
        if len(out) > limit:
            raise _too_large(limit)
        raise brotli.error("truncated brotli stream")
    return out
