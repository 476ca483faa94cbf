"""Pages: putting a case on legal hold and clearing it (admins), from the case page."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from app.auth.dependencies import ActorDep
from app.auth.models import UserRole
from app.conferences import queries
from app.conferences.dependencies import VisibleCase
from app.conferences.service import CASE_WRITERS
from app.conferences.views import LABELS
from app.db import SessionDep
from app.errors import InvalidInput
from app.i18n import gettext as _
from app.retention import service
from app.retention.schemas import LegalHoldSet
from app.web import form_data, redirect, render, translated, validate_form, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
FormDep = Annotated[FormData, Depends(form_data)]


@router.post("/cases/{case_id}/legal-hold")
def set_legal_hold(
    request: Request, case: VisibleCase, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    """Put the case on legal hold (admins of its program); errors come back beside the reason."""
    service.require_program_admin(actor, case)
    data, errors = validate_form(LegalHoldSet, form)
    if data is not None:
        try:
            service.set_legal_hold(session, actor=actor, case=case, data=data)
            return redirect(request, f"/cases/{case.id}", flash=_("The case is on legal hold."))
        except InvalidInput as exc:
            errors = translated(exc.field_errors)
    context = LABELS | {
        "row": queries.case_row(session, case=case),
        "case": case,
        "summary_only": actor.role == UserRole.staff,
        "can_edit": actor.role in CASE_WRITERS,
        "hold_errors": errors,
        "hold_values": dict(form),
    }
    return render(request, "conferences/case_detail.html", context, status_code=422)


@router.post("/cases/{case_id}/legal-hold/clear")
def clear_legal_hold(request: Request, case: VisibleCase, session: SessionDep, actor: ActorDep) -> Response:
    """Clear the case's legal hold (admins of its program)."""
    service.clear_legal_hold(session, actor=actor, case=case)
    return redirect(
        request, f"/cases/{case.id}", flash=_("The legal hold is cleared. Retention applies to this case again.")
    )
