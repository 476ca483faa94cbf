from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.crypto import EncryptedText
from app.db import UTCDateTime, utcnow


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    skipped = "skipped"  # the recipient's contact preferences rule this message out
    failed = "failed"  # gave up after the last retry


class Notification(SQLModel, table=True):
    """An outbox row, written in the same transaction as the change that causes it; a worker sends it."""

    __table_args__ = (sa.Index("ix_notification_status_due_at", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case_file.id", index=True)
    kind: str = Field(max_length=60)
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    recipient_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    recipient_participant_id: int | None = Field(default=None, foreign_key="participant.id")
    # An address with no account behind it yet: an invitation to join a program.
    recipient_email: str | None = Field(default=None, max_length=254)
    channel: str = Field(default="email", max_length=20)
    subject: str = Field(max_length=200)
    body: str = Field(sa_type=EncryptedText("notification.body"))
    attachment_filename: str | None = Field(default=None, max_length=120)
    attachment_content_type: str | None = Field(default=None, max_length=120)
    attachment_body: str | None = Field(default=None, sa_type=EncryptedText("notification.attachment_body"))
    due_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=sa.String(20))
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
