"""Settings, read from the environment under the MEND_ prefix."""

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.crypto import Keyring, KeyringError, new_key_line

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class InsecureConfiguration(RuntimeError):
    """Start-up refused: a setting that must be chosen by the operator is missing."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEND_", extra="ignore")

    env: Environment = Environment.production
    secret_key: SecretStr | None = None
    # Field encryption: `kid:base64url-key` entries, comma-separated; the key id that encrypts new values.
    encryption_keys: SecretStr | None = None
    encryption_key_id: str | None = None
    # The audit chain's HMAC keys: `kid:base64url-key` entries, comma-separated, and the key id that
    # signs new events. Without them the chain is keyed by a key derived from the secret key (id "s1").
    audit_keys: SecretStr | None = None
    audit_key_id: str | None = None
    database_url: str = f"sqlite:///{VAR_DIR / 'mend.db'}"
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str | None = None
    # The largest request body accepted, in bytes; larger ones are refused with 413 before they are read.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    session_warning_seconds: int = 120

    login_max_failures: int = 5
    login_max_failures_per_ip: int = 30
    login_window_minutes: int = 15

    setup_link_hours: int = 24
    invitation_days: int = Field(default=7, ge=1, le=30)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = 20.0
    mail_from: str = "Mend <no-reply@mend.invalid>"
    outbox_batch_size: int = 50
    outbox_lease_minutes: float = 10  # a claim older than this is a crashed worker's: another may take it
    outbox_max_attempts: int = 8

    # Fault injection for the crash-safety tests (app/faults.py); ignored in production.
    fault_pause: str | None = None
    fault_marker: str | None = None
    fault_skip: int = 0
    _keyring: Keyring | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _require_secret_outside_development(self) -> "Settings":
        if self.secret_key is None:
            if self.env is not Environment.development:
                raise InsecureConfiguration(
                    "MEND_SECRET_KEY is not set. Mend refuses to start outside development "
                    "without a secret key; generate one with: "
                    "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
                )
            self.secret_key = SecretStr(_development_secret())
        elif len(self.secret_key.get_secret_value()) < 32:
            raise InsecureConfiguration("MEND_SECRET_KEY must be at least 32 characters long.")
        return self

    @model_validator(mode="after")
    def _require_encryption_keys_outside_development(self) -> "Settings":
        if self.encryption_keys is None:
            if self.env is not Environment.development:
                raise InsecureConfiguration(
                    "MEND_ENCRYPTION_KEYS is not set. Mend refuses to start outside development without the "
                    "keys that encrypt confidential fields; generate one with: mend keys generate"
                )
            self.encryption_keys = SecretStr(_development_encryption_key())
        try:
            self._keyring = Keyring.parse(self.encryption_keys.get_secret_value(), self.encryption_key_id)
        except KeyringError as exc:
            raise InsecureConfiguration(str(exc)) from None
        return self

    @property
    def keyring(self) -> Keyring:
        assert self._keyring is not None  # set by the validator
        return self._keyring

    @property
    def public_base_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _development_secret() -> str:
    """A per-checkout key kept under var/, so development restarts keep CSRF tokens valid."""
    path = VAR_DIR / "dev-secret-key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


def _development_encryption_key() -> str:
    """A per-checkout encryption key kept under var/: losing the file loses the development data."""
    path = VAR_DIR / "dev-encryption-key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(exist_ok=True)
    line = new_key_line(f"dev-{secrets.token_hex(4)}")
    path.touch(mode=0o600)
    path.write_text(line)
    return line


@lru_cache
def get_settings() -> Settings:
    return Settings()
