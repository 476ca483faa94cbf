"""Reads for the scheduling pages and API: a case's sessions, one session with its people, a facilitator's
week; and the load-or-404 dependencies both routers use. Scoped to the actor's program and cases."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from annotated_types import Interval
from fastapi import Depends
from sqlmodel import Session, col, select

from app.actor import Actor
from app.auth.models import User, UserRole
from app.conferences.dependencies import DetailCase
from app.conferences.models import Case, CaseSession, Participant, SessionAttendee, SessionFacilitator, SessionStatus
from app.conferences.queries import case_facts, visible_cases
from app.conferences.rules import conference_conditions
from app.conferences.scheduling import get_case_session
from app.db import RecordId, SessionDep, utcnow
from app.errors import Condition, NotFound, PermissionDenied
from app.programs.models import Program


@dataclass(frozen=True)
class AttendeeRow:
    participant: Participant
    attendee: SessionAttendee

    @property
    def role(self) -> str:
        return self.participant.role


@dataclass(frozen=True)
class SessionRow:
    case_session: CaseSession
    attendees: list[AttendeeRow]
    facilitators: list[User]
    case: Case | None = None

    @property
    def started(self) -> bool:
        return self.case_session.starts_at <= utcnow()

    @property
    def upcoming(self) -> bool:
        return self.case_session.ends_at > utcnow()


def program_timezone(session: Session, *, program_id: int) -> str:
    """The program's time zone name, in which sessions are entered and shown."""
    program = session.get(Program, program_id)
    return program.timezone if program else "UTC"


def _rows(session: Session, sessions: list[CaseSession], *, cases: dict[int, Case] | None = None) -> list[SessionRow]:
    """Each session with its attendees and facilitators, in a fixed number of queries."""
    ids = [s.id for s in sessions]
    attendees: dict[int, list[AttendeeRow]] = {i: [] for i in ids}  # type: ignore[misc]
    facilitators: dict[int, list[User]] = {i: [] for i in ids}  # type: ignore[misc]
    if ids:
        for attendee, participant in session.exec(
            select(SessionAttendee, Participant)
            .join(Participant, col(Participant.id) == SessionAttendee.participant_id)
            .where(col(SessionAttendee.session_id).in_(ids))
            .order_by(col(Participant.id))
        ).all():
            attendees[attendee.session_id].append(AttendeeRow(participant, attendee))
        for session_id, user in session.exec(
            select(SessionFacilitator.session_id, User)
            .join(User, col(User.id) == SessionFacilitator.user_id)
            .where(col(SessionFacilitator.session_id).in_(ids))
            .order_by(col(User.full_name))
        ).all():
            facilitators[session_id].append(user)
    return [
        SessionRow(s, attendees[s.id], facilitators[s.id], (cases or {}).get(s.case_id))  # type: ignore[index]
        for s in sessions
    ]


def case_sessions(session: Session, *, case: Case) -> list[SessionRow]:
    """Every session of the case, earliest first, whatever its status."""
    sessions = session.exec(
        select(CaseSession).where(CaseSession.case_id == case.id).order_by(col(CaseSession.starts_at))
    ).all()
    return _rows(session, list(sessions), cases={case.id: case})  # type: ignore[dict-item]


def session_row(session: Session, *, case_session: CaseSession) -> SessionRow:
    """One session with its attendees (each with their own times and waiting room) and facilitators."""
    return _rows(session, [case_session])[0]


def conference_checklist(session: Session, *, case: Case) -> list[Condition]:
    """What gate G1 still asks for, shown before a conference is requested; the service decides."""
    return conference_conditions(case_facts(session, case=case))


@dataclass(frozen=True)
class Week:
    start: date
    tz: str
    facilitator: User
    days: list[tuple[date, list[SessionRow]]]

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def previous_start(self) -> date:
        return self.start - timedelta(days=7)

    @property
    def next_start(self) -> date:
        return self.start + timedelta(days=7)


# The weeks a request may ask for: far enough for any schedule, and clear of date arithmetic's edges
# (a week around 9999-12-31 or 0001-01-01 cannot be computed, and was a 500).
WeekStart = Annotated[date, Interval(ge=date(1900, 1, 1), le=date(9000, 12, 31))]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def week_schedule(
    session: Session, *, actor: Actor, facilitator_id: int | None = None, start: date | None = None
) -> Week:
    """A facilitator's sessions (not the cancelled ones) from Monday to Sunday in the program's time zone.

    Facilitators see their own week; administrators may look at any facilitator of their program.
    """
    if actor.role not in (UserRole.admin, UserRole.facilitator):
        raise PermissionDenied("The week view is for facilitators and administrators.")
    facilitator_id = facilitator_id or actor.user_id
    if facilitator_id != actor.user_id and actor.role != UserRole.admin:
        raise PermissionDenied("You can see your own week only.")
    facilitator = session.get(User, facilitator_id)
    if facilitator is None or facilitator.program_id != actor.program_id:
        raise NotFound("No such facilitator.")
    tz = program_timezone(session, program_id=actor.program_id)  # type: ignore[arg-type]
    zone = ZoneInfo(tz)
    monday = monday_of(start or utcnow().astimezone(zone).date())
    cases = visible_cases(actor).subquery()
    found = session.exec(
        select(CaseSession, Case)
        .join(Case, col(Case.id) == CaseSession.case_id)
        .join(SessionFacilitator, col(SessionFacilitator.session_id) == CaseSession.id)
        .where(
            SessionFacilitator.user_id == facilitator.id,
            col(CaseSession.case_id).in_(select(cases.c.id)),
            CaseSession.status != SessionStatus.cancelled,
            col(CaseSession.starts_at) < _local_midnight(monday + timedelta(days=7), zone),
            col(CaseSession.ends_at) > _local_midnight(monday, zone),
        )
        .order_by(col(CaseSession.starts_at))
    ).all()
    rows = _rows(session, [s for s, _ in found], cases={c.id: c for _, c in found})  # type: ignore[misc]
    days = [(monday + timedelta(days=i), []) for i in range(7)]  # type: ignore[var-annotated]
    for row in rows:
        local_day = row.case_session.starts_at.astimezone(zone).date()
        index = min(max((local_day - monday).days, 0), 6)
        days[index][1].append(row)
    return Week(monday, tz, facilitator, days)


def _case_session(session_id: RecordId, case: DetailCase, session: SessionDep) -> CaseSession:
    return get_case_session(session, case=case, session_id=session_id)


CaseSessionDep = Annotated[CaseSession, Depends(_case_session, scope="function")]


def _attendee(participant_id: RecordId, case_session: CaseSessionDep, session: SessionDep) -> Participant:
    """A participant who attends this session (their invitation); anyone else is not found here."""
    participant = session.exec(
        select(Participant)
        .join(SessionAttendee, col(SessionAttendee.participant_id) == Participant.id)
        .where(SessionAttendee.session_id == case_session.id, Participant.id == participant_id)
    ).first()
    if participant is None:
        raise NotFound("This person does not attend this session.")
    return participant


SessionAttendeeDep = Annotated[Participant, Depends(_attendee, scope="function")]
