"""Two cases opened at the same moment on two real connections (SQLite and PostgreSQL): the second
waits for the first, so each gets its own reference instead of one failing on the unique constraint
(found by the load benchmark, where two API clients opened cases at once and one got a 500)."""

import threading

from sqlmodel import Session, select

from app.auth.models import UserRole
from app.auth.service import actor_for
from app.conferences.models import Case, HarmType, ReferralSource
from app.conferences.schemas import CaseCreate
from app.conferences.service import open_case
from tests.factories import make_program, make_user


def test_two_cases_opened_at_once_get_different_references(scratch_engine) -> None:  # type: ignore[no-untyped-def]
    with Session(scratch_engine, expire_on_commit=False) as setup:
        program = make_program(setup, "Race Program")
        first_user = make_user(setup, program, UserRole.facilitator, "Fran Race")
        second_user = make_user(setup, program, UserRole.facilitator, "Lou Race")
        setup.commit()
    first_open, outcomes = threading.Event(), {}

    def open_one(name: str, user, wait_for: threading.Event | None) -> None:  # type: ignore[no-untyped-def]
        if wait_for is not None:
            wait_for.wait(timeout=10)
        with Session(scratch_engine, expire_on_commit=False) as session:
            try:
                case = open_case(
                    session,
                    actor=actor_for(user),
                    data=CaseCreate(harm_type=HarmType.labour_trafficking, referral_source=ReferralSource.ngo),
                )
                if wait_for is None:
                    first_open.set()
                    threading.Event().wait(0.5)  # the other case is opened while this transaction is open
                session.commit()
                outcomes[name] = case.reference
            except Exception as exc:  # the outcome under test is that there is none
                session.rollback()
                outcomes[name] = repr(exc)
            finally:
                first_open.set()

    threads = [
        threading.Thread(target=open_one, args=("first", first_user, None)),
        threading.Thread(target=open_one, args=("second", second_user, first_open)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with Session(scratch_engine) as check:
        stored = sorted(check.exec(select(Case.reference)).all())
    assert sorted(outcomes.values()) == stored
    assert len(set(stored)) == 2
