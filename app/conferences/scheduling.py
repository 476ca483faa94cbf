"""Scheduling sessions: gates, safety measures and conflicts, then the rows and their messages.

Every refusal lists every unmet condition with a stable code (409 in the API, a checklist on the
page). Times arrive as program-local wall-clock times and are stored in UTC.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from app.actor import Actor
from app.audit.service import record_event
from app.auth.models import User, UserRole
from app.conferences import invitations
from app.conferences.models import (
    Case,
    CaseFacilitator,
    CaseSession,
    Participant,
    ParticipantRole,
    SessionAttendee,
    SessionFacilitator,
    SessionKind,
    SessionStatus,
)
from app.conferences.queries import case_facts
from app.conferences.rules import (
    CaseFacts,
    conference_conditions,
    facts_as_of,
    pause_reasons,
    preparation_conditions,
)
from app.conferences.scheduling_rules import Booking, LocalTimeError, conflicts, local_to_utc, staggered_times
from app.conferences.service import require_case_writer, require_open_case
from app.db import utcnow
from app.errors import Condition, Conflict, InvalidInput, NotFound
from app.i18n import N_
from app.programs.models import Program
from app.safety.models import SafetyPlan, SessionMode

MAX_SESSION = timedelta(hours=8)
ACTIVE = (SessionStatus.scheduled, SessionStatus.on_hold)


@dataclass(frozen=True)
class SessionPlan:
    """What a facilitator asks for, in the program's local time."""

    kind: SessionKind
    mode: SessionMode
    day: date
    start: time
    end: time
    attendee_ids: frozenset[int]
    facilitator_ids: frozenset[int] = frozenset()
    location: str = ""
    room: str | None = None
    video_link: str | None = None
    survivor_waiting_room: str | None = None
    responsible_waiting_room: str | None = None
    fold: int | None = None  # which of a repeated autumn hour: 0 the first, 1 the second


def _times(plan: SessionPlan, program: Program, *, past: bool = False) -> tuple[datetime, datetime]:
    times = []
    for name, clock in (("start", plan.start), ("end", plan.end)):
        try:
            times.append(local_to_utc(plan.day, clock, program.timezone, fold=plan.fold))
        except LocalTimeError as exc:
            raise InvalidInput(str(exc), field_errors={name: str(exc)}) from exc
    starts_at, ends_at = times
    if ends_at <= starts_at:
        message = N_("Enter an end time after the start time.")
        raise InvalidInput(message, field_errors={"end": message})
    if ends_at - starts_at > MAX_SESSION:
        message = N_("Enter an end time at most 8 hours after the start: a session lasts 8 hours at most.")
        raise InvalidInput(message, field_errors={"end": message})
    if past and ends_at > utcnow():
        message = N_("A session recorded as held must be over: choose a date and times in the past.")
        raise InvalidInput(message, field_errors={"date": message})
    if not past and starts_at <= utcnow():
        message = N_("Enter a date and start time in the future.")
        raise InvalidInput(message, field_errors={"start": message})
    return starts_at, ends_at


def _attendees(session: Session, *, case: Case, ids: frozenset[int]) -> list[Participant]:
    if not ids:
        message = N_("Choose who attends.")
        raise InvalidInput(message, field_errors={"attendee_ids": message})
    people = session.exec(select(Participant).where(col(Participant.id).in_(ids), Participant.case_id == case.id)).all()
    if len(people) != len(ids):
        message = N_("Choose attendees from this case's participants.")
        raise InvalidInput(message, field_errors={"attendee_ids": message})
    return list(people)


def _facilitators(session: Session, *, actor: Actor, case: Case, ids: frozenset[int]) -> set[int]:
    """The session's facilitators: active people who may open the case, that is its assigned
    facilitators and the program's administrators. Anyone else would be sent the case reference,
    the attendees' names and the survivor's waiting room for a case they cannot see."""
    assigned = set(session.exec(select(CaseFacilitator.user_id).where(CaseFacilitator.case_id == case.id)).all())
    if not ids:
        ids = frozenset({actor.user_id} if actor.user_id in assigned else assigned)  # type: ignore[arg-type]
    found = set(
        session.exec(
            select(User.id).where(
                col(User.id).in_(ids),
                User.program_id == case.program_id,
                or_(col(User.id).in_(assigned), User.role == UserRole.admin),
                col(User.role).in_([UserRole.facilitator, UserRole.admin]),
                col(User.is_active).is_(True),
            )
        ).all()
    )
    if found != set(ids) or not found:
        message = N_("Choose facilitators assigned to this case. Assign a colleague to the case first to add them.")
        raise InvalidInput(message, field_errors={"facilitator_ids": message})
    return found  # type: ignore[return-value]


def _gate(facts: CaseFacts, kind: SessionKind, attendee_ids: set[int]) -> list[Condition]:
    """The session's gate: G1 for the conference, readiness for a preparation meeting or follow-up."""
    if kind == SessionKind.conference:
        return conference_conditions(facts, attendee_ids)
    return preparation_conditions(facts, attendee_ids)


def _one_party(kind: SessionKind, people: list[Participant]) -> list[Condition]:
    """A preparation meeting is with one party: never the survivor and the responsible party together."""
    roles = {p.role for p in people}
    if kind == SessionKind.preparation and {ParticipantRole.survivor, ParticipantRole.responsible_party} <= roles:
        return [Condition("preparation_one_party", N_("A preparation meeting is with one party only."))]
    return []


def _safety_measures(
    session: Session,
    *,
    case: Case,
    plan: SessionPlan,
    people: list[Participant],
    starts_at: datetime,
    ends_at: datetime,
) -> tuple[dict[int, tuple[datetime, datetime, str | None]], list[Condition]]:
    """Each attendee's own arrival, departure and waiting room, and what the safety plan forbids."""
    survivors = {p.id for p in people if p.role == ParticipantRole.survivor}
    responsible = {p.id for p in people if p.role == ParticipantRole.responsible_party}
    both_parties = bool(survivors and responsible)
    latest_plan = session.exec(
        select(SafetyPlan).where(SafetyPlan.case_id == case.id).order_by(col(SafetyPlan.created_at).desc())
    ).first()
    problems = _one_party(plan.kind, people)
    times = {p.id: (starts_at, ends_at, None) for p in people}
    if not both_parties or plan.mode not in (SessionMode.in_person, SessionMode.shuttle):
        return times, problems  # type: ignore[return-value]
    survivor_room, responsible_room = plan.survivor_waiting_room, plan.responsible_waiting_room
    separate = plan.mode == SessionMode.shuttle or (latest_plan is not None and latest_plan.separate_waiting_rooms)
    if separate and (
        not survivor_room or not responsible_room or survivor_room.strip().lower() == responsible_room.strip().lower()
    ):
        why = "Shuttle mode" if plan.mode == SessionMode.shuttle else "The safety plan"
        problems.append(
            Condition("separate_rooms_needed", f"{why} keeps the parties apart: give each party its own waiting room.")
        )
    if (
        latest_plan is not None
        and latest_plan.preferred_mode != plan.mode
        and latest_plan.preferred_mode in (SessionMode.video, SessionMode.letter, SessionMode.shuttle)
    ):
        problems.append(
            Condition(
                "mode_against_safety_plan",
                f"The safety plan asks for {latest_plan.preferred_mode} sessions.",
                f"/cases/{case.id}/safety/plan",
            )
        )
    gaps = (
        (latest_plan.arrival_gap_minutes, latest_plan.departure_gap_minutes)
        if (latest_plan is not None and latest_plan.staggered_arrival)
        else (0, 0)
    )
    survivor_times, responsible_times = staggered_times(
        starts_at, ends_at, arrival_gap_minutes=gaps[0], departure_gap_minutes=gaps[1]
    )
    for person in people:
        if person.id in survivors:
            times[person.id] = (survivor_times.arrives_at, survivor_times.leaves_at, survivor_room)
        elif person.id in responsible:
            times[person.id] = (responsible_times.arrives_at, responsible_times.leaves_at, responsible_room)
    return times, problems  # type: ignore[return-value]


def _bookings(
    session: Session, *, program_id: int, starts_at: datetime, ends_at: datetime, buffer: timedelta, exclude: int | None
) -> list[Booking]:
    nearby = session.exec(
        select(CaseSession).where(
            CaseSession.program_id == program_id,
            col(CaseSession.status).in_(ACTIVE),
            col(CaseSession.starts_at) < ends_at + buffer,
            col(CaseSession.ends_at) > starts_at - buffer,
        )
    ).all()
    ids = [s.id for s in nearby if s.id != exclude]
    facilitators: dict[int, set[int]] = {i: set() for i in ids}  # type: ignore[arg-type]
    attendees: dict[int, set[int]] = {i: set() for i in ids}  # type: ignore[arg-type]
    if ids:
        for sid, uid in session.exec(
            select(SessionFacilitator.session_id, SessionFacilitator.user_id).where(
                col(SessionFacilitator.session_id).in_(ids)
            )
        ).all():
            facilitators[sid].add(uid)
        for sid, pid in session.exec(
            select(SessionAttendee.session_id, SessionAttendee.participant_id).where(
                col(SessionAttendee.session_id).in_(ids)
            )
        ).all():
            attendees[sid].add(pid)
    return [
        Booking(
            s.id,
            s.starts_at,
            s.ends_at,
            frozenset(facilitators[s.id]),
            frozenset(attendees[s.id]),  # type: ignore[index]
            s.room if s.mode in (SessionMode.in_person, SessionMode.shuttle) else None,
            s.mode in (SessionMode.in_person, SessionMode.shuttle),
        )
        for s in nearby
        if s.id != exclude
    ]


def _check(session: Session, *, actor: Actor, case: Case, plan: SessionPlan, exclude: int | None = None):  # type: ignore[no-untyped-def]
    """Everything that must hold before a session is written; raises Conflict listing all of it."""
    require_case_writer(actor)
    require_open_case(session, case=case)
    program = session.get(Program, case.program_id)
    assert program is not None
    people = _attendees(session, case=case, ids=plan.attendee_ids)
    facilitator_ids = _facilitators(session, actor=actor, case=case, ids=plan.facilitator_ids)
    starts_at, ends_at = _times(plan, program)
    if plan.mode in (SessionMode.in_person, SessionMode.shuttle) and not (plan.location or "").strip():
        message = N_("Enter the place of the meeting: it takes place in person.")
        raise InvalidInput(message, field_errors={"location": message})
    problems = _gate(case_facts(session, case=case), plan.kind, {p.id for p in people})  # type: ignore[arg-type]
    times, safety = _safety_measures(session, case=case, plan=plan, people=people, starts_at=starts_at, ends_at=ends_at)
    problems += safety
    in_person = plan.mode in (SessionMode.in_person, SessionMode.shuttle)
    buffer = timedelta(minutes=program.travel_buffer_minutes)
    proposed = Booking(
        exclude,
        starts_at,
        ends_at,
        frozenset(facilitator_ids),
        frozenset(plan.attendee_ids),
        plan.room if in_person else None,
        in_person,
    )
    existing = _bookings(
        session, program_id=case.program_id, starts_at=starts_at, ends_at=ends_at, buffer=buffer, exclude=exclude
    )
    problems += conflicts(proposed, existing, travel_buffer_minutes=program.travel_buffer_minutes, tz=program.timezone)
    if problems:
        raise Conflict("The session cannot be scheduled yet.", conditions=problems)
    return starts_at, ends_at, times, facilitator_ids


def _write_people(session: Session, *, case_session: CaseSession, times: dict, facilitator_ids: set[int]) -> None:  # type: ignore[type-arg]
    session.execute(delete(SessionAttendee).where(col(SessionAttendee.session_id) == case_session.id))
    session.execute(delete(SessionFacilitator).where(col(SessionFacilitator.session_id) == case_session.id))
    for participant_id, (arrives_at, leaves_at, room) in times.items():
        session.add(
            SessionAttendee(
                session_id=case_session.id,
                participant_id=participant_id,  # type: ignore[arg-type]
                program_id=case_session.program_id,
                arrives_at=arrives_at,
                leaves_at=leaves_at,
                waiting_room=room,
            )
        )
    for user_id in facilitator_ids:
        session.add(
            SessionFacilitator(
                session_id=case_session.id,
                user_id=user_id,  # type: ignore[arg-type]
                program_id=case_session.program_id,
            )
        )
    session.flush()


def _new_session(
    session: Session,
    *,
    actor: Actor,
    case: Case,
    plan: SessionPlan,
    starts_at: datetime,
    ends_at: datetime,
    **recorded: Any,
) -> CaseSession:
    """A session row from a checked plan (scheduled, or `recorded` as already held), flushed for its id."""
    case_session = CaseSession(
        program_id=case.program_id,
        case_id=case.id,
        kind=plan.kind,
        mode=plan.mode,  # type: ignore[arg-type]
        starts_at=starts_at,
        ends_at=ends_at,
        location=plan.location.strip(),
        room=plan.room,
        video_link=plan.video_link,
        uid=f"{uuid.uuid4()}@mend",
        created_by_id=actor.user_id,  # type: ignore[arg-type]
        **recorded,
    )
    session.add(case_session)
    session.flush()
    return case_session


def schedule_session(session: Session, *, actor: Actor, case: Case, plan: SessionPlan) -> CaseSession:
    """Schedule a session after checking its gate (G1 for the conference), the safety plan and conflicts."""
    starts_at, ends_at, times, facilitator_ids = _check(session, actor=actor, case=case, plan=plan)
    case_session = _new_session(session, actor=actor, case=case, plan=plan, starts_at=starts_at, ends_at=ends_at)
    _write_people(session, case_session=case_session, times=times, facilitator_ids=facilitator_ids)
    record_event(
        session,
        actor=actor,
        action="session.scheduled",
        entity_type="session",
        entity_id=case_session.id,
        case_id=case.id,
        detail={"kind": str(plan.kind), "mode": str(plan.mode), "attendee_ids": sorted(plan.attendee_ids)},
    )
    invitations.session_changed(session, case_session=case_session, change="new")
    return case_session


def reschedule_session(
    session: Session, *, actor: Actor, case: Case, case_session: CaseSession, plan: SessionPlan
) -> CaseSession:
    """Move or change a session; the gate is checked again, as if it were new."""
    if case_session.status not in ACTIVE:
        raise Conflict(
            "Only a scheduled session can be changed.",
            conditions=[Condition("session_not_active", f"This session is {case_session.status}.")],
        )
    if plan.kind != case_session.kind:
        raise InvalidInput("A session's kind cannot change; cancel it and schedule a new one.")
    starts_at, ends_at, times, facilitator_ids = _check(
        session, actor=actor, case=case, plan=plan, exclude=case_session.id
    )
    removed = set(
        session.exec(select(SessionAttendee.participant_id).where(SessionAttendee.session_id == case_session.id)).all()
    ) - set(plan.attendee_ids)
    case_session.mode, case_session.starts_at, case_session.ends_at = plan.mode, starts_at, ends_at
    case_session.location, case_session.room, case_session.video_link = (
        plan.location.strip(),
        plan.room,
        plan.video_link,
    )
    case_session.status, case_session.status_reason = SessionStatus.scheduled, None
    case_session.sequence += 1
    case_session.updated_at = utcnow()
    session.add(case_session)
    if removed:
        invitations.session_changed(session, case_session=case_session, change="cancelled", only=removed)
    _write_people(session, case_session=case_session, times=times, facilitator_ids=facilitator_ids)
    record_event(
        session,
        actor=actor,
        action="session.rescheduled",
        entity_type="session",
        entity_id=case_session.id,
        case_id=case.id,
        detail={"sequence": case_session.sequence},
    )
    invitations.session_changed(session, case_session=case_session, change="updated")
    return case_session


def cancel_session(session: Session, *, actor: Actor, case_session: CaseSession, reason: str) -> CaseSession:
    """Cancel a session with the reason recorded; attendees get a cancellation."""
    require_case_writer(actor)
    if case_session.status not in ACTIVE:
        raise Conflict(f"This session is already {case_session.status}.")
    if not reason.strip():
        message = N_("Give a reason for cancelling: the attendees are told.")
        raise InvalidInput(message, field_errors={"reason": message})
    _cancel(session, actor=actor, case_session=case_session, reason=reason.strip())
    return case_session


def _cancel(session: Session, *, actor: Actor, case_session: CaseSession, reason: str) -> None:
    case_session.status, case_session.status_reason = SessionStatus.cancelled, reason
    case_session.sequence += 1
    case_session.updated_at = utcnow()
    session.add(case_session)
    record_event(
        session,
        actor=actor,
        action="session.cancelled",
        entity_type="session",
        entity_id=case_session.id,
        case_id=case_session.case_id,
        # Whether a reason was given, not its words: the audit log is kept after retention
        # anonymises the case, and a free-text reason can name people (the session row holds it).
        detail={"reason_given": bool(reason.strip())},
    )
    invitations.session_changed(session, case_session=case_session, change="cancelled")


def mark_session_held(session: Session, *, actor: Actor, case_session: CaseSession, outcome_note: str) -> CaseSession:
    """Record that a session took place, with a short outcome note (a held conference opens drafting)."""
    require_case_writer(actor)
    if case_session.status != SessionStatus.scheduled:
        raise Conflict(f"Only a scheduled session can be marked held; this one is {case_session.status}.")
    if case_session.starts_at > utcnow():
        raise Conflict("A session can be marked held only once it has started.")
    if not outcome_note.strip():
        message = N_("Write a short note on how it went.")
        raise InvalidInput(message, field_errors={"outcome_note": message})
    case_session.status, case_session.outcome_note = SessionStatus.held, outcome_note.strip()
    case_session.updated_at = utcnow()
    session.add(case_session)
    record_event(
        session,
        actor=actor,
        action="session.held",
        entity_type="session",
        entity_id=case_session.id,
        case_id=case_session.case_id,
    )
    invitations.session_changed(session, case_session=case_session, change="held")
    return case_session


PAST_GATE_REFUSED = {
    SessionKind.conference: N_(
        "On this date the conditions for the conference were not all met, so it cannot be recorded as held then."
    ),
    SessionKind.preparation: N_(
        "On this date the conditions for this meeting were not all met, so it cannot be recorded as held then."
    ),
    SessionKind.follow_up: N_(
        "On this date the conditions for this meeting were not all met, so it cannot be recorded as held then."
    ),
}


def record_past_session(
    session: Session, *, actor: Actor, case: Case, plan: SessionPlan, outcome_note: str
) -> CaseSession:
    """Record a session that already took place as held, with who attended and how it went.

    Its gate (G1 for the conference) is judged on the case's records as they stood when it
    started: consent or a screening recorded afterwards does not count. Nobody is invited or told:
    the meeting is over."""
    require_case_writer(actor)
    require_open_case(session, case=case)
    program = session.get(Program, case.program_id)
    assert program is not None
    people = _attendees(session, case=case, ids=plan.attendee_ids)
    facilitator_ids = _facilitators(session, actor=actor, case=case, ids=plan.facilitator_ids)
    starts_at, ends_at = _times(plan, program, past=True)
    note = outcome_note.strip()
    if not note:
        message = N_("Write a short note on how it went.")
        raise InvalidInput(message, field_errors={"outcome_note": message})
    facts = facts_as_of(case_facts(session, case=case), starts_at)
    problems = _gate(facts, plan.kind, {p.id for p in people}) + _one_party(plan.kind, people)  # type: ignore[arg-type]
    if problems:
        message = PAST_GATE_REFUSED[plan.kind]
        raise Conflict(message, conditions=problems, field_errors={"date": message})
    case_session = _new_session(
        session,
        actor=actor,
        case=case,
        plan=plan,
        starts_at=starts_at,
        ends_at=ends_at,
        status=SessionStatus.held,
        outcome_note=note,
    )
    times = {p.id: (starts_at, ends_at, None) for p in people}
    _write_people(session, case_session=case_session, times=times, facilitator_ids=facilitator_ids)
    record_event(
        session,
        actor=actor,
        action="session.recorded_held",
        entity_type="session",
        entity_id=case_session.id,
        case_id=case.id,
        detail={"kind": str(plan.kind), "mode": str(plan.mode), "attendee_ids": sorted(plan.attendee_ids)},
    )
    return case_session


def upcoming_sessions(
    session: Session, *, case_id: int, participant_id: int | None = None, statuses: tuple[SessionStatus, ...] = ACTIVE
) -> list[CaseSession]:
    query = select(CaseSession).where(
        CaseSession.case_id == case_id, col(CaseSession.status).in_(statuses), col(CaseSession.ends_at) > utcnow()
    )
    if participant_id is not None:
        query = query.join(SessionAttendee, col(SessionAttendee.session_id) == CaseSession.id).where(
            SessionAttendee.participant_id == participant_id
        )
    return list(session.exec(query.order_by(col(CaseSession.starts_at))).all())


def cancel_sessions_of_participant(session: Session, *, actor: Actor, participant: Participant, reason: str) -> int:
    """G2: a withdrawal cancels every upcoming session the person attends, with the reason recorded."""
    sessions = upcoming_sessions(session, case_id=participant.case_id, participant_id=participant.id)
    for case_session in sessions:
        _cancel(session, actor=actor, case_session=case_session, reason=reason)
    return len(sessions)


def hold_upcoming_sessions(session: Session, *, case: Case, reason: str) -> int:
    """G3: put every upcoming scheduled session of the case on hold until the pause is reviewed."""
    held = session.execute(
        update(CaseSession)
        .where(
            col(CaseSession.case_id) == case.id,
            CaseSession.status == SessionStatus.scheduled,
            col(CaseSession.ends_at) > utcnow(),
        )
        .values(status=SessionStatus.on_hold, status_reason=reason, updated_at=utcnow())
    )
    return held.rowcount or 0  # type: ignore[attr-defined]


def release_held_sessions(session: Session, *, actor: Actor, case: Case) -> int:
    """After a facilitator's review lifts the safety pause, held sessions go back on the schedule.

    A held conference comes back only if gate G1 holds again; otherwise it stays on hold.
    """
    facts = case_facts(session, case=case)
    if pause_reasons(facts):
        return 0
    released = 0
    for case_session in upcoming_sessions(session, case_id=case.id, statuses=(SessionStatus.on_hold,)):
        attendees = set(
            session.exec(
                select(SessionAttendee.participant_id).where(SessionAttendee.session_id == case_session.id)
            ).all()
        )
        if _gate(facts, case_session.kind, attendees):
            continue
        case_session.status, case_session.status_reason = SessionStatus.scheduled, None
        session.add(case_session)
        record_event(
            session,
            actor=actor,
            action="session.released",
            entity_type="session",
            entity_id=case_session.id,
            case_id=case.id,
        )
        released += 1
    return released


def get_case_session(session: Session, *, case: Case, session_id: int) -> CaseSession:
    found = session.get(CaseSession, session_id)
    if found is None or found.case_id != case.id:
        raise NotFound("No such session.")
    return found
