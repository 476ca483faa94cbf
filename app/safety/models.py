from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.crypto import EncryptedJSON, EncryptedText
from app.db import UTCDateTime, utcnow


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class SafetyAssessment(SQLModel, table=True):
    """One assessment of the survivor's safety; the latest one counts, earlier ones are history."""

    __tablename__ = "safety_assessment"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    factors: list[str] = Field(default_factory=list, sa_type=EncryptedJSON("safety_assessment.factors"))
    score: int
    level: RiskLevel = Field(sa_type=sa.String(20))
    notes: str = Field(default="", sa_type=EncryptedText("safety_assessment.notes"))
    assessed_by_id: int = Field(foreign_key="user_account.id")
    assessed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SessionMode(StrEnum):
    in_person = "in_person"
    video = "video"
    shuttle = "shuttle"
    letter = "letter"


class SafetyPlan(SQLModel, table=True):
    """The measures that keep the survivor safe in the process; each save is a new version."""

    __tablename__ = "safety_plan"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    staggered_arrival: bool = False
    arrival_gap_minutes: int = 0
    departure_gap_minutes: int = 0
    separate_waiting_rooms: bool = False
    support_person: str = Field(default="", max_length=120, sa_type=EncryptedText("safety_plan.support_person"))
    security_present: bool = False
    exit_plan: str = Field(default="", sa_type=EncryptedText("safety_plan.exit_plan"))
    no_contact_order: bool = False
    address_confidential: bool = True
    preferred_mode: SessionMode = Field(default=SessionMode.in_person, sa_type=sa.String(20))
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SafetyConcern(SQLModel, table=True):
    """A concern raised between assessments. An urgent one pauses the case until a facilitator reviews it."""

    __tablename__ = "safety_concern"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    description: str = Field(sa_type=EncryptedText("safety_concern.description"))
    urgent: bool = False
    raised_by_id: int = Field(foreign_key="user_account.id")
    raised_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reviewed_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_note: str | None = Field(default=None, sa_type=EncryptedText("safety_concern.review_note"))


class ContactChannel(StrEnum):
    email = "email"
    phone = "phone"
    none = "none"


class ContactPreference(SQLModel, table=True):
    """How, and whether, a participant agreed to be contacted. Notifications must respect it."""

    __tablename__ = "contact_preference"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", unique=True)
    channel: ContactChannel = Field(default=ContactChannel.none, sa_type=sa.String(20))
    email: str | None = Field(default=None, max_length=254, sa_type=EncryptedText("contact_preference.email"))
    phone: str | None = Field(default=None, max_length=40, sa_type=EncryptedText("contact_preference.phone"))
    voicemail_ok: bool = False
    text_ok: bool = False
    quiet_hours_start: str | None = Field(default=None, max_length=5)
    quiet_hours_end: str | None = Field(default=None, max_length=5)
    code_word: str | None = Field(default=None, max_length=60, sa_type=EncryptedText("contact_preference.code_word"))
    others_may_see_messages: bool = True
    discreet: bool = True
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConsentScope(StrEnum):
    contact = "contact"
    preparation = "preparation"
    conference = "conference"
    share_information = "share_information"
    support_person = "support_person"
    progress_updates = "progress_updates"


class ConsentMethod(StrEnum):
    in_person = "in_person"
    written = "written"
    portal = "portal"


class Consent(SQLModel, table=True):
    """Consent of one participant to one scope. Withdrawal sets withdrawn_at; giving again adds a row."""

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    scope: ConsentScope = Field(sa_type=sa.String(30))
    sheet_version: str = Field(max_length=20)
    sheet_language: str = Field(max_length=16)
    method: ConsentMethod = Field(sa_type=sa.String(20))
    witnessed_by: str | None = Field(default=None, max_length=120)
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    given_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_via: str | None = Field(default=None, max_length=20)
    withdrawn_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    withdrawal_reason: str | None = Field(default=None, sa_type=EncryptedText("consent.withdrawal_reason"))
