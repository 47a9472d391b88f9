"""API keys: shape, splitting, HMAC hashing, the server secret file, redaction."""

from __future__ import annotations

import hashlib
import re
import stat
from pathlib import Path

import pytest

from whetstone.security import (
    KEY_PREFIX,
    KeyHasher,
    KeyParts,
    generate_key,
    load_or_create_secret,
    redact,
    split_key,
)

SECRET_A = b"server-secret-a-0123456789"
SECRET_B = b"server-secret-b-0123456789"
KEY_SHAPE = re.compile(r"^wst_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$")


def test_generated_keys_split_into_their_parts() -> None:
    assert KEY_PREFIX == "wst"
    for _ in range(50):  # token_urlsafe secrets often contain '_' and '-'
        key, parts = generate_key()
        assert KEY_SHAPE.match(key), key
        assert key == f"wst_{parts.prefix}_{parts.secret}"
        assert split_key(key) == parts


def test_generated_keys_are_distinct() -> None:
    generated = [generate_key() for _ in range(50)]
    keys = {key for key, _ in generated}
    prefixes = {parts.prefix for _, parts in generated}
    assert len(keys) == 50
    assert len(prefixes) == 50


@pytest.mark.parametrize(
    ("key", "prefix", "secret"),
    [
        ("wst_abc123_s3cr3t", "abc123", "s3cr3t"),
        ("wst_abc123_with_under_scores", "abc123", "with_under_scores"),
        ("wst_abc123_-dash-", "abc123", "-dash-"),
        ("wst_abc123__leading", "abc123", "_leading"),
    ],
)
def test_split_key_secret_may_contain_underscores(key: str, prefix: str, secret: str) -> None:
    assert split_key(key) == KeyParts(prefix, secret)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "wst",
        "wst_",
        "wst__",
        "wst_abc123",
        "wst_abc123_",
        "wst__secret",
        "abc_abc123_secret",
        "WST_abc123_secret",
        "wstx_abc123_secret",
        "Bearer wst_abc123_secret",
        "sk-abc123secret",
    ],
)
def test_malformed_keys_give_none(key: str) -> None:
    assert split_key(key) is None


def test_hasher_matches_only_the_same_key() -> None:
    hasher = KeyHasher(SECRET_A)
    key, _ = generate_key()
    other, _ = generate_key()
    stored = hasher.hash(key)
    assert hasher.matches(key, stored) is True
    assert hasher.matches(other, stored) is False
    assert hasher.matches(key + "x", stored) is False
    assert hasher.matches(key[:-1], stored) is False
    assert hasher.matches(key, "") is False


def test_hash_is_deterministic_hex_and_does_not_contain_the_key() -> None:
    key = "wst_abc123_thesecretpart"
    digest = KeyHasher(SECRET_A).hash(key)
    assert digest == KeyHasher(SECRET_A).hash(key)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert "thesecretpart" not in digest


def test_hash_differs_with_a_different_server_secret() -> None:
    key = "wst_abc123_thesecretpart"
    a, b = KeyHasher(SECRET_A), KeyHasher(SECRET_B)
    assert a.hash(key) != b.hash(key)
    assert b.matches(key, a.hash(key)) is False


def test_hash_is_not_a_plain_digest_of_the_key() -> None:
    key = "wst_abc123_thesecretpart"
    assert KeyHasher(SECRET_A).hash(key) != hashlib.sha256(key.encode()).hexdigest()


@pytest.mark.parametrize("secret", [b"", b"short", b"x" * 15])
def test_short_server_secret_rejected(secret: bytes) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        KeyHasher(secret)


def test_sixteen_byte_server_secret_accepted() -> None:
    assert len(KeyHasher(b"x" * 16).hash("k")) == 64


def test_load_or_create_secret_creates_a_private_file_once(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "secret"
    first = load_or_create_secret(path)
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 32
    content = path.read_text()
    second = load_or_create_secret(path)
    assert second == first
    assert path.read_text() == content
    KeyHasher(first)  # long enough to hash with


def test_load_or_create_secret_reads_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    value = bytes(range(32))
    path.write_text(value.hex() + "\n")
    assert load_or_create_secret(path) == value


def test_secrets_of_different_data_dirs_differ(tmp_path: Path) -> None:
    a = load_or_create_secret(tmp_path / "a" / "secret")
    b = load_or_create_secret(tmp_path / "b" / "secret")
    assert a != b


def test_redact_never_shows_the_secret() -> None:
    for _ in range(20):
        key, parts = generate_key()
        shown = redact(key)
        assert parts.secret not in shown
        assert shown == f"wst_{parts.prefix}_…"


@pytest.mark.parametrize(
    "key", ["", "not-a-key", "wst_onlyprefix", "sk-live-abcdefghijklmnop", "wst__secretpart"]
)
def test_redact_of_a_malformed_key_shows_nothing_of_it(key: str) -> None:
    assert redact(key) == "…"
