"""Portal agreement input and output: what a survivor or responsible party sends to review, sign or decline,
and the agreement as the portal shows it to them. The pages validate their forms into these same schemas."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.agreements.changes import ChangeKind
from app.agreements.models import ReviewDecision
from app.db import RecordId
from app.portal.agreement_queries import AgreementStep
from app.portal.schemas import PortalInput

_SHA256 = r"^[0-9a-f]{64}$"
_SHOWN_TEXT = (
    "The text_sha256 of the version the person was shown. If the text changed since, the request is "
    "refused (409, text_changed) and nothing is recorded."
)


class PortalAgreementInput(PortalInput):
    version_id: RecordId | None = Field(
        default=None,
        description="Optional: the version acted on (default: the newest). Another case's version is 404.",
    )


class PortalReview(PortalAgreementInput):
    decision: ReviewDecision
    text_sha256: str = Field(pattern=_SHA256, description=_SHOWN_TEXT)
    comment: str = Field(
        default="", max_length=4_000, description="What the person would like changed; required to ask for changes."
    )


class PortalSign(PortalAgreementInput):
    text_sha256: str = Field(pattern=_SHA256, description=_SHOWN_TEXT)
    typed_name: str = Field(default="", max_length=200, description="The signer's full name, typed.")
    intent_confirmed: bool = Field(
        default=False, description="True when the person ticked the intent statement (GET: intent_statement)."
    )


class PortalDecline(PortalAgreementInput):
    reason: str = Field(default="", max_length=4_000, description="Why the person does not sign; required.")


class PortalAgreementVersion(BaseModel):
    id: int
    number: int
    title: str
    parties: str
    terms: list[str] = Field(description="The terms exactly as in the canonical text, in order, in `language`.")
    language: str = Field(
        description="The language of title, parties and terms: the person's, when the text is written in it."
    )
    canonical_text: str = Field(
        description="The exact text reviews and signatures are bound to: English, then each other reader's "
        "language after a line `=== es ===`."
    )
    text_sha256: str
    fingerprint: str = Field(description="The short form of text_sha256 the portal page shows.")


class PortalSignedCopy(BaseModel):
    version_number: int
    sealed_at: datetime | None
    pdf_url: str = Field(description="The stored PDF, exactly as sealed (never re-rendered).")


class PortalChangeLine(BaseModel):
    label: str = Field(description="What changed (Amount, Date...), in the person's language; empty for wording.")
    before: str | None = Field(description="How it read in the version the person last reviewed; null if new.")
    after: str | None = Field(description="How it reads now; null if taken out.")
    wording: bool = Field(
        description="True: the agreement's own words (as signed, in the text's language). False: a value "
        "written in the person's language."
    )


class PortalChange(BaseModel):
    change: ChangeKind = Field(description="added, removed or changed (a term), or names (of the people).")
    title: str = Field(description="Which part changed, in the person's language.")
    lines: list[PortalChangeLine]


class PortalChanges(BaseModel):
    since_version: int = Field(description="The number of the newest earlier version the person reviewed.")
    nothing_changed: bool = Field(description="True when nothing the person reads changed since that version.")
    items: list[PortalChange]


class PortalAgreement(BaseModel):
    """The agreement of the person's own case as it concerns them. No one's evidence, comments or contacts."""

    step: AgreementStep = Field(description="What the person can do now: review, sign, or nothing.")
    message: str = Field(description="Where the person is, in plain words, in their language.")
    version: PortalAgreementVersion | None
    signatures: int = Field(description="How many people have signed the version (while signing, and sealed).")
    signers_required: int
    intent_statement: str = Field(description="The statement a signer confirms; stored with the signature.")
    intent_statement_translated: str = Field(description="The same statement in the person's language.")
    signed_copy: PortalSignedCopy | None
    changes: PortalChanges | None = Field(
        default=None,
        description="What changed in the text since the version the person last reviewed, while they still "
        "decide on it; null when they never reviewed an earlier version.",
    )
