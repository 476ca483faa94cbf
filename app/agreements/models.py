from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

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
    ip_address: str | None = Field(default=None, max_length=64)
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
    """The sealed version's PDF, rendered once and stored with its hash; served as stored."""

    __tablename__ = "agreement_document"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    version_id: int = Field(foreign_key="agreement_version.id", unique=True)
    content: bytes = Field(sa_type=sa.LargeBinary)
    sha256: str = Field(max_length=64)
    size_bytes: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
