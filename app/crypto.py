"""Field-level encryption of confidential columns: AES-256-GCM, with the key id stored with each value.

A stored value reads `enc:v1:<key id>:<base64url(nonce || ciphertext and tag)>`. The nonce is 96 random
bits per value. The associated data names the value's table and column, so a value copied into another
column (or another table) does not decrypt. Keys come from settings (`MEND_ENCRYPTION_KEYS`, with
`MEND_ENCRYPTION_KEY_ID` the key for new writes); older keys stay in the ring to read what they wrote
until `mend keys rotate` has re-encrypted it.

Encrypted columns can be read and written, never searched, compared or sorted on in SQL: their
comparator refuses every operator except IS NULL / IS NOT NULL, so such a query fails where it is built.
"""

import base64
import binascii
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

FORMAT = "enc:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"[A-Za-z0-9-]{1,32}")  # no "_" or "%": key ids appear in LIKE patterns


class EncryptionError(RuntimeError):
    """A confidential value could not be encrypted or decrypted. Messages never hold the value."""


class DecryptionError(EncryptionError):
    def __init__(self, column: str, key_id: str | None, reason: str) -> None:
        under = f" under key {key_id!r}" if key_id else ""
        super().__init__(f"Cannot decrypt a value of {column}{under}: {reason}.")
        self.column = column
        self.key_id = key_id


class KeyringError(ValueError):
    """MEND_ENCRYPTION_KEYS or MEND_ENCRYPTION_KEY_ID is malformed. Messages never hold key material."""


@dataclass(frozen=True)
class Keyring:
    """The AES-256 keys by id, and the id of the one that encrypts new values."""

    active_id: str
    keys: dict[str, bytes] = field(repr=False)
    _ciphers: dict[str, AESGCM] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise KeyringError(f"MEND_ENCRYPTION_KEY_ID {self.active_id!r} is not one of the keys given.")
        object.__setattr__(self, "_ciphers", {kid: AESGCM(key) for kid, key in self.keys.items()})

    @classmethod
    def parse(cls, keys_text: str, active_id: str | None = None) -> "Keyring":
        """Read `kid:base64url-key` pairs separated by commas (or new lines); refuse anything malformed."""
        keys: dict[str, bytes] = {}
        for n, item in enumerate((p.strip() for p in re.split(r"[,\n]", keys_text)), start=1):
            if not item:
                continue
            kid, sep, encoded = item.partition(":")
            if not sep or not KEY_ID.fullmatch(kid):
                raise KeyringError(
                    f"MEND_ENCRYPTION_KEYS entry {n} is not `key-id:base64url-key` "
                    "(a key id is 1-32 letters, digits or '-')."
                )
            if kid in keys:
                raise KeyringError(f"MEND_ENCRYPTION_KEYS names key {kid!r} twice.")
            try:
                key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            except (binascii.Error, ValueError):
                key = b""
            if len(key) != KEY_BYTES:
                raise KeyringError(f"MEND_ENCRYPTION_KEYS key {kid!r} is not a base64url-encoded 256-bit key.")
            keys[kid] = key
        if not keys:
            raise KeyringError("MEND_ENCRYPTION_KEYS holds no key.")
        if active_id is None:
            if len(keys) > 1:
                raise KeyringError("MEND_ENCRYPTION_KEYS holds several keys: set MEND_ENCRYPTION_KEY_ID to one.")
            active_id = next(iter(keys))
        return cls(active_id=active_id, keys=keys)

    def encrypt(self, plaintext: str, *, column: str) -> str:
        """Encrypt under the active key, bound to `column` ("table.column")."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active_id].encrypt(nonce, plaintext.encode(), _associated_data(column))
        return f"{FORMAT}{self.active_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, *, column: str) -> str:
        """The plaintext of a stored value of `column`; DecryptionError names the column and key, never the value."""
        if not stored.startswith(FORMAT):
            raise DecryptionError(column, None, "the stored value is not in the encrypted format")
        kid, sep, encoded = stored[len(FORMAT) :].partition(":")
        if not sep or not KEY_ID.fullmatch(kid):
            raise DecryptionError(column, None, "the stored value is not in the encrypted format")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DecryptionError(column, kid, "that key is not in MEND_ENCRYPTION_KEYS")
        try:
            blob = base64.urlsafe_b64decode(encoded)
            plaintext = cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _associated_data(column))
            return plaintext.decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise DecryptionError(
                column, kid, "the value was altered, or belongs to another column, or the key is wrong"
            ) from None

    def reencrypt(self, stored: str, *, column: str) -> str:
        """The value under the active key (a plaintext value, from before encryption, is encrypted)."""
        plaintext = self.decrypt(stored, column=column) if stored.startswith(FORMAT) else stored
        return self.encrypt(plaintext, column=column)


def key_id_of(stored: str) -> str | None:
    """The key id a stored value was encrypted under, or None for a value that is not encrypted."""
    if not stored.startswith(FORMAT):
        return None
    kid, sep, _ = stored[len(FORMAT) :].partition(":")
    return kid if sep and KEY_ID.fullmatch(kid) else None


def new_key_line(key_id: str) -> str:
    """A new random key as a `kid:base64url-key` entry for MEND_ENCRYPTION_KEYS."""
    if not KEY_ID.fullmatch(key_id):
        raise KeyringError("A key id is 1-32 letters, digits or '-'.")
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip('=')}"


def _associated_data(column: str) -> bytes:
    return f"mend:{column}".encode()


_STORED = re.compile(r"enc:v1:([A-Za-z0-9-]{1,32}):[A-Za-z0-9_=-]+")


def redact(text: str) -> str:
    """The text with every stored ciphertext replaced by a placeholder that keeps only its key id."""
    return _STORED.sub(r"enc:v1:\1:[redacted]", text)


class RedactCiphertext(logging.Filter):
    """A log filter: a database error can quote a failing row (PostgreSQL's "Failing row contains"), which
    holds ciphertext; the message and traceback are logged with it redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.msg, record.args = redact(record.getMessage()), None
        return True


def get_keyring() -> Keyring:
    """The keyring of the current settings (parsed and checked when the settings load)."""
    from app.config import get_settings

    return get_settings().keyring


class _SealedComparator(TypeDecorator.Comparator[Any]):
    """Ciphertext is random: an equality, LIKE or ORDER BY on it would silently match nothing or sort
    noise. Only IS NULL / IS NOT NULL make sense, so every other operator is refused."""

    _ALLOWED = frozenset({operators.is_, operators.is_not})

    def operate(self, op, *other, **kwargs):  # type: ignore[no-untyped-def]
        if op not in self._ALLOWED:
            raise TypeError(f"{self.expr} is encrypted: it cannot be searched, compared or sorted on.")
        return super().operate(op, *other, **kwargs)

    def reverse_operate(self, op, other, **kwargs):  # type: ignore[no-untyped-def]
        raise TypeError(f"{self.expr} is encrypted: it cannot be searched, compared or sorted on.")


class _Encrypted(TypeDecorator[Any]):
    impl = sa.Text
    cache_ok = True
    comparator_factory = _SealedComparator  # type: ignore[assignment]

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column  # "table.column": bound into each value as associated data

    def _dump(self, value: Any) -> str:
        raise NotImplementedError

    def _load(self, text: str) -> Any:
        raise NotImplementedError

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        return get_keyring().encrypt(self._dump(value), column=self.column)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return self._load(get_keyring().decrypt(value, column=self.column))


class EncryptedText(_Encrypted):
    """A confidential string, stored encrypted."""

    cache_ok = True

    def _dump(self, value: Any) -> str:
        return str(value)

    def _load(self, text: str) -> str:
        return text


class EncryptedJSON(_Encrypted):
    """A confidential JSON value (dict or list), stored as encrypted JSON text."""

    cache_ok = True

    def _dump(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def _load(self, text: str) -> Any:
        return json.loads(text)


def encrypted_columns(metadata: sa.MetaData) -> list[sa.Column[Any]]:
    """Every encrypted column of the schema, in a stable order (for `mend keys status` and rotation)."""
    found = [
        column for table in metadata.sorted_tables for column in table.columns if isinstance(column.type, _Encrypted)
    ]
    return sorted(found, key=lambda c: (c.table.name, c.name))
