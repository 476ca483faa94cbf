"""Wrong passwords sent together, on real connections (SQLite and PostgreSQL): the throttle counts
every attempt committed before it, so no more than the limit ever reach the password check."""

import threading

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.auth import service
from app.auth.models import UserRole
from app.auth.service import sign_in
from app.config import get_settings
from tests.factories import PASSWORD, make_program, make_user

ATTEMPTS = 40


def test_wrong_passwords_sent_together_reach_the_password_check_no_more_than_the_limit(scratch_engine) -> None:  # type: ignore[no-untyped-def]
    with Session(scratch_engine) as setup:
        make_user(setup, make_program(setup, "Race Program"), UserRole.staff, "Tess Target", email="tess@example.org")
        setup.commit()
    start = threading.Barrier(ATTEMPTS)
    errors: list[str] = []

    def guess(n: int) -> None:
        start.wait(timeout=30)
        with Session(scratch_engine, expire_on_commit=False) as session:
            try:
                result = sign_in(
                    session,
                    email="tess@example.org",
                    password=f"wrong guess {n}",
                    ip_address=f"10.0.0.{n}",
                    request_id=None,
                )
                session.commit()
                assert result.user is None
            except Exception as exc:  # noqa: BLE001 - reported below, the test fails on any
                errors.append(repr(exc))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with Session(scratch_engine) as session:
        counts = dict(
            session.exec(
                select(AuditEvent.action, func.count())
                .where(AuditEvent.action.startswith("auth."))
                .group_by(AuditEvent.action)
            ).all()
        )
    checked, throttled = counts.get("auth.sign_in_failed", 0), counts.get("auth.sign_in_throttled", 0)
    assert checked + throttled == ATTEMPTS
    assert checked <= get_settings().login_max_failures


@pytest.mark.parametrize("email", ["tess@example.org", "nobody@example.org"])
def test_the_password_is_checked_with_no_transaction_open(scratch_engine, monkeypatch, email: str) -> None:  # type: ignore[no-untyped-def]
    """On SQLite an open transaction is the database's one write lock: argon2 must not run inside it."""
    with Session(scratch_engine, expire_on_commit=False) as session:
        make_user(
            session, make_program(session, "Lock Program"), UserRole.staff, "Tess Target", email="tess@example.org"
        )
        session.commit()
        seen: list[bool] = []
        for name in ("verify_password", "burn_verification_time"):
            real = getattr(service, name)
            monkeypatch.setattr(service, name, lambda *a, real=real: seen.append(session.in_transaction()) or real(*a))
        result = sign_in(session, email=email, password=PASSWORD, ip_address="10.0.0.1", request_id=None)
        session.commit()
    assert seen == [False]
    assert (result.user is not None) == (email == "tess@example.org")
