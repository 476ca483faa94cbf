"""Readiness screening and the responsible party's acknowledgement of the basic facts.

Screening answers are confidential: only administrators and the case's facilitators record
or read them, every read is audited, and audit details carry ids and outcomes, never answers.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.actor import Actor
from app.audit.service import record_event
from app.auth.models import User
from app.conferences import queries
from app.conferences.instruments import Instrument, Question, Rule, current_instrument, load_instrument
from app.conferences.models import (
    Acknowledgement,
    AcknowledgementMethod,
    Case,
    Participant,
    ParticipantRole,
    Screening,
    ScreeningOutcome,
)
from app.conferences.preparation_schemas import RATIONALE_NEEDED, WORDING_NEEDED
from app.conferences.screening_rules import (
    Validity,
    check_outcome,
    clean_answers,
    is_override,
    screening_validity,
    suggest_outcome,
    validate_answers,
)
from app.conferences.service import CASE_WRITERS, record_case_read
from app.db import utcnow
from app.errors import Condition, Conflict, InvalidInput, NotFound, PermissionDenied
from app.i18n import N_
from app.programs.models import Program

# Clocks differ a little between a facilitator's device and the server; "now" must not count as future.
CLOCK_TOLERANCE = timedelta(minutes=2)


def require_preparer(actor: Actor) -> None:
    """Screening and acknowledgements are for administrators and facilitators; staff may not read answers."""
    if actor.role not in CASE_WRITERS:
        raise PermissionDenied("Screenings and acknowledgements are for administrators and the case's facilitators.")


def _case_of(session: Session, *, actor: Actor, participant: Participant) -> Case:
    require_preparer(actor)
    case = queries.get_visible_case(session, actor=actor, case_id=participant.case_id)
    if case is None:
        raise NotFound("No such participant.")
    return case


def instrument_for(participant: Participant) -> Instrument:
    """The current screening instrument for the participant's role; only survivors and responsible parties."""
    instrument = current_instrument(ParticipantRole(participant.role))
    if instrument is None:
        message = "Only the survivor and the responsible party are screened for readiness."
        raise Conflict(message, conditions=[Condition("role_not_screened", message)])
    return instrument


def _require_responsible_party(participant: Participant) -> None:
    if participant.role != ParticipantRole.responsible_party:
        message = "Only the responsible party acknowledges the basic facts."
        raise Conflict(message, conditions=[Condition("not_responsible_party", message)])


@dataclass(frozen=True)
class Preview:
    """What the rules make of a set of answers, before anything is recorded."""

    field_errors: dict[str, str]
    suggested: ScreeningOutcome
    fired: tuple[Rule, ...]


def preview_screening(*, participant: Participant, answers: Mapping[str, str]) -> Preview:
    """The suggested outcome and fired rules for answers not yet recorded (the form's "check" button)."""
    instrument = instrument_for(participant)
    suggested, fired = suggest_outcome(instrument, answers)
    return Preview(validate_answers(instrument, answers), suggested, fired)


def record_screening(
    session: Session,
    *,
    actor: Actor,
    participant: Participant,
    answers: Mapping[str, str],
    outcome: ScreeningOutcome | None,
    override_reason: str | None,
    rationale: str,
) -> Screening:
    """Record a completed screening with the current instrument. Re-screening adds a row; history is kept.

    `outcome` None accepts the suggested outcome. Choosing another is an override: it needs a
    written reason, is audited as such, and can never be "ready" when a hard rule fired.
    """
    case = _case_of(session, actor=actor, participant=participant)
    instrument = instrument_for(participant)
    errors = validate_answers(instrument, answers)
    if not rationale.strip():
        errors["rationale"] = RATIONALE_NEEDED
    if errors:
        raise InvalidInput("Some answers are missing or do not fit the questions.", field_errors=errors)
    suggested, fired = suggest_outcome(instrument, answers)
    chosen = outcome or suggested
    check = check_outcome(suggested=suggested, fired=fired, chosen=chosen, override_reason=override_reason)
    if check.conditions:
        raise Conflict(
            "This screening cannot be recorded as ready: taking part was not a free choice.",
            conditions=list(check.conditions),
        )
    if check.field_errors:
        raise InvalidInput(next(iter(check.field_errors.values())), field_errors=check.field_errors)
    overridden = is_override(suggested, chosen)
    screening = Screening(
        program_id=case.program_id,
        case_id=case.id,  # type: ignore[arg-type]
        participant_id=participant.id,  # type: ignore[arg-type]
        instrument_key=instrument.key,
        instrument_version=instrument.version,
        answers=clean_answers(instrument, answers),
        suggested_outcome=suggested,
        outcome=chosen,
        rationale=rationale.strip(),
        override_reason=(override_reason or "").strip() if overridden else None,
        screened_by_id=actor.user_id,  # type: ignore[arg-type]
        completed_at=utcnow(),
    )
    session.add(screening)
    session.flush()
    # Answers and free text stay out of the audit log: it records who did what, not what was said.
    detail = {
        "participant_id": participant.id,
        "instrument": f"{instrument.key}.v{instrument.version}",
        "suggested_outcome": str(suggested),
        "outcome": str(chosen),
    }
    record_event(
        session,
        actor=actor,
        action="screening.recorded",
        entity_type="screening",
        entity_id=screening.id,
        case_id=case.id,
        program_id=case.program_id,
        detail=detail,
    )
    if overridden:
        record_event(
            session,
            actor=actor,
            action="screening.overridden",
            entity_type="screening",
            entity_id=screening.id,
            case_id=case.id,
            program_id=case.program_id,
            detail=detail,
        )
    return screening


@dataclass(frozen=True)
class ScreeningRow:
    screening: Screening
    screened_by: User | None
    validity: Validity
    current: bool

    @property
    def overridden(self) -> bool:
        return is_override(ScreeningOutcome(self.screening.suggested_outcome), ScreeningOutcome(self.screening.outcome))


@dataclass(frozen=True)
class AnswerLine:
    question_id: str
    question: Question | None
    value: str

    @property
    def label(self) -> str:
        return self.question.label_for(self.value) if self.question else self.value


@dataclass(frozen=True)
class ScreeningView:
    """One screening with its answers, read against the instrument version it was taken with."""

    row: ScreeningRow
    instrument: Instrument | None
    answers: tuple[AnswerLine, ...]
    fired: tuple[Rule, ...]


def _users(session: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in session.exec(select(User).where(col(User.id).in_(ids))).all()}  # type: ignore[misc]


def validity_days(session: Session, *, participant: Participant) -> int:
    """How many days a screening counts for in the participant's program."""
    program = session.get(Program, participant.program_id)
    assert program is not None
    return program.screening_validity_days


def _screening_rows(session: Session, *, participant: Participant) -> list[ScreeningRow]:
    screenings = session.exec(
        select(Screening)
        .where(Screening.participant_id == participant.id)
        .order_by(col(Screening.completed_at).desc(), col(Screening.id).desc())
    ).all()
    days = validity_days(session, participant=participant)
    users = _users(session, {s.screened_by_id for s in screenings})
    now = utcnow()
    return [
        ScreeningRow(
            screening=s,
            screened_by=users.get(s.screened_by_id),
            validity=screening_validity(s.completed_at, now=now, validity_days=days),
            current=index == 0,
        )
        for index, s in enumerate(screenings)
    ]


def list_screenings(session: Session, *, actor: Actor, participant: Participant) -> list[ScreeningRow]:
    """The participant's screenings, newest first, with their validity. The read is audited."""
    case = _case_of(session, actor=actor, participant=participant)
    instrument_for(participant)
    record_case_read(session, actor=actor, case=case, what="screening.history")
    return _screening_rows(session, participant=participant)


def screening_view(session: Session, *, participant: Participant, screening_id: int) -> ScreeningView:
    """One screening with its answers and fired rules, read against its own instrument version. Not audited:
    callers are `read_screening`, or the service that has just recorded it for the same actor."""
    row = next((r for r in _screening_rows(session, participant=participant) if r.screening.id == screening_id), None)
    if row is None:
        raise NotFound("No such screening.")
    screening = row.screening
    instrument = load_instrument(screening.instrument_key, screening.instrument_version)
    answers = screening.answers or {}
    if instrument is None:
        lines = tuple(AnswerLine(key, None, str(value)) for key, value in answers.items())
        return ScreeningView(row, None, lines, ())
    lines = tuple(AnswerLine(q.id, q, answers[q.id]) for q in instrument.questions if q.id in answers)
    return ScreeningView(row, instrument, lines, suggest_outcome(instrument, answers)[1])


def read_screening(session: Session, *, actor: Actor, participant: Participant, screening_id: int) -> ScreeningView:
    """One screening with its answers and the rules they fired. Who read it is audited."""
    case = _case_of(session, actor=actor, participant=participant)
    view = screening_view(session, participant=participant, screening_id=screening_id)
    record_event(
        session,
        actor=actor,
        action="screening.read",
        entity_type="screening",
        entity_id=screening_id,
        case_id=case.id,
        program_id=case.program_id,
        detail={"participant_id": participant.id},
    )
    return view


def record_acknowledgement(
    session: Session,
    *,
    actor: Actor,
    participant: Participant,
    wording: str,
    method: AcknowledgementMethod,
    acknowledged_at: datetime,
) -> Acknowledgement:
    """Record the responsible party's acknowledgement of the basic facts: its wording, how and when."""
    case = _case_of(session, actor=actor, participant=participant)
    _require_responsible_party(participant)
    errors: dict[str, str] = {}
    if not wording.strip():
        errors["wording"] = WORDING_NEEDED
    if acknowledged_at.tzinfo is None:
        errors["acknowledged_at"] = N_("Enter the date and time with its time zone.")
    elif acknowledged_at > utcnow() + CLOCK_TOLERANCE:
        errors["acknowledged_at"] = N_("Enter when they acknowledged the facts: a date and time not in the future.")
    if errors:
        raise InvalidInput(next(iter(errors.values())), field_errors=errors)
    acknowledgement = Acknowledgement(
        program_id=case.program_id,
        case_id=case.id,  # type: ignore[arg-type]
        participant_id=participant.id,  # type: ignore[arg-type]
        wording=wording.strip(),
        method=AcknowledgementMethod(method),
        acknowledged_at=acknowledged_at,
        recorded_by_id=actor.user_id,  # type: ignore[arg-type]
        recorded_at=utcnow(),
    )
    session.add(acknowledgement)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="acknowledgement.recorded",
        entity_type="acknowledgement",
        entity_id=acknowledgement.id,
        case_id=case.id,
        program_id=case.program_id,
        detail={"participant_id": participant.id, "method": str(acknowledgement.method)},
    )
    return acknowledgement


@dataclass(frozen=True)
class AcknowledgementRow:
    acknowledgement: Acknowledgement
    recorded_by: User | None


def list_acknowledgements(session: Session, *, actor: Actor, participant: Participant) -> list[AcknowledgementRow]:
    """The responsible party's acknowledgements, newest first. The read is audited."""
    case = _case_of(session, actor=actor, participant=participant)
    _require_responsible_party(participant)
    record_case_read(session, actor=actor, case=case, what="acknowledgement.history")
    rows = session.exec(
        select(Acknowledgement)
        .where(Acknowledgement.participant_id == participant.id)
        .order_by(col(Acknowledgement.acknowledged_at).desc(), col(Acknowledgement.id).desc())
    ).all()
    users = _users(session, {a.recorded_by_id for a in rows})
    return [AcknowledgementRow(a, users.get(a.recorded_by_id)) for a in rows]


def acknowledgement_row(session: Session, *, acknowledgement: Acknowledgement) -> AcknowledgementRow:
    """An acknowledgement with who recorded it, for the response to recording it."""
    return AcknowledgementRow(acknowledgement, session.get(User, acknowledgement.recorded_by_id))
