"""Input and output shapes for safety assessments, concerns, plans, contact preferences and consent."""

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator, model_validator

from app.db import RecordId
from app.i18n import N_
from app.safety.models import ConsentMethod, ConsentScope, ContactChannel, RiskLevel, SessionMode
from app.safety.rules import FACTORS_BY_KEY, parse_hhmm
from app.safety.sheets import CURRENT_VERSION
from app.schemas import InputModel

RISK_LEVEL_LABELS = {
    RiskLevel.low: N_("Low"),
    RiskLevel.medium: N_("Medium"),
    RiskLevel.high: N_("High"),
    RiskLevel.critical: N_("Critical"),
}
SESSION_MODE_LABELS = {
    SessionMode.in_person: N_("In person, in the same room"),
    SessionMode.video: N_("By video"),
    SessionMode.shuttle: N_("Shuttle (the facilitator goes between rooms)"),
    SessionMode.letter: N_("Letter exchange"),
}
CONTACT_CHANNEL_LABELS = {
    ContactChannel.email: N_("Email"),
    ContactChannel.phone: N_("Phone"),
    ContactChannel.none: N_("Do not contact"),
}
CONSENT_METHOD_LABELS = {
    ConsentMethod.in_person: N_("In person"),
    ConsentMethod.written: N_("In writing"),
    ConsentMethod.portal: N_("In the portal"),
}
CONSENT_STATE_LABELS = {"active": N_("Given"), "withdrawn": N_("Withdrawn"), "missing": N_("Not given")}
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{6,40}$")
# Sheet versions and languages name files: nothing but these characters may reach a file path.
SHEET_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{0,19}$")
SHEET_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2})?$")


# --- assessments -------------------------------------------------------------------------------


class RiskFactorsInput(InputModel):
    """The ticked risk factors, by key; used for the live level preview too."""

    factors: list[str] = Field(default_factory=list, max_length=len(FACTORS_BY_KEY))

    @field_validator("factors")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [key for key in value if key not in FACTORS_BY_KEY]
        if unknown:
            raise ValueError(f"Unknown risk factor: {', '.join(sorted(unknown))}.")
        return sorted(set(value))


class AssessmentCreate(RiskFactorsInput):
    participant_id: RecordId | None = Field(
        default=None, description="The survivor assessed; may be left out when the case has one survivor."
    )
    notes: str = Field(default="", max_length=20_000, description="Confidential.")


class RiskFactorPublic(BaseModel):
    key: str
    label: str
    weight: int
    explanation: str
    critical: bool


class RiskPreview(BaseModel):
    score: int
    level: RiskLevel


class AssessmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    participant_id: int
    factors: list[str]
    score: int
    level: RiskLevel
    notes: str
    assessed_by_id: int
    assessed_at: datetime


# --- concerns ----------------------------------------------------------------------------------


def _required_text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("This is required.")
    return value


class ConcernCreate(InputModel):
    description: str = Field(min_length=1, max_length=5_000)
    urgent: bool = Field(default=False, description="An urgent concern pauses the case until it is reviewed.")

    _text = field_validator("description")(_required_text)


class ConcernReview(InputModel):
    note: str = Field(min_length=1, max_length=5_000, description="What was checked or done.")

    _text = field_validator("note")(_required_text)


class ConcernPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    description: str
    urgent: bool
    raised_by_id: int
    raised_at: datetime
    reviewed_by_id: int | None
    reviewed_at: datetime | None
    review_note: str | None


# --- safety plan -------------------------------------------------------------------------------


class SafetyPlanCreate(InputModel):
    """One version of the safety plan; each save adds a version and the latest counts."""

    # The gaps come before the flag so the flag's check can see them and report beside it.
    arrival_gap_minutes: int = Field(default=0, ge=0, le=240)
    departure_gap_minutes: int = Field(default=0, ge=0, le=240)
    staggered_arrival: bool = Field(default=False, validate_default=True)
    separate_waiting_rooms: bool = False
    support_person: str = Field(default="", max_length=120, description="Name of the survivor's support person.")
    security_present: bool = False
    exit_plan: str = Field(default="", max_length=5_000)
    no_contact_order: bool = Field(default=False, description="A no-contact order is in force.")
    address_confidential: bool = True
    preferred_mode: SessionMode = SessionMode.in_person

    @field_validator("staggered_arrival")
    @classmethod
    def _gaps(cls, value: bool, info: ValidationInfo) -> bool:
        gaps = (info.data.get("arrival_gap_minutes") or 0, info.data.get("departure_gap_minutes") or 0)
        if value and not any(gaps):
            raise ValueError("Enter how many minutes apart the arrivals or departures are.")
        return value

    @field_validator("support_person", "exit_plan")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _no_gaps_unless_staggered(self) -> "SafetyPlanCreate":
        # Minutes typed before the box was unticked mean nothing without staggering.
        if not self.staggered_arrival:
            self.arrival_gap_minutes = self.departure_gap_minutes = 0
        return self


class SafetyPlanPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    version: int
    staggered_arrival: bool
    arrival_gap_minutes: int
    departure_gap_minutes: int
    separate_waiting_rooms: bool
    support_person: str
    security_present: bool
    exit_plan: str
    no_contact_order: bool
    address_confidential: bool
    preferred_mode: SessionMode
    created_by_id: int
    created_at: datetime


class SafetyPlanStatus(BaseModel):
    """Whether the case needs a plan at its current risk level, and the plan that counts."""

    risk_level: RiskLevel | None
    required: bool
    plan: SafetyPlanPublic | None
    versions: int


# --- contact preferences -----------------------------------------------------------------------


class ContactPreferenceUpdate(InputModel):
    """How, and whether, the person agreed to be contacted. Replaces what was recorded."""

    channel: ContactChannel
    email: EmailStr | None = Field(default=None, max_length=254, validate_default=True)
    phone: str | None = Field(default=None, max_length=40, validate_default=True)
    voicemail_ok: bool = False
    text_ok: bool = False
    quiet_hours_start: str | None = Field(default=None, max_length=5, description="24-hour HH:MM, local time.")
    quiet_hours_end: str | None = Field(
        default=None, max_length=5, validate_default=True, description="24-hour HH:MM, local time."
    )
    code_word: str | None = Field(default=None, max_length=60)
    others_may_see_messages: bool = Field(
        default=True, description="Someone who might harm them can see their messages. When unsure, leave true."
    )
    discreet: bool = Field(default=True, description="Messages must not say what they are about.")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        if not _PHONE.match(value) or sum(c.isdigit() for c in value) < 6:
            raise ValueError("Enter a phone number using digits, spaces, '+', '-' or brackets.")
        return value

    @field_validator("quiet_hours_start", "quiet_hours_end")
    @classmethod
    def _hhmm(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        parse_hhmm(value)
        return value

    @field_validator("code_word")
    @classmethod
    def _code_word(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    # Declared checks on later fields see the earlier ones in info.data; each error lands beside its field.
    @field_validator("quiet_hours_end")
    @classmethod
    def _both_ends(cls, value: str | None, info: ValidationInfo) -> str | None:
        start = info.data.get("quiet_hours_start")
        if "quiet_hours_start" not in info.data:
            return value
        if (start is None) != (value is None):
            raise ValueError("Give both the start and the end of the quiet hours, or neither.")
        if start is not None and start == value:
            raise ValueError("The quiet hours must end at a different time than they start.")
        return value

    @field_validator("email", mode="after")
    @classmethod
    def _email_needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("channel") == ContactChannel.email and not value:
            raise ValueError("Enter the email address the person agreed to be contacted at.")
        return value

    @field_validator("phone", mode="after")
    @classmethod
    def _phone_needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("channel") == ContactChannel.phone and not value:
            raise ValueError("Enter the phone number the person agreed to be contacted on.")
        return value


class ContactPreferencePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    participant_id: int
    channel: ContactChannel
    email: str | None
    phone: str | None
    voicemail_ok: bool
    text_ok: bool
    quiet_hours_start: str | None
    quiet_hours_end: str | None
    code_word: str | None
    others_may_see_messages: bool
    discreet: bool
    updated_by_id: int | None
    updated_at: datetime | None


# --- consent -----------------------------------------------------------------------------------


class ConsentCreate(InputModel):
    """Consent to one scope, recorded by a facilitator, with the information sheet the person was given."""

    scope: ConsentScope
    sheet_version: str = Field(default=CURRENT_VERSION, min_length=1, max_length=20, pattern=SHEET_VERSION.pattern)
    sheet_language: str = Field(min_length=2, max_length=16, description="Language of the sheet shown, e.g. es.")
    method: ConsentMethod = Field(description="in_person or written; portal consent is given by the person.")
    witnessed_by: str | None = Field(default=None, max_length=120)

    @field_validator("sheet_language")
    @classmethod
    def _lang(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"[a-z]{2,3}", value):
            raise ValueError("Use a language code such as en or es.")
        return value


class ConsentWithdraw(InputModel):
    reason: str | None = Field(default=None, max_length=5_000, description="Optional; the person need not give one.")


class ConsentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    participant_id: int
    scope: ConsentScope
    sheet_version: str
    sheet_language: str
    method: ConsentMethod
    witnessed_by: str | None
    recorded_by_id: int | None
    given_at: datetime
    withdrawn_at: datetime | None
    withdrawn_via: str | None
    withdrawn_by_id: int | None
    withdrawal_reason: str | None


class ScopeStatePublic(BaseModel):
    scope: ConsentScope
    label: str
    state: str = Field(description="active, withdrawn or missing")
    consent: ConsentPublic | None


class ParticipantConsentsPublic(BaseModel):
    participant_id: int
    display_name: str
    role: str
    scopes: list[ScopeStatePublic]
    history: list[ConsentPublic]


class InformationSheetPublic(BaseModel):
    version: str
    language: str
    title: str
    paragraphs: list[str]
