"""Password hashing (argon2id) and the password policy (length, common-password list)."""

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from app.i18n import N_

MIN_LENGTH = 12
MAX_LENGTH = 256
TOO_SHORT = N_("Choose a new password of at least 12 characters. A few unrelated words make a strong one.")
TOO_LONG = N_("Choose a new password of at most 256 characters.")

# OWASP's argon2id floor: 19 MiB of memory, two passes, one lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


# Keyboard and counting runs ("123456789012", "qwertyuiopas") are guessed first.
_SEQUENCES = ("1234567890" * 3, "0987654321" * 3, "qwertyuiopasdfghjklzxcvbnm", "abcdefghijklmnopqrstuvwxyz")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn's list of the 30,000 most common leaked passwords.
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str | None = None, name: str | None = None) -> str | None:
    """Why a new password is refused, in words for the person choosing it (marked for translation, shown in
    their language where it is shown); None when it is fine."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    lowered = password.lower()
    # "password2024!" is as guessable as "password": also check what is left without the padding.
    stem = lowered.strip("0123456789!@#$%^&*()_-+=.,?~ ")
    if (
        lowered in _common_passwords()
        or stem in _common_passwords()
        or len(set(lowered)) <= 3
        or any(lowered in run for run in _SEQUENCES)
    ):
        return N_("This password is too common and easy to guess. Choose another new password.")
    personal = [p.lower() for p in (email, email.split("@")[0] if email else None, name) if p]
    if any(lowered == p for p in personal):
        return N_("Choose a new password that is not your email address or your name.")
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Verified against when no account matches, so a missing account costs the same time.
_DUMMY_HASH = _hasher.hash("mend-timing-equaliser-not-a-password")


def burn_verification_time(password: str) -> None:
    verify_password(_DUMMY_HASH, password)
