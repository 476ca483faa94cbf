"""Two payments recorded at the same moment on two real connections (SQLite and PostgreSQL): each
write locks its case first, so the second sees the first. Together they would overpay, so one is
refused; and the total and the case summary count the one that was recorded."""

import threading
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from app.agreements import pdf
from app.agreements.commitment_schemas import ProgressCreate
from app.agreements.commitment_service import record_progress
from app.agreements.models import Commitment, FollowupSummary, ProgressEntry
from app.auth.models import UserRole
from app.auth.service import actor_for
from app.conferences.models import Case
from app.errors import InvalidInput
from tests.agreements.monitoring_support import STUB_PDF, sealed_case
from tests.factories import make_program, make_user


def test_two_payments_at_once_cannot_overpay_or_lose_one(scratch_engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pdf, "render_agreement_pdf", lambda session, *, case, version, language="en": STUB_PDF)
    with Session(scratch_engine, expire_on_commit=False) as setup:
        program = make_program(setup, "Race Program")
        facilitator = make_user(setup, program, UserRole.facilitator, "Fran Race")
        staff = make_user(setup, program, UserRole.staff, "Sol Staff")
        sealed = sealed_case(setup, facilitator)
        payment = sealed.of_kind("payment")[0]  # 200.00 EUR
        setup.commit()
    first_locked, outcomes = threading.Event(), {}

    def pay(name: str, user, wait_for: threading.Event | None) -> None:  # type: ignore[no-untyped-def]
        if wait_for is not None:
            wait_for.wait(timeout=10)
        with Session(scratch_engine, expire_on_commit=False) as session:
            try:
                case = session.get(Case, sealed.case.id)
                commitment = session.get(Commitment, payment.id)
                record_progress(
                    session,
                    actor=actor_for(user),
                    case=case,  # type: ignore[arg-type]
                    commitment=commitment,  # type: ignore[arg-type]
                    data=ProgressCreate(kind="payment", amount=Decimal("150"), occurred_on=date.today()),
                )
                if wait_for is None:
                    first_locked.set()
                    threading.Event().wait(0.5)  # the other payment runs into this open transaction
                session.commit()
                outcomes[name] = "recorded"
            except InvalidInput as exc:
                session.rollback()
                outcomes[name] = exc.message
            finally:
                first_locked.set()

    threads = [
        threading.Thread(target=pay, args=("first", facilitator, None)),
        threading.Thread(target=pay, args=("second", staff, first_locked)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes["first"] == "recorded"
    assert outcomes["second"].startswith("That is more than is owed")
    assert "At most 50.00 EUR can be recorded." in outcomes["second"]
    with Session(scratch_engine) as check:
        stored = check.get(Commitment, payment.id)
        assert stored is not None and stored.progress_total == 15_000 and stored.completed_on is None
        assert len(check.exec(select(ProgressEntry).where(ProgressEntry.commitment_id == payment.id)).all()) == 1
        summary = check.get(FollowupSummary, sealed.case.id)
        assert summary is not None and summary.open_tasks == 4
