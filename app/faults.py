"""Fault injection for the crash-safety tests: named points where a test can freeze the process.

A pause point is inert unless Mend runs outside production and `MEND_FAULT_PAUSE` names that very
point; `MEND_FAULT_SKIP=n` lets the point pass n times first (to stop in the middle of a batch).
When armed, the process writes the point's name to the file in `MEND_FAULT_MARKER` and sleeps,
so a test waits for the marker and kills the process (SIGKILL) at a known place: in the middle of
sealing an agreement, or of sending an email from the outbox. The points:

- agreement.seal.after_commitments, agreement.seal.after_pdf_stored (inside the seal's transaction),
  agreement.seal.after_commit (committed, before the response): app/agreements/service.py
- outbox.after_claim, outbox.after_smtp, outbox.after_mark_sent: app/notifications/worker.py
"""

import time
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session

from app.config import Environment, Settings, get_settings

PAUSE_SECONDS = 300.0  # long enough for any test to kill the process; never forever
_passed: dict[str, int] = {}


def armed(point: str, settings: Settings | None = None) -> bool:
    """Whether this point is set to pause: never in production, whatever the environment says."""
    settings = settings or get_settings()
    return settings.env is not Environment.production and settings.fault_pause == point


def pause_point(point: str, settings: Settings | None = None) -> None:
    """Freeze here when armed: say so in the marker file, then sleep until killed."""
    settings = settings or get_settings()
    if not armed(point, settings):
        return
    _passed[point] = _passed.get(point, 0) + 1
    if _passed[point] <= settings.fault_skip:
        return
    if settings.fault_marker:
        marker = Path(settings.fault_marker)
        partial = marker.with_name(marker.name + ".partial")
        partial.write_text(point)
        partial.replace(marker)  # the marker appears whole, never half-written
    time.sleep(PAUSE_SECONDS)


def pause_after_commit(session: Session, point: str) -> None:
    """Freeze right after this session's transaction commits (before the response goes out), when armed."""
    if armed(point):
        event.listen(session, "after_commit", lambda _session: pause_point(point), once=True)
