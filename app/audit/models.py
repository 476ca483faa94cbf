from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow

SYSTEM_CHAIN = 0


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained record of who did or read what, per program chain."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.UniqueConstraint("chain_key", "seq", name="uq_audit_event_chain_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain_key: int = Field(index=True)
    seq: int
    program_id: int | None = Field(default=None, foreign_key="program.id", index=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_kind: str = Field(max_length=20)
    actor_id: int | None = None
    actor_label: str = Field(max_length=200)
    action: str = Field(max_length=80, index=True)
    entity_type: str = Field(max_length=60)
    entity_id: str | None = Field(default=None, max_length=60)
    case_id: int | None = Field(default=None, index=True)
    request_id: str | None = Field(default=None, max_length=64)
    ip_address: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)  # HMAC-SHA256 under the key `key_id` names (held outside the database)
    key_id: str = Field(max_length=32)


class AuditChainHead(SQLModel, table=True):
    """The tip of one chain. Locking this row serialises appends to that chain."""

    __tablename__ = "audit_chain_head"

    chain_key: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = Field(default=0)
    last_hash: str = Field(max_length=64)
