"""The per-case follow-up summary the dashboard counts cases from: its rule agrees with the
commitment rules, and the summary the service keeps equals one rebuilt from the commitments."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from app.agreements.commitment_rules import case_openness, commitment_status, settles_case
from app.agreements.commitment_schemas import ProgressCreate, WaiverCreate
from app.agreements.commitment_service import (
    correct_entry,
    rebuild_followup_summaries,
    record_progress,
    waive,
)
from app.agreements.models import CommitmentKind, DueTally, FollowupSummary
from app.auth.models import User
from app.auth.service import actor_for
from tests.agreements.monitoring_support import sealed_case, stub_pdf

TODAY = date(2027, 3, 10)
days = st.one_of(st.none(), st.integers(-40, 40).map(lambda n: TODAY + timedelta(days=n)))
commitment = st.tuples(st.sampled_from(list(CommitmentKind)), days, days, days, st.booleans())


@given(st.lists(commitment, max_size=8), st.integers(-60, 60))
def test_the_summary_rule_says_open_exactly_when_some_commitment_does_not_settle_the_case(items, shift) -> None:  # type: ignore[no-untyped-def]
    today = TODAY + timedelta(days=shift)
    settled = all(
        settles_case(
            kind,
            due_on,
            commitment_status(
                kind=kind, due_on=due_on, completed_on=done, breached_on=breached, waived=waived, today=today
            ),
        )
        for kind, due_on, done, breached, waived in items
    )
    assert case_openness(items).unsettled_on(today) is not settled


def _summaries(db: Session, program_id: int) -> dict[int, tuple[int, date | None]]:
    rows = db.exec(select(FollowupSummary).where(FollowupSummary.program_id == program_id)).all()
    return {r.case_id: (r.open_tasks, r.standing_until) for r in rows}


def _tallies(db: Session, program_id: int) -> dict[date, tuple[int, int, int]]:
    rows = db.exec(select(DueTally).where(DueTally.program_id == program_id)).all()
    return {r.due_on: (r.due, r.on_time, r.open) for r in rows if (r.due, r.on_time, r.open) != (0, 0, 0)}


def test_the_service_keeps_the_summary_equal_to_a_rebuild(
    db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_pdf(monkeypatch)
    actor = actor_for(facilitator)
    first, second = sealed_case(db, facilitator), sealed_case(db, facilitator)
    program_id = first.case.program_id
    assert _summaries(db, program_id)[first.case.id] == (4, None)  # apology, two payments, hours; no contact stands

    payment = first.of_kind("payment")[0]
    entry = record_progress(
        db,
        actor=actor,
        case=first.case,
        commitment=payment,
        data=ProgressCreate(kind="payment", amount=Decimal("200"), occurred_on=date.today()),
    )
    assert _summaries(db, program_id)[first.case.id] == (3, None)
    correct_entry(db, actor=actor, case=first.case, entry=entry, reason="Bank reversed it")
    assert _summaries(db, program_id)[first.case.id] == (4, None)
    waive(
        db,
        actor=actor,
        case=second.case,
        commitment=second.of_kind("apology")[0],
        data=WaiverCreate(reason="Survivor's wish", consent_method="in_person", survivor_consent_confirmed=True),
    )
    record_progress(
        db,
        actor=actor,
        case=second.case,
        commitment=second.of_kind("no_contact")[0],
        data=ProgressCreate(kind="breach_reported", occurred_on=date.today(), evidence_note="Message sent to her"),
    )
    kept = _summaries(db, program_id)
    assert kept[second.case.id] == (4, None)  # apology waived, breach now keeps it open
    tallies = _tallies(db, program_id)
    # Both cases owe the first instalment on 1 Feb 2027; the second case's apology (15 Jan) was waived.
    assert tallies[date(2027, 2, 1)] == (2, 0, 2)
    assert tallies[date(2027, 1, 15)] == (1, 0, 1)

    rebuild_followup_summaries(db, program_id=program_id)
    db.expire_all()
    assert _summaries(db, program_id) == kept
    assert _tallies(db, program_id) == tallies
