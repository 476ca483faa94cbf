"""Queueing notifications in the outbox. Sending them is the worker's job."""

from sqlmodel import Session, col, select

from app.auth.models import User
from app.conferences.models import Case, CaseFacilitator
from app.notifications.models import Notification


def notify_case_facilitators(session: Session, *, case: Case, kind: str, subject: str, body: str) -> list[Notification]:
    """Queue one notification to each active facilitator assigned to the case, in the caller's transaction."""
    facilitators = session.exec(
        select(User)
        .join(CaseFacilitator, col(CaseFacilitator.user_id) == User.id)
        .where(CaseFacilitator.case_id == case.id, col(User.is_active).is_(True))
    ).all()
    rows = [
        Notification(
            program_id=case.program_id,
            case_id=case.id,
            kind=kind,
            recipient_user_id=user.id,
            subject=subject,
            body=body,
        )
        for user in facilitators
    ]
    session.add_all(rows)
    session.flush()
    return rows
