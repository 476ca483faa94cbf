"""Readiness screening rules: answer validation, the suggested outcome, and overrides. Pure functions.

The instrument's rules suggest an outcome; the most severe rule that fires wins
(not suitable > not yet > ready). A facilitator may choose another outcome only with a
written reason, and never "ready" when a hard rule fired (someone was coerced or offered
something to take part).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.conferences.instruments import Instrument, Question, Rule
from app.conferences.models import ScreeningOutcome
from app.errors import Condition
from app.i18n import N_, gettext

SEVERITY: dict[ScreeningOutcome, int] = {
    ScreeningOutcome.ready: 0,
    ScreeningOutcome.not_yet: 1,
    ScreeningOutcome.not_suitable: 2,
}
MAX_TEXT_ANSWER = 4_000
# An answer's error names its question by the question's label (instruments/*.json), so that the error
# summary of a long screening says which question each link leads to.
ANSWER_MISSING = N_("Answer %(question)s.")
ANSWER_NOT_AN_OPTION = N_("Answer %(question)s: choose one of the answers listed.")
ANSWER_TOO_LONG = N_("Shorten the answer about %(question)s: use 4,000 characters or fewer.")
NOT_A_QUESTION = N_("Leave out this answer: the question is not part of the screening.")
OVERRIDE_REASON_NEEDED = N_("You chose a different outcome from the one the rules suggest: write the reason.")


def answer_field(question_id: str) -> str:
    """The field name an answer's error is reported under, in forms and the API alike."""
    return f"answers.{question_id}"


def answer_error(question: Question | None, message: str) -> str:
    """An answer's error in the current language, naming its question."""
    if question is None:
        return gettext(NOT_A_QUESTION)
    return gettext(message) % {"question": gettext(question.label)}


def validate_answers(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, str]:
    """Field errors for answers that do not fit the instrument, each naming its question; empty when they all do."""
    errors: dict[str, str] = {}
    for key in answers:
        if instrument.question(key) is None:
            errors[answer_field(key)] = answer_error(None, NOT_A_QUESTION)
    for question in instrument.questions:
        value = answers.get(question.id)
        field = answer_field(question.id)
        if value is None or (isinstance(value, str) and value.strip() == ""):
            if question.required:
                errors[field] = answer_error(question, ANSWER_MISSING)
        elif not isinstance(value, str) or (question.type != "text" and value not in _option_values(question)):
            errors[field] = answer_error(question, ANSWER_NOT_AN_OPTION)
        elif question.type == "text" and len(value) > MAX_TEXT_ANSWER:
            errors[field] = answer_error(question, ANSWER_TOO_LONG)
    return errors


def _option_values(question: Question) -> set[str]:
    return {o.value for o in question.options}


def clean_answers(instrument: Instrument, answers: Mapping[str, str]) -> dict[str, str]:
    """Answers as stored: in the instrument's question order, text trimmed, unanswered optional ones left out."""
    cleaned: dict[str, str] = {}
    for question in instrument.questions:
        value = answers.get(question.id)
        if isinstance(value, str) and value.strip():
            cleaned[question.id] = value.strip()
    return cleaned


def fired_rules(instrument: Instrument, answers: Mapping[str, object]) -> tuple[Rule, ...]:
    """The instrument's rules that the answers trigger, in the instrument's order."""
    return tuple(rule for rule in instrument.rules if answers.get(rule.question) in rule.values)


def most_severe(outcomes: list[ScreeningOutcome]) -> ScreeningOutcome:
    """The most severe of the outcomes; "ready" when there are none."""
    return max(outcomes, key=SEVERITY.__getitem__, default=ScreeningOutcome.ready)


def suggest_outcome(instrument: Instrument, answers: Mapping[str, object]) -> tuple[ScreeningOutcome, tuple[Rule, ...]]:
    """The outcome the rules suggest and the rules that fired: the most severe fired rule wins."""
    fired = fired_rules(instrument, answers)
    return most_severe([rule.outcome for rule in fired]), fired


@dataclass(frozen=True)
class OutcomeCheck:
    """Why a chosen outcome cannot be recorded: gate conditions (409) and field errors (422)."""

    conditions: tuple[Condition, ...] = ()
    field_errors: dict[str, str] | None = None

    @property
    def ok(self) -> bool:
        return not self.conditions and not self.field_errors


def is_override(suggested: ScreeningOutcome, chosen: ScreeningOutcome) -> bool:
    return suggested != chosen


def check_outcome(
    *,
    suggested: ScreeningOutcome,
    fired: tuple[Rule, ...],
    chosen: ScreeningOutcome,
    override_reason: str | None,
) -> OutcomeCheck:
    """Whether the chosen outcome may be recorded: a hard rule forbids "ready"; an override needs a reason."""
    if chosen == ScreeningOutcome.ready:
        hard = [rule for rule in fired if rule.hard]
        if hard:
            return OutcomeCheck(conditions=tuple(Condition(rule.id, rule.explanation) for rule in hard))
    if is_override(suggested, chosen) and not (override_reason or "").strip():
        return OutcomeCheck(field_errors={"override_reason": OVERRIDE_REASON_NEEDED})
    return OutcomeCheck()


@dataclass(frozen=True)
class Validity:
    valid_until: datetime
    expired: bool


def screening_validity(completed_at: datetime, *, now: datetime, validity_days: int) -> Validity:
    """Until when a screening counts; the journey uses the same window (`rules._screening_conditions`)."""
    valid_until = completed_at + timedelta(days=validity_days)
    return Validity(valid_until, now - completed_at > timedelta(days=validity_days))
