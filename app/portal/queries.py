"""Reads for the portal pages and API: a participant's links, their own consents, what their home page says."""

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from app.agreements.commitment_rules import CommitmentStatus
from app.agreements.models import Commitment, CommitmentKind
from app.auth.models import User
from app.conferences.models import Case, CaseSession, Participant, SessionAttendee, SessionStatus
from app.conferences.queries import case_facts
from app.conferences.rules import derive_journey
from app.config import get_settings
from app.db import utcnow
from app.notifications.models import Notification
from app.portal.agreement_queries import own_agreement
from app.portal.commitment_queries import portal_follow_up
from app.portal.models import PortalLink, PortalSession
from app.portal.rules import (
    AgreementStanding,
    LinkState,
    OwnMeeting,
    OwnRecords,
    PortalGuidance,
    WithdrawalEffects,
    link_state,
    link_usable,
    portal_guidance,
    withdrawal_effects,
)
from app.portal.text import portal_language
from app.programs.models import Program
from app.safety.consent import latest_consents
from app.safety.models import Consent, ConsentScope
from app.security import token_digest


@dataclass(frozen=True)
class LinkRow:
    link: PortalLink
    issued_by: User | None
    state: LinkState
    message: Notification | None = None  # the outbox message that carried it, when Mend sent it

    @property
    def can_revoke(self) -> bool:
        """Revoking matters while the link could still open the portal, or its session is still open."""
        return self.state in (LinkState.waiting, LinkState.in_use)


def list_portal_links(session: Session, *, participant: Participant) -> list[LinkRow]:
    """Every link issued for the participant, newest first, with who issued it and its state. No tokens."""
    rows = session.exec(
        select(PortalLink, User)
        .join(User, col(User.id) == PortalLink.issued_by_id, isouter=True)
        .where(PortalLink.participant_id == participant.id)
        .order_by(col(PortalLink.issued_at).desc(), col(PortalLink.id).desc())
    ).all()
    now = utcnow()
    idle_since = now - timedelta(minutes=get_settings().session_idle_minutes)
    open_links = set(
        session.exec(
            select(PortalSession.link_id).where(
                col(PortalSession.link_id).in_([link.id for link, _ in rows]),
                col(PortalSession.revoked_at).is_(None),
                col(PortalSession.expires_at) > now,
                col(PortalSession.last_seen_at) > idle_since,
            )
        ).all()
    )
    # send_portal_link keys each message by its link (app/portal/link_delivery.py).
    keys = {f"portal_link:{link.id}": link.id for link, _ in rows}
    messages = {
        keys[message.dedupe_key]: message
        for message in session.exec(select(Notification).where(col(Notification.dedupe_key).in_(list(keys)))).all()
        if message.dedupe_key is not None
    }
    return [
        LinkRow(link, user, link_state(link, now=now, session_open=link.id in open_links), messages.get(link.id))
        for link, user in rows
    ]


@dataclass(frozen=True)
class ConsentRow:
    scope: ConsentScope
    state: str  # "missing", "active" or "withdrawn"
    consent: Consent | None


def own_consents(session: Session, *, participant: Participant) -> list[ConsentRow]:
    """The participant's own consent to each scope, in the order the portal lists them."""
    latest = latest_consents(session, participant=participant)
    rows = []
    for scope in ConsentScope:
        consent = latest.get(scope)
        state = "missing" if consent is None else ("withdrawn" if consent.withdrawn_at else "active")
        rows.append(ConsentRow(scope, state, consent))
    return rows


def own_consent(session: Session, *, participant: Participant, scope: ConsentScope) -> ConsentRow:
    """The participant's own consent to one scope."""
    return next(row for row in own_consents(session, participant=participant) if row.scope == scope)


def own_next_meeting(session: Session, *, participant: Participant) -> OwnMeeting | None:
    """The person's own next scheduled session, with their own arrival time. Never anyone else's."""
    row = session.exec(
        select(CaseSession, SessionAttendee)
        .join(SessionAttendee, col(SessionAttendee.session_id) == CaseSession.id)
        .where(
            SessionAttendee.participant_id == participant.id,
            CaseSession.case_id == participant.case_id,
            CaseSession.status == SessionStatus.scheduled,
            col(CaseSession.ends_at) > utcnow(),
        )
        .order_by(col(CaseSession.starts_at))
    ).first()
    if row is None:
        return None
    meeting, attendee = row
    place = ", ".join(part for part in (meeting.location.strip(), (meeting.room or "").strip()) if part)
    return OwnMeeting(meeting.kind, meeting.mode, attendee.arrives_at, place)


_OPEN = (CommitmentStatus.upcoming, CommitmentStatus.due_soon, CommitmentStatus.overdue)


def own_records(session: Session, *, participant: Participant) -> OwnRecords:
    """The person's own records the portal home speaks from: their agreement step, meeting and what they owe."""
    agreement = own_agreement(session, participant=participant)
    signed_copy = agreement.in_force is not None
    next_due, late, questions = None, False, 0
    if signed_copy:
        follow_up = portal_follow_up(session, participant=participant)
        owed = [
            c
            for c in follow_up.commitments
            if c.owed_by_viewer and c.kind != CommitmentKind.no_contact and c.status in _OPEN
        ]
        next_due = min((c.due_on for c in owed if c.due_on is not None), default=None)
        late = any(c.status == CommitmentStatus.overdue for c in owed)
        questions = len(follow_up.waivers)
    return OwnRecords(
        participant_id=participant.id,  # type: ignore[arg-type]
        role=participant.role,
        agreement=agreement.step,
        signed_copy=signed_copy,
        meeting=own_next_meeting(session, participant=participant),
        next_due=next_due,
        late=late,
        questions=questions,
    )


def own_guidance(session: Session, *, participant: Participant) -> PortalGuidance:
    """What the portal home says to the person at their case's stage, from its records and their own."""
    case = session.get(Case, participant.case_id)
    assert case is not None
    facts = case_facts(session, case=case)
    return portal_guidance(facts, derive_journey(facts), own_records(session, participant=participant))


def own_withdrawal_effects(session: Session, *, participant: Participant, scope: ConsentScope) -> WithdrawalEffects:
    """What stopping one choice stops and what stays, from the case's agreement and the commitments still open."""
    case = session.get(Case, participant.case_id)
    assert case is not None
    agreement = case_facts(session, case=case).agreement
    open_commitments = session.exec(
        select(Commitment.owed_by_id, Commitment.kind).where(
            Commitment.case_id == participant.case_id,
            col(Commitment.superseded_at).is_(None),
            col(Commitment.completed_on).is_(None),
            col(Commitment.waived_at).is_(None),
        )
    ).all()
    owed_to_them = [kind for owed_by, kind in open_commitments if owed_by != participant.id]
    standing = AgreementStanding(
        signed=agreement is not None and agreement.ever_sealed,
        owed_to_them=len(owed_to_them),
        owed_by_them=len(open_commitments) - len(owed_to_them),
        payments_to_them=CommitmentKind.payment in owed_to_them,
    )
    return withdrawal_effects(scope, standing)


@dataclass(frozen=True)
class LinkPreview:
    """What the page behind a sign-in link may know before it is used: whether it works, and for whom to speak."""

    usable: bool
    language: str | None  # None for a token that is no link at all
    exit_url: str | None


def find_portal_link(session: Session, *, token: str) -> PortalLink | None:
    """The link a token belongs to, used or not, found by the token's digest."""
    return session.exec(select(PortalLink).where(PortalLink.token_hash == token_digest(token))).first()


def preview_link(session: Session, *, token: str) -> LinkPreview:
    """Read-only look at a link: a GET, or a link-preview bot, changes nothing. Unknown links tell nothing."""
    link = find_portal_link(session, token=token)
    if link is None:
        return LinkPreview(False, None, None)
    participant = session.get(Participant, link.participant_id)
    program = session.get(Program, link.program_id)
    return LinkPreview(
        link_usable(link, now=utcnow()),
        portal_language(participant.preferred_language if participant else None),
        program.quick_exit_url if program else None,
    )
