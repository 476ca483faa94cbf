"""JSON API: the program's audit log (admins)."""

from fastapi import APIRouter, Depends, Query

from app.audit.queries import program_events
from app.audit.schemas import AuditEventPublic, AuditPagePublic
from app.auth.dependencies import AdminDep
from app.db import SessionDep
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["audit"], dependencies=[Depends(verify_csrf)])


@router.get("/audit", response_model=AuditPagePublic)
def read_audit_log(
    session: SessionDep, actor: AdminDep, case_id: int | None = None, page: int = Query(default=1, ge=1, le=100_000)
) -> AuditPagePublic:
    """Audit events of your program, newest first; filter by case with `case_id`."""
    result = program_events(session, program_id=actor.program_id, case_id=case_id, page=page)  # type: ignore[arg-type]
    return AuditPagePublic(
        items=[AuditEventPublic.model_validate(e) for e in result.events],
        total=result.total, page=result.page, pages=result.pages,
    )
