"""Portal pages for the agreement: the survivor or responsible party reads the version waiting for them,
accepts it or asks for changes, signs it (or declines), and downloads the sealed copy.

Every step goes through app/agreements/service.py with the portal Actor, by way of
app/portal/agreement_service.py, which only lets a portal session act as itself on its own case.
A refusal (the text changed, the version is no longer open) comes back as this same page, in the
person's language, with the current text: nothing they did not see is ever accepted or signed.
"""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.datastructures import FormData

from app.agreements.changes import shown_changes
from app.agreements.models import AgreementDocument, AgreementVersion, ReviewDecision
from app.agreements.rules import INTENT_STATEMENT
from app.auth.dependencies import client_ip
from app.conferences.models import Case
from app.db import SessionDep
from app.errors import Conflict, InvalidInput
from app.portal import agreement_service
from app.portal.agreement_queries import AgreementStep, own_agreement
from app.portal.agreement_schemas import PortalDecline, PortalReview, PortalSign
from app.portal.dependencies import Portal, PortalDep, current_portal
from app.portal.text import (
    ACCEPTED,
    CHANGES_SENT,
    DECLINED,
    NOT_POSSIBLE,
    REFUSALS,
    SAY_WHAT_TO_CHANGE,
    SAY_WHY_NOT,
    SIGNED,
    TICK_TO_SIGN,
    TOO_LONG,
    TYPE_YOUR_NAME,
)
from app.portal.views import PortalRoute, _flash, _page
from app.web import form_data, redirect, validate_form, verify_csrf

FormDep = Annotated[FormData, Depends(form_data)]
AGREEMENT = "/portal/agreement"
# The fields a person types into, each with the one plain message the page shows when it is wrong.
# Any other field is a hidden one the page wrote: an error there means a tampered or stale form.
FIELD_MESSAGES = {
    "comment": SAY_WHAT_TO_CHANGE,
    "typed_name": TYPE_YOUR_NAME,
    "intent_confirmed": TICK_TO_SIGN,
    "reason": SAY_WHY_NOT,
}

router = APIRouter(
    route_class=PortalRoute,
    include_in_schema=False,
    dependencies=[Depends(current_portal, scope="function"), Depends(verify_csrf)],
)


def _agreement_page(
    request: Request,
    session: SessionDep,
    portal: Portal,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    refusals: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    own = own_agreement(session, participant=portal.participant)
    return _page(
        request,
        "portal/agreement.html",
        portal=portal,
        own=own,
        changed=shown_changes(own.changes, portal.language) if own.changes else [],
        steps=AgreementStep,
        intent=INTENT_STATEMENT,
        errors=errors or {},
        values=values or {},
        refusals=refusals or [],
        status_code=status_code,
    )


def _not_done(
    request: Request, session: SessionDep, portal: Portal, form: FormData, errors: dict[str, str]
) -> Response:
    """A form the person filled in wrongly: the page again, with what they typed and a plain word beside it."""
    if any(name not in FIELD_MESSAGES for name in errors):
        raise RequestValidationError([{"loc": ("body", name), "msg": msg} for name, msg in errors.items()])
    session.rollback()
    plain = {}
    for name in errors:
        typed = form.get(name)
        # Typed but refused: the only limit a person can break on these fields is the length.
        too_long = name != "intent_confirmed" and isinstance(typed, str) and bool(typed.strip())
        plain[name] = TOO_LONG if too_long else FIELD_MESSAGES[name]
    values = {k: v for k, v in form.items() if isinstance(v, str) and k in FIELD_MESSAGES}
    return _agreement_page(request, session, portal, errors=plain, values=values, status_code=422)


def _refused(request: Request, session: SessionDep, portal: Portal, exc: Conflict) -> Response:
    """A refused step (the text changed, it is no longer open, already signed): the page as it is now."""
    session.rollback()
    messages = list(dict.fromkeys(REFUSALS.get(c.code, NOT_POSSIBLE) for c in exc.conditions)) or [NOT_POSSIBLE]
    return _agreement_page(request, session, portal, refusals=messages, status_code=409)


@router.get(AGREEMENT)
def agreement(request: Request, session: SessionDep, portal: PortalDep) -> Response:
    """The agreement waiting for this person: to read and answer, to sign, or to download once signed."""
    return _agreement_page(request, session, portal)


@router.post(f"{AGREEMENT}/review")
def review(request: Request, session: SessionDep, portal: PortalDep, form: FormDep) -> Response:
    """Accept the exact text shown (its hash is in the form), or ask for changes with a comment."""
    data, errors = validate_form(PortalReview, form)
    if data is None:
        return _not_done(request, session, portal, form, errors)
    try:
        agreement_service.review_own_agreement(session, actor=portal.actor, participant=portal.participant, data=data)
    except InvalidInput as exc:
        return _not_done(request, session, portal, form, exc.field_errors)
    except Conflict as exc:
        return _refused(request, session, portal, exc)
    done = ACCEPTED if data.decision == ReviewDecision.accepted else CHANGES_SENT
    return redirect(request, AGREEMENT, flash=_flash(portal, done))


@router.post(f"{AGREEMENT}/sign")
def sign(request: Request, session: SessionDep, portal: PortalDep, form: FormDep) -> Response:
    """Sign the exact text shown, with a typed name and the ticked intent statement; the last signature seals it."""
    data, errors = validate_form(PortalSign, form, flags=("intent_confirmed",))
    if data is None:
        return _not_done(request, session, portal, form, errors)
    try:
        agreement_service.sign_own_agreement(
            session,
            actor=portal.actor,
            participant=portal.participant,
            data=data,
            ip_address=client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
    except InvalidInput as exc:
        return _not_done(request, session, portal, form, exc.field_errors)
    except Conflict as exc:
        return _refused(request, session, portal, exc)
    return redirect(request, AGREEMENT, flash=_flash(portal, SIGNED))


@router.post(f"{AGREEMENT}/decline")
def decline(request: Request, session: SessionDep, portal: PortalDep, form: FormDep) -> Response:
    """Decline to sign, with a reason: the agreement goes back to the facilitator."""
    data, errors = validate_form(PortalDecline, form)
    if data is None:
        return _not_done(request, session, portal, form, errors)
    try:
        agreement_service.decline_own_agreement(session, actor=portal.actor, participant=portal.participant, data=data)
    except InvalidInput as exc:
        return _not_done(request, session, portal, form, exc.field_errors)
    except Conflict as exc:
        return _refused(request, session, portal, exc)
    return redirect(request, AGREEMENT, flash=_flash(portal, DECLINED))


def signed_copy(case: Case, version: AgreementVersion, document: AgreementDocument) -> Response:
    """The stored PDF as a download, byte for byte as sealed, and never kept in a cache."""
    reference = re.sub(r"[^A-Za-z0-9._-]+", "-", case.reference).strip("-") or "case"
    return Response(
        content=document.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="agreement-{reference}-version-{version.number}.pdf"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(f"{AGREEMENT}/pdf")
def download(request: Request, session: SessionDep, portal: PortalDep) -> Response:
    """The signed agreement's stored PDF, for the parties of this case only."""
    case, version, document = agreement_service.download_own_agreement(
        session, actor=portal.actor, participant=portal.participant
    )
    return signed_copy(case, version, document)
