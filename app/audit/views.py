"""Page: the program's audit log (admins)."""

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from app.audit.queries import program_events
from app.auth.dependencies import ActorDep, AdminDep
from app.auth.service import get_program
from app.conferences.dependencies import DetailCase
from app.conferences.service import record_case_read
from app.db import SessionDep
from app.web import optional_id, render, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)


@router.get("/admin/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    actor: AdminDep,
    case: str = Query(default="", max_length=12),
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    case_id = optional_id(case)  # an empty filter box means every case
    result = program_events(session, program_id=actor.program_id, case_id=case_id, page=page)  # type: ignore[arg-type]
    program = get_program(session, actor.program_id)  # type: ignore[arg-type]
    return render(request, "audit/log.html", {"result": result, "case_filter": case_id, "program": program})


@router.get("/cases/{case_id}/audit")
def case_audit_page(
    request: Request,
    case: DetailCase,
    session: SessionDep,
    actor: ActorDep,
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    """One case's audit log, for admins and the case's facilitators."""
    record_case_read(session, actor=actor, case=case, what="case.audit")
    result = program_events(session, program_id=case.program_id, case_id=case.id, page=page)
    return render(request, "audit/case_log.html", {"result": result, "case": case})
