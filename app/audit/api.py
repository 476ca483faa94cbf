"""JSON API: the program's audit log (admins)."""

from fastapi import APIRouter, Depends, Query

from app.audit.checkpoints import program_checkpoint
from app.audit.queries import AuditPage, program_events
from app.audit.schemas import AuditCheckpoint, AuditEventPublic, AuditPagePublic
from app.auth.dependencies import ActorDep, AdminDep
from app.conferences.dependencies import DetailCase
from app.conferences.service import record_case_read
from app.db import RecordId, SessionDep
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["audit"], dependencies=[Depends(verify_csrf)])


@router.get("/audit", response_model=AuditPagePublic)
def read_audit_log(
    session: SessionDep,
    actor: AdminDep,
    case_id: RecordId | None = None,
    page: int = Query(default=1, ge=1, le=100_000),
) -> AuditPagePublic:
    """Audit events of your program, newest first; filter by case with `case_id`."""
    return _page(program_events(session, program_id=actor.program_id, case_id=case_id, page=page))  # type: ignore[arg-type]


@router.get("/audit/checkpoint", response_model=AuditCheckpoint)
def read_audit_checkpoint(session: SessionDep, actor: AdminDep) -> AuditCheckpoint:
    """The signed head of your program's audit chain (admins). Keep each one outside Mend (fetch it on a
    schedule); `mend audit verify --checkpoints FILE` then finds events removed or changed since."""
    return AuditCheckpoint.model_validate(program_checkpoint(session, actor=actor))


def _page(result: AuditPage) -> AuditPagePublic:
    return AuditPagePublic(
        items=[AuditEventPublic.model_validate(e) for e in result.events],
        total=result.total,
        page=result.page,
        pages=result.pages,
    )


@router.get("/cases/{case_id}/audit", response_model=AuditPagePublic)
def read_case_audit_log(
    case: DetailCase, session: SessionDep, actor: ActorDep, page: int = Query(default=1, ge=1, le=100_000)
) -> AuditPagePublic:
    """One case's audit events, newest first (admins and the case's facilitators)."""
    record_case_read(session, actor=actor, case=case, what="case.audit")
    return _page(program_events(session, program_id=case.program_id, case_id=case.id, page=page))
