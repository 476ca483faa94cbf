"""Draining the outbox over SMTP: claim, decide, send, record. Safe with several workers.

Claiming takes the due rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL (and the single
SQLite writer lock), stamps them with this worker's id and commits at once; sending happens
outside any transaction; marking a row sent only succeeds for the worker that holds its claim.
A claim older than the lease (a crashed worker) can be taken over; each message carries a
stable Message-ID, so a receiver can recognise the rare resend after such a crash.

Delivery is at least once, on purpose. A worker killed after claiming a row and before the SMTP
server accepted the message leaves the row pending: once the lease runs out another worker sends
it, and it arrives once. A worker killed after marking the row sent has nothing left to do. The one
window left is between the server's "250 OK" to DATA and the commit that marks the row sent: SMTP
has no two-phase commit, so no order of writes closes it. Recording "about to send" before DATA
and never retrying such a row would trade the duplicate for a lost message whenever the crash
came before the server accepted it, and for a survivor a missed message can matter more than a
repeated one. So a crash in that window resends the message once, with the same Message-ID (and
X-Mend-Notification header), which lets mail systems and readers recognise it as the same message;
the resend is marked sent like any other, so nothing is sent a third time. A message whose every
attempt (MEND_OUTBOX_MAX_ATTEMPTS) ended with its worker gone is marked failed, like one the SMTP
server kept refusing, so that it cannot hold the outbox up by a lease every round.
tests/test_crash_safety.py kills a real worker at each of these points.
"""

import logging
import smtplib
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app import faults
from app.agreements.reminders import stale_commitment_message
from app.auth.models import User
from app.conferences.invitations import stale_reminder
from app.conferences.models import Participant
from app.config import get_settings
from app.db import utcnow
from app.i18n import language_for
from app.notifications.models import DeliveryStatus, Notification
from app.portal.link_delivery import stale_link_message
from app.programs.models import Program
from app.safety.models import ContactPreference
from app.safety.rules import OutboundChannel, first_time_to_send, may_contact, subject_for

logger = logging.getLogger(__name__)


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    """Sends through the SMTP server in the settings; one connection per batch."""

    def __init__(self, *, host: str | None = None, port: int | None = None) -> None:
        self.settings = get_settings()
        self.host = host or self.settings.smtp_host
        self.port = port or self.settings.smtp_port
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpTransport":
        return self

    def _connect(self) -> smtplib.SMTP:
        """Connect on the first message, so an idle round opens no connection."""
        s = self.settings
        factory = smtplib.SMTP_SSL if s.smtp_ssl else smtplib.SMTP
        client = factory(self.host, self.port, timeout=s.smtp_timeout_seconds)
        if s.smtp_starttls and not s.smtp_ssl:
            client.starttls()
        if s.smtp_username and s.smtp_password:
            client.login(s.smtp_username, s.smtp_password.get_secret_value())
        return client

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (smtplib.SMTPException, OSError):
                self._client.close()

    def send(self, message: EmailMessage) -> None:
        if self._client is None:
            self._client = self._connect()
        try:
            self._client.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._client = None
            raise


@dataclass(frozen=True)
class Send:
    to: str
    subject: str


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class Defer:
    until: datetime
    reason: str


@dataclass
class DrainReport:
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"sent {len(self.sent)}, skipped {len(self.skipped)}, deferred {len(self.deferred)}, "
            f"retrying {len(self.retrying)}, failed {len(self.failed)}"
        )


def backoff(attempts: int) -> timedelta:
    """1, 5, 25 minutes... capped at 6 hours."""
    return timedelta(minutes=min(5 ** max(attempts - 1, 0), 360))


def claim_due(engine: Engine, *, worker_id: str, now: datetime, limit: int) -> list[int]:
    """Take up to `limit` due rows for this worker, in their own short transaction."""
    settings = get_settings()
    lease = timedelta(minutes=settings.outbox_lease_minutes)
    with Session(engine) as session:
        rows = session.exec(
            select(Notification)
            .where(
                Notification.status == DeliveryStatus.pending,
                col(Notification.due_at) <= now,
                or_(col(Notification.claimed_at).is_(None), col(Notification.claimed_at) < now - lease),
            )
            .order_by(col(Notification.due_at), col(Notification.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        ids = []
        for row in rows:
            if row.claimed_at is not None and row.attempts >= settings.outbox_max_attempts:
                # Every attempt ended with its worker gone (a message that crashes the worker?): give up,
                # as after the last SMTP failure, rather than stall the outbox by a lease each time.
                row.status, row.claimed_by, row.claimed_at = DeliveryStatus.failed, None, None
                row.last_error = f"the worker stopped while sending it, {row.attempts} times"
            else:
                row.claimed_by, row.claimed_at, row.attempts = worker_id, now, row.attempts + 1
                ids.append(row.id)
            session.add(row)
        session.commit()
    return ids  # type: ignore[return-value]


def decide(session: Session, notification: Notification, *, now: datetime) -> Send | Skip | Defer:
    """Where the message goes and with what subject, honouring the recipient's safe-contact preferences."""
    stale = (
        stale_reminder(session, notification)
        or stale_commitment_message(session, notification, now=now)
        or stale_link_message(session, notification, now=now)
    )
    if stale is not None:
        return Skip(stale)
    if notification.recipient_email is not None:
        return Send(notification.recipient_email, notification.subject)
    if notification.recipient_user_id is not None:
        user = session.get(User, notification.recipient_user_id)
        if user is None or not user.is_active:
            return Skip("the staff account is disabled")
        return Send(user.email, notification.subject)
    participant = session.get(Participant, notification.recipient_participant_id)
    if participant is None:
        return Skip("no recipient")
    program = session.get(Program, participant.program_id)
    assert program is not None
    pref = session.exec(select(ContactPreference).where(ContactPreference.participant_id == participant.id)).first()
    local = now.astimezone(ZoneInfo(program.timezone))
    if (until := first_time_to_send(pref, now=now, timezone=program.timezone)) > now:
        return Defer(until, "within the person's quiet hours")
    allowed, reason = may_contact(pref, OutboundChannel.email, local.time())
    if not allowed or pref is None or not pref.email:
        return Skip(reason)
    return Send(
        pref.email, subject_for(pref, notification.subject, language=language_for(participant.preferred_language))
    )


def build_message(notification: Notification, send: Send) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    # The bare address: an address with accented letters (RFC 6531) cannot go through formataddr's
    # ASCII encoding; smtplib sends it with SMTPUTF8 where the server offers it.
    message["To"] = send.to
    message["Subject"] = send.subject
    domain = settings.mail_from.rsplit("@", 1)[-1].rstrip(">") or "mend.invalid"
    message["Message-ID"] = f"<notification-{notification.id}.{notification.program_id}@{domain}>"
    message["X-Mend-Notification"] = str(notification.id)
    message.set_content(notification.body)
    if notification.attachment_body is not None:
        maintype, _, rest = (notification.attachment_content_type or "text/plain").partition("/")
        subtype, *extra = (part.strip() for part in rest.split(";"))
        # Keep parameters such as "method=REQUEST": calendar clients need them (RFC 6047).
        params = dict(part.split("=", 1) for part in extra if "=" in part)
        message.add_attachment(
            notification.attachment_body.encode(),
            maintype=maintype,
            subtype=subtype,
            filename=notification.attachment_filename or "attachment.txt",
            params=params,
        )
    return message


def deliver(
    engine: Engine, notification_id: int, *, worker_id: str, transport: Transport, now: datetime, report: DrainReport
) -> None:
    """Send one claimed row and record the result, only while this worker still holds the claim."""
    with Session(engine, expire_on_commit=False) as session:
        notification = session.get(Notification, notification_id)
        if (
            notification is None
            or notification.claimed_by != worker_id
            or notification.status != DeliveryStatus.pending
        ):
            return
        decision = decide(session, notification, now=now)
    if isinstance(decision, Send):
        faults.pause_point("outbox.after_claim")
        try:
            transport.send(build_message(notification, decision))
        except smtplib.SMTPNotSupportedError as exc:
            # The server lacks what this message needs (SMTPUTF8 for an address with accented
            # letters): trying again will not help, so it fails now with the reason.
            _give_up(engine, notification, worker_id=worker_id, error=exc, report=report)
            return
        except (smtplib.SMTPException, OSError) as exc:
            _record_failure(engine, notification, worker_id=worker_id, now=now, error=exc, report=report)
            return
        except Exception as exc:
            # A message that cannot be built or encoded must never stop the worker, nor hold up
            # the rest of its batch: it fails alone, with the reason, and the others go out.
            logger.exception("notification %s could not be sent", notification.id)
            _give_up(engine, notification, worker_id=worker_id, error=exc, report=report)
            return
        faults.pause_point("outbox.after_smtp")  # the window that can resend once (see the module docstring)
        _finish(engine, notification_id, worker_id, status=DeliveryStatus.sent, sent_at=utcnow())
        faults.pause_point("outbox.after_mark_sent")
        report.sent.append(notification_id)
    elif isinstance(decision, Skip):
        _finish(engine, notification_id, worker_id, status=DeliveryStatus.skipped, last_error=decision.reason)
        report.skipped.append(notification_id)
    else:
        _finish(
            engine,
            notification_id,
            worker_id,
            status=DeliveryStatus.pending,
            due_at=decision.until,
            last_error=decision.reason,
            release=True,
            attempts_back=True,
        )
        report.deferred.append(notification_id)


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _give_up(
    engine: Engine, notification: Notification, *, worker_id: str, error: Exception, report: DrainReport
) -> None:
    """Mark a message failed for good, keeping the reason."""
    _finish(engine, notification.id, worker_id, status=DeliveryStatus.failed, last_error=_error_text(error))  # type: ignore[arg-type]
    report.failed.append(notification.id)  # type: ignore[arg-type]


def _record_failure(
    engine: Engine, notification: Notification, *, worker_id: str, now: datetime, error: Exception, report: DrainReport
) -> None:
    message = _error_text(error)
    if notification.attempts >= get_settings().outbox_max_attempts:
        _give_up(engine, notification, worker_id=worker_id, error=error, report=report)
        return
    _finish(
        engine,
        notification.id,
        worker_id,
        status=DeliveryStatus.pending,  # type: ignore[arg-type]
        due_at=now + backoff(notification.attempts),
        last_error=message,
        release=True,
    )
    report.retrying.append(notification.id)  # type: ignore[arg-type]


def _finish(
    engine: Engine,
    notification_id: int,
    worker_id: str,
    *,
    status: DeliveryStatus,
    release: bool = False,
    attempts_back: bool = False,
    **values: object,
) -> None:
    changes: dict[str, object] = {"status": status, **values}
    if release:
        changes |= {"claimed_by": None, "claimed_at": None}
    if attempts_back:  # a deferral is not a failed attempt
        changes["attempts"] = Notification.attempts - 1  # type: ignore[operator]
    with Session(engine) as session:
        session.execute(
            update(Notification)
            .where(col(Notification.id) == notification_id, col(Notification.claimed_by) == worker_id)
            .values(**changes)
        )
        session.commit()


def drain(
    engine: Engine, *, transport: Transport, worker_id: str | None = None, now: Callable[[], datetime] = utcnow
) -> DrainReport:
    """Send everything that is due, batch by batch, until nothing due is left for this worker."""
    worker_id = worker_id or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    report = DrainReport()
    limit = get_settings().outbox_batch_size
    while True:
        moment = now()
        ids = claim_due(engine, worker_id=worker_id, now=moment, limit=limit)
        if not ids:
            return report
        for notification_id in ids:
            deliver(engine, notification_id, worker_id=worker_id, transport=transport, now=moment, report=report)
