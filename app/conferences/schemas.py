import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.conferences.flags import CaseFlag
from app.conferences.models import HarmType, ParticipantRole, ReferralSource
from app.conferences.rules import Step
from app.db import RecordId
from app.i18n import N_
from app.schemas import InputModel, says

HARM_TYPE_LABELS = {
    HarmType.labour_trafficking: N_("Trafficking for labour exploitation"),
    HarmType.sexual_exploitation: N_("Trafficking for sexual exploitation"),
    HarmType.domestic_servitude: N_("Domestic servitude"),
    HarmType.forced_criminality: N_("Forced criminality"),
    HarmType.other_trafficking: N_("Other form of trafficking"),
    HarmType.other_serious_harm: N_("Other serious harm"),
}
REFERRAL_SOURCE_LABELS = {
    ReferralSource.court: N_("Court"),
    ReferralSource.prosecution: N_("Prosecution"),
    ReferralSource.police: N_("Police"),
    ReferralSource.probation: N_("Probation"),
    ReferralSource.victim_services: N_("Victim services"),
    ReferralSource.ngo: N_("Non-governmental organisation"),
    ReferralSource.self_referral: N_("Self-referral"),
    ReferralSource.other: N_("Other"),
}
PARTICIPANT_ROLE_LABELS = {
    ParticipantRole.survivor: N_("Survivor"),
    ParticipantRole.responsible_party: N_("Responsible party"),
    ParticipantRole.supporter: N_("Supporter"),
    ParticipantRole.community_member: N_("Community member"),
    ParticipantRole.interpreter: N_("Interpreter"),
}
LANGUAGES = {
    "en": N_("English"),
    "es": N_("Spanish"),
    "fr": N_("French"),
    "pt": N_("Portuguese"),
    "ar": N_("Arabic"),
    "ro": N_("Romanian"),
    "bg": N_("Bulgarian"),
    "uk": N_("Ukrainian"),
    "ru": N_("Russian"),
    "vi": N_("Vietnamese"),
    "zh": N_("Chinese"),
    "tl": N_("Tagalog"),
    "th": N_("Thai"),
    "hi": N_("Hindi"),
    "ti": N_("Tigrinya"),
    "so": N_("Somali"),
    "sw": N_("Swahili"),
    "yo": N_("Yoruba"),
    "ig": N_("Igbo"),
    "pl": N_("Polish"),
    "sq": N_("Albanian"),
    "ht": N_("Haitian Creole"),
}
# The languages an interpreter can be recorded as working in: common languages of the people these programs
# serve (ISO 639 codes; named in the page's language by Babel, app.i18n.language_names).
INTERPRETER_LANGUAGES: tuple[str, ...] = (
    *LANGUAGES,
    *("am", "bin", "bn", "ckb", "cs", "de", "el", "fa", "ff", "ha", "hu", "id", "it", "km", "ku", "ln"),
    *("lt", "lv", "ms", "my", "ne", "nl", "pa", "pcm", "ps", "sk", "tr", "tw", "ur", "wo", "yue"),
)
MAX_INTERPRETER_LANGUAGES = 12
_UNKNOWN_LANGUAGE = N_("Choose the languages from the list.")
NOT_AN_INTERPRETER = N_(
    "Only an interpreter has working languages. Clear these choices, or choose the role Interpreter."
)
InterpreterLanguages = Annotated[
    list[Annotated[str, Field(max_length=8, json_schema_extra={"enum": list(INTERPRETER_LANGUAGES)})]],
    Field(
        max_length=MAX_INTERPRETER_LANGUAGES,
        description="An interpreter's working languages, as language codes from the list in the schema.",
    ),
]
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/.]{0,39}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


def _reference(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if value == "":
        return None
    if not _REFERENCE.match(value):
        raise ValueError(
            N_("Enter a reference of letters, digits, '-', '/' or '.', starting with a letter or digit (at most 40).")
        )
    return value


def _interpreter_languages(codes: list[str]) -> list[str]:
    """Known codes only, each once, in the order given."""
    if any(code not in INTERPRETER_LANGUAGES for code in codes):
        raise ValueError(_UNKNOWN_LANGUAGE)
    return list(dict.fromkeys(codes))


def _language(value: str) -> str:
    value = value.strip()
    if not _LANGUAGE.match(value):
        raise ValueError(N_("Choose the person's preferred language, a code such as en, es or pt-BR."))
    return value


HARM_TYPE = says(N_("Choose the type of harm."))
REFERRAL_SOURCE = says(N_("Choose who referred the case."))
CASE_NOTES = says(N_("Shorten the notes to 20,000 characters or fewer."))
FACILITATORS = says(N_("Choose the facilitators from the list."))
DISPLAY_NAME = says(
    missing=N_("Enter the name this person wants to be called."),
    string_too_long=N_("Enter a name of at most 120 characters."),
)
PREFERRED_LANGUAGE = says(N_("Choose the person's preferred language, a code such as en, es or pt-BR."))
SUPPORT_NEEDS = says(N_("Shorten the support needs to 5,000 characters or fewer."))


class CaseCreate(InputModel):
    reference: str | None = Field(
        default=None,
        max_length=40,
        description="Left empty, Mend numbers the case.",
        json_schema_extra=says(N_("Enter a reference of at most 40 characters, or leave it empty.")),
    )
    harm_type: HarmType = Field(json_schema_extra=HARM_TYPE)
    referral_source: ReferralSource = Field(json_schema_extra=REFERRAL_SOURCE)
    notes: str = Field(default="", max_length=20_000, json_schema_extra=CASE_NOTES)
    facilitator_ids: list[RecordId] = Field(default_factory=list, json_schema_extra=FACILITATORS)

    @field_validator("reference")
    @classmethod
    def _ref(cls, value: str | None) -> str | None:
        return _reference(value)


class CaseUpdate(InputModel):
    harm_type: HarmType | None = Field(default=None, json_schema_extra=HARM_TYPE)
    referral_source: ReferralSource | None = Field(default=None, json_schema_extra=REFERRAL_SOURCE)
    notes: str | None = Field(default=None, max_length=20_000, json_schema_extra=CASE_NOTES)
    facilitator_ids: list[RecordId] | None = Field(default=None, json_schema_extra=FACILITATORS)


class ParticipantCreate(InputModel):
    role: ParticipantRole = Field(json_schema_extra=says(N_("Choose the person's role in the case.")))
    display_name: str = Field(
        min_length=1, max_length=120, description="May be a chosen name.", json_schema_extra=DISPLAY_NAME
    )
    preferred_language: str = Field(default="en", max_length=16, json_schema_extra=PREFERRED_LANGUAGE)
    interpreter_needed: bool = False
    interpreter_languages: InterpreterLanguages = Field(default_factory=list)
    support_needs: str = Field(default="", max_length=5_000, json_schema_extra=SUPPORT_NEEDS)

    @field_validator("preferred_language")
    @classmethod
    def _lang(cls, value: str) -> str:
        return _language(value)

    @field_validator("interpreter_languages")
    @classmethod
    def _interpreting(cls, value: list[str], info: ValidationInfo) -> list[str]:
        value = _interpreter_languages(value)
        if value and info.data.get("role", ParticipantRole.interpreter) != ParticipantRole.interpreter:
            raise ValueError(NOT_AN_INTERPRETER)
        return value

    @field_validator("display_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(N_("Enter the name this person wants to be called."))
        return value.strip()


class ParticipantUpdate(InputModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=120, json_schema_extra=DISPLAY_NAME)
    preferred_language: str | None = Field(default=None, max_length=16, json_schema_extra=PREFERRED_LANGUAGE)
    interpreter_needed: bool | None = None
    interpreter_languages: InterpreterLanguages | None = Field(
        default=None, description="An interpreter's working languages; only an interpreter may have them."
    )
    support_needs: str | None = Field(default=None, max_length=5_000, json_schema_extra=SUPPORT_NEEDS)

    @field_validator("preferred_language")
    @classmethod
    def _lang(cls, value: str | None) -> str | None:
        return None if value is None else _language(value)

    @field_validator("interpreter_languages")
    @classmethod
    def _interpreting(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _interpreter_languages(value)


class FacilitatorPublic(BaseModel):
    id: int
    full_name: str


class ConditionPublic(BaseModel):
    code: str
    message: str
    participant_id: int | None = None


class JourneyStepPublic(BaseModel):
    step: str
    label: str
    state: str


class JourneyPublic(BaseModel):
    stage: Step
    paused: bool
    steps: list[JourneyStepPublic]
    blockers: list[ConditionPublic] = Field(description="Unmet conditions of the next step (for preparation: G1)")
    pauses: list[ConditionPublic] = Field(description="Why the case is paused; empty when it is not")


class ParticipantPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    role: ParticipantRole
    display_name: str
    preferred_language: str
    interpreter_needed: bool
    interpreter_languages: list[str] = Field(description="An interpreter's working languages (language codes).")
    support_needs: str
    created_at: datetime


class FlagPublic(BaseModel):
    """Something on the case that needs a facilitator's attention; staff get only what a summary shows."""

    code: CaseFlag
    label: str
    message: str


class CaseSummary(BaseModel):
    """What every role in the program may read, staff included: no notes, no participant detail."""

    id: int
    reference: str
    harm_type: HarmType
    referral_source: ReferralSource
    created_at: datetime
    stage: Step
    paused: bool
    facilitators: list[FacilitatorPublic]
    participant_count: int
    legal_hold: bool = Field(default=False, description="On legal hold: retention will not anonymise it.")
    legal_hold_since: datetime | None = None
    anonymised_at: datetime | None = Field(default=None, description="When retention anonymised the case.")
    flags: list[FlagPublic] = Field(default_factory=list, description="What needs attention, derived from the records.")


class CaseDetail(CaseSummary):
    legal_hold_reason: str | None = None
    notes: str
    participants: list[ParticipantPublic]
    journey: JourneyPublic


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    pages: int
    page_size: int
