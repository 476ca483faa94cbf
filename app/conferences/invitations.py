"""Messages about sessions: invitations with a personal .ics, updates, cancellations and reminders."""

from collections.abc import Iterable

from sqlmodel import Session

from app.conferences.models import CaseSession


def session_changed(
    session: Session, *, case_session: CaseSession, change: str, only: Iterable[int] | None = None
) -> None:
    """Queue the messages a change to a session causes (new, updated, cancelled, held)."""
