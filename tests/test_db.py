"""Database set-up: SQLite pragmas, UTC round trips, and one transaction per request."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.db import make_engine, utcnow
from app.programs.models import Program


def test_sqlite_runs_with_foreign_keys_and_wal(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_times_come_back_as_aware_utc_whatever_zone_they_were_given_in(db: Session) -> None:
    madrid_noon = datetime(2026, 3, 29, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    program = Program(name="Zone check", created_at=madrid_noon)
    db.add(program)
    db.flush()
    db.expire_all()
    stored = db.exec(select(Program).where(Program.name == "Zone check")).one()
    assert stored.created_at == madrid_noon
    assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(db: Session) -> None:
    db.add(Program(name="Naive", created_at=datetime(2026, 1, 1, 9, 0)))
    with pytest.raises(Exception, match="naive datetime"):
        db.flush()
    db.rollback()


def test_a_request_that_fails_after_writing_keeps_nothing(engine: Engine) -> None:
    """The request session commits on success only: an exception rolls back every write."""
    from app.db import get_session

    generator = get_session()
    session = next(generator)
    session.add(Program(name="Half-done request", created_at=utcnow()))
    session.flush()
    with pytest.raises(RuntimeError):
        generator.throw(RuntimeError("the service failed after a write"))
    with Session(engine) as fresh:
        assert fresh.exec(select(Program).where(Program.name == "Half-done request")).first() is None


def test_utcnow_is_aware() -> None:
    assert utcnow().tzinfo is UTC
