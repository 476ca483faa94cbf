"""The password policy: length, not common, not personal; argon2id parameters."""

import pytest

from app.auth.passwords import hash_password, needs_rehash, password_problem, verify_password


@pytest.mark.parametrize(
    "password",
    ["lantern orbit cobalt meadow", "twelve chars", "Ünïcödé passphrase ✓", "x7#Lq!9zR2@w"],
)
def test_long_uncommon_passwords_are_accepted(password: str) -> None:
    assert password_problem(password) is None


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short", "at least 12 characters"),
        ("elevenchars", "at least 12 characters"),
        ("password1234", "too common"),
        ("123456789012", "too common"),
        ("qwertyuiop12", "too common"),
        ("Password2024!", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
        ("x" * 257, "at most 256"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, expected: str) -> None:
    problem = password_problem(password)
    assert problem is not None and expected in problem


def test_no_composition_rules_are_imposed() -> None:
    assert password_problem("all lower case words here") is None


def test_the_email_address_is_not_a_password() -> None:
    assert password_problem("someone.long@example.org", email="someone.long@example.org") is not None


def test_hashes_are_argon2id_with_19_mib_and_two_passes() -> None:
    hashed = hash_password("lantern orbit cobalt meadow")
    assert hashed.startswith("$argon2id$") and "m=19456,t=2,p=1" in hashed
    assert verify_password(hashed, "lantern orbit cobalt meadow")
    assert not verify_password(hashed, "lantern orbit cobalt meado")
    assert not needs_rehash(hashed)


def test_a_garbled_hash_never_verifies() -> None:
    assert not verify_password("not-a-hash", "anything at all here")
