"""Opening cases, assigning facilitators and adding participants."""

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app.actor import Actor
from app.audit.service import record_event
from app.auth.models import User, UserRole
from app.conferences.models import Case, CaseClosure, CaseFacilitator, Participant, ParticipantRole
from app.conferences.schemas import (
    NOT_AN_INTERPRETER,
    CaseCreate,
    CaseUpdate,
    ParticipantCreate,
    ParticipantUpdate,
)
from app.db import utcnow
from app.errors import Condition, Conflict, InvalidInput, PermissionDenied
from app.i18n import N_
from app.programs.models import Program

CASE_WRITERS = frozenset({UserRole.admin, UserRole.facilitator})


def require_case_writer(actor: Actor) -> None:
    if actor.role not in CASE_WRITERS:
        raise PermissionDenied("Only facilitators and administrators can change cases.")


def require_open_case(session: Session, *, case: Case) -> None:
    """A closed case has stopped: nothing more is scheduled, drafted, reviewed or signed in it."""
    if session.exec(select(CaseClosure.id).where(CaseClosure.case_id == case.id)).first() is not None:
        message = "This case is closed: nothing more is scheduled, drafted or signed in it."
        raise Conflict(message, conditions=[Condition("case_closed", message)])


def _check_facilitators(session: Session, *, program_id: int, user_ids: set[int]) -> None:
    found = set(
        session.exec(
            select(User.id).where(
                col(User.id).in_(user_ids),
                User.program_id == program_id,
                col(User.role).in_([UserRole.facilitator, UserRole.admin]),
                col(User.is_active).is_(True),
            )
        ).all()
    )
    if found != user_ids:
        message = N_("Choose facilitators from this program's active facilitators.")
        raise InvalidInput(message, field_errors={"facilitator_ids": message})


def _next_reference(session: Session, *, program_id: int) -> str:
    year = utcnow().year
    count = session.exec(select(func.count()).select_from(Case).where(Case.program_id == program_id)).one()
    while True:
        count += 1
        reference = f"{year}-{count:04d}"
        if not _reference_taken(session, program_id=program_id, reference=reference):
            return reference


def _reference_taken(session: Session, *, program_id: int, reference: str) -> bool:
    return (
        session.exec(select(Case.id).where(Case.program_id == program_id, Case.reference == reference)).first()
        is not None
    )


def _assign(session: Session, *, case: Case, user_ids: set[int]) -> None:
    session.execute(delete(CaseFacilitator).where(col(CaseFacilitator.case_id) == case.id))
    for user_id in sorted(user_ids):
        session.add(CaseFacilitator(case_id=case.id, user_id=user_id, program_id=case.program_id))  # type: ignore[arg-type]


def open_case(session: Session, *, actor: Actor, data: CaseCreate) -> Case:
    """Open a case at referral. A facilitator who opens it is assigned to it."""
    require_case_writer(actor)
    assert actor.program_id is not None
    facilitators = set(data.facilitator_ids)
    if actor.role == UserRole.facilitator:
        facilitators.add(actor.user_id)  # type: ignore[arg-type]
    if not facilitators:
        message = N_("Assign at least one facilitator.")
        raise InvalidInput(message, field_errors={"facilitator_ids": message})
    _check_facilitators(session, program_id=actor.program_id, user_ids=facilitators)
    # Two cases opened at once would pick the same reference and the second would fail on the unique
    # constraint: lock the program's row so they take turns (PostgreSQL; SQLite serialises writers).
    # FOR NO KEY UPDATE, so that rows referencing the program (audit events) can still be inserted.
    session.exec(select(Program.id).where(Program.id == actor.program_id).with_for_update(key_share=True)).one()
    if data.reference and _reference_taken(session, program_id=actor.program_id, reference=data.reference):
        message = N_("Enter another reference: a case in this program already has this one.")
        raise InvalidInput(message, field_errors={"reference": message})
    case = Case(
        program_id=actor.program_id,
        reference=data.reference or _next_reference(session, program_id=actor.program_id),
        harm_type=data.harm_type,
        referral_source=data.referral_source,
        notes=data.notes.strip(),
        created_by_id=actor.user_id,
    )
    session.add(case)
    session.flush()
    _assign(session, case=case, user_ids=facilitators)
    record_event(
        session,
        actor=actor,
        action="case.opened",
        entity_type="case",
        entity_id=case.id,
        case_id=case.id,
        detail={"reference": case.reference, "facilitator_ids": sorted(facilitators)},
    )
    return case


def update_case(session: Session, *, actor: Actor, case: Case, data: CaseUpdate) -> Case:
    """Change a case's details or its assigned facilitators."""
    require_case_writer(actor)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    facilitators = changes.pop("facilitator_ids", None)
    if facilitators is not None:
        ids = set(facilitators)
        if not ids:
            message = N_("Assign at least one facilitator.")
            raise InvalidInput(message, field_errors={"facilitator_ids": message})
        _check_facilitators(session, program_id=case.program_id, user_ids=ids)
        _assign(session, case=case, user_ids=ids)
    for name, value in changes.items():
        setattr(case, name, value.strip() if isinstance(value, str) else value)
    case.updated_at = utcnow()
    session.add(case)
    record_event(
        session,
        actor=actor,
        action="case.updated",
        entity_type="case",
        entity_id=case.id,
        case_id=case.id,
        detail={"changed": sorted(changes) + (["facilitator_ids"] if facilitators is not None else [])},
    )
    return case


def add_participant(session: Session, *, actor: Actor, case: Case, data: ParticipantCreate) -> Participant:
    """Add a participant to a case."""
    require_case_writer(actor)
    participant = Participant(case_id=case.id, program_id=case.program_id, **data.model_dump())  # type: ignore[arg-type]
    session.add(participant)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="participant.added",
        entity_type="participant",
        entity_id=participant.id,
        case_id=case.id,
        detail={"role": str(participant.role)},
    )
    return participant


def update_participant(
    session: Session, *, actor: Actor, participant: Participant, data: ParticipantUpdate
) -> Participant:
    """Change a participant's name, language or needs, or an interpreter's working languages. The role stays."""
    require_case_writer(actor)
    if data.interpreter_languages and participant.role != ParticipantRole.interpreter:
        raise InvalidInput(NOT_AN_INTERPRETER, field_errors={"interpreter_languages": NOT_AN_INTERPRETER})
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        setattr(participant, name, value)
    participant.updated_at = utcnow()
    session.add(participant)
    record_event(
        session,
        actor=actor,
        action="participant.updated",
        entity_type="participant",
        entity_id=participant.id,
        case_id=participant.case_id,
        detail={"changed": sorted(changes)},
    )
    return participant


def record_case_read(session: Session, *, actor: Actor, case: Case, what: str = "case") -> None:
    """Reads of case records are audited too: who looked at which case, and when."""
    record_event(session, actor=actor, action=f"{what}.read", entity_type="case", entity_id=case.id, case_id=case.id)
