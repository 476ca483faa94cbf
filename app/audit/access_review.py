"""Access review: who read which confidential records of a program in a period, from the audit log.

A read is an audit event whose action ends in `.read` (`record_case_read`, `record_safety_read`,
`screening.read`) by a signed-in user. The period is in program days; every query is scoped to the
program; looking at the review is itself audited.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from math import ceil
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.actor import Actor
from app.agreements.commitment_csv import neutralise
from app.audit.models import AuditEvent
from app.audit.service import record_event
from app.auth.models import User
from app.conferences.models import Case
from app.db import RecordId
from app.errors import InvalidInput

PAGE_SIZE = 50
DEFAULT_DAYS = 30
MAX_DAYS = 366
READ_SUFFIX = ".read"

RECORD_LABELS = {
    "case": "Case record",
    "case.journey": "Case journey",
    "case.participants": "Participants",
    "participant": "Participant",
    "case.sessions": "Sessions",
    "session.invitation": "Session invitation",
    "case.audit": "Case audit log",
    "screening": "Screening answers",
    "screening.history": "Screening history",
    "acknowledgement.history": "Acknowledgements",
    "safety": "Safety overview",
    "safety.assessments": "Safety assessments",
    "safety.concerns": "Safety concerns",
    "safety.plan": "Safety plan",
    "consent": "Consent records",
    "contact_preference": "Contact details",
    "agreement": "Agreement",
    "agreement.pdf": "Agreement PDF",
    "commitments": "Commitments",
    "commitments.report": "Follow-up report",
}


def record_kind(action: str) -> str:
    """The record a read event names: `safety.plan.read` is `safety.plan`."""
    return action.removesuffix(READ_SUFFIX)


def record_label(action: str) -> str:
    kind = record_kind(action)
    return RECORD_LABELS.get(kind, kind.replace("_", " ").replace(".", ": ").capitalize())


class AccessReviewFilter(BaseModel):
    """The period (program days, both included), and optionally one user and one case."""

    date_from: date | None = Field(default=None, description="First day (program time); default 30 days ago")
    date_to: date | None = Field(default=None, description="Last day (program time); default today")
    user_id: RecordId | None = None
    case_id: RecordId | None = None
    page: int = Field(default=1, ge=1, le=100_000)


def resolve_period(f: AccessReviewFilter, *, today: date) -> tuple[date, date]:
    """The period to show: the last 30 days by default; refused when it is backwards or over a year."""
    date_to = f.date_to or today
    date_from = f.date_from or (date_to - timedelta(days=DEFAULT_DAYS))
    if date_from > date_to:
        message = "Choose a first day on or before the last day."
        raise InvalidInput(message, field_errors={"date_from": message})
    if (date_to - date_from).days > MAX_DAYS:
        message = f"Choose a period of at most {MAX_DAYS} days."
        raise InvalidInput(message, field_errors={"date_from": message})
    return date_from, date_to


@dataclass(frozen=True)
class AccessRow:
    occurred_at: datetime
    user_id: int | None
    user_name: str
    user_role: str | None
    case_id: int | None
    case_reference: str | None
    action: str
    record_label: str


@dataclass(frozen=True)
class AccessPage:
    rows: list[AccessRow]
    total: int
    page: int
    pages: int
    date_from: date
    date_to: date


def _query(*, program_id: int, timezone: str, date_from: date, date_to: date, user_id: int | None, case_id: int | None):  # type: ignore[no-untyped-def]
    zone = ZoneInfo(timezone)
    start = datetime.combine(date_from, time.min, zone)
    end = datetime.combine(date_to + timedelta(days=1), time.min, zone)
    query = (
        select(AuditEvent, User, Case)
        .join(User, col(User.id) == AuditEvent.actor_id, isouter=True)
        .join(Case, col(Case.id) == AuditEvent.case_id, isouter=True)
        .where(
            AuditEvent.program_id == program_id,
            AuditEvent.actor_kind == "user",
            col(AuditEvent.action).endswith(READ_SUFFIX),
            col(AuditEvent.occurred_at) >= start,
            col(AuditEvent.occurred_at) < end,
        )
    )
    if user_id is not None:
        query = query.where(AuditEvent.actor_id == user_id)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    return query


def _row(event: AuditEvent, user: User | None, case: Case | None) -> AccessRow:
    # The case must be of the same program: an id in the log never reaches another program's case.
    same_program = case is not None and case.program_id == event.program_id
    return AccessRow(
        occurred_at=event.occurred_at,
        user_id=event.actor_id,
        user_name=user.full_name if user else event.actor_label,
        user_role=str(user.role) if user else None,
        case_id=event.case_id,
        case_reference=case.reference if same_program and case else None,
        action=event.action,
        record_label=record_label(event.action),
    )


def access_review(
    session: Session, *, actor: Actor, timezone: str, today: date, f: AccessReviewFilter, export: bool = False
) -> AccessPage:
    """One page of reads in the period, newest first; recorded in the audit log as viewed (or exported)."""
    assert actor.program_id is not None
    date_from, date_to = resolve_period(f, today=today)
    query = _query(
        program_id=actor.program_id,
        timezone=timezone,
        date_from=date_from,
        date_to=date_to,
        user_id=f.user_id,
        case_id=f.case_id,
    )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    pages = max(1, ceil(total / PAGE_SIZE))
    page = min(f.page, pages)
    ordered = query.order_by(col(AuditEvent.occurred_at).desc(), col(AuditEvent.id).desc())
    if not export:
        ordered = ordered.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    rows = [_row(*found) for found in session.exec(ordered).all()]
    record_event(
        session,
        actor=actor,
        action="access_review.exported" if export else "access_review.viewed",
        entity_type="program",
        entity_id=actor.program_id,
        detail={
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "user_id": f.user_id,
            "case_id": f.case_id,
            "rows": len(rows),
        },
    )
    return AccessPage(rows, total, page, pages, date_from, date_to)


CSV_COLUMNS = ("when_utc", "user", "role", "case_reference", "record", "action")


def csv_lines(rows: list[AccessRow]) -> Iterator[str]:
    """The rows as CSV, cells that could start a spreadsheet formula neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            neutralise(cell)
            for cell in (
                row.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                row.user_name,
                row.user_role or "",
                row.case_reference or "",
                row.record_label,
                row.action,
            )
        )
    yield buffer.getvalue()
