"""Input and output shapes for safety assessments, concerns, plans, contact preferences and consent."""

import re
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator, model_validator

from app.db import RecordId
from app.i18n import N_
from app.safety.models import ConsentMethod, ConsentScope, ContactChannel, RiskLevel, SessionMode
from app.safety.rules import FACTORS_BY_KEY, parse_hhmm
from app.safety.sheets import CURRENT_VERSION
from app.schemas import InputModel, says

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
QUIET_START = N_("Enter when the quiet hours start, on the 24-hour clock, such as 21:00.")
QUIET_END = N_("Enter when the quiet hours end, on the 24-hour clock, such as 07:30.")
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{6,40}$")
# Sheet versions and languages name files: nothing but these characters may reach a file path.
SHEET_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{0,19}$")
SHEET_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2})?$")


# --- assessments -------------------------------------------------------------------------------


class RiskFactorsInput(InputModel):
    """The ticked risk factors, by key; used for the live level preview too."""

    factors: list[str] = Field(
        default_factory=list,
        max_length=len(FACTORS_BY_KEY),
        json_schema_extra=says(N_("Choose the risk factors that apply from the list.")),
    )

    @field_validator("factors")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        if any(key not in FACTORS_BY_KEY for key in value):
            raise ValueError(N_("Choose the risk factors that apply from the list."))
        return sorted(set(value))


class AssessmentCreate(RiskFactorsInput):
    participant_id: RecordId | None = Field(
        default=None,
        description="The survivor assessed; may be left out when the case has one survivor.",
        json_schema_extra=says(N_("Choose which survivor this assessment is about.")),
    )
    notes: str = Field(
        default="",
        max_length=20_000,
        description="Confidential.",
        json_schema_extra=says(N_("Shorten the assessment notes to 20,000 characters or fewer.")),
    )


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


DESCRIBE_CONCERN = N_("Describe the concern: what happened, or what worries the survivor.")
REVIEW_NOTE = N_("Write what was checked or done about the concern.")


def _required_text(message: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError(message)
        return value

    return check


class ConcernCreate(InputModel):
    description: str = Field(
        min_length=1,
        max_length=5_000,
        json_schema_extra=says(
            missing=DESCRIBE_CONCERN, string_too_long=N_("Shorten the concern to 5,000 characters or fewer.")
        ),
    )
    urgent: bool = Field(default=False, description="An urgent concern pauses the case until it is reviewed.")

    _text = field_validator("description")(_required_text(DESCRIBE_CONCERN))


class ConcernReview(InputModel):
    note: str = Field(
        min_length=1,
        max_length=5_000,
        description="What was checked or done.",
        json_schema_extra=says(
            missing=REVIEW_NOTE, string_too_long=N_("Shorten the review note to 5,000 characters or fewer.")
        ),
    )

    _text = field_validator("note")(_required_text(REVIEW_NOTE))


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
    arrival_gap_minutes: int = Field(
        default=0,
        ge=0,
        le=240,
        json_schema_extra=says(N_("Enter how many minutes apart the arrivals are, from 0 to 240, for example 15.")),
    )
    departure_gap_minutes: int = Field(
        default=0,
        ge=0,
        le=240,
        json_schema_extra=says(N_("Enter how many minutes apart the departures are, from 0 to 240, for example 15.")),
    )
    staggered_arrival: bool = Field(default=False, validate_default=True)
    separate_waiting_rooms: bool = False
    support_person: str = Field(
        default="",
        max_length=120,
        description="Name of the survivor's support person.",
        json_schema_extra=says(N_("Enter a support person's name of at most 120 characters.")),
    )
    security_present: bool = False
    exit_plan: str = Field(
        default="", max_length=5_000, json_schema_extra=says(N_("Shorten the exit plan to 5,000 characters or fewer."))
    )
    no_contact_order: bool = Field(default=False, description="A no-contact order is in force.")
    address_confidential: bool = True
    preferred_mode: SessionMode = Field(
        default=SessionMode.in_person, json_schema_extra=says(N_("Choose how the survivor prefers to take part."))
    )

    @field_validator("staggered_arrival")
    @classmethod
    def _gaps(cls, value: bool, info: ValidationInfo) -> bool:
        gaps = (info.data.get("arrival_gap_minutes") or 0, info.data.get("departure_gap_minutes") or 0)
        if value and not any(gaps):
            raise ValueError(N_("Enter how many minutes apart the arrivals or departures are."))
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

    channel: ContactChannel = Field(
        json_schema_extra=says(N_("Choose how the person agreed to be contacted: by email, by phone, or not at all."))
    )
    email: EmailStr | None = Field(
        default=None,
        max_length=254,
        validate_default=True,
        json_schema_extra=says(N_("Enter the email address the person agreed to, like name@example.org.")),
    )
    phone: str | None = Field(
        default=None,
        max_length=40,
        validate_default=True,
        json_schema_extra=says(N_("Enter a phone number of at most 40 characters, using digits, spaces and '+'.")),
    )
    voicemail_ok: bool = False
    text_ok: bool = False
    quiet_hours_start: str | None = Field(
        default=None,
        max_length=5,
        description="24-hour HH:MM, local time.",
        json_schema_extra=says(QUIET_START),
    )
    quiet_hours_end: str | None = Field(
        default=None,
        max_length=5,
        validate_default=True,
        description="24-hour HH:MM, local time.",
        json_schema_extra=says(QUIET_END),
    )
    code_word: str | None = Field(
        default=None,
        max_length=60,
        json_schema_extra=says(N_("Enter a code word of at most 60 characters.")),
    )
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
            raise ValueError(N_("Enter a phone number using digits, spaces, '+', '-' or brackets."))
        return value

    @field_validator("quiet_hours_start", "quiet_hours_end")
    @classmethod
    def _hhmm(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        try:
            parse_hhmm(value)
        except ValueError:
            raise ValueError(QUIET_START if info.field_name == "quiet_hours_start" else QUIET_END) from None
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
            raise ValueError(N_("Enter both the start and the end of the quiet hours, or neither."))
        if start is not None and start == value:
            raise ValueError(N_("Enter an end of the quiet hours that is different from their start."))
        return value

    @field_validator("email", mode="after")
    @classmethod
    def _email_needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("channel") == ContactChannel.email and not value:
            raise ValueError(N_("Enter the email address the person agreed to be contacted at."))
        return value

    @field_validator("phone", mode="after")
    @classmethod
    def _phone_needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("channel") == ContactChannel.phone and not value:
            raise ValueError(N_("Enter the phone number the person agreed to be contacted on."))
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

    scope: ConsentScope = Field(json_schema_extra=says(N_("Choose what the person consents to.")))
    sheet_version: str = Field(
        default=CURRENT_VERSION,
        min_length=1,
        max_length=20,
        pattern=SHEET_VERSION.pattern,
        json_schema_extra=says(N_("Choose the version of the information sheet the person was given.")),
    )
    sheet_language: str = Field(
        min_length=2,
        max_length=16,
        description="Language of the sheet shown, e.g. es.",
        json_schema_extra=says(N_("Choose the language of the information sheet the person was given.")),
    )
    method: ConsentMethod = Field(
        description="in_person or written; portal consent is given by the person.",
        json_schema_extra=says(N_("Choose how the person gave their consent: in person or in writing.")),
    )
    witnessed_by: str | None = Field(
        default=None,
        max_length=120,
        json_schema_extra=says(N_("Enter a witness's name of at most 120 characters, or leave it empty.")),
    )

    @field_validator("sheet_language")
    @classmethod
    def _lang(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"[a-z]{2,3}", value):
            raise ValueError(N_("Choose the language of the information sheet the person was given."))
        return value


class ConsentWithdraw(InputModel):
    reason: str | None = Field(
        default=None,
        max_length=5_000,
        description="Optional; the person need not give one.",
        json_schema_extra=says(N_("Shorten the reason for withdrawing to 5,000 characters or fewer.")),
    )


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
