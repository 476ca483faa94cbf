"""Portal sign-in links and sessions, and consent given or withdrawn by the person in the portal.

A link is random, stored as its SHA-256 digest, single use, short-lived and revocable. Opening
it starts a portal session limited to that one participant; the browser holds only the
session's random id, the database its digest.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.actor import Actor
from app.audit.service import record_event
from app.conferences.models import Case, Participant, ParticipantRole
from app.conferences.schemas import PARTICIPANT_ROLE_LABELS
from app.conferences.service import require_case_writer
from app.config import get_settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import N_
from app.portal.models import PortalLink, PortalSession
from app.portal.queries import find_portal_link
from app.portal.schemas import PortalConsentGive, PortalConsentWithdraw, PortalInput
from app.programs.models import Program
from app.safety.consent import give_consent, withdraw_consent
from app.safety.models import Consent, ConsentMethod, ConsentScope
from app.safety.sheets import InformationSheet, sheet_for
from app.security import new_token, token_digest

PORTAL_ROLES = frozenset({ParticipantRole.survivor, ParticipantRole.responsible_party})
ENTER_PATH = "/portal/enter/"


def portal_actor(participant: Participant, *, request_id: str | None = None, ip_address: str | None = None) -> Actor:
    """The person in the portal as an Actor: limited to their own participant record and case.

    The label is their role, not their name: it is written into the hash-chained audit log, which
    retention can never rewrite, so it must not hold a name (the participant id says who it was).
    """
    return Actor(
        kind="participant",
        label=f"{PARTICIPANT_ROLE_LABELS[ParticipantRole(participant.role)]} (portal)",
        program_id=participant.program_id,
        participant_id=participant.id,
        case_id=participant.case_id,
        request_id=request_id,
        ip_address=ip_address,
    )


# --- links: issued and revoked by facilitators ------------------------------------------------


@dataclass(frozen=True)
class IssuedLink:
    link: PortalLink
    url: str


def require_link_manager(actor: Actor, participant: Participant) -> None:
    """Links are issued, sent and revoked by the program's facilitators and administrators; others get 404 or 403."""
    if actor.kind != "user" or actor.program_id != participant.program_id:
        raise NotFound("No such participant.")
    require_case_writer(actor)


def require_portal_participant(session: Session, participant: Participant) -> None:
    """Only a survivor or responsible party of a case that still has its records has a portal."""
    if participant.role not in PORTAL_ROLES:
        raise Conflict("Only survivors and responsible parties get a portal link.")
    case = session.get(Case, participant.case_id)
    if case is not None and case.anonymised_at is not None:
        raise Conflict("This case was anonymised under the retention policy: it has no portal any more.")


def issue_portal_link(session: Session, *, actor: Actor, participant: Participant) -> IssuedLink:
    """A new single-use sign-in link for a survivor or responsible party; its URL is returned this once."""
    require_link_manager(actor, participant)
    require_portal_participant(session, participant)
    program = session.get(Program, participant.program_id)
    assert program is not None
    token = new_token()
    now = utcnow()
    link = PortalLink(
        program_id=participant.program_id,
        case_id=participant.case_id,
        participant_id=participant.id,  # type: ignore[arg-type]
        token_hash=token_digest(token),
        issued_by_id=actor.user_id,  # type: ignore[arg-type]
        issued_at=now,
        expires_at=now + timedelta(hours=program.portal_link_hours),
    )
    session.add(link)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="portal_link.issued",
        entity_type="portal_link",
        entity_id=link.id,
        case_id=participant.case_id,
        detail={"participant_id": participant.id, "expires_at": link.expires_at.isoformat()},
    )
    return IssuedLink(link, f"{get_settings().public_base_url}{ENTER_PATH}{token}")


def revoke_portal_link(session: Session, *, actor: Actor, participant: Participant, link_id: int) -> PortalLink:
    """Revoke a link at any time: unused, it will not open; used, the portal session it opened ends."""
    require_link_manager(actor, participant)
    link = session.get(PortalLink, link_id)
    if link is None or link.participant_id != participant.id:
        raise NotFound("No such portal link.")
    if link.revoked_at is not None:
        raise Conflict("This link is already revoked.")
    now = utcnow()
    link.revoked_at = now
    session.add(link)
    session.execute(
        update(PortalSession)
        .where(col(PortalSession.link_id) == link.id, col(PortalSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    record_event(
        session,
        actor=actor,
        action="portal_link.revoked",
        entity_type="portal_link",
        entity_id=link.id,
        case_id=link.case_id,
        detail={"participant_id": participant.id, "was_used": link.used_at is not None},
    )
    return link


# --- opening a link, and the portal session -------------------------------------------------


@dataclass(frozen=True)
class PortalEntry:
    """The outcome of opening a link: a session token, or None when the link no longer works."""

    session_token: str | None
    participant: Participant | None


def open_portal_link(
    session: Session,
    *,
    token: str,
    request_id: str | None,
    ip_address: str | None,
    replacing: str | None = None,
) -> PortalEntry:
    """Use a link once: mark it used and start a portal session for its participant.

    An expired, used or revoked link is refused the same way; refusals are returned, not raised,
    so their audit event is kept.
    """
    link = find_portal_link(session, token=token)
    if link is None:
        return PortalEntry(None, None)
    now = utcnow()
    # One conditional UPDATE, so two simultaneous clicks cannot both use the link.
    claimed = session.execute(
        update(PortalLink)
        .where(
            col(PortalLink.id) == link.id,
            col(PortalLink.used_at).is_(None),
            col(PortalLink.revoked_at).is_(None),
            col(PortalLink.expires_at) > now,
        )
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        anonymous = Actor(
            kind="anonymous",
            label="anonymous",
            program_id=link.program_id,
            request_id=request_id,
            ip_address=ip_address,
        )
        record_event(
            session,
            actor=anonymous,
            action="portal_link.refused",
            entity_type="portal_link",
            entity_id=link.id,
            case_id=link.case_id,
            detail={"participant_id": link.participant_id, "reason": _refusal_reason(link)},
        )
        return PortalEntry(None, None)
    participant = session.get(Participant, link.participant_id)
    assert participant is not None
    if replacing:
        _revoke_session_token(session, token=replacing)
    session_token = new_token()
    portal_session = PortalSession(
        program_id=link.program_id,
        case_id=link.case_id,
        participant_id=link.participant_id,
        link_id=link.id,  # type: ignore[arg-type]
        token_hash=token_digest(session_token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=get_settings().session_absolute_hours),
    )
    session.add(portal_session)
    session.flush()
    record_event(
        session,
        actor=portal_actor(participant, request_id=request_id, ip_address=ip_address),
        action="portal_link.used",
        entity_type="portal_link",
        entity_id=link.id,
        case_id=link.case_id,
        detail={"participant_id": participant.id, "portal_session_id": portal_session.id},
    )
    return PortalEntry(session_token, participant)


def _refusal_reason(link: PortalLink) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if link.used_at is not None:
        return "already_used"
    return "expired"


@dataclass(frozen=True)
class ActivePortal:
    portal_session: PortalSession
    participant: Participant
    program: Program
    seconds_left: int


def resolve_portal_session(session: Session, *, token: str, touch: bool = True) -> ActivePortal | None:
    """The live portal session for a cookie, or None: unknown, revoked, idle 30 minutes, or past 12 hours."""
    found = session.exec(
        select(PortalSession, Participant, PortalLink)
        .join(Participant, col(Participant.id) == PortalSession.participant_id)
        .join(PortalLink, col(PortalLink.id) == PortalSession.link_id)
        .where(PortalSession.token_hash == token_digest(token))
    ).first()
    if found is None:
        return None
    portal_session, participant, link = found
    now = utcnow()
    idle_limit = timedelta(minutes=get_settings().session_idle_minutes)
    if (
        portal_session.revoked_at is not None
        or link.revoked_at is not None
        or participant.case_id != portal_session.case_id
        or participant.role not in PORTAL_ROLES
        or now >= portal_session.expires_at
        or now - portal_session.last_seen_at >= idle_limit
    ):
        return None
    if touch:
        portal_session.last_seen_at = now
        session.add(portal_session)
    program = session.get(Program, participant.program_id)
    assert program is not None
    seconds_left = int((min(portal_session.last_seen_at + idle_limit, portal_session.expires_at) - now).total_seconds())
    return ActivePortal(portal_session, participant, program, seconds_left)


def _revoke_session_token(session: Session, *, token: str) -> PortalSession | None:
    found = session.exec(select(PortalSession).where(PortalSession.token_hash == token_digest(token))).first()
    if found is None or found.revoked_at is not None:
        return None
    found.revoked_at = utcnow()
    session.add(found)
    return found


def end_portal_session(session: Session, *, actor: Actor, token: str, quick_exit: bool = False) -> None:
    """Sign out of the portal, or leave it by the quick exit: the session ends on the server."""
    ended = _revoke_session_token(session, token=token)
    if ended is None:
        return
    record_event(
        session,
        actor=actor,
        action="portal.quick_exit" if quick_exit else "portal.signed_out",
        entity_type="portal_session",
        entity_id=ended.id,
        case_id=ended.case_id,
        program_id=ended.program_id,
        detail={"participant_id": ended.participant_id},
    )


# --- what the person does in the portal -----------------------------------------------------


def _require_own(actor: Actor, participant: Participant, data: PortalInput | None = None) -> None:
    """A portal actor reaches only their own participant; any other id is 'not found', never 'not yours'."""
    if actor.kind != "participant" or actor.participant_id != participant.id or actor.case_id != participant.case_id:
        raise NotFound("No such participant.")
    if data is not None and (
        data.participant_id not in (None, participant.id) or data.case_id not in (None, participant.case_id)
    ):
        raise NotFound("No such participant.")


def record_information_read(session: Session, *, actor: Actor, participant: Participant) -> InformationSheet:
    """The information sheet in the person's language; reading it is recorded, as evidence of informed consent."""
    _require_own(actor, participant)
    sheet = sheet_for(participant.preferred_language)
    record_event(
        session,
        actor=actor,
        action="portal.information_read",
        entity_type="information_sheet",
        entity_id=f"{sheet.version}.{sheet.language}",
        case_id=participant.case_id,
        detail={"participant_id": participant.id},
    )
    return sheet


def give_portal_consent(
    session: Session, *, actor: Actor, participant: Participant, scope: ConsentScope, data: PortalConsentGive
) -> Consent:
    """The person says yes to one scope in the portal, recorded with the information sheet they were shown,
    only once they confirmed after reading what it means and how to take it back (never one tap)."""
    _require_own(actor, participant, data)
    if not data.confirmed:
        message = N_("Read what this means, then confirm to say yes.")
        raise InvalidInput(message, field_errors={"confirmed": message})
    shown = sheet_for(participant.preferred_language)
    return give_consent(
        session,
        actor=actor,
        participant=participant,
        scope=scope,
        sheet_version=data.sheet_version or shown.version,
        sheet_language=data.sheet_language or shown.language,
        method=ConsentMethod.portal,
    )


def withdraw_portal_consent(
    session: Session, *, actor: Actor, participant: Participant, scope: ConsentScope, data: PortalConsentWithdraw
) -> Consent:
    """The person says stop to one scope in the portal: no penalty; stopping participation pauses the case (G2)."""
    _require_own(actor, participant, data)
    return withdraw_consent(session, actor=actor, participant=participant, scope=scope, reason=data.reason)
