"""JSON API: the access review, who read which confidential records in a period (admins)."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from app.agreements.commitment_service import program_by_id, today_in
from app.audit import access_review
from app.audit.access_review import AccessPage, AccessReviewFilter
from app.auth.dependencies import AdminDep
from app.db import SessionDep
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["audit"], dependencies=[Depends(verify_csrf)])
Filters = Annotated[AccessReviewFilter, Query()]


class AccessReadPublic(BaseModel):
    occurred_at: datetime
    user_id: int | None
    user_name: str
    user_role: str | None
    case_id: int | None
    case_reference: str | None
    action: str
    record: str


class AccessReviewPublic(BaseModel):
    date_from: date
    date_to: date
    items: list[AccessReadPublic]
    total: int
    page: int
    pages: int


def review_for(session: SessionDep, actor: AdminDep, f: AccessReviewFilter, *, export: bool = False) -> AccessPage:
    program = program_by_id(session, actor.program_id)
    return access_review.access_review(
        session, actor=actor, timezone=program.timezone, today=today_in(program), f=f, export=export
    )


@router.get("/access-review", response_model=AccessReviewPublic)
def read_access_review(f: Filters, session: SessionDep, actor: AdminDep) -> AccessReviewPublic:
    """Who read which confidential case records in the period (default: the last 30 days), newest first,
    50 a page; filter by user and case. Your program only; viewing it is audited."""
    result = review_for(session, actor, f)
    return AccessReviewPublic(
        date_from=result.date_from,
        date_to=result.date_to,
        items=[
            AccessReadPublic(
                occurred_at=r.occurred_at,
                user_id=r.user_id,
                user_name=r.user_name,
                user_role=r.user_role,
                case_id=r.case_id,
                case_reference=r.case_reference,
                action=r.action,
                record=r.record_label,
            )
            for r in result.rows
        ],
        total=result.total,
        page=result.page,
        pages=result.pages,
    )


def csv_response(result: AccessPage) -> Response:
    filename = f"access-review-{result.date_from.isoformat()}-{result.date_to.isoformat()}.csv"
    return Response(
        "".join(access_review.csv_lines(result.rows)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get(
    "/access-review.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Every read in the filtered period."}},
)
def export_access_review(f: Filters, session: SessionDep, actor: AdminDep) -> Response:
    """The filtered period's reads (every page) as CSV, formula-like cells neutralised. Audited."""
    return csv_response(review_for(session, actor, f, export=True))
