"""JSON API for the agreement in the portal (portal session cookie; POSTs also need X-CSRF-Token): read the
version waiting for the person, review it, sign it or decline, and download the sealed PDF.

The same rules as the pages: a refused step is a 409 problem listing its conditions (text_changed,
not_in_review, not_open_for_signature, already_signed...); another participant or another case is 404.
"""

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import Response

from app.agreements.changes import shown_changes
from app.agreements.rules import INTENT_STATEMENT
from app.auth.dependencies import client_ip
from app.db import SessionDep
from app.portal import agreement_service
from app.portal.agreement_queries import OwnAgreement, own_agreement
from app.portal.agreement_schemas import (
    PortalAgreement,
    PortalAgreementVersion,
    PortalChange,
    PortalChangeLine,
    PortalChanges,
    PortalDecline,
    PortalReview,
    PortalSign,
    PortalSignedCopy,
)
from app.portal.agreement_views import signed_copy
from app.portal.dependencies import Portal, PortalDep, verify_portal_csrf
from app.portal.text import AGREEMENT_STEPS, translator
from app.web import verify_csrf

PDF_PATH = "/agreement/pdf"
router = APIRouter(
    prefix="/api/v1/portal",
    tags=["portal"],
    dependencies=[Depends(verify_csrf), Depends(verify_portal_csrf)],
)


def agreement_public(own: OwnAgreement, portal: Portal) -> PortalAgreement:
    """The agreement as the portal shows it to this person, in their language where the words are fixed."""
    _ = translator(portal.language)
    version = own.version
    shown = None
    if version is not None and own.text is not None:
        shown = PortalAgreementVersion(
            id=version.id,  # type: ignore[arg-type]
            number=version.number,
            title=own.text.title,
            parties=own.text.parties,
            terms=list(own.text.terms),
            language=own.text.language,
            canonical_text=version.canonical_text,
            text_sha256=version.text_sha256,
            fingerprint=own.fingerprint,
        )
    in_force = own.in_force
    changes = None
    if own.changes is not None:
        changes = PortalChanges(
            since_version=own.changes.since,
            nothing_changed=own.changes.nothing,
            items=[
                PortalChange(change=c.change, title=c.title, lines=[PortalChangeLine(**vars(line)) for line in c.lines])
                for c in shown_changes(own.changes, portal.language)
            ],
        )
    return PortalAgreement(
        step=own.step,
        message=_(AGREEMENT_STEPS[own.step]),
        version=shown,
        signatures=own.signed,
        signers_required=own.required,
        intent_statement=INTENT_STATEMENT,
        intent_statement_translated=_(INTENT_STATEMENT),
        signed_copy=PortalSignedCopy(
            version_number=in_force.number, sealed_at=in_force.sealed_at, pdf_url=f"/api/v1/portal{PDF_PATH}"
        )
        if in_force
        else None,
        changes=changes,
    )


def _current(session: SessionDep, portal: Portal) -> PortalAgreement:
    return agreement_public(own_agreement(session, participant=portal.participant), portal)


@router.get("/agreement", response_model=PortalAgreement)
def read_agreement(portal: PortalDep, session: SessionDep) -> PortalAgreement:
    """The agreement of the person's own case as it concerns them: the text to review or sign, or the signed copy."""
    return _current(session, portal)


@router.post("/agreement/review", response_model=PortalAgreement)
def review_agreement(data: PortalReview, portal: PortalDep, session: SessionDep) -> PortalAgreement:
    """Accept the exact text (its text_sha256), or ask for changes with a comment. 409 text_changed if it changed."""
    agreement_service.review_own_agreement(session, actor=portal.actor, participant=portal.participant, data=data)
    return _current(session, portal)


@router.post("/agreement/sign", response_model=PortalAgreement, status_code=status.HTTP_201_CREATED)
def sign_agreement(data: PortalSign, request: Request, portal: PortalDep, session: SessionDep) -> PortalAgreement:
    """Sign the exact text (its text_sha256) with a typed name and intent_confirmed. The last signature seals it."""
    agreement_service.sign_own_agreement(
        session,
        actor=portal.actor,
        participant=portal.participant,
        data=data,
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _current(session, portal)


@router.post("/agreement/decline", response_model=PortalAgreement)
def decline_agreement(data: PortalDecline, portal: PortalDep, session: SessionDep) -> PortalAgreement:
    """Decline to sign, with a reason: the agreement goes back to drafting and the facilitators are told."""
    agreement_service.decline_own_agreement(session, actor=portal.actor, participant=portal.participant, data=data)
    return _current(session, portal)


@router.get(
    PDF_PATH,
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The stored PDF, as sealed."}},
)
def download_agreement(portal: PortalDep, session: SessionDep) -> Response:
    """The signed agreement's stored PDF (never re-rendered). 404 until every signer has signed."""
    case, version, document = agreement_service.download_own_agreement(
        session, actor=portal.actor, participant=portal.participant
    )
    return signed_copy(case, version, document)
