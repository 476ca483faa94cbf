"""Pages: readiness screening of a participant, and the responsible party's acknowledgement of the facts."""

from datetime import datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from app.actor import Actor
from app.auth.dependencies import ActorDep
from app.conferences import preparation, screening_rules
from app.conferences.dependencies import CaseParticipant, DetailCase
from app.conferences.models import Case, Participant
from app.conferences.preparation import Preview
from app.conferences.preparation_schemas import (
    METHOD_LABELS,
    OUTCOME_LABELS,
    AcknowledgementCreate,
    ScreeningCreate,
)
from app.conferences.views import LABELS
from app.db import RecordId, SessionDep, utcnow
from app.errors import Conflict, InvalidInput
from app.i18n import Choices, Labels
from app.i18n import gettext as _
from app.web import field_errors, form_data, redirect, render, translated, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
FormDep = Annotated[FormData, Depends(form_data)]
PERSON = "/cases/{case_id}/participants/{participant_id}"
Model = TypeVar("Model", bound=BaseModel)

PREPARATION_LABELS = LABELS | {
    "outcome_label": Labels({k.value: v for k, v in OUTCOME_LABELS.items()}),
    "outcomes": Choices((k.value, v) for k, v in OUTCOME_LABELS.items()),
    "method_label": Labels({k.value: v for k, v in METHOD_LABELS.items()}),
    "methods": Choices((k.value, v) for k, v in METHOD_LABELS.items()),
}


def _validate(
    model: type[Model], data: dict[str, Any], *, participant: Participant | None = None
) -> tuple[Model | None, dict[str, str]]:
    """Validate into the API's schema; an answer's error is reported under `answers.<question id>`, naming
    the question."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors = field_errors(exc, model=model)
        instrument = preparation.instrument_for(participant) if participant is not None else None
        for error in exc.errors():
            if len(error["loc"]) >= 2 and error["loc"][0] == "answers" and instrument is not None:
                errors.pop("answers", None)
                question = instrument.question(str(error["loc"][1]))
                too_long = error["type"] in ("string_too_long", "too_long")
                message = screening_rules.ANSWER_TOO_LONG if too_long else screening_rules.ANSWER_NOT_AN_OPTION
                errors[screening_rules.answer_field(str(error["loc"][1]))] = screening_rules.answer_error(
                    question, message
                )
        return None, errors


def _screening_values(form: FormData, participant: Participant) -> dict[str, Any]:
    instrument = preparation.instrument_for(participant)
    answers = {q.id: v for q in instrument.questions if isinstance(v := form.get(f"answers.{q.id}"), str) and v.strip()}
    return {
        "answers": answers,
        "outcome": form.get("outcome") or None,
        "override_reason": form.get("override_reason") or None,
        "rationale": form.get("rationale") or "",
    }


def _screening_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    case: Case,
    participant: Participant,
    values: dict[str, Any],
    errors: dict[str, str],
    preview: Preview | None = None,
    status_code: int = 200,
) -> Response:
    rows = preparation.list_screenings(session, actor=actor, participant=participant)
    context = PREPARATION_LABELS | {
        "case": case,
        "participant": participant,
        "rows": rows,
        "instrument": preparation.instrument_for(participant),
        "validity_days": preparation.validity_days(session, participant=participant),
        "values": values,
        "errors": errors,
        "preview": preview,
    }
    return render(request, "conferences/screening.html", context, status_code=status_code)


@router.get(PERSON + "/screening")
def screening_page(
    request: Request, case: DetailCase, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> Response:
    """The participant's screenings, and the current instrument's form with the rules that suggest the outcome."""
    values = {"answers": {}, "outcome": None}
    return _screening_page(request, session, actor, case=case, participant=participant, values=values, errors={})


@router.post(PERSON + "/screening")
def record_screening(
    request: Request,
    case: DetailCase,
    participant: CaseParticipant,
    session: SessionDep,
    actor: ActorDep,
    form: FormDep,
) -> Response:
    """Record a screening, or with the "check" button only show the outcome the rules suggest."""
    values = _screening_values(form, participant)
    page = {"case": case, "participant": participant, "values": values}
    if form.get("action") == "preview":
        preview = preparation.preview_screening(participant=participant, answers=values["answers"])
        return _screening_page(request, session, actor, **page, errors=preview.field_errors, preview=preview)
    data, errors = _validate(ScreeningCreate, values, participant=participant)
    if data is None:  # every unanswered question too, in the page's order, rather than one round at a time
        unanswered = preparation.preview_screening(participant=participant, answers=values["answers"]).field_errors
        errors = unanswered | {name: message for name, message in errors.items() if name not in unanswered}
    status_code = 422
    if data is not None:
        try:
            screening = preparation.record_screening(session, actor=actor, participant=participant, **dict(data))
            flash = _("Screening recorded: %(outcome)s.") % {"outcome": _(OUTCOME_LABELS[screening.outcome])}
            return redirect(
                request, f"/cases/{case.id}/participants/{participant.id}/screening/{screening.id}", flash=flash
            )
        except InvalidInput as exc:
            errors = translated(exc.field_errors)
        except Conflict as exc:
            errors, status_code = {"outcome": " ".join(c.message for c in exc.conditions) or exc.message}, 409
    return _screening_page(request, session, actor, **page, errors=errors, status_code=status_code)


@router.get(PERSON + "/screening/{screening_id}")
def screening_detail_page(
    request: Request,
    screening_id: RecordId,
    case: DetailCase,
    participant: CaseParticipant,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """One screening with its answers and the rules that fired. Confidential: the read is audited."""
    view = preparation.read_screening(session, actor=actor, participant=participant, screening_id=screening_id)
    context = PREPARATION_LABELS | {"case": case, "participant": participant, "view": view}
    return render(request, "conferences/screening_detail.html", context)


def _local_input(value: datetime, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def _as_aware(value: str, tz: str) -> str:
    """A datetime-local form value is in the program's time zone; the schema wants an aware time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))).isoformat()


def _acknowledgement_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    case: Case,
    participant: Participant,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    rows = preparation.list_acknowledgements(session, actor=actor, participant=participant)
    context = PREPARATION_LABELS | {
        "case": case,
        "participant": participant,
        "rows": rows,
        "values": values,
        "errors": errors,
    }
    return render(request, "conferences/acknowledgement.html", context, status_code=status_code)


@router.get(PERSON + "/acknowledgement")
def acknowledgement_page(
    request: Request, case: DetailCase, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> Response:
    """The responsible party's acknowledgements of the basic facts, and the form to record one."""
    now = _local_input(utcnow(), getattr(request.state, "timezone", "UTC"))
    values = {"acknowledged_at": now}
    return _acknowledgement_page(request, session, actor, case=case, participant=participant, values=values, errors={})


@router.post(PERSON + "/acknowledgement")
def record_acknowledgement(
    request: Request,
    case: DetailCase,
    participant: CaseParticipant,
    session: SessionDep,
    actor: ActorDep,
    form: FormDep,
) -> Response:
    """Record the acknowledgement: its wording, how it was given and when."""
    values = {k: form.get(k) or "" for k in ("wording", "method", "acknowledged_at")}
    when = _as_aware(str(values["acknowledged_at"]), getattr(request.state, "timezone", "UTC"))
    data, errors = _validate(AcknowledgementCreate, values | {"acknowledged_at": when})
    if data is not None:
        try:
            preparation.record_acknowledgement(session, actor=actor, participant=participant, **dict(data))
            url = f"/cases/{case.id}/participants/{participant.id}/acknowledgement"
            return redirect(request, url, flash=_("The acknowledgement of the basic facts is recorded."))
        except InvalidInput as exc:
            errors = translated(exc.field_errors)
    page = {"case": case, "participant": participant, "values": values, "errors": errors}
    return _acknowledgement_page(request, session, actor, **page, status_code=422)
