"""Screening and acknowledgement services: the rules they enforce, the history they keep, what they audit."""

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from app.audit.models import AuditEvent
from app.auth.models import User, UserRole
from app.auth.service import actor_for
from app.conferences.models import (
    Acknowledgement,
    AcknowledgementMethod,
    Case,
    Participant,
    ParticipantRole,
    Screening,
    ScreeningOutcome,
)
from app.conferences.preparation import (
    list_acknowledgements,
    list_screenings,
    read_screening,
    record_acknowledgement,
    record_screening,
)
from app.conferences.queries import case_facts
from app.conferences.rules import conference_conditions
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.programs.models import Program
from tests.conferences.test_screening_rules import RESPONSIBLE_READY, SURVIVOR_READY
from tests.factories import make_case, make_participant, make_user

RATIONALE = "Calm, well supported, clear about what a meeting can do."


@pytest.fixture
def case(db: Session, facilitator: User) -> Case:
    return make_case(db, facilitator)


@pytest.fixture
def survivor(db: Session, facilitator: User, case: Case) -> Participant:
    return make_participant(db, facilitator, case, ParticipantRole.survivor, display_name="Rosa")


@pytest.fixture
def responsible(db: Session, facilitator: User, case: Case) -> Participant:
    return make_participant(db, facilitator, case, ParticipantRole.responsible_party, display_name="Dan")


def _screen(db: Session, by: User, participant: Participant, answers: dict, **overrides) -> Screening:  # type: ignore[no-untyped-def]
    kwargs = {"outcome": None, "override_reason": None, "rationale": RATIONALE} | overrides
    return record_screening(db, actor=actor_for(by), participant=participant, answers=answers, **kwargs)


def _acknowledge(db: Session, by: User, participant: Participant, **overrides) -> Acknowledgement:  # type: ignore[no-untyped-def]
    kwargs = {
        "wording": "I recruited Rosa with a false job offer and kept her passport.",
        "method": AcknowledgementMethod.in_person,
        "acknowledged_at": utcnow() - timedelta(days=1),
    } | overrides
    return record_acknowledgement(db, actor=actor_for(by), participant=participant, **kwargs)


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.seq))).all())


def _codes(db: Session, case: Case) -> list[str]:
    return [c.code for c in conference_conditions(case_facts(db, case=case))]


# --- recording a screening -----------------------------------------------------------------


def test_a_screening_stores_the_instrument_answers_outcomes_rationale_and_who(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    screening = _screen(db, facilitator, survivor, SURVIVOR_READY | {"anything_else": "  A quiet room.  "})
    assert (screening.instrument_key, screening.instrument_version) == ("survivor", 1)
    assert screening.answers["trafficker_contact"] == "no"
    assert screening.answers["anything_else"] == "A quiet room."
    assert screening.suggested_outcome == screening.outcome == ScreeningOutcome.ready
    assert screening.rationale == RATIONALE
    assert screening.override_reason is None
    assert screening.screened_by_id == facilitator.id
    assert utcnow() - screening.completed_at < timedelta(minutes=1)


def test_the_audit_event_names_ids_and_outcomes_but_never_the_answers(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    answers = SURVIVOR_READY | {"trafficker_contact": "in_contact", "anything_else": "He calls my sister."}
    screening = _screen(db, facilitator, survivor, answers, outcome=ScreeningOutcome.ready, override_reason="Blocked")
    events = _events(db, "screening.recorded") + _events(db, "screening.overridden")
    assert [e.entity_id for e in events] == [str(screening.id)] * 2
    for event in events:
        text = json.dumps(event.detail)
        assert "He calls my sister" not in text and "in_contact" not in text
        assert "Blocked" not in text and RATIONALE not in text
        assert event.detail["participant_id"] == survivor.id
        assert (event.detail["suggested_outcome"], event.detail["outcome"]) == ("not_yet", "ready")


def test_an_override_without_a_reason_is_refused_and_nothing_is_stored(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _screen(db, facilitator, survivor, SURVIVOR_READY | {"support": "nobody"}, outcome=ScreeningOutcome.ready)
    assert "override_reason" in refused.value.field_errors
    assert db.exec(select(Screening)).first() is None
    assert _events(db, "screening.recorded") == []


def test_an_override_with_a_reason_is_recorded_and_audited_as_an_override(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    screening = _screen(
        db,
        facilitator,
        survivor,
        SURVIVOR_READY | {"support": "nobody"},
        outcome=ScreeningOutcome.ready,
        override_reason="  Her advocate starts on Monday and will attend.  ",
    )
    assert (screening.suggested_outcome, screening.outcome) == (ScreeningOutcome.not_yet, ScreeningOutcome.ready)
    assert screening.override_reason == "Her advocate starts on Monday and will attend."
    assert [e.entity_id for e in _events(db, "screening.overridden")] == [str(screening.id)]


def test_accepting_the_suggestion_is_no_override_and_a_stray_reason_is_not_kept(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    screening = _screen(
        db, facilitator, survivor, SURVIVOR_READY, outcome=ScreeningOutcome.ready, override_reason="Not needed"
    )
    assert screening.override_reason is None
    assert _events(db, "screening.overridden") == []


@pytest.mark.parametrize("role, ready", [("survivor", SURVIVOR_READY), ("responsible_party", RESPONSIBLE_READY)])
def test_coercion_can_never_be_recorded_as_ready_even_with_a_reason(
    db: Session, facilitator: User, case: Case, role: str, ready: dict
) -> None:
    person = make_participant(db, facilitator, case, ParticipantRole(role))
    with pytest.raises(Conflict) as refused:
        _screen(
            db, facilitator, person, ready | {"coerced": "yes"}, outcome=ScreeningOutcome.ready, override_reason="Ok"
        )
    assert [c.code for c in refused.value.conditions] == ["coercion_blocks_ready"]
    assert db.exec(select(Screening)).first() is None


def test_coercion_may_be_recorded_as_not_suitable_with_a_reason(
    db: Session, facilitator: User, responsible: Participant
) -> None:
    screening = _screen(
        db,
        facilitator,
        responsible,
        RESPONSIBLE_READY | {"coerced": "yes"},
        outcome=ScreeningOutcome.not_suitable,
        override_reason="His employer keeps offering him money to settle.",
    )
    assert (screening.suggested_outcome, screening.outcome) == (ScreeningOutcome.not_yet, ScreeningOutcome.not_suitable)


def test_answers_that_do_not_fit_the_instrument_are_refused_with_field_errors(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    answers = {k: v for k, v in SURVIVOR_READY.items() if k != "coerced"} | {"debt": "lots"}
    with pytest.raises(InvalidInput) as refused:
        _screen(db, facilitator, survivor, answers)
    assert refused.value.field_errors == {
        "answers.debt": "Answer whether anyone says they still owe them money: choose one of the answers listed.",
        "answers.coerced": (
            "Answer whether anyone pressured them, threatened them or offered them something to take part."
        ),
    }


def test_a_screening_needs_a_rationale(db: Session, facilitator: User, survivor: Participant) -> None:
    with pytest.raises(InvalidInput) as refused:
        _screen(db, facilitator, survivor, SURVIVOR_READY, rationale="   ")
    assert "rationale" in refused.value.field_errors


def test_re_screening_adds_a_row_and_keeps_the_history(db: Session, facilitator: User, survivor: Participant) -> None:
    first = _screen(db, facilitator, survivor, SURVIVOR_READY | {"current_crisis": "yes"})
    first.completed_at = utcnow() - timedelta(days=20)
    db.add(first)
    db.flush()
    second = _screen(db, facilitator, survivor, SURVIVOR_READY)
    rows = list_screenings(db, actor=actor_for(facilitator), participant=survivor)
    assert [r.screening.id for r in rows] == [second.id, first.id]
    assert [r.current for r in rows] == [True, False]
    assert [r.screening.outcome for r in rows] == [ScreeningOutcome.ready, ScreeningOutcome.not_yet]


# --- who may screen whom -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supporter", "community_member", "interpreter"])
def test_only_the_survivor_and_the_responsible_party_are_screened(
    db: Session, facilitator: User, case: Case, role: str
) -> None:
    person = make_participant(db, facilitator, case, ParticipantRole(role))
    with pytest.raises(Conflict) as refused:
        _screen(db, facilitator, person, SURVIVOR_READY)
    assert [c.code for c in refused.value.conditions] == ["role_not_screened"]


def test_an_admin_may_screen_in_any_case_of_the_program(db: Session, admin: User, survivor: Participant) -> None:
    assert _screen(db, admin, survivor, SURVIVOR_READY).screened_by_id == admin.id


def test_staff_may_neither_screen_nor_read_screenings(db: Session, staff: User, survivor: Participant) -> None:
    with pytest.raises(PermissionDenied):
        _screen(db, staff, survivor, SURVIVOR_READY)
    with pytest.raises(PermissionDenied):
        list_screenings(db, actor=actor_for(staff), participant=survivor)


def test_a_facilitator_not_assigned_to_the_case_cannot_screen_or_read(
    db: Session, facilitator: User, facilitator2: User, survivor: Participant
) -> None:
    screening = _screen(db, facilitator, survivor, SURVIVOR_READY)
    with pytest.raises(NotFound):
        _screen(db, facilitator2, survivor, SURVIVOR_READY)
    with pytest.raises(NotFound):
        read_screening(db, actor=actor_for(facilitator2), participant=survivor, screening_id=screening.id)  # type: ignore[arg-type]


def test_another_programs_admin_cannot_screen(db: Session, other_admin: User, survivor: Participant) -> None:
    with pytest.raises(NotFound):
        _screen(db, other_admin, survivor, SURVIVOR_READY)


# --- reading is audited --------------------------------------------------------------------


def test_reading_a_screening_is_audited_without_its_answers(
    db: Session, facilitator: User, admin: User, survivor: Participant
) -> None:
    screening = _screen(db, facilitator, survivor, SURVIVOR_READY | {"anything_else": "Night shifts only."})
    view = read_screening(db, actor=actor_for(admin), participant=survivor, screening_id=screening.id)  # type: ignore[arg-type]
    assert [line.label for line in view.answers if line.question_id == "coerced"] == ["No"]
    [event] = _events(db, "screening.read")
    assert (event.actor_id, event.entity_id, event.case_id) == (admin.id, str(screening.id), survivor.case_id)
    assert "Night shifts" not in json.dumps(event.detail)


def test_listing_screenings_is_audited(db: Session, facilitator: User, survivor: Participant) -> None:
    list_screenings(db, actor=actor_for(facilitator), participant=survivor)
    assert len(_events(db, "screening.history.read")) == 1


def test_a_screening_is_read_only_through_its_own_participant(
    db: Session, facilitator: User, survivor: Participant, responsible: Participant
) -> None:
    screening = _screen(db, facilitator, survivor, SURVIVOR_READY)
    with pytest.raises(NotFound):
        read_screening(db, actor=actor_for(facilitator), participant=responsible, screening_id=screening.id)  # type: ignore[arg-type]


def test_a_screening_taken_with_an_instrument_no_longer_shipped_still_shows_its_answers(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    screening = _screen(db, facilitator, survivor, SURVIVOR_READY)
    screening.instrument_version = 0
    db.add(screening)
    db.flush()
    view = read_screening(db, actor=actor_for(facilitator), participant=survivor, screening_id=screening.id)  # type: ignore[arg-type]
    assert view.instrument is None
    assert ("coerced", "no") in [(line.question_id, line.label) for line in view.answers]


# --- the journey ---------------------------------------------------------------------------


def test_screenings_and_the_acknowledgement_clear_their_journey_blockers(
    db: Session, facilitator: User, case: Case, survivor: Participant, responsible: Participant
) -> None:
    assert _codes(db, case).count("screening_missing") == 2
    _screen(db, facilitator, survivor, SURVIVOR_READY)
    _screen(db, facilitator, responsible, RESPONSIBLE_READY | {"amends": "no"})
    codes = _codes(db, case)
    assert "screening_missing" not in codes
    assert codes.count("not_ready") == 1
    assert "acknowledgement_missing" in codes
    _acknowledge(db, facilitator, responsible)
    assert "acknowledgement_missing" not in _codes(db, case)


def test_a_screening_older_than_the_programs_window_no_longer_counts(
    db: Session, facilitator: User, case: Case, survivor: Participant, program: Program
) -> None:
    program.screening_validity_days = 30
    db.add(program)
    screening = _screen(db, facilitator, survivor, SURVIVOR_READY)
    screening.completed_at = utcnow() - timedelta(days=31)
    db.add(screening)
    db.flush()
    assert "screening_expired" in _codes(db, case)
    [row] = list_screenings(db, actor=actor_for(facilitator), participant=survivor)
    assert row.validity.expired


# --- acknowledgement -----------------------------------------------------------------------


def test_an_acknowledgement_stores_its_wording_method_and_time_and_is_audited_without_wording(
    db: Session, facilitator: User, responsible: Participant
) -> None:
    when = utcnow() - timedelta(days=2)
    ack = _acknowledge(db, facilitator, responsible, acknowledged_at=when, method=AcknowledgementMethod.through_counsel)
    assert ack.wording.startswith("I recruited Rosa")
    assert (ack.method, ack.acknowledged_at, ack.recorded_by_id) == (
        AcknowledgementMethod.through_counsel,
        when,
        facilitator.id,
    )
    [event] = _events(db, "acknowledgement.recorded")
    assert event.detail == {"participant_id": responsible.id, "method": "through_counsel"}


def test_only_the_responsible_party_acknowledges_the_facts(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    with pytest.raises(Conflict) as refused:
        _acknowledge(db, facilitator, survivor)
    assert [c.code for c in refused.value.conditions] == ["not_responsible_party"]


def test_an_acknowledgement_cannot_be_dated_in_the_future(
    db: Session, facilitator: User, responsible: Participant
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _acknowledge(db, facilitator, responsible, acknowledged_at=utcnow() + timedelta(hours=1))
    assert "acknowledged_at" in refused.value.field_errors
    assert db.exec(select(Acknowledgement)).first() is None


def test_an_acknowledgement_needs_its_wording(db: Session, facilitator: User, responsible: Participant) -> None:
    with pytest.raises(InvalidInput) as refused:
        _acknowledge(db, facilitator, responsible, wording=" \n ")
    assert "wording" in refused.value.field_errors


def test_an_acknowledgement_needs_a_time_with_its_zone(
    db: Session, facilitator: User, responsible: Participant
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _acknowledge(db, facilitator, responsible, acknowledged_at=utcnow().replace(tzinfo=None))
    assert "acknowledged_at" in refused.value.field_errors


def test_staff_cannot_record_or_read_acknowledgements(db: Session, staff: User, responsible: Participant) -> None:
    with pytest.raises(PermissionDenied):
        _acknowledge(db, staff, responsible)
    with pytest.raises(PermissionDenied):
        list_acknowledgements(db, actor=actor_for(staff), participant=responsible)


def test_acknowledgements_keep_their_history_newest_first(
    db: Session, facilitator: User, responsible: Participant
) -> None:
    older = _acknowledge(db, facilitator, responsible, acknowledged_at=utcnow() - timedelta(days=9))
    newer = _acknowledge(db, facilitator, responsible, wording="Revised wording agreed with his lawyer.")
    rows = list_acknowledgements(db, actor=actor_for(facilitator), participant=responsible)
    assert [r.acknowledgement.id for r in rows] == [newer.id, older.id]
    assert rows[0].recorded_by.id == facilitator.id  # type: ignore[union-attr]


def test_a_facilitator_from_another_program_cannot_acknowledge(
    db: Session, other_program: Program, responsible: Participant
) -> None:
    outsider = make_user(db, other_program, UserRole.facilitator, "Out Sider")
    with pytest.raises(NotFound):
        _acknowledge(db, outsider, responsible)
