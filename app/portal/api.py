"""JSON API: portal sign-in links (facilitators) and the person's own view and consents (portal session)."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, status

from app.auth.dependencies import ActorDep
from app.conferences.dependencies import CaseParticipant, DetailCase
from app.db import RecordId, SessionDep
from app.portal import queries, service
from app.portal.dependencies import PortalDep, verify_portal_csrf
from app.portal.link_delivery import send_portal_link
from app.portal.queries import ConsentRow, LinkRow
from app.portal.schemas import (
    IssuedBy,
    PortalActionPublic,
    PortalConsentGive,
    PortalConsentPublic,
    PortalConsentWithdraw,
    PortalLinkIssued,
    PortalLinkPublic,
    PortalLinkSent,
    PortalMe,
    SheetPublic,
)
from app.portal.text import SCOPE_TITLES, Translate, guidance_words, translator
from app.safety.models import ConsentScope
from app.safety.sheets import sheet_for
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["portal"], dependencies=[Depends(verify_csrf)])
links = APIRouter(tags=["portal links"])
own = APIRouter(prefix="/portal", dependencies=[Depends(verify_portal_csrf)])
LINKS_PATH = "/cases/{case_id}/participants/{participant_id}/portal-links"


def link_public(row: LinkRow) -> PortalLinkPublic:
    """A link as the API shows it: its history and state, never the token."""
    link, user = row.link, row.issued_by
    return PortalLinkPublic(
        id=link.id,  # type: ignore[arg-type]
        participant_id=link.participant_id,
        issued_at=link.issued_at,
        issued_by=IssuedBy(id=user.id, full_name=user.full_name) if user else None,  # type: ignore[arg-type]
        expires_at=link.expires_at,
        used_at=link.used_at,
        revoked_at=link.revoked_at,
        state=row.state,
    )


def _row(rows: list[LinkRow], link_id: int | None) -> LinkRow:
    return next(row for row in rows if row.link.id == link_id)


@links.post(LINKS_PATH, response_model=PortalLinkIssued, status_code=status.HTTP_201_CREATED)
def issue_link(
    case: DetailCase, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> PortalLinkIssued:
    """Issue a single-use sign-in link for a survivor or responsible party. The URL is in this response only."""
    issued = service.issue_portal_link(session, actor=actor, participant=participant)
    row = _row(queries.list_portal_links(session, participant=participant), issued.link.id)
    return PortalLinkIssued(**link_public(row).model_dump(), url=issued.url)


@links.post(LINKS_PATH + "/send", response_model=PortalLinkSent, status_code=status.HTTP_202_ACCEPTED)
def send_link(case: DetailCase, participant: CaseParticipant, session: SessionDep, actor: ActorDep) -> PortalLinkSent:
    """Issue a new link and send it to the person through the outbox: by the channel they agreed to (email; Mend
    sends no text messages), in their language, in words that name no program or process, after their quiet hours.
    The link is in neither this response nor the audit log. 409 lists why Mend may not send it: no contact
    preferences, contact declined or consent to it withdrawn, phone only, or no address."""
    sent = send_portal_link(session, actor=actor, participant=participant)
    return PortalLinkSent(
        link=link_public(_row(queries.list_portal_links(session, participant=participant), sent.issued.link.id)),
        notification_id=sent.notification.id,  # type: ignore[arg-type]
        channel="email",
        language=sent.delivery.language,
        sends_at=sent.delivery.sends_at,
    )


@links.get(LINKS_PATH, response_model=list[PortalLinkPublic])
def list_links(case: DetailCase, participant: CaseParticipant, session: SessionDep) -> list[PortalLinkPublic]:
    """The participant's links, newest first: issued when and by whom, expiry, use, revocation. Never the links."""
    return [link_public(row) for row in queries.list_portal_links(session, participant=participant)]


@links.post(LINKS_PATH + "/{link_id}/revoke", response_model=PortalLinkPublic)
def revoke_link(
    link_id: RecordId, case: DetailCase, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> PortalLinkPublic:
    """Revoke a link: unused, it will not open the portal; used, the portal session it opened ends."""
    link = service.revoke_portal_link(session, actor=actor, participant=participant, link_id=link_id)
    return link_public(_row(queries.list_portal_links(session, participant=participant), link.id))


def consent_public(row: ConsentRow, _: Translate) -> PortalConsentPublic:
    """One of the person's own consents, titled in their language."""
    consent = row.consent
    return PortalConsentPublic(
        scope=row.scope,
        title=_(SCOPE_TITLES[row.scope]),
        state=row.state,  # type: ignore[arg-type]
        given_at=consent.given_at if consent else None,
        withdrawn_at=consent.withdrawn_at if consent else None,
    )


@own.get("/me", response_model=PortalMe)
def read_me(portal: PortalDep, session: SessionDep) -> PortalMe:
    """The signed-in person's own view (portal session cookie): name, role, where they are, what happens next, the
    one thing to do now (the same words as the home page), and their consents. Nothing about anyone else."""
    participant, _ = portal.participant, translator(portal.language)
    guidance = queries.own_guidance(session, participant=participant)
    words = guidance_words(guidance, language=portal.language, timezone=portal.program.timezone)
    sheet = sheet_for(participant.preferred_language)
    return PortalMe(
        participant_id=participant.id,  # type: ignore[arg-type]
        display_name=participant.display_name,
        role=participant.role,
        language=portal.language,
        status=words.now,
        next=words.next,
        stage=words.stage,
        primary_action=PortalActionPublic(href=words.primary.href, label=words.primary.label)
        if words.primary
        else None,
        other_actions=[PortalActionPublic(href=a.href, label=a.label) for a in words.others],
        information_sheet=SheetPublic(version=sheet.version, language=sheet.language, title=sheet.title),
        consents=[consent_public(row, _) for row in queries.own_consents(session, participant=participant)],
    )


@own.post("/consents/{scope}", response_model=PortalConsentPublic, status_code=status.HTTP_201_CREATED)
def give(
    scope: ConsentScope,
    portal: PortalDep,
    session: SessionDep,
    data: Annotated[PortalConsentGive | None, Body()] = None,
) -> PortalConsentPublic:
    """Say yes to one scope (portal session cookie and X-CSRF-Token). 409 if it is already given."""
    data = data or PortalConsentGive()
    service.give_portal_consent(session, actor=portal.actor, participant=portal.participant, scope=scope, data=data)
    row = queries.own_consent(session, participant=portal.participant, scope=scope)
    return consent_public(row, translator(portal.language))


@own.post("/consents/{scope}/withdraw", response_model=PortalConsentPublic)
def withdraw(
    scope: ConsentScope,
    portal: PortalDep,
    session: SessionDep,
    data: Annotated[PortalConsentWithdraw | None, Body()] = None,
) -> PortalConsentPublic:
    """Stop one scope, with no penalty (portal session cookie and X-CSRF-Token). Stopping participation pauses
    the case and notifies the facilitators. 409 if there is no active consent to stop."""
    data = data or PortalConsentWithdraw()
    service.withdraw_portal_consent(session, actor=portal.actor, participant=portal.participant, scope=scope, data=data)
    row = queries.own_consent(session, participant=portal.participant, scope=scope)
    return consent_public(row, translator(portal.language))


router.include_router(links)
router.include_router(own)
