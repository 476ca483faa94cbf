"""Page: the program's audit log (admins)."""

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from app.audit.checkpoints import NOT_A_CHECKPOINT, check_program_checkpoint, parse_checkpoint, program_checkpoint
from app.audit.queries import program_events
from app.auth.dependencies import ActorDep, AdminDep
from app.auth.service import get_program
from app.conferences.dependencies import DetailCase
from app.conferences.service import record_case_read
from app.db import SessionDep
from app.errors import InvalidInput
from app.web import form_data, optional_id, render, translated, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)


@router.get("/admin/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    actor: AdminDep,
    case: str = Query(default="", max_length=12),
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    return _log_page(request, session, actor, case_filter=optional_id(case), page=page)


def _log_page(
    request: Request,
    session: SessionDep,
    actor: AdminDep,
    *,
    case_filter: int | None = None,
    page: int = 1,
    errors: dict[str, str] | None = None,
    check: dict[str, object] | None = None,
    status_code: int = 200,
) -> Response:
    result = program_events(session, program_id=actor.program_id, case_id=case_filter, page=page)  # type: ignore[arg-type]
    program = get_program(session, actor.program_id)  # type: ignore[arg-type]
    context = {"result": result, "case_filter": case_filter, "program": program, "errors": errors or {}, "check": check}
    return render(request, "audit/log.html", context, status_code=status_code)


@router.get("/admin/audit/checkpoint")
def download_checkpoint(session: SessionDep, actor: AdminDep) -> Response:
    """The signed head of the program's audit chain, as a file to keep outside Mend."""
    checkpoint = program_checkpoint(session, actor=actor)
    stamp = checkpoint["taken_at"][:19].replace(":", "").replace("-", "")
    return Response(
        json.dumps(checkpoint, sort_keys=True) + "\n",  # one line, as `mend audit checkpoint` writes
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="mend-audit-checkpoint-{actor.program_id}-{stamp}Z.json"'
        },
    )


@router.post("/admin/audit/checkpoint")
def check_checkpoint(
    request: Request, session: SessionDep, actor: AdminDep, form: Annotated[FormData, Depends(form_data)]
) -> Response:
    """Compare the log with a checkpoint downloaded earlier: were events since removed or changed?"""
    upload = form.get("checkpoint")
    try:
        if not isinstance(upload, UploadFile):
            raise InvalidInput(NOT_A_CHECKPOINT, field_errors={"checkpoint": NOT_A_CHECKPOINT})
        checkpoint = parse_checkpoint(upload.file.read())
        report = check_program_checkpoint(session, actor=actor, checkpoint=checkpoint)
    except InvalidInput as exc:
        return _log_page(request, session, actor, errors=translated(exc.field_errors), status_code=422)
    check = {
        "ok": report.ok,
        "taken_at": checkpoint.get("taken_at", ""),
        "seq": report.first_break.seq if report.first_break else None,
    }
    return _log_page(request, session, actor, check=check)


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
