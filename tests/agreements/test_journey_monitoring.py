"""The case journey read from the database after the conference: the agreement's versions, then the
commitments of the sealed version, then completion or closure."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from app.agreements.commitment_schemas import ClosureCreate, WaiverCreate
from app.agreements.commitment_service import close_case, waive
from app.agreements.service import save_draft
from app.agreements.terms import ApologyTerm, NoContactTerm
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import ClosureReason
from app.conferences.queries import case_row
from app.conferences.rules import Step
from app.db import utcnow
from tests.agreements.monitoring_support import sealed_case, stub_pdf
from tests.agreements.test_service import held_case, terms_for


@pytest.fixture(autouse=True)
def _fast_seal(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_pdf(monkeypatch)


def test_a_draft_after_the_conference_is_the_agreement_drafted_stage(db: Session, facilitator: User) -> None:
    held = held_case(db, facilitator)
    assert case_row(db, case=held.case).journey.stage == Step.conference_held
    save_draft(db, actor=actor_for(facilitator), case=held.case, terms=terms_for(held), based_on=None)
    assert case_row(db, case=held.case).journey.stage == Step.agreement_drafted


def test_sealing_moves_the_case_to_monitoring(db: Session, facilitator: User) -> None:
    sealed = sealed_case(db, facilitator)
    assert case_row(db, case=sealed.case).journey.stage == Step.monitoring


def test_waiving_the_last_open_commitment_completes_the_case(db: Session, facilitator: User) -> None:
    yesterday = utcnow().date() - timedelta(days=1)

    def terms(held):  # type: ignore[no-untyped-def]
        return [
            ApologyTerm(owed_by=held.responsible.id, form="written", due_date=yesterday),
            NoContactTerm(owed_by=held.responsible.id),
        ]

    sealed = sealed_case(db, facilitator, terms=terms)
    apology = sealed.of_kind("apology")[0]
    waive(
        db,
        actor=actor_for(facilitator),
        case=sealed.case,
        commitment=apology,
        data=WaiverCreate(reason="Agreed at review", consent_method="in_person", survivor_consent_confirmed=True),
    )
    assert case_row(db, case=sealed.case).journey.stage == Step.completed


def test_a_closed_case_is_closed_whatever_stage_it_reached(db: Session, facilitator: User) -> None:
    sealed = sealed_case(db, facilitator)
    close_case(
        db,
        actor=actor_for(facilitator),
        case=sealed.case,
        data=ClosureCreate(reason=ClosureReason.non_compliance, note="No payment after three reminders."),
    )
    journey = case_row(db, case=sealed.case).journey
    assert journey.stage == Step.closed
    assert journey.reached == Step.monitoring
    assert journey.closure_reason == "non_compliance"
