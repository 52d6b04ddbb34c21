"""The per-installation secrets of the ledger, kept apart from the database, owner-only.

`audit-hmac.key` tags removed values; `audit-signing.key` (Ed25519) signs checkpoints.
Both are created once, atomically, so several gateway processes agree on them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path

from cogate.core.private_files import create_once, private_dir, write_private
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["KeyStore", "private_dir", "write_private"]

KEY_PREFIX = "ed25519:"
_HEX = re.compile(r"[0-9a-f]+")


def public_key_text(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return KEY_PREFIX + key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """Strict `ed25519:<64 lowercase hex>`: an altered key file must not parse as the same key."""
    text = text.strip()
    raw = text[len(KEY_PREFIX) :]
    if not text.startswith(KEY_PREFIX) or len(raw) != 64 or not _HEX.fullmatch(raw):
        raise ValueError("a public key must read ed25519:<64 lowercase hex digits>")
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(raw))


def key_id(public_text: str) -> str:
    return "sha256:" + hashlib.sha256(public_text.encode()).hexdigest()[:16]


def verify_signature(key: Ed25519PublicKey, signature_hex: str, message: bytes) -> bool:
    if len(signature_hex) != 128 or not _HEX.fullmatch(signature_hex):
        return False
    try:
        key.verify(bytes.fromhex(signature_hex), message)
    except InvalidSignature:
        return False
    return True


class KeyStore:
    """Loads (creating on first use) the HMAC and signing keys under `<data_dir>/keys`."""

    def __init__(self, keys_dir: Path) -> None:
        self.dir = keys_dir
        self.hmac_path = keys_dir / "audit-hmac.key"
        self.signing_path = keys_dir / "audit-signing.key"
        self.public_path = keys_dir / "audit-signing.pub"

    def hmac_key(self) -> bytes:
        private_dir(self.dir)
        text = create_once(self.hmac_path, secrets.token_hex(32).encode()).decode().strip()
        return bytes.fromhex(text)

    def signing_key(self) -> Ed25519PrivateKey:
        private_dir(self.dir)
        seed = create_once(self.signing_path, secrets.token_hex(32).encode()).decode().strip()
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed))
        public = public_key_text(key.public_key()) + "\n"
        if not self.public_path.exists() or self.public_path.read_text() != public:
            write_private(self.public_path, public.encode())
        return key

    def public_key(self) -> str:
        """The public key text; derived from the private key when the .pub file is missing."""
        if self.public_path.exists():
            return self.public_path.read_text().strip()
        if self.signing_path.exists():
            return public_key_text(self.signing_key().public_key())
        raise FileNotFoundError(
            f"no signing key in {self.dir}; the ledger has never been written, or pass the "
            "exported public key"
        )
