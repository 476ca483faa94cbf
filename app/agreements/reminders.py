"""Reminders and alerts about commitments, queued in the notification outbox on each worker round.

- A reminder to the person who owes a commitment, some days before its due date (the program's
  `commitment_reminder_days`), counted in the program's local date. When a reminder's day was missed
  (the worker was down), the latest one that applies still goes out while the due date has not passed;
  the earlier ones are not sent all at once.
- An alert to each active facilitator assigned to the case when a commitment becomes overdue.
- One digest a day to each active staff user, listing what became overdue since their last digest.

Every row carries a dedupe key that is unique in the outbox table, and rows are inserted with
ON CONFLICT DO NOTHING: running a round twice, or two workers at once, queues nothing twice. The
worker checks again before sending (`stale_commitment_message`), so a commitment completed or waived,
or a case closed, after the row was queued sends nothing.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, not_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app.agreements.commitment_rules import local_today
from app.agreements.models import Commitment, CommitmentKind
from app.auth.models import User, UserRole
from app.conferences.invitations import email_day, email_language, render_email
from app.conferences.models import Case, CaseClosure, CaseFacilitator, Participant
from app.config import get_settings
from app.notifications.models import DeliveryStatus, Notification
from app.programs.models import Program
from app.safety.models import ContactPreference
from app.safety.rules import needs_discretion

COMMITMENT_REMINDER = "commitment_reminder"
COMMITMENT_OVERDUE = "commitment_overdue"
OVERDUE_DIGEST = "commitment_overdue_digest"

SEND_FROM = time(9, 0)  # messages about commitments go out from 09:00 program time, never at midnight
ALERT_WINDOW_DAYS = 30  # what became overdue longer ago than this is on the dashboard, not in a new alert
DIGEST_MAX_LINES = 50
_BATCH = 200
_KEY = re.compile(r"^commitment:(\d+):")
_DIGEST_DATE = re.compile(r":(\d{4}-\d{2}-\d{2})$")


@dataclass
class ReminderReport:
    """How many rows one round queued (rows already queued are not counted)."""

    reminders: int = 0
    overdue_alerts: int = 0
    digests: int = 0

    def __str__(self) -> str:
        return f"reminders {self.reminders}, overdue alerts {self.overdue_alerts}, staff digests {self.digests}"


# --- rules ----------------------------------------------------------------------------------------


def reminder_days(setting: str) -> list[int]:
    """The days in a setting such as "7,1", largest first; anything unreadable is ignored."""
    days = set()
    for part in (setting or "").split(","):
        try:
            value = int(part.strip())
        except ValueError:
            continue
        if 0 < value <= 366:
            days.add(value)
    return sorted(days, reverse=True)


def latest_lead(days_left: int, leads: Sequence[int]) -> int | None:
    """Which reminder is due with `days_left` days to go: the latest one whose day has come (a missed
    earlier one is not sent as well); None before the first one's day and once the due date has passed."""
    if days_left < 0:
        return None
    applicable = [lead for lead in leads if lead >= days_left]
    return min(applicable) if applicable else None


def reminder_key(commitment_id: int, lead: int, due_on: date) -> str:
    return f"commitment:{commitment_id}:reminder:{lead}:{due_on.isoformat()}"


def overdue_key(commitment_id: int, due_on: date, user_id: int) -> str:
    return f"commitment:{commitment_id}:overdue:{due_on.isoformat()}:u{user_id}"


def digest_key(program_id: int, user_id: int, day: date) -> str:
    return f"overdue-digest:{program_id}:{user_id}:{day.isoformat()}"


def _send_at(now: datetime, today: date, zone: ZoneInfo) -> datetime:
    return max(now, datetime.combine(today, SEND_FROM, tzinfo=zone).astimezone(UTC))


# --- queueing -------------------------------------------------------------------------------------


def _insert(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows, skipping any whose dedupe key is already there; returns how many went in."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    table = Notification.__table__  # type: ignore[attr-defined]
    added = 0
    for start in range(0, len(rows), _BATCH):
        statement = (
            insert(table)
            .values(rows[start : start + _BATCH])
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id)
        )
        added += len(session.execute(statement).all())
    return added


def _row(
    *,
    program_id: int,
    case_id: int | None,
    kind: str,
    key: str,
    subject: str,
    body: str,
    due_at: datetime,
    **recipient: int,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "program_id": program_id,
        "case_id": case_id,
        "kind": kind,
        "dedupe_key": key,
        "recipient_user_id": recipient.get("user_id"),
        "recipient_participant_id": recipient.get("participant_id"),
        "channel": "email",
        "subject": subject,
        "body": body,
        "due_at": due_at,
        "status": DeliveryStatus.pending.value,
        "attempts": 0,
        "created_at": now,
    }


def _existing(session: Session, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found |= set(session.exec(select(Notification.dedupe_key).where(col(Notification.dedupe_key).in_(chunk))).all())  # type: ignore[arg-type]
    return found


def _not_closed():  # type: ignore[no-untyped-def]
    return not_(exists().where(CaseClosure.case_id == Commitment.case_id))


def _open_in_force(program_id: int):  # type: ignore[no-untyped-def]
    """Commitments with a due date that still apply: in force, not done, not waived, not no-contact, case open."""
    return (
        Commitment.program_id == program_id,
        col(Commitment.superseded_at).is_(None),
        col(Commitment.completed_on).is_(None),
        col(Commitment.waived_at).is_(None),
        col(Commitment.due_on).is_not(None),
        Commitment.kind != CommitmentKind.no_contact.value,
        _not_closed(),
    )


def _queue_reminders(session: Session, *, program: Program, today: date, now: datetime) -> int:
    leads = reminder_days(program.commitment_reminder_days)
    if not leads:
        return 0
    zone = ZoneInfo(program.timezone)
    records = session.exec(
        select(Commitment, Participant)
        .join(Participant, col(Participant.id) == Commitment.owed_by_id)
        .where(
            *_open_in_force(program.id),  # type: ignore[arg-type]
            col(Commitment.due_on) >= today,
            col(Commitment.due_on) <= today + timedelta(days=max(leads)),
        )
    ).all()
    wanted: dict[str, tuple[Commitment, Participant]] = {}
    for commitment, participant in records:
        lead = latest_lead((commitment.due_on - today).days, leads)  # type: ignore[operator]
        if lead is not None:
            wanted[reminder_key(commitment.id, lead, commitment.due_on)] = (commitment, participant)  # type: ignore[arg-type]
    existing = _existing(session, wanted)
    missing = {k: v for k, v in wanted.items() if k not in existing}
    if not missing:
        return 0
    people = {p.id for _, p in missing.values()}
    prefs = {
        p.participant_id: p
        for p in session.exec(select(ContactPreference).where(col(ContactPreference.participant_id).in_(people))).all()
    }
    rows = []
    for key, (commitment, participant) in missing.items():
        language = email_language(participant)
        message = render_email(
            "commitment_reminder",
            language,
            {
                "name": participant.display_name,
                "what": commitment.description,
                "day": email_day(commitment.due_on, language),  # type: ignore[arg-type]
                "discreet": needs_discretion(prefs.get(participant.id)),
                "program": program.name,
            },
        )
        rows.append(
            _row(
                program_id=program.id,  # type: ignore[arg-type]
                case_id=commitment.case_id,
                kind=COMMITMENT_REMINDER,
                key=key,
                subject=message.subject,
                body=message.body,
                due_at=_send_at(now, today, zone),
                participant_id=participant.id,  # type: ignore[arg-type]
            )
        )
    return _insert(session, rows)


@dataclass(frozen=True)
class _Overdue:
    id: int
    case_id: int
    reference: str
    what: str
    due_on: date


def _overdue(session: Session, *, program: Program, today: date) -> list[_Overdue]:
    """What is overdue today and became overdue within the alert window, oldest first."""
    return [
        _Overdue(c.id, c.case_id, reference, c.description, c.due_on)  # type: ignore[arg-type]
        for c, reference in session.exec(
            select(Commitment, Case.reference)
            .join(Case, col(Case.id) == Commitment.case_id)
            .where(
                *_open_in_force(program.id),  # type: ignore[arg-type]
                col(Commitment.due_on) < today,
                col(Commitment.due_on) >= today - timedelta(days=ALERT_WINDOW_DAYS),
            )
            .order_by(col(Commitment.due_on), col(Case.reference), col(Commitment.id))
        ).all()
    ]


def _queue_overdue_alerts(
    session: Session, *, program: Program, overdue: list[_Overdue], today: date, now: datetime
) -> int:
    if not overdue:
        return 0
    facilitators: dict[int, list[int]] = {}
    for case_id, user_id in session.exec(
        select(CaseFacilitator.case_id, User.id)
        .join(User, col(User.id) == CaseFacilitator.user_id)
        .where(col(CaseFacilitator.case_id).in_({o.case_id for o in overdue}), col(User.is_active).is_(True))
        .order_by(col(User.id))
    ).all():
        facilitators.setdefault(case_id, []).append(user_id)  # type: ignore[arg-type]
    wanted = {
        overdue_key(item.id, item.due_on, user_id): (item, user_id)
        for item in overdue
        for user_id in facilitators.get(item.case_id, [])
    }
    existing = _existing(session, wanted)
    base = get_settings().public_base_url
    due_at = _send_at(now, today, ZoneInfo(program.timezone))
    rows = []
    for key, (item, user_id) in wanted.items():
        if key in existing:
            continue
        message = render_email(
            "commitment_overdue",
            "en",
            {
                "reference": item.reference,
                "what": item.what,
                "day": email_day(item.due_on, "en"),  # type: ignore[arg-type]
                "link": f"{base}/cases/{item.case_id}/commitments",
            },
        )
        rows.append(
            _row(
                program_id=program.id,  # type: ignore[arg-type]
                case_id=item.case_id,
                kind=COMMITMENT_OVERDUE,
                key=key,
                subject=message.subject,
                body=message.body,
                due_at=due_at,
                user_id=user_id,
            )
        )
    return _insert(session, rows)


def _queue_digests(session: Session, *, program: Program, overdue: list[_Overdue], today: date, now: datetime) -> int:
    """One digest a day per active staff user: what became overdue since their last digest (or since
    their account was opened), still overdue now. Nothing new, no digest."""
    if not overdue:
        return 0
    zone = ZoneInfo(program.timezone)
    staff = session.exec(
        select(User)
        .where(User.program_id == program.id, User.role == UserRole.staff, col(User.is_active).is_(True))
        .order_by(col(User.id))
    ).all()
    if not staff:
        return 0
    last = dict(
        session.exec(
            select(Notification.recipient_user_id, func.max(Notification.dedupe_key))
            .where(
                Notification.program_id == program.id,
                Notification.kind == OVERDUE_DIGEST,
                col(Notification.recipient_user_id).in_([u.id for u in staff]),
            )
            .group_by(col(Notification.recipient_user_id))
        ).all()
    )
    base = get_settings().public_base_url
    rows = []
    for user in staff:
        key = digest_key(program.id, user.id, today)  # type: ignore[arg-type]
        previous = _DIGEST_DATE.search(last.get(user.id) or "")
        if previous is not None and previous.group(1) >= today.isoformat():
            continue
        # The last digest listed what had become overdue by its day (due before it); this one the rest.
        since = date.fromisoformat(previous.group(1)) if previous else user.created_at.astimezone(zone).date()
        items = [o for o in overdue if o.due_on >= since]
        if not items:
            continue
        message = render_email(
            "commitment_overdue_digest",
            "en",
            {
                "name": user.full_name,
                "count": len(items),
                "items": [
                    {"reference": o.reference, "what": o.what, "day": email_day(o.due_on, "en")}  # type: ignore[arg-type]
                    for o in items[:DIGEST_MAX_LINES]
                ],
                "more": max(len(items) - DIGEST_MAX_LINES, 0),
                "link": f"{base}/monitoring?status=overdue",
            },
        )
        rows.append(
            _row(
                program_id=program.id,  # type: ignore[arg-type]
                case_id=None,
                kind=OVERDUE_DIGEST,
                key=key,
                subject=message.subject,
                body=message.body,
                due_at=_send_at(now, today, zone),
                user_id=user.id,  # type: ignore[arg-type]
            )
        )
    return _insert(session, rows)


def queue_commitment_reminders(session: Session, *, now: datetime) -> ReminderReport:
    """Queue the reminders, overdue alerts and staff digests that are due now, for every program.
    Idempotent: what is already queued is not queued again. Flushes only; the caller commits."""
    report = ReminderReport()
    for program in session.exec(select(Program).order_by(col(Program.id))).all():
        today = local_today(now, program.timezone)
        report.reminders += _queue_reminders(session, program=program, today=today, now=now)
        overdue = _overdue(session, program=program, today=today)
        report.overdue_alerts += _queue_overdue_alerts(session, program=program, overdue=overdue, today=today, now=now)
        report.digests += _queue_digests(session, program=program, overdue=overdue, today=today, now=now)
    session.flush()
    return report


# --- for the worker -------------------------------------------------------------------------------


def stale_commitment_message(session: Session, notification: Notification, *, now: datetime) -> str | None:
    """Why a queued reminder or overdue alert must not go out now (the commitment was completed,
    waived or replaced, the case was closed, or a reminder's due date has passed), or None."""
    if notification.kind not in (COMMITMENT_REMINDER, COMMITMENT_OVERDUE):
        return None
    match = _KEY.match(notification.dedupe_key or "")
    if match is None:
        return None
    commitment = session.get(Commitment, int(match.group(1)))
    if commitment is None:
        return "the commitment no longer exists"
    if commitment.completed_on is not None:
        return "the commitment was completed"
    if commitment.waived_at is not None:
        return "the commitment was waived"
    if commitment.superseded_at is not None:
        return "an amendment replaced the commitment"
    if session.exec(select(CaseClosure.id).where(CaseClosure.case_id == commitment.case_id)).first() is not None:
        return "the case is closed"
    if notification.kind == COMMITMENT_REMINDER and commitment.due_on is not None:
        program = session.get(Program, commitment.program_id)
        if program is not None and commitment.due_on < local_today(now, program.timezone):
            return "the due date has passed"
    return None
