"""Input and output schemas for readiness screening and the acknowledgement of basic facts."""

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, field_validator

from app.conferences.instruments import Instrument, Rule
from app.conferences.models import AcknowledgementMethod, ParticipantRole, ScreeningOutcome
from app.conferences.schemas import FacilitatorPublic
from app.conferences.screening_rules import MAX_TEXT_ANSWER
from app.i18n import N_
from app.schemas import InputModel, PlainText, says

OUTCOME_LABELS = {
    ScreeningOutcome.ready: N_("Ready"),
    ScreeningOutcome.not_yet: N_("Not yet"),
    ScreeningOutcome.not_suitable: N_("Not suitable"),
}
METHOD_LABELS = {
    AcknowledgementMethod.in_person: N_("In person"),
    AcknowledgementMethod.written: N_("In writing"),
    AcknowledgementMethod.video: N_("By video"),
    AcknowledgementMethod.through_counsel: N_("Through their lawyer"),
}

RATIONALE_NEEDED = N_("Write briefly why you reached this outcome.")
WORDING_NEEDED = N_("Write the basic facts as the responsible party acknowledged them.")

QuestionId = Annotated[str, StringConstraints(min_length=1, max_length=60)]
AnswerText = Annotated[PlainText, StringConstraints(max_length=MAX_TEXT_ANSWER)]


def _required_text(value: str, message: str) -> str:
    if not value.strip():
        raise ValueError(message)
    return value.strip()


class ScreeningCreate(InputModel):
    answers: dict[QuestionId, AnswerText] = Field(
        max_length=100, description="Question id to answer: an option's value, or free text for text questions."
    )
    outcome: ScreeningOutcome | None = Field(
        default=None,
        description="The outcome chosen; left out, the outcome the rules suggest.",
        json_schema_extra=says(N_("Choose the outcome to record: the suggested one, ready, not yet or not suitable.")),
    )
    override_reason: str | None = Field(
        default=None,
        max_length=5_000,
        description="Required when the outcome differs from the suggested one.",
        json_schema_extra=says(N_("Shorten the reason for overriding to 5,000 characters or fewer.")),
    )
    rationale: str = Field(
        min_length=1,
        max_length=10_000,
        description="Why this outcome, in a sentence or two.",
        json_schema_extra=says(
            missing=RATIONALE_NEEDED, string_too_long=N_("Shorten the rationale to 10,000 characters or fewer.")
        ),
    )

    @field_validator("rationale")
    @classmethod
    def _rationale(cls, value: str) -> str:
        return _required_text(value, RATIONALE_NEEDED)


class AcknowledgementCreate(InputModel):
    wording: str = Field(
        min_length=1,
        max_length=10_000,
        description="The basic facts, as the responsible party acknowledged them.",
        json_schema_extra=says(
            missing=WORDING_NEEDED, string_too_long=N_("Shorten the basic facts to 10,000 characters or fewer.")
        ),
    )
    method: AcknowledgementMethod = Field(
        json_schema_extra=says(
            N_("Choose how they acknowledged the facts: in person, in writing, by video or through their lawyer.")
        )
    )
    acknowledged_at: AwareDatetime = Field(
        description="When they acknowledged them; not in the future.",
        json_schema_extra=says(
            N_("Enter the date and time they acknowledged the facts, for example 2027-03-28 14:30.")
        ),
    )

    @field_validator("wording")
    @classmethod
    def _wording(cls, value: str) -> str:
        return _required_text(value, WORDING_NEEDED)


class OptionPublic(BaseModel):
    value: str
    label: str


class QuestionPublic(BaseModel):
    id: str
    topic: str
    text: str
    help: str
    type: str
    required: bool
    options: list[OptionPublic]


class RulePublic(BaseModel):
    id: str
    question: str
    values: list[str] = Field(serialization_alias="in", description="The answers that fire the rule.")
    outcome: ScreeningOutcome
    explanation: str
    hard: bool = Field(description='A hard rule also forbids recording "ready", even by override.')


class InstrumentPublic(BaseModel):
    key: str
    version: int
    role: ParticipantRole
    title: str
    intro: str
    questions: list[QuestionPublic]
    rules: list[RulePublic]
    outcome_precedence: list[ScreeningOutcome] = Field(
        default=[ScreeningOutcome.not_suitable, ScreeningOutcome.not_yet, ScreeningOutcome.ready],
        description="The most severe outcome among the fired rules is suggested; ready when none fires.",
    )


class ScreeningPublic(BaseModel):
    """A screening without its answers: what the history shows."""

    id: int
    case_id: int
    participant_id: int
    instrument_key: str
    instrument_version: int
    suggested_outcome: ScreeningOutcome
    outcome: ScreeningOutcome
    overridden: bool
    override_reason: str | None
    rationale: str
    screened_by: FacilitatorPublic
    completed_at: datetime
    valid_until: datetime
    expired: bool
    current: bool = Field(description="The participant's latest screening: the one the journey counts.")


class ScreeningDetail(ScreeningPublic):
    answers: dict[str, str]
    fired_rules: list[RulePublic]


class AcknowledgementPublic(BaseModel):
    id: int
    case_id: int
    participant_id: int
    wording: str
    method: AcknowledgementMethod
    acknowledged_at: datetime
    recorded_by: FacilitatorPublic
    recorded_at: datetime


def rule_public(rule: Rule) -> RulePublic:
    return RulePublic(
        id=rule.id,
        question=rule.question,
        values=list(rule.values),
        outcome=rule.outcome,
        explanation=rule.explanation,
        hard=rule.hard,
    )


def instrument_public(instrument: Instrument) -> InstrumentPublic:
    return InstrumentPublic(
        key=instrument.key,
        version=instrument.version,
        role=instrument.role,
        title=instrument.title,
        intro=instrument.intro,
        questions=[
            QuestionPublic(
                id=q.id,
                topic=q.topic,
                text=q.text,
                help=q.help,
                type=q.type,
                required=q.required,
                options=[OptionPublic(value=o.value, label=o.label) for o in q.options],
            )
            for q in instrument.questions
        ],
        rules=[rule_public(r) for r in instrument.rules],
    )
