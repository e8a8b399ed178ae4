"""Password hashing and token secrets."""

from __future__ import annotations

import pytest

from assay.accounts.secrets import (
    MAX_PASSWORD_CHARS,
    generate_password,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)
from assay.errors import InvalidInput


def test_argon2id_hash_verifies_only_the_right_password() -> None:
    hashed = hash_password("a long enough password")
    assert hashed.startswith("$argon2id$")
    assert "a long enough password" not in hashed
    assert verify_password(hashed, "a long enough password")
    assert not verify_password(hashed, "a long enough passworD")


def test_unknown_user_never_verifies() -> None:
    assert not verify_password(None, "assay-timing-equalizer")


def test_garbage_hash_is_a_failure_not_a_crash() -> None:
    assert not verify_password("not-a-hash", "whatever password")


@pytest.mark.parametrize("password", ["", "short", "x" * (MAX_PASSWORD_CHARS + 1)])
def test_password_length_limits(password: str) -> None:
    with pytest.raises(InvalidInput):
        hash_password(password)


def test_huge_password_is_refused_without_hashing() -> None:
    assert not verify_password(hash_password("a long enough password"), "x" * 100_000)


def test_generated_secrets_are_unique_and_long() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(t.startswith("assay_") and len(t) > 40 for t in tokens)
    assert len(generate_password()) >= 20
    assert token_hash("assay_x") != token_hash("assay_y")
