"""Pages: the case list, opening and editing a case, the case page with its journey, participants."""

import unicodedata
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from app.actor import Actor
from app.auth.dependencies import ActorDep
from app.auth.models import UserRole
from app.conferences import queries, service
from app.conferences.dependencies import CaseParticipant, DetailCase, VisibleCase
from app.conferences.flags import FLAG_LABELS, STAFF_FLAGS, CaseFlag
from app.conferences.models import Case, HarmType, Participant, ParticipantRole
from app.conferences.schemas import (
    HARM_TYPE_LABELS,
    INTERPRETER_LANGUAGES,
    LANGUAGES,
    PARTICIPANT_ROLE_LABELS,
    REFERRAL_SOURCE_LABELS,
    CaseCreate,
    CaseUpdate,
    ParticipantCreate,
    ParticipantUpdate,
)
from app.db import SessionDep
from app.errors import InvalidInput
from app.i18n import Choices, Labels, current_language, language_names
from app.i18n import gettext as _
from app.schemas import PlainText
from app.web import form_data, is_htmx, optional_id, redirect, render, translated, validate_form, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
FormDep = Annotated[FormData, Depends(form_data)]

LABELS = {
    "harm_types": Choices((k.value, v) for k, v in HARM_TYPE_LABELS.items()),
    "referral_sources": Choices((k.value, v) for k, v in REFERRAL_SOURCE_LABELS.items()),
    "participant_roles": Choices((k.value, v) for k, v in PARTICIPANT_ROLE_LABELS.items()),
    "languages": Choices(sorted(LANGUAGES.items(), key=lambda item: item[1])),
    "harm_type_label": Labels(HARM_TYPE_LABELS),
    "referral_source_label": Labels(REFERRAL_SOURCE_LABELS),
    "role_label": Labels(PARTICIPANT_ROLE_LABELS),
    "language_label": Labels(LANGUAGES),
}


def flag_choices(actor: Actor) -> list[CaseFlag]:
    """The flags this reader may filter by: staff only those a case summary shows."""
    return [f for f in CaseFlag if queries.sees_confidential(actor) or f in STAFF_FLAGS]


@router.get("/cases")
def case_list(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    q: Annotated[PlainText, Query(max_length=100)] = "",
    harm_type: str = Query(default="", max_length=40),
    facilitator: str = Query(default="", max_length=12),
    flag: str = Query(default="", max_length=40),
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    """Cases you may see, with search, filters and pages. Filter changes swap the results in place."""
    harm = HarmType(harm_type) if harm_type in HarmType.__members__ else None
    wanted = CaseFlag(flag) if flag in flag_choices(actor) else None
    result = queries.list_cases(
        session,
        actor=actor,
        search=q or None,
        harm_type=harm,
        facilitator_id=optional_id(facilitator),
        flag=wanted,
        page=page,
    )
    facilitators = queries.program_facilitators(session, program_id=actor.program_id)  # type: ignore[arg-type]
    context = LABELS | {
        "result": result,
        "filters": {"q": q, "harm_type": harm_type, "facilitator": facilitator, "flag": wanted or ""},
        "facilitators": facilitators,
        "flag_options": Choices((f.value, FLAG_LABELS[f]) for f in flag_choices(actor)),
        "can_open": actor.role in service.CASE_WRITERS,
    }
    block = "results" if is_htmx(request) and request.headers.get("HX-Target") == "case-results" else "content"
    return render(request, "conferences/case_list.html", context, block=block)


def _case_form(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    *,
    values: dict,
    errors: dict,
    case: Case | None = None,
    status_code: int = 200,
) -> Response:
    facilitators = queries.program_facilitators(session, program_id=actor.program_id)  # type: ignore[arg-type]
    return render(
        request,
        "conferences/case_form.html",
        LABELS
        | {
            "values": values,
            "errors": errors,
            "case": case,
            "facilitators": facilitators,
        },
        status_code=status_code,
    )


@router.get("/cases/new")
def new_case_page(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    service.require_case_writer(actor)
    selected = [actor.user_id] if actor.role == UserRole.facilitator else []
    return _case_form(request, session, actor, values={"facilitator_ids": selected}, errors={})


@router.post("/cases")
def open_case(request: Request, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    data, errors = validate_form(CaseCreate, form, lists=("facilitator_ids",))
    if data is not None:
        try:
            case = service.open_case(session, actor=actor, data=data)
            return redirect(
                request, f"/cases/{case.id}", flash=_("Case %(reference)s is open.") % {"reference": case.reference}
            )
        except InvalidInput as exc:
            errors = translated(exc.field_errors)
    values = dict(form) | {"facilitator_ids": [optional_id(v) for v in form.getlist("facilitator_ids")]}  # type: ignore[arg-type]
    return _case_form(request, session, actor, values=values, errors=errors, status_code=422)


@router.get("/cases/{case_id}")
def case_page(request: Request, case: VisibleCase, session: SessionDep, actor: ActorDep) -> Response:
    """The case: its journey panel and, for those allowed, notes and participants."""
    service.record_case_read(session, actor=actor, case=case)
    row = queries.case_row(session, case=case, confidential=queries.sees_confidential(actor))
    return render(
        request,
        "conferences/case_detail.html",
        LABELS
        | {
            "row": row,
            "case": case,
            "summary_only": actor.role == UserRole.staff,
            "can_edit": actor.role in service.CASE_WRITERS,
        },
    )


@router.get("/cases/{case_id}/edit")
def edit_case_page(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep) -> Response:
    service.require_case_writer(actor)
    service.record_case_read(session, actor=actor, case=case)  # the form shows the case notes
    row = queries.case_row(session, case=case)
    values = case.model_dump(warnings=False) | {"facilitator_ids": [u.id for u in row.facilitators]}
    return _case_form(request, session, actor, values=values, errors={}, case=case)


@router.post("/cases/{case_id}")
def update_case(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    data, errors = validate_form(CaseUpdate, form, lists=("facilitator_ids",))
    if data is not None:
        if data.notes is None and "notes" in form:
            data.notes = ""  # an emptied notes box clears the notes
        try:
            service.update_case(session, actor=actor, case=case, data=data)
            return redirect(request, f"/cases/{case.id}", flash=_("Case details saved."))
        except InvalidInput as exc:
            errors = translated(exc.field_errors)
    values = dict(form) | {"facilitator_ids": [optional_id(v) for v in form.getlist("facilitator_ids")]}  # type: ignore[arg-type]
    return _case_form(request, session, actor, values=values, errors=errors, case=case, status_code=422)


def interpreter_language_choices(language: str) -> list[tuple[str, str]]:
    """The working languages an interpreter may have, named in the page's language and in its alphabetical order."""
    names = language_names(INTERPRETER_LANGUAGES, language=language)

    def alphabetical(item: tuple[str, str]) -> str:  # árabe sorts with the a's
        return unicodedata.normalize("NFKD", item[1]).encode("ascii", "ignore").decode().casefold()

    return sorted(((code, name[:1].upper() + name[1:]) for code, name in names.items()), key=alphabetical)


def _interpreting_lists(form: FormData, participant: Participant | None = None) -> tuple[str, ...]:
    """The interpreter's languages are a checkbox group: read it where the form shows it, or where it was sent."""
    shown = participant is None or participant.role == ParticipantRole.interpreter
    return ("interpreter_languages",) if shown or "interpreter_languages" in form else ()


def _participant_form(
    request: Request,
    *,
    case: Case,
    values: dict,
    errors: dict,
    participant: Participant | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "conferences/participant_form.html",
        LABELS
        | {
            "case": case,
            "values": values,
            "errors": errors,
            "participant": participant,
            "interpreter_languages": interpreter_language_choices(current_language()),
        },
        status_code=status_code,
    )


def _form_values(form: FormData) -> dict:
    return dict(form) | {"interpreter_languages": form.getlist("interpreter_languages")}


@router.get("/cases/{case_id}/participants/new")
def new_participant_page(request: Request, case: DetailCase, actor: ActorDep) -> Response:
    service.require_case_writer(actor)
    return _participant_form(request, case=case, values={"preferred_language": "en"}, errors={})


@router.post("/cases/{case_id}/participants")
def add_participant(
    request: Request, case: DetailCase, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    data, errors = validate_form(
        ParticipantCreate, form, flags=("interpreter_needed",), lists=_interpreting_lists(form)
    )
    if data is None:
        return _participant_form(request, case=case, values=_form_values(form), errors=errors, status_code=422)
    participant = service.add_participant(session, actor=actor, case=case, data=data)
    return redirect(
        request, f"/cases/{case.id}", flash=_("%(name)s is added to the case.") % {"name": participant.display_name}
    )


@router.get("/cases/{case_id}/participants/{participant_id}/edit")
def edit_participant_page(
    request: Request, case: DetailCase, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> Response:
    service.require_case_writer(actor)
    service.record_case_read(session, actor=actor, case=case, what="participant")  # the form shows support needs
    return _participant_form(
        request, case=case, values=participant.model_dump(warnings=False), errors={}, participant=participant
    )


@router.post("/cases/{case_id}/participants/{participant_id}")
def update_participant(
    request: Request,
    case: DetailCase,
    participant: CaseParticipant,
    session: SessionDep,
    actor: ActorDep,
    form: FormDep,
) -> Response:
    data, errors = validate_form(
        ParticipantUpdate,
        form,
        flags=("interpreter_needed",),
        lists=_interpreting_lists(form, participant),
        required=("display_name",),
    )
    if data is not None and data.support_needs is None and "support_needs" in form:
        data.support_needs = ""
    if data is not None:
        try:
            service.update_participant(session, actor=actor, participant=participant, data=data)
        except InvalidInput as exc:
            errors = translated(exc.field_errors)
    if errors:
        return _participant_form(
            request, case=case, values=_form_values(form), errors=errors, participant=participant, status_code=422
        )
    return redirect(
        request, f"/cases/{case.id}", flash=_("Saved the changes to %(name)s.") % {"name": participant.display_name}
    )
