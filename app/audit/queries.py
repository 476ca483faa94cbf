"""Reading the audit log: a program's events, newest first, optionally for one case."""

from dataclasses import dataclass
from math import ceil

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.audit.models import AuditEvent

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    pages: int


def program_events(session: Session, *, program_id: int, case_id: int | None = None, page: int = 1) -> AuditPage:
    query = select(AuditEvent).where(AuditEvent.program_id == program_id)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    pages = max(1, ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages)
    events = session.exec(
        query.order_by(col(AuditEvent.seq).desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return AuditPage(list(events), total, page, pages)
