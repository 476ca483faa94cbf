"""Page: the access review, who read which confidential records in a period (admins)."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from app.audit.access_review import AccessReviewFilter
from app.audit.access_review_api import csv_response, review_for
from app.auth.dependencies import AdminDep
from app.auth.models import User
from app.conferences.models import Case
from app.db import SessionDep
from app.errors import InvalidInput
from app.web import render, translated, validate_form, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
PAGE = "/admin/access-review"


def _case_id(session: Session, *, program_id: int, reference: str) -> int | None:
    return session.exec(select(Case.id).where(Case.program_id == program_id, Case.reference == reference)).first()


def _filters(request: Request, session: Session, program_id: int) -> tuple[AccessReviewFilter | None, dict[str, str]]:
    """The query string into the API's filter; the case is given by its reference on the page."""
    params = request.query_params
    data, errors = validate_form(AccessReviewFilter, params)  # type: ignore[arg-type]
    reference = params.get("case", "").strip()[:40]
    if data is not None and reference:
        case_id = _case_id(session, program_id=program_id, reference=reference)
        if case_id is None:
            return None, {"case": "No case in this program has this reference."}
        data.case_id = case_id
    return data, errors


@router.get(PAGE)
def access_review_page(request: Request, session: SessionDep, actor: AdminDep) -> Response:
    """Who read which confidential records in a period; filters by period, user and case."""
    f, errors = _filters(request, session, actor.program_id)  # type: ignore[arg-type]
    result = None
    if f is not None:
        try:
            result = review_for(session, actor, f)
        except InvalidInput as exc:
            errors = translated(exc.field_errors)
    users = session.exec(select(User).where(User.program_id == actor.program_id).order_by(col(User.full_name))).all()
    values = dict(request.query_params)
    if result is not None:
        values |= {"date_from": result.date_from.isoformat(), "date_to": result.date_to.isoformat()}
    context = {"result": result, "errors": errors, "values": values, "users": users, "query": _query_string(values)}
    return render(request, "audit/access_review.html", context, status_code=422 if errors else 200)


@router.get(PAGE + ".csv")
def export_access_review(request: Request, session: SessionDep, actor: AdminDep) -> Response:
    f, errors = _filters(request, session, actor.program_id)  # type: ignore[arg-type]
    if f is None:
        message = next(iter(errors.values()), "Check the filters.")
        raise InvalidInput(message, field_errors=errors)
    return csv_response(review_for(session, actor, f, export=True))


def _query_string(values: dict[str, str]) -> str:
    keep = {k: v for k, v in values.items() if k in ("date_from", "date_to", "user_id", "case") and v}
    return urlencode(keep)
