from datetime import date as sa_date
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.crypto import EncryptedText
from app.db import UTCDateTime, utcnow


class VersionStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"  # sent to the survivor and the responsible party
    changes_requested = "changes_requested"  # a review asked for changes: back to drafting
    accepted = "accepted"  # both parties accepted this exact version
    signing = "signing"  # sent for signature
    sealed = "sealed"  # every required signer signed: immutable, PDF stored
    superseded = "superseded"  # replaced by a newer version (an edit or a sealed amendment)


class TermKind(StrEnum):
    apology = "apology"
    restitution = "restitution"
    service_hours = "service_hours"
    program_attendance = "program_attendance"
    no_contact = "no_contact"
    other = "other"


class Agreement(SQLModel, table=True):
    """The reparation agreement of a case; its content lives in versions."""

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", unique=True)
    conference_session_id: int | None = Field(default=None, foreign_key="case_session.id")
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgreementVersion(SQLModel, table=True):
    """One saved text of the agreement. Its terms and canonical text never change once written."""

    __tablename__ = "agreement_version"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "number", name="uq_agreement_version_number"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    number: int
    status: VersionStatus = Field(default=VersionStatus.draft, sa_type=sa.String(20))
    terms: list[dict] = Field(default_factory=list, sa_type=sa.JSON)
    canonical_text: str = Field(sa_type=sa.Text)
    text_sha256: str = Field(max_length=64)
    amends_version_id: int | None = Field(default=None, foreign_key="agreement_version.id")
    change_note: str = Field(default="", sa_type=sa.Text)
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sealed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReviewDecision(StrEnum):
    accepted = "accepted"
    changes_requested = "changes_requested"


class Review(SQLModel, table=True):
    """A party's review of one exact version (G4)."""

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    version_id: int = Field(foreign_key="agreement_version.id", index=True)
    participant_id: int = Field(foreign_key="participant.id")
    text_sha256: str = Field(max_length=64)
    decision: ReviewDecision = Field(sa_type=sa.String(30))
    comment: str = Field(default="", sa_type=sa.Text)
    via: str = Field(max_length=20)  # portal or facilitator
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Signature(SQLModel, table=True):
    """A signature bound to the SHA-256 of the exact text it was given for (G5)."""

    __table_args__ = (sa.UniqueConstraint("version_id", "signer_key", name="uq_signature_version_signer"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    version_id: int = Field(foreign_key="agreement_version.id", index=True)
    signer_key: str = Field(max_length=40)  # "participant:<id>" or "user:<id>": one signature each
    participant_id: int | None = Field(default=None, foreign_key="participant.id")
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    signer_role: str = Field(max_length=30)
    text_sha256: str = Field(max_length=64)
    typed_name: str = Field(max_length=200)
    intent_statement: str = Field(sa_type=sa.Text)
    method: str = Field(max_length=20)  # portal or in_person
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    ip_address: str | None = Field(default=None, max_length=64, sa_type=EncryptedText("signature.ip_address"))
    user_agent: str | None = Field(default=None, max_length=400)
    signed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SignatureDecline(SQLModel, table=True):
    """A signer declined to sign; the version goes back to drafting."""

    __tablename__ = "signature_decline"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    version_id: int = Field(foreign_key="agreement_version.id", index=True)
    signer_key: str = Field(max_length=40)
    reason: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgreementDocument(SQLModel, table=True):
    """A sealed version's PDF, rendered once and stored with its hash; served as stored.

    The record copy is English (RECORD_LANGUAGE); sealing also stores a copy in each other language
    the case's participants prefer. Every copy carries the same terms, text hash and signatures;
    only the fixed wording, dates and number formats differ.
    """

    __tablename__ = "agreement_document"
    __table_args__ = (sa.UniqueConstraint("version_id", "language", name="uq_agreement_document_version_language"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    version_id: int = Field(foreign_key="agreement_version.id")
    language: str = Field(default="en", max_length=8, sa_column_kwargs={"server_default": "en"})
    content: bytes = Field(sa_type=sa.LargeBinary)
    sha256: str = Field(max_length=64)
    size_bytes: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- follow-up: commitments, progress, waivers (G6) ------------------------------------------------


class CommitmentKind(StrEnum):
    apology = "apology"
    payment = "payment"  # one restitution instalment
    service_hours = "service_hours"
    program_attendance = "program_attendance"
    no_contact = "no_contact"  # standing until its end date (or indefinite)
    other = "other"


class Commitment(SQLModel, table=True):
    """One thing owed under a sealed agreement version, created when the version is sealed.

    `quantity` is in the kind's unit: cents for a payment, minutes for service hours, sessions for
    attendance, 1 for an apology or another task, 0 for no contact. `progress_total`, `completed_on` and
    `breached_on` summarise the progress entries; the service rewrites them in the same transaction as
    every entry (never by hand), and the status is computed from them and today's date.
    """

    __table_args__ = (
        sa.UniqueConstraint("version_id", "term_number", "sequence", name="uq_commitment_version_term"),
        # Each index starts with what every list and count filters on (the program, in force) and holds
        # every column its queries read, so that they read no table rows (bench/monitoring_bench.py).
        # Overdue, due soon, completed this month, and the overdue list's first page in due-date order.
        sa.Index(
            "ix_commitment_program_open_due",
            "program_id",
            "superseded_at",
            "completed_on",
            "waived_at",
            "due_on",
            "id",
            "kind",
        ),
        # The compliance rate (due before today), and the whole list in due-date order.
        sa.Index(
            "ix_commitment_program_due",
            "program_id",
            "superseded_at",
            "due_on",
            "id",
            "waived_at",
            "kind",
            "completed_on",
        ),
        # Cases in monitoring or completed: each case's commitments together.
        sa.Index(
            "ix_commitment_program_case",
            "program_id",
            "superseded_at",
            "case_id",
            "waived_at",
            "kind",
            "completed_on",
            "breached_on",
            "due_on",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id")
    case_id: int = Field(foreign_key="case_file.id", index=True)
    agreement_id: int = Field(foreign_key="agreement.id")
    version_id: int = Field(foreign_key="agreement_version.id", index=True)
    term_number: int
    sequence: int = 1  # the instalment's number within a payment plan; 1 otherwise
    of_count: int = 1  # how many instalments the plan has
    kind: CommitmentKind = Field(sa_type=sa.String(30))
    owed_by_id: int = Field(foreign_key="participant.id", index=True)
    description: str = Field(max_length=300)
    due_on: sa_date | None = Field(default=None)  # the last day (program time); for no contact, its end
    quantity: int = 0
    currency: str | None = Field(default=None, max_length=3)
    verification: str = Field(max_length=200)
    progress_total: int = 0
    completed_on: sa_date | None = Field(default=None)
    breached_on: sa_date | None = Field(default=None)
    waived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    superseded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # a sealed amendment replaced it
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProgressKind(StrEnum):
    payment = "payment"
    hours = "hours"
    session_attended = "session_attended"
    apology_delivered = "apology_delivered"
    breach_reported = "breach_reported"
    done = "done"  # another task, confirmed done
    note = "note"


class ProgressEntry(SQLModel, table=True):
    """What was done towards a commitment, with its evidence. Never changed: a correction is a new entry
    that reverses this one (`reverses_id`, amount negated), and both stay visible."""

    __tablename__ = "progress_entry"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    kind: ProgressKind = Field(sa_type=sa.String(30))
    amount: int = 0  # in the commitment's unit; negative on a reversal
    occurred_on: sa_date
    evidence_reference: str = Field(default="", max_length=200)
    evidence_note: str = Field(default="", sa_type=sa.Text)
    reverses_id: int | None = Field(default=None, foreign_key="progress_entry.id", unique=True)
    correction_reason: str | None = Field(default=None, sa_type=sa.Text)
    recorded_by_id: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WaiverStatus(StrEnum):
    asked = "asked"  # waiting for the survivor's answer in the portal
    consented = "consented"  # the survivor agreed: the commitment is waived
    declined = "declined"  # the survivor said no: the commitment stands


class Waiver(SQLModel, table=True):
    """Waiving a commitment: a reason, and the survivor's consent to exactly this waiver."""

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    reason: str = Field(sa_type=sa.Text)
    status: WaiverStatus = Field(sa_type=sa.String(20))
    survivor_id: int = Field(foreign_key="participant.id")
    consent_method: str | None = Field(default=None, max_length=20)  # portal, in_person, written, phone
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    requested_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FollowupSummary(SQLModel, table=True):
    """Per case, what keeps it in monitoring, so the dashboard counts cases without reading every
    commitment. Rewritten from the case's commitments in force in the same transaction as every
    change to them (sealing, progress, corrections, waivers); never written by hand.

    The case is in monitoring today while `open_tasks > 0` or `standing_until >= today` (a no-contact
    commitment with an end date still running); otherwise it is complete (unless closed)."""

    __tablename__ = "followup_summary"
    __table_args__ = (sa.Index("ix_followup_summary_program", "program_id", "open_tasks", "standing_until"),)

    case_id: int = Field(foreign_key="case_file.id", primary_key=True)
    program_id: int = Field(foreign_key="program.id")
    open_tasks: int = 0  # unsettled whatever the date: not completed and not waived, or a breach on record
    standing_until: sa_date | None = None  # the latest end date of a running, unbreached no-contact commitment
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DueTally(SQLModel, table=True):
    """Per program and due date, the dated commitments in force (not waived, not no-contact) due that
    day: how many, how many were completed by the day, how many are not completed. The dashboard sums
    a few hundred of these rows instead of reading every commitment due before today. Kept by the
    service with atomic increments in the same transaction as every change to a commitment."""

    __tablename__ = "due_tally"

    program_id: int = Field(foreign_key="program.id", primary_key=True)
    due_on: sa_date = Field(primary_key=True)
    due: int = 0
    on_time: int = 0
    open: int = 0
