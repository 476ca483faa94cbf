from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class PortalLink(SQLModel, table=True):
    """A single-use sign-in link for one participant, issued by a facilitator; stored hashed."""

    __tablename__ = "portal_link"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    issued_by_id: int = Field(foreign_key="user_account.id")
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PortalSession(SQLModel, table=True):
    """A portal session, limited to the one participant whose link opened it."""

    __tablename__ = "portal_session"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    link_id: int = Field(foreign_key="portal_link.id")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
