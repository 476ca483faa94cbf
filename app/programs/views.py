"""Page: the program's settings (admins)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from app.auth.dependencies import AdminDep
from app.auth.service import get_program
from app.db import SessionDep
from app.i18n import gettext as _
from app.programs.schemas import ProgramUpdate, timezone_choices
from app.programs.service import update_program
from app.web import form_data, redirect, render, validate_form, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)


@router.get("/admin/program")
def program_page(request: Request, session: SessionDep, actor: AdminDep) -> Response:
    program = get_program(session, actor.program_id)  # type: ignore[arg-type]
    return render(
        request,
        "programs/settings.html",
        {"program": program, "values": program.model_dump(), "errors": {}, "zones": timezone_choices()},
    )


@router.post("/admin/program")
def save_program(
    request: Request, session: SessionDep, actor: AdminDep, form: Annotated[FormData, Depends(form_data)]
) -> Response:
    program = get_program(session, actor.program_id)  # type: ignore[arg-type]
    data, errors = validate_form(ProgramUpdate, form, required=("name",))
    if data is None:
        return render(
            request,
            "programs/settings.html",
            {"program": program, "values": dict(form), "errors": errors, "zones": timezone_choices()},
            status_code=422,
        )
    update_program(session, actor=actor, program=program, data=data)
    return redirect(request, "/admin/program", flash=_("Program settings saved."))
