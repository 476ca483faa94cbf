"""The agreement, from the portal: a survivor or responsible party reviews, signs or declines as themselves,
on their own case, and downloads the sealed copy.

The rules (G4, G5) live in app/agreements/service.py; this module only decides WHICH version a portal
session may act on (its own case's, never another's: 404) and passes the portal Actor through.
"""

from sqlmodel import Session

from app.actor import Actor
from app.agreements import service as agreements
from app.agreements import storage
from app.agreements.models import AgreementDocument, AgreementVersion, Review, Signature, SignatureDecline
from app.audit.service import record_event
from app.conferences.models import Case, Participant
from app.errors import NotFound
from app.i18n import language_for
from app.portal.agreement_queries import OwnVersion, own_sealed_version, own_version
from app.portal.agreement_schemas import PortalAgreementInput, PortalDecline, PortalReview, PortalSign
from app.portal.service import _require_own as require_own  # one rule for what a portal actor may reach


def _own(session: Session, *, actor: Actor, participant: Participant, data: PortalAgreementInput) -> OwnVersion:
    require_own(actor, participant, data)
    return own_version(session, participant=participant, version_id=data.version_id)


def review_own_agreement(session: Session, *, actor: Actor, participant: Participant, data: PortalReview) -> Review:
    """Accept the exact text shown, or ask for changes (which returns the agreement to drafting)."""
    own = _own(session, actor=actor, participant=participant, data=data)
    return agreements.record_review(
        session,
        actor=actor,
        case=own.case,
        version=own.version,
        participant=participant,
        decision=data.decision,
        text_sha256=data.text_sha256,
        comment=data.comment,
    )


def sign_own_agreement(
    session: Session,
    *,
    actor: Actor,
    participant: Participant,
    data: PortalSign,
    ip_address: str | None,
    user_agent: str | None,
) -> Signature:
    """Sign the exact text shown, in the portal, with the request's IP address and user agent as evidence; the
    intent statement is kept in the words the person ticked (their language)."""
    own = _own(session, actor=actor, participant=participant, data=data)
    return agreements.sign_version(
        session,
        actor=actor,
        case=own.case,
        version=own.version,
        participant=participant,
        text_sha256=data.text_sha256,
        typed_name=data.typed_name,
        intent_confirmed=data.intent_confirmed,
        ip_address=ip_address,
        user_agent=user_agent,
        language=language_for(participant.preferred_language),
    )


def decline_own_agreement(
    session: Session, *, actor: Actor, participant: Participant, data: PortalDecline
) -> SignatureDecline:
    """Decline to sign, with a reason: the agreement goes back to drafting and the facilitators are told."""
    own = _own(session, actor=actor, participant=participant, data=data)
    return agreements.decline_to_sign(
        session, actor=actor, case=own.case, version=own.version, participant=participant, reason=data.reason
    )


def download_own_agreement(
    session: Session, *, actor: Actor, participant: Participant
) -> tuple[Case, AgreementVersion, AgreementDocument]:
    """The stored PDF of the person's sealed agreement in their language (the English record copy where
    none was stored in it), exactly as sealed; who downloaded it is recorded."""
    require_own(actor, participant)
    own = own_sealed_version(session, participant=participant)
    document = storage.load_document(
        session, version=own.version, language=language_for(participant.preferred_language)
    )
    if document is None:
        raise NotFound("There is no signed copy to download.")
    record_event(
        session,
        actor=actor,
        action="agreement.pdf_downloaded",
        entity_type="agreement_version",
        entity_id=own.version.id,
        case_id=own.case.id,
        detail={"participant_id": participant.id, "pdf_sha256": document.sha256, "language": document.language},
    )
    return own.case, own.version, document
