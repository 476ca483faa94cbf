"""Sending a portal link from Mend: a new link, queued in the outbox for the person.

It goes by the channel they agreed to (the outbox sends email only), in their language, in words
that name no program, no process and nothing about why (someone else may read their messages), and
not before their quiet hours end. The link is written only into the message itself, whose body is
encrypted at rest like every queued message; the audit event, the page and the API answer never
hold it. Before sending, the worker asks `stale_link_message`: a link revoked, used or expired in
the meantime is not sent.
"""

import re
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from app.actor import Actor
from app.audit.service import record_event
from app.conferences.invitations import email_day, email_language, render_email
from app.conferences.models import Participant
from app.db import utcnow
from app.errors import Condition, Conflict
from app.i18n import clock_time
from app.notifications.models import Notification
from app.portal.models import PortalLink
from app.portal.service import IssuedLink, issue_portal_link, require_link_manager, require_portal_participant
from app.programs.models import Program
from app.safety.consent import latest_consents
from app.safety.models import ConsentScope
from app.safety.queries import contact_preference
from app.safety.rules import first_time_to_send, message_conditions

PORTAL_LINK = "portal_link"
_KEY = re.compile(r"^portal_link:(\d+)$")
# Conditions a facilitator fixes on the person's contact preferences page.
_FIXED_ON_CONTACT_PAGE = frozenset({"contact_preferences_missing", "email_missing"})


@dataclass(frozen=True)
class LinkDelivery:
    """Whether Mend can send this person a link itself, how, in which language, and when it would go."""

    conditions: list[Condition]
    channel: str | None
    language: str
    sends_at: datetime
    waits_for_quiet_hours: bool
    quiet_hours: tuple[str, str] | None

    @property
    def possible(self) -> bool:
        return not self.conditions


def link_delivery(session: Session, *, participant: Participant, now: datetime | None = None) -> LinkDelivery:
    """What the links page offers and what sending checks: one answer for both."""
    now = now or utcnow()
    pref = contact_preference(session, participant=participant)
    consent = latest_consents(session, participant=participant).get(ConsentScope.contact)
    consent_state = "missing" if consent is None else "withdrawn" if consent.withdrawn_at is not None else "active"
    contact_path = f"/cases/{participant.case_id}/participants/{participant.id}/contact"
    conditions = [
        replace(c, fix_path=contact_path, participant_id=participant.id)
        if c.code in _FIXED_ON_CONTACT_PAGE
        else replace(c, participant_id=participant.id)
        for c in message_conditions(pref, contact_consent=consent_state)
    ]
    program = session.get(Program, participant.program_id)
    assert program is not None
    sends_at = first_time_to_send(pref, now=now, timezone=program.timezone)
    quiet = (
        (pref.quiet_hours_start, pref.quiet_hours_end)
        if pref is not None and pref.quiet_hours_start and pref.quiet_hours_end
        else None
    )
    return LinkDelivery(
        conditions=conditions,
        channel=None if conditions else "email",
        language=email_language(participant),
        sends_at=sends_at,
        waits_for_quiet_hours=sends_at > now,
        quiet_hours=quiet,
    )


@dataclass(frozen=True)
class SentLink:
    issued: IssuedLink
    notification: Notification
    delivery: LinkDelivery


def send_portal_link(session: Session, *, actor: Actor, participant: Participant) -> SentLink:
    """Issue a new link and queue it to the person: their channel and language, discreet words, after quiet hours."""
    require_link_manager(actor, participant)
    require_portal_participant(session, participant)
    delivery = link_delivery(session, participant=participant)
    if delivery.conditions:
        raise Conflict(delivery.conditions[0].message, conditions=delivery.conditions)
    issued = issue_portal_link(session, actor=actor, participant=participant)
    program = session.get(Program, participant.program_id)
    assert program is not None
    expires = issued.link.expires_at
    message = render_email(
        PORTAL_LINK,
        delivery.language,
        {
            "name": participant.display_name,
            "url": issued.url,
            "day": email_day(expires.astimezone(ZoneInfo(program.timezone)).date(), delivery.language),
            "time": clock_time(expires, language=delivery.language, timezone=program.timezone),
        },
    )
    notification = Notification(
        program_id=participant.program_id,
        case_id=participant.case_id,
        kind=PORTAL_LINK,
        dedupe_key=f"portal_link:{issued.link.id}",
        recipient_participant_id=participant.id,
        channel="email",
        subject=message.subject,
        body=message.body,
        due_at=delivery.sends_at,
    )
    session.add(notification)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="portal.link_sent",
        entity_type="portal_link",
        entity_id=issued.link.id,
        case_id=participant.case_id,
        detail={
            "participant_id": participant.id,
            "notification_id": notification.id,
            "channel": "email",
            "language": delivery.language,
            "sends_at": delivery.sends_at.isoformat(),
        },
    )
    return SentLink(issued, notification, delivery)


def stale_link_message(session: Session, notification: Notification, *, now: datetime) -> str | None:
    """Why a queued portal link must not go out any more (revoked, used or expired), or None."""
    match = _KEY.match(notification.dedupe_key or "") if notification.kind == PORTAL_LINK else None
    if match is None:
        return None
    link = session.get(PortalLink, int(match.group(1)))
    if link is None or link.revoked_at is not None:
        return "the link was revoked"
    if link.used_at is not None:
        return "the link was already used"
    if link.expires_at <= now:
        return "the link expired"
    return None
