"""JSON API: sessions of a case (schedule, reschedule, cancel, mark held), invitations, a facilitator's week.

A refused gate, safety measure or double booking is 409 with every unmet condition; a time that does
not exist (or exists twice) in the program's time zone is 422 naming the field.
"""

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response

from app.auth.dependencies import ActorDep
from app.conferences import invitations, scheduling, scheduling_queries
from app.conferences.dependencies import DetailCase
from app.conferences.scheduling_queries import CaseSessionDep, SessionAttendeeDep, SessionRow, Week, WeekStart
from app.conferences.scheduling_schemas import (
    AttendeePublic,
    SessionCancel,
    SessionCreate,
    SessionHeld,
    SessionPublic,
    SessionUpdate,
    WeekDayPublic,
    WeekPublic,
    WeekSessionPublic,
    current_session,
)
from app.conferences.schemas import FacilitatorPublic
from app.conferences.service import record_case_read
from app.db import RecordId, SessionDep
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["scheduling"], dependencies=[Depends(verify_csrf)])
SESSIONS = "/cases/{case_id}/sessions"
ONE = SESSIONS + "/{session_id}"
HHMM = "%H:%M"


def invitation_url(case_id: int, session_id: int, participant_id: int) -> str:
    """Where one attendee's personal .ics invitation is downloaded."""
    return f"/api/v1/cases/{case_id}/sessions/{session_id}/attendees/{participant_id}/invitation.ics"


def session_public(row: SessionRow, tz: str) -> SessionPublic:
    s, zone = row.case_session, ZoneInfo(tz)
    start, end = s.starts_at.astimezone(zone), s.ends_at.astimezone(zone)
    return SessionPublic(
        id=s.id,  # type: ignore[arg-type]
        case_id=s.case_id,
        kind=s.kind,
        mode=s.mode,  # type: ignore[arg-type]
        status=s.status,
        status_reason=s.status_reason,
        outcome_note=s.outcome_note,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        timezone=tz,
        date=start.date(),
        start=start.strftime(HHMM),
        end=end.strftime(HHMM),
        location=s.location,
        room=s.room,
        video_link=s.video_link,
        sequence=s.sequence,
        attendees=[
            AttendeePublic(
                participant_id=a.participant.id,  # type: ignore[arg-type]
                display_name=a.participant.display_name,
                role=a.participant.role,
                arrives_at=a.attendee.arrives_at,
                leaves_at=a.attendee.leaves_at,
                local_arrival=a.attendee.arrives_at.astimezone(zone).strftime(HHMM),
                local_departure=a.attendee.leaves_at.astimezone(zone).strftime(HHMM),
                waiting_room=a.attendee.waiting_room,
                invitation_url=invitation_url(s.case_id, s.id, a.participant.id),  # type: ignore[arg-type]
            )
            for a in row.attendees
        ],
        facilitators=[FacilitatorPublic(id=u.id, full_name=u.full_name) for u in row.facilitators],  # type: ignore[arg-type]
    )


def week_public(week: Week) -> WeekPublic:
    zone = ZoneInfo(week.tz)
    return WeekPublic(
        start=week.start,
        end=week.end,
        timezone=week.tz,
        facilitator=FacilitatorPublic(id=week.facilitator.id, full_name=week.facilitator.full_name),  # type: ignore[arg-type]
        previous_start=week.previous_start,
        next_start=week.next_start,
        days=[
            WeekDayPublic(
                date=day,
                sessions=[
                    WeekSessionPublic(
                        id=r.case_session.id,  # type: ignore[arg-type]
                        case_id=r.case_session.case_id,
                        case_reference=r.case.reference if r.case else "",
                        kind=r.case_session.kind,
                        mode=r.case_session.mode,  # type: ignore[arg-type]
                        status=r.case_session.status,
                        starts_at=r.case_session.starts_at,
                        ends_at=r.case_session.ends_at,
                        start=r.case_session.starts_at.astimezone(zone).strftime(HHMM),
                        end=r.case_session.ends_at.astimezone(zone).strftime(HHMM),
                        room=r.case_session.room,
                        location=r.case_session.location,
                    )
                    for r in rows
                ],
            )
            for day, rows in week.days
        ],
    )


def _tz(session: SessionDep, case: DetailCase) -> str:
    return scheduling_queries.program_timezone(session, program_id=case.program_id)


@router.get(SESSIONS, response_model=list[SessionPublic])
def list_sessions(case: DetailCase, session: SessionDep, actor: ActorDep) -> list[SessionPublic]:
    """The case's sessions, earliest first, with each attendee's own times."""
    record_case_read(session, actor=actor, case=case, what="case.sessions")
    tz = _tz(session, case)
    return [session_public(r, tz) for r in scheduling_queries.case_sessions(session, case=case)]


@router.post(SESSIONS, response_model=SessionPublic, status_code=status.HTTP_201_CREATED)
def schedule_session(data: SessionCreate, case: DetailCase, session: SessionDep, actor: ActorDep) -> SessionPublic:
    """Schedule a preparation meeting, the conference or a follow-up, in the program's local time.

    Refused with 409 and every unmet `conditions` code when a gate (G1 for the conference), the safety
    plan or a double booking stands in the way; 422 when the time does not exist or happens twice.

    With `already_held`, records a session that already took place as held (times in the past, an
    `outcome_note`); its gate is judged on the records as they stood then, and nobody is invited.
    """
    if data.already_held:
        created = scheduling.record_past_session(
            session, actor=actor, case=case, plan=data.to_plan(), outcome_note=data.outcome_note or ""
        )
    else:
        created = scheduling.schedule_session(session, actor=actor, case=case, plan=data.to_plan())
    return session_public(scheduling_queries.session_row(session, case_session=created), _tz(session, case))


@router.get(ONE, response_model=SessionPublic)
def read_session(case: DetailCase, case_session: CaseSessionDep, session: SessionDep, actor: ActorDep) -> SessionPublic:
    """One session, with each attendee's arrival, departure and waiting room."""
    record_case_read(session, actor=actor, case=case, what="case.sessions")
    return session_public(scheduling_queries.session_row(session, case_session=case_session), _tz(session, case))


@router.patch(ONE, response_model=SessionPublic)
def reschedule_session(
    data: SessionUpdate, case: DetailCase, case_session: CaseSessionDep, session: SessionDep, actor: ActorDep
) -> SessionPublic:
    """Reschedule or change a session: send only what changes. Gates and conflicts are checked again."""
    tz = _tz(session, case)
    current = current_session(scheduling_queries.session_row(session, case_session=case_session), tz)
    scheduling.reschedule_session(
        session, actor=actor, case=case, case_session=case_session, plan=data.to_plan(current)
    )
    return session_public(scheduling_queries.session_row(session, case_session=case_session), tz)


@router.post(ONE + "/cancel", response_model=SessionPublic)
def cancel_session(
    data: SessionCancel, case: DetailCase, case_session: CaseSessionDep, session: SessionDep, actor: ActorDep
) -> SessionPublic:
    """Cancel a session with the reason; the attendees get a cancellation."""
    scheduling.cancel_session(session, actor=actor, case_session=case_session, reason=data.reason)
    return session_public(scheduling_queries.session_row(session, case_session=case_session), _tz(session, case))


@router.post(ONE + "/held", response_model=SessionPublic)
def mark_session_held(
    data: SessionHeld, case: DetailCase, case_session: CaseSessionDep, session: SessionDep, actor: ActorDep
) -> SessionPublic:
    """Record that a session took place, once it has started, with a short outcome note."""
    scheduling.mark_session_held(session, actor=actor, case_session=case_session, outcome_note=data.outcome_note)
    return session_public(scheduling_queries.session_row(session, case_session=case_session), _tz(session, case))


@router.get(
    ONE + "/attendees/{participant_id}/invitation.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "The attendee's own calendar invitation."}},
)
def download_invitation(
    case: DetailCase,
    case_session: CaseSessionDep,
    participant: SessionAttendeeDep,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """One attendee's personal .ics: their own times and place, nobody else's details."""
    record_case_read(session, actor=actor, case=case, what="session.invitation")
    body = invitations.ics_for(session, case_session=case_session, participant=participant)
    filename = f"session-{case_session.id}-{participant.id}.ics"
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/schedule/week", response_model=WeekPublic)
def read_week(
    session: SessionDep,
    actor: ActorDep,
    start: WeekStart | None = Query(default=None, description="Any day of the week wanted; its Monday is used."),
    facilitator_id: RecordId | None = Query(default=None, description="Administrators only: whose week."),
) -> WeekPublic:
    """A facilitator's sessions across their cases, Monday to Sunday in the program's time zone."""
    return week_public(
        scheduling_queries.week_schedule(session, actor=actor, facilitator_id=facilitator_id, start=start)
    )
