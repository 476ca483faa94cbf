from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    """An outbox row, written in the same transaction as the change that causes it; a worker sends it."""

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case_file.id", index=True)
    kind: str = Field(max_length=60)
    recipient_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    recipient_participant_id: int | None = Field(default=None, foreign_key="participant.id")
    channel: str = Field(default="email", max_length=20)
    subject: str = Field(max_length=200)
    body: str = Field(sa_type=sa.Text)
    due_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
