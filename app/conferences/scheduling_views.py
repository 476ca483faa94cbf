"""Pages: a case's sessions, scheduling and rescheduling them, a session's detail, a facilitator's week.

Forms validate into the API's schemas and call the same scheduling service. A refused request shows
every unmet condition as a checklist linking to where each is fixed, and keeps what was typed.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app.actor import Actor
from app.auth.dependencies import ActorDep
from app.auth.models import UserRole
from app.conferences import queries, scheduling, scheduling_queries
from app.conferences.dependencies import DetailCase
from app.conferences.models import Case, CaseSession, SessionKind
from app.conferences.scheduling_api import invitation_url
from app.conferences.scheduling_queries import CaseSessionDep, WeekStart
from app.conferences.scheduling_schemas import (
    KIND_LABELS,
    MODE_LABELS,
    REPEATED_HOUR_LABELS,
    STATUS_LABELS,
    SessionCancel,
    SessionCreate,
    SessionHeld,
    current_session,
)
from app.conferences.service import record_case_read
from app.conferences.views import LABELS
from app.db import SessionDep
from app.errors import Condition, Conflict, InvalidInput
from app.i18n import N_, Choices, Labels
from app.i18n import gettext as _
from app.web import form_data, optional_id, redirect, render, translated, validate_form, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
FormDep = Annotated[FormData, Depends(form_data)]
SESSIONS = "/cases/{case_id}/sessions"
ONE = SESSIONS + "/{session_id}"
FORM_LISTS = ("attendee_ids", "facilitator_ids")

SCHEDULING_LABELS = LABELS | {
    "kind_label": Labels(KIND_LABELS),
    "kind_article": Labels(
        {
            SessionKind.preparation: N_("a preparation meeting"),
            SessionKind.conference: N_("the conference"),
            SessionKind.follow_up: N_("a follow-up review"),
        }
    ),
    "mode_label": Labels(MODE_LABELS),
    "status_label": Labels(STATUS_LABELS),
    "modes": Choices((k.value, v) for k, v in MODE_LABELS.items()),
    "repeated_hours": Choices((k.value, v) for k, v in REPEATED_HOUR_LABELS.items()),
    "invitation_url": invitation_url,
}


def _tz(session: Session, case: Case) -> str:
    return scheduling_queries.program_timezone(session, program_id=case.program_id)


@router.get(SESSIONS)
def session_list(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep) -> Response:
    """The case's sessions, upcoming and past, with their status and why."""
    record_case_read(session, actor=actor, case=case, what="case.sessions")
    rows = scheduling_queries.case_sessions(session, case=case)
    context = SCHEDULING_LABELS | {
        "case": case,
        "upcoming": [r for r in rows if r.upcoming],
        "past": [r for r in rows if not r.upcoming],
    }
    return render(request, "conferences/session_list.html", context)


def _form_values(form: FormData) -> dict[str, Any]:
    """What was typed, as the form shows it again after a refusal."""
    values: dict[str, Any] = {k: v for k, v in form.items() if k not in FORM_LISTS and k != "csrf_token"}
    for key in FORM_LISTS:
        values[key] = [i for v in form.getlist(key) if isinstance(v, str) and (i := optional_id(v)) is not None]
    return values


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    case: Case,
    kind: SessionKind,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    refused: list[Condition] | None = None,
    case_session: CaseSession | None = None,
    status_code: int = 200,
) -> Response:
    row = queries.case_row(session, case=case)
    checklist = None
    if kind == SessionKind.conference and refused is None:
        checklist = scheduling_queries.conference_checklist(session, case=case)
    context = SCHEDULING_LABELS | {
        "case": case,
        "kind": kind,
        "case_session": case_session,
        "participants": row.participants,
        "facilitators": row.facilitators,
        "values": values,
        "errors": errors or {},
        "refused": refused,
        "checklist": checklist,
        "tz": _tz(session, case),
    }
    return render(request, "conferences/session_form.html", context, status_code=status_code)


@router.get(SESSIONS + "/new")
def new_session_page(
    request: Request,
    case: DetailCase,
    session: SessionDep,
    actor: ActorDep,
    kind: SessionKind = SessionKind.preparation,
    past: bool = Query(default=False, description="Record a session that already took place"),
) -> Response:
    """The form to schedule a session, or with `past` to record one already held; for the conference,
    what gate G1 still asks for comes first."""
    row = queries.case_row(session, case=case)
    assigned = [u.id for u in row.facilitators]
    values = {
        "mode": "in_person",
        "attendee_ids": [p.id for p in row.participants] if kind == SessionKind.conference else [],
        "facilitator_ids": [actor.user_id] if actor.user_id in assigned else assigned,
        "already_held": past,
    }
    return _form_page(request, session, actor, case=case, kind=kind, values=values)


def _submit(
    request: Request, session: Session, actor: Actor, *, case: Case, form: FormData, case_session: CaseSession | None
) -> Response:
    """Schedule (or reschedule) from the form; on refusal show the form again with what was typed."""
    data, errors = validate_form(SessionCreate, form, lists=FORM_LISTS, flags=("already_held",))
    typed = form.get("kind")
    kind = (
        case_session.kind if case_session else SessionKind(typed if typed in SessionKind.__members__ else "preparation")
    )
    status_code = 422
    refused = None
    if data is not None:
        try:
            if case_session is None and data.already_held:
                saved = scheduling.record_past_session(
                    session, actor=actor, case=case, plan=data.to_plan(), outcome_note=data.outcome_note or ""
                )
                flash = _("%(kind)s recorded as held. No invitations were sent.") % {"kind": _(KIND_LABELS[saved.kind])}
            elif case_session is None:
                saved = scheduling.schedule_session(session, actor=actor, case=case, plan=data.to_plan())
                flash = _("%(kind)s scheduled.") % {"kind": _(KIND_LABELS[saved.kind])}
            else:
                saved = scheduling.reschedule_session(
                    session, actor=actor, case=case, case_session=case_session, plan=data.to_plan()
                )
                flash = _("%(kind)s rescheduled. The attendees get an updated invitation.") % {
                    "kind": _(KIND_LABELS[saved.kind])
                }
            return redirect(request, f"/cases/{case.id}/sessions/{saved.id}", flash=flash)
        except InvalidInput as exc:
            errors = translated(exc.field_errors or {"_form": exc.message})
        except Conflict as exc:
            refused = exc.conditions or [Condition("refused", exc.message)]
            errors = translated(exc.field_errors)
            status_code = 409
    values = _form_values(form)
    return _form_page(
        request,
        session,
        actor,
        case=case,
        kind=kind,
        values=values,
        errors=errors,
        refused=refused,
        case_session=case_session,
        status_code=status_code,
    )


@router.post(SESSIONS)
def schedule_session(
    request: Request, case: DetailCase, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    """Schedule a session from the form."""
    return _submit(request, session, actor, case=case, form=form, case_session=None)


def _detail_page(
    request: Request,
    session: Session,
    *,
    case: Case,
    case_session: CaseSession,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    row = scheduling_queries.session_row(session, case_session=case_session)
    context = SCHEDULING_LABELS | {
        "case": case,
        "row": row,
        "s": case_session,
        "active": case_session.status in scheduling.ACTIVE,
        "errors": errors or {},
        "values": values or {},
        "refusal": refusal,
    }
    return render(request, "conferences/session_detail.html", context, status_code=status_code)


@router.get(ONE)
def session_page(
    request: Request, case: DetailCase, case_session: CaseSessionDep, session: SessionDep, actor: ActorDep
) -> Response:
    """One session: times in program time, each attendee's own arrival, departure and waiting room."""
    record_case_read(session, actor=actor, case=case, what="case.sessions")
    return _detail_page(request, session, case=case, case_session=case_session)


@router.get(ONE + "/edit")
def edit_session_page(
    request: Request, case: DetailCase, case_session: CaseSessionDep, session: SessionDep, actor: ActorDep
) -> Response:
    """The form to reschedule or change a session, filled with its current values."""
    row = scheduling_queries.session_row(session, case_session=case_session)
    current = current_session(row, _tz(session, case))
    values = current.model_dump(mode="json") | {
        "start": current.start.strftime("%H:%M"),
        "end": current.end.strftime("%H:%M"),
    }
    return _form_page(
        request, session, actor, case=case, kind=case_session.kind, values=values, case_session=case_session
    )


@router.post(ONE + "/edit")
def reschedule_session(
    request: Request,
    case: DetailCase,
    case_session: CaseSessionDep,
    session: SessionDep,
    actor: ActorDep,
    form: FormDep,
) -> Response:
    """Reschedule from the form; the gate and conflicts are checked again."""
    return _submit(request, session, actor, case=case, form=form, case_session=case_session)


@router.post(ONE + "/cancel")
def cancel_session(
    request: Request,
    case: DetailCase,
    case_session: CaseSessionDep,
    session: SessionDep,
    actor: ActorDep,
    form: FormDep,
) -> Response:
    """Cancel with a reason; the attendees are told."""
    data, errors = validate_form(SessionCancel, form)
    page = {"case": case, "case_session": case_session, "values": dict(form)}
    if data is None:
        return _detail_page(request, session, **page, errors=errors, status_code=422)
    try:
        scheduling.cancel_session(session, actor=actor, case_session=case_session, reason=data.reason)
    except Conflict as exc:
        return _detail_page(request, session, **page, refusal=_(exc.message), status_code=409)
    return redirect(request, f"/cases/{case.id}/sessions/{case_session.id}", flash=_("The session is cancelled."))


@router.post(ONE + "/held")
def mark_session_held(
    request: Request,
    case: DetailCase,
    case_session: CaseSessionDep,
    session: SessionDep,
    actor: ActorDep,
    form: FormDep,
) -> Response:
    """Record that the session took place, with a short note on how it went."""
    data, errors = validate_form(SessionHeld, form)
    page = {"case": case, "case_session": case_session, "values": dict(form)}
    if data is None:
        return _detail_page(request, session, **page, errors=errors, status_code=422)
    try:
        scheduling.mark_session_held(session, actor=actor, case_session=case_session, outcome_note=data.outcome_note)
    except Conflict as exc:
        return _detail_page(request, session, **page, refusal=_(exc.message), status_code=409)
    return redirect(request, f"/cases/{case.id}/sessions/{case_session.id}", flash=_("Recorded as held."))


@router.get("/schedule/week")
def week_page(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    start: WeekStart | None = Query(default=None),
    facilitator: str = Query(default="", max_length=12),
) -> Response:
    """A facilitator's week, Monday to Sunday in program time; previous and next weeks swap in place."""
    week = scheduling_queries.week_schedule(session, actor=actor, facilitator_id=optional_id(facilitator), start=start)
    is_admin = actor.role == UserRole.admin
    context = SCHEDULING_LABELS | {
        "week": week,
        "is_admin": is_admin,
        "facilitators": queries.program_facilitators(session, program_id=actor.program_id) if is_admin else [],  # type: ignore[arg-type]
        "own": week.facilitator.id == actor.user_id,
    }
    return render(request, "conferences/week.html", context)
