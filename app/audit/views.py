"""Page: the program's audit log (admins)."""

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from app.audit.queries import program_events
from app.auth.dependencies import AdminDep
from app.auth.service import get_program
from app.db import SessionDep
from app.web import render, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)


@router.get("/admin/audit")
def audit_page(
    request: Request, session: SessionDep, actor: AdminDep,
    case: str = Query(default="", max_length=12), page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    case_id = int(case) if case.strip().isdigit() else None  # an empty filter box means every case
    result = program_events(session, program_id=actor.program_id, case_id=case_id, page=page)  # type: ignore[arg-type]
    program = get_program(session, actor.program_id)  # type: ignore[arg-type]
    return render(request, "audit/log.html", {"result": result, "case_filter": case_id, "program": program})
