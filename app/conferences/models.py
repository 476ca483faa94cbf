from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.crypto import EncryptedJSON, EncryptedText
from app.db import UTCDateTime, utcnow
from app.i18n import N_


class HarmType(StrEnum):
    labour_trafficking = "labour_trafficking"
    sexual_exploitation = "sexual_exploitation"
    domestic_servitude = "domestic_servitude"
    forced_criminality = "forced_criminality"
    other_trafficking = "other_trafficking"
    other_serious_harm = "other_serious_harm"


class ReferralSource(StrEnum):
    court = "court"
    prosecution = "prosecution"
    police = "police"
    probation = "probation"
    victim_services = "victim_services"
    ngo = "ngo"
    self_referral = "self_referral"
    other = "other"


class ParticipantRole(StrEnum):
    survivor = "survivor"
    responsible_party = "responsible_party"
    supporter = "supporter"
    community_member = "community_member"
    interpreter = "interpreter"


class Case(SQLModel, table=True):
    __tablename__ = "case_file"
    __table_args__ = (sa.UniqueConstraint("program_id", "reference", name="uq_case_file_program_reference"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    reference: str = Field(max_length=40)
    harm_type: HarmType = Field(sa_type=sa.String(40))
    referral_source: ReferralSource = Field(sa_type=sa.String(40))
    notes: str = Field(default="", sa_type=EncryptedText("case_file.notes"))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # A legal hold keeps the case out of retention's anonymisation until an admin clears it.
    legal_hold_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    legal_hold_reason: str | None = Field(default=None, sa_type=sa.Text)
    legal_hold_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    # Set once retention removed its names, contact details and free text; counts and dates remain.
    anonymised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CaseFacilitator(SQLModel, table=True):
    """A facilitator assigned to a case; facilitators see only the cases they are assigned to."""

    __tablename__ = "case_facilitator"

    case_id: int = Field(foreign_key="case_file.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Participant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    role: ParticipantRole = Field(sa_type=sa.String(30))
    display_name: str = Field(max_length=120)
    preferred_language: str = Field(default="en", max_length=16)
    interpreter_needed: bool = Field(default=False)
    # An interpreter's working languages: codes from conferences.schemas.INTERPRETER_LANGUAGES.
    interpreter_languages: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    support_needs: str = Field(default="", sa_type=EncryptedText("participant.support_needs"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ScreeningOutcome(StrEnum):
    ready = "ready"
    not_yet = "not_yet"
    not_suitable = "not_suitable"


class Screening(SQLModel, table=True):
    """A completed readiness screening of one participant with a versioned instrument."""

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    instrument_key: str = Field(max_length=60)
    instrument_version: int
    answers: dict = Field(default_factory=dict, sa_type=EncryptedJSON("screening.answers"))
    suggested_outcome: ScreeningOutcome = Field(sa_type=sa.String(20))
    outcome: ScreeningOutcome = Field(sa_type=sa.String(20))
    rationale: str = Field(default="", sa_type=EncryptedText("screening.rationale"))
    override_reason: str | None = Field(default=None, sa_type=EncryptedText("screening.override_reason"))
    screened_by_id: int = Field(foreign_key="user_account.id")
    completed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AcknowledgementMethod(StrEnum):
    in_person = "in_person"
    written = "written"
    video = "video"
    through_counsel = "through_counsel"


class Acknowledgement(SQLModel, table=True):
    """The responsible party's acknowledgement of the basic facts (Directive 2012/29/EU art. 12(1)(c))."""

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    wording: str = Field(sa_type=EncryptedText("acknowledgement.wording"))
    method: AcknowledgementMethod = Field(sa_type=sa.String(30))
    acknowledged_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by_id: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SessionKind(StrEnum):
    preparation = "preparation"
    conference = "conference"
    follow_up = "follow_up"


class SessionStatus(StrEnum):
    scheduled = "scheduled"
    held = "held"
    cancelled = "cancelled"
    on_hold = "on_hold"


class CaseSession(SQLModel, table=True):
    """A preparation meeting, the conference or a follow-up review. Times in UTC."""

    __tablename__ = "case_session"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    kind: SessionKind = Field(sa_type=sa.String(20))
    mode: str = Field(max_length=20)  # app.safety.models.SessionMode
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    location: str = Field(default="", max_length=300)
    room: str | None = Field(default=None, max_length=120)
    video_link: str | None = Field(default=None, max_length=500)
    status: SessionStatus = Field(default=SessionStatus.scheduled, sa_type=sa.String(20), index=True)
    status_reason: str | None = Field(default=None, sa_type=sa.Text)
    outcome_note: str | None = Field(default=None, sa_type=EncryptedText("case_session.outcome_note"))
    uid: str = Field(max_length=120, unique=True)
    sequence: int = 0
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SessionAttendee(SQLModel, table=True):
    """A participant attending a session, with their own arrival, departure and waiting room."""

    __tablename__ = "session_attendee"

    session_id: int = Field(foreign_key="case_session.id", primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", primary_key=True, index=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    arrives_at: datetime = Field(sa_type=UTCDateTime)
    leaves_at: datetime = Field(sa_type=UTCDateTime)
    waiting_room: str | None = Field(default=None, max_length=120)


class SessionFacilitator(SQLModel, table=True):
    __tablename__ = "session_facilitator"

    session_id: int = Field(foreign_key="case_session.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True)
    program_id: int = Field(foreign_key="program.id", index=True)


class ClosureReason(StrEnum):
    not_suitable = "not_suitable"
    participant_withdrew = "participant_withdrew"
    safety = "safety"
    non_compliance = "non_compliance"
    no_contact_breached = "no_contact_breached"
    unreachable = "unreachable"
    other = "other"


CLOSURE_REASONS: dict[ClosureReason, str] = {
    ClosureReason.not_suitable: N_("Not suitable for a restorative process"),
    ClosureReason.participant_withdrew: N_("A participant withdrew"),
    ClosureReason.safety: N_("Unresolved: the survivor's safety"),
    ClosureReason.non_compliance: N_("Unresolved: commitments were not met"),
    ClosureReason.no_contact_breached: N_("Unresolved: the no-contact commitment was broken"),
    ClosureReason.unreachable: N_("Unresolved: the responsible party cannot be reached"),
    ClosureReason.other: N_("Unresolved: another reason (explained in the note)"),
}


class CaseClosure(SQLModel, table=True):
    """A case closed by a facilitator before it completed, with a reason from the fixed list.
    (A case that completes does so by itself: every commitment completed or waived.)"""

    __tablename__ = "case_closure"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", unique=True)
    reason: ClosureReason = Field(sa_type=sa.String(30))
    note: str = Field(sa_type=sa.Text)
    closed_by_id: int = Field(foreign_key="user_account.id")
    closed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
