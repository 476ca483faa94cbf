"""Portal pages: the responsible party's own commitments; the survivor's view of progress (only with
their consent to be told about it); the survivor's answer to a waiver they were asked about.

What each person may see is decided in app/portal/commitment_queries.py; the answer goes through
commitment_service.answer_waiver with the portal Actor, which audits it (and tells the facilitators
when the survivor says no). A refused answer (already answered, the case closed) comes back as this
page, in the person's language, never as an error.
"""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from app.agreements import commitment_service
from app.agreements.commitment_schemas import WaiverAnswer
from app.db import RecordId, SessionDep
from app.errors import Conflict
from app.portal.commitment_queries import Audience, HiddenReason, own_waiver, portal_follow_up
from app.portal.dependencies import Portal, PortalDep, current_portal
from app.portal.text import (
    CASE_STATE_WORDS,
    CHOOSE_YES_OR_NO,
    COMMITMENT_KIND_WORDS,
    HOW_TO_SEE_PROGRESS,
    NOT_POSSIBLE,
    NOTHING_FOR_YOU,
    PROGRESS_NOT_SHARED,
    PROGRESS_WORDS,
    WAIVER_AGREED,
    WAIVER_KEPT,
    WAIVER_REFUSALS,
    amount_words,
    long_day,
    status_words,
)
from app.portal.views import PortalRoute, _flash, _page
from app.web import form_data, redirect, validate_form, verify_csrf

FormDep = Annotated[FormData, Depends(form_data)]
COMMITMENTS = "/portal/commitments"
# The badge beside each status word: the word says it, the colour only supports it.
STATUS_BADGES = {
    "upcoming": "badge-not-started",
    "due_soon": "badge-current",
    "overdue": "badge-blocked",
    "completed": "badge-done",
    "waived": "badge-not-started",
    "breached": "badge-blocked",
}

router = APIRouter(
    route_class=PortalRoute,
    include_in_schema=False,
    dependencies=[Depends(current_portal, scope="function"), Depends(verify_csrf)],
)


def _commitments_page(
    request: Request, session: SessionDep, portal: Portal, *, refusals: list[str] | None = None, status_code: int = 200
) -> Response:
    return _page(
        request,
        "portal/commitments.html",
        portal=portal,
        follow=portal_follow_up(session, participant=portal.participant),
        audiences=Audience,
        hidden_reasons=HiddenReason,
        day=partial(long_day, language=portal.language),
        amount=partial(amount_words, language=portal.language),
        status_words=status_words,
        badge=STATUS_BADGES,
        kind_words=COMMITMENT_KIND_WORDS,
        progress_words=PROGRESS_WORDS,
        state_words=CASE_STATE_WORDS,
        not_shared=PROGRESS_NOT_SHARED,
        how_to_see=HOW_TO_SEE_PROGRESS,
        nothing_for_you=NOTHING_FOR_YOU,
        refusals=refusals or [],
        status_code=status_code,
    )


@router.get(COMMITMENTS)
def commitments(request: Request, session: SessionDep, portal: PortalDep) -> Response:
    """What was agreed and how it is going, as far as this person may see it, and any question for them."""
    return _commitments_page(request, session, portal)


@router.post("/portal/waivers/{waiver_id}")
def answer_waiver(
    waiver_id: RecordId, request: Request, session: SessionDep, portal: PortalDep, form: FormDep
) -> Response:
    """The survivor's answer to a waiver they were asked about: yes drops the commitment, no keeps it."""
    case, waiver = own_waiver(session, participant=portal.participant, waiver_id=waiver_id)
    data, _errors = validate_form(WaiverAnswer, form)
    if data is None:
        return _commitments_page(request, session, portal, refusals=[CHOOSE_YES_OR_NO], status_code=422)
    try:
        commitment_service.answer_waiver(session, actor=portal.actor, case=case, waiver=waiver, agree=data.agree)
    except Conflict as exc:
        session.rollback()
        messages = [WAIVER_REFUSALS.get(c.code, NOT_POSSIBLE) for c in exc.conditions] or [NOT_POSSIBLE]
        return _commitments_page(request, session, portal, refusals=list(dict.fromkeys(messages)), status_code=409)
    return redirect(request, COMMITMENTS, flash=_flash(portal, WAIVER_AGREED if data.agree else WAIVER_KEPT))
