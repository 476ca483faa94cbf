from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class UserRole(StrEnum):
    admin = "admin"
    facilitator = "facilitator"
    staff = "staff"


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(max_length=120)
    role: UserRole = Field(sa_type=sa.String(20))
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuthSession(SQLModel, table=True):
    """A server-side sign-in session; the browser holds only the random id, stored here hashed."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PersonalAccessToken(SQLModel, table=True):
    __tablename__ = "personal_access_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    name: str = Field(max_length=80)
    token_prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def expired(self) -> bool:
        return self.expires_at <= utcnow()


class SetupToken(SQLModel, table=True):
    """The one-time link that lets the first admin create their account."""

    __tablename__ = "setup_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """Failed and successful sign-ins, for throttling. Holds a keyed digest, never the email."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email_digest: str = Field(max_length=64, index=True)
    ip_address: str = Field(max_length=64, index=True)
    succeeded: bool
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Invitation(SQLModel, table=True):
    """An admin's invitation to join their program: the invitee chooses their own password through a link.

    The admin's answer is the same whether or not the address already has an account elsewhere (an
    account belongs to one program and signs in by address): such an address is told by e-mail, and
    its invitation simply never gets a working link.
    """

    __tablename__ = "user_invitation"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    email: str = Field(max_length=254, index=True)
    full_name: str = Field(max_length=120)
    role: UserRole = Field(sa_type=sa.String(20))
    language: str = Field(default="en", max_length=8)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and self.cancelled_at is None and self.expires_at > utcnow()
