"""API keys: their shape, their hash (HMAC with a server-side secret), their comparison."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_PREFIX = "wst"


@dataclass(frozen=True, slots=True)
class KeyParts:
    prefix: str  # public, indexed: finds the row without comparing secrets
    secret: str


def generate_key() -> tuple[str, KeyParts]:
    """A new key ``wst_<prefix>_<secret>``: 48 bits of lookup prefix, 256 bits of secret."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{KEY_PREFIX}_{prefix}_{secret}", KeyParts(prefix, secret)


def split_key(key: str) -> KeyParts | None:
    head, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if head != KEY_PREFIX or not prefix or not secret:
        return None
    return KeyParts(prefix, secret)


class KeyHasher:
    def __init__(self, server_secret: bytes) -> None:
        if len(server_secret) < 16:
            raise ValueError("the server secret must be at least 16 bytes")
        self._secret = server_secret

    def hash(self, key: str) -> str:
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    def matches(self, key: str, stored_hash: str) -> bool:
        return hmac.compare_digest(self.hash(key), stored_hash)


def load_or_create_secret(path: Path) -> bytes:
    """The server secret kept in the data dir (mode 0600), made on first use."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data dir: owner only
    value = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.hex().encode())
    finally:
        os.close(fd)
    return value


def redact(key: str) -> str:
    """What logs may show of a key."""
    parts = split_key(key)
    return f"{KEY_PREFIX}_{parts.prefix}_…" if parts else "…"
