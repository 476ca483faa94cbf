"""The journey and gate G1 are derived from the records by pure functions: every code, every edge."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from app.agreements.models import CommitmentKind
from app.conferences.models import ParticipantRole, ScreeningOutcome, SessionKind, SessionStatus
from app.conferences.rules import (
    JOURNEY,
    AcknowledgementFact,
    AgreementFact,
    AssessmentFact,
    CaseFacts,
    CommitmentFact,
    ConcernFact,
    ParticipantFact,
    ScreeningFact,
    SessionFact,
    Step,
    StepState,
    conference_conditions,
    derive_journey,
    pause_reasons,
)
from app.safety.models import ConsentScope, RiskLevel
from app.safety.rules import ConsentFact

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SURVIVOR, RESPONSIBLE, INTERPRETER, SUPPORTER = 1, 2, 3, 4


def _people(*extra: ParticipantFact, survivor_needs_interpreter: bool = False) -> tuple[ParticipantFact, ...]:
    return (
        ParticipantFact(SURVIVOR, ParticipantRole.survivor, "Rosa", survivor_needs_interpreter),
        ParticipantFact(RESPONSIBLE, ParticipantRole.responsible_party, "Dan", False),
        *extra,
    )


def _consents(*ids: int, scope: ConsentScope = ConsentScope.conference) -> tuple[ConsentFact, ...]:
    return tuple(ConsentFact(pid, scope, NOW - timedelta(days=2), None) for pid in ids)


def ready_facts(**overrides) -> CaseFacts:  # type: ignore[no-untyped-def]
    """A case that meets every G1 condition; each test breaks one thing."""
    facts = CaseFacts(
        case_id=7,
        now=NOW,
        participants=_people(),
        screenings=(
            ScreeningFact(SURVIVOR, ScreeningOutcome.ready, NOW - timedelta(days=10)),
            ScreeningFact(RESPONSIBLE, ScreeningOutcome.ready, NOW - timedelta(days=10)),
        ),
        acknowledgements=(AcknowledgementFact(RESPONSIBLE, NOW - timedelta(days=9)),),
        assessments=(AssessmentFact(SURVIVOR, RiskLevel.low, NOW - timedelta(days=8)),),
        consents=_consents(SURVIVOR, RESPONSIBLE),
    )
    return replace(facts, **overrides)


def _codes(facts: CaseFacts, attendees=None) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.code for c in conference_conditions(facts, attendees)]


def test_a_case_meeting_every_condition_is_ready_to_schedule() -> None:
    facts = ready_facts()
    assert _codes(facts) == []
    journey = derive_journey(facts)
    assert journey.stage == Step.ready
    assert not journey.paused


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"participants": (ParticipantFact(RESPONSIBLE, ParticipantRole.responsible_party, "Dan", False),)},
            "survivor_missing",
        ),
        (
            {"participants": (ParticipantFact(SURVIVOR, ParticipantRole.survivor, "Rosa", False),)},
            "responsible_party_missing",
        ),
        ({"screenings": (ScreeningFact(SURVIVOR, ScreeningOutcome.ready, NOW),)}, "screening_missing"),
        (
            {
                "screenings": (
                    ScreeningFact(SURVIVOR, ScreeningOutcome.ready, NOW - timedelta(days=91)),
                    ScreeningFact(RESPONSIBLE, ScreeningOutcome.ready, NOW),
                )
            },
            "screening_expired",
        ),
        (
            {
                "screenings": (
                    ScreeningFact(SURVIVOR, ScreeningOutcome.not_yet, NOW),
                    ScreeningFact(RESPONSIBLE, ScreeningOutcome.ready, NOW),
                )
            },
            "not_ready",
        ),
        (
            {
                "screenings": (
                    ScreeningFact(SURVIVOR, ScreeningOutcome.ready, NOW),
                    ScreeningFact(RESPONSIBLE, ScreeningOutcome.not_suitable, NOW),
                )
            },
            "not_ready",
        ),
        ({"acknowledgements": ()}, "acknowledgement_missing"),
        ({"assessments": ()}, "safety_assessment_missing"),
        ({"assessments": (AssessmentFact(SURVIVOR, RiskLevel.critical, NOW),)}, "risk_critical"),
        ({"assessments": (AssessmentFact(SURVIVOR, RiskLevel.high, NOW),)}, "safety_plan_missing"),
        (
            {"assessments": (AssessmentFact(SURVIVOR, RiskLevel.medium, NOW),), "safety_plan_required_at_medium": True},
            "safety_plan_missing",
        ),
        ({"consents": _consents(SURVIVOR)}, "consent_missing"),
        ({"consents": _consents(SURVIVOR, RESPONSIBLE, scope=ConsentScope.preparation)}, "consent_missing"),
        (
            {"consents": (*_consents(SURVIVOR), ConsentFact(RESPONSIBLE, ConsentScope.conference, NOW, NOW))},
            "consent_withdrawn",
        ),
        ({"participants": _people(survivor_needs_interpreter=True)}, "interpreter_missing"),
        ({"concerns": (ConcernFact(1, urgent=True, reviewed=False),)}, "case_paused"),
    ],
)
def test_each_unmet_condition_has_its_own_code(overrides: dict, expected: str) -> None:
    assert expected in _codes(ready_facts(**overrides))
    assert derive_journey(ready_facts(**overrides)).stage == Step.preparation


def test_every_unmet_condition_is_listed_not_only_the_first() -> None:
    codes = _codes(ready_facts(screenings=(), acknowledgements=(), assessments=(), consents=()))
    assert codes == [
        "screening_missing",
        "screening_missing",
        "acknowledgement_missing",
        "safety_assessment_missing",
        "consent_missing",
        "consent_missing",
    ]


def test_a_screening_exactly_at_the_validity_limit_still_counts() -> None:
    at_limit = (
        ScreeningFact(SURVIVOR, ScreeningOutcome.ready, NOW - timedelta(days=90)),
        ScreeningFact(RESPONSIBLE, ScreeningOutcome.ready, NOW),
    )
    just_past = (
        ScreeningFact(SURVIVOR, ScreeningOutcome.ready, NOW - timedelta(days=90, seconds=1)),
        ScreeningFact(RESPONSIBLE, ScreeningOutcome.ready, NOW),
    )
    assert _codes(ready_facts(screenings=at_limit)) == []
    assert _codes(ready_facts(screenings=just_past)) == ["screening_expired"]


def test_the_program_validity_window_is_used() -> None:
    facts = ready_facts(screening_validity_days=30)
    assert _codes(facts) == []
    assert _codes(replace(facts, now=NOW + timedelta(days=21))) == ["screening_expired", "screening_expired"]


def test_the_latest_screening_counts_so_a_rescreen_can_lift_or_block_readiness() -> None:
    lifted = (
        ScreeningFact(SURVIVOR, ScreeningOutcome.not_yet, NOW - timedelta(days=20)),
        ScreeningFact(SURVIVOR, ScreeningOutcome.ready, NOW - timedelta(days=1)),
        ScreeningFact(RESPONSIBLE, ScreeningOutcome.ready, NOW),
    )
    blocked = (
        ScreeningFact(SURVIVOR, ScreeningOutcome.ready, NOW - timedelta(days=20)),
        ScreeningFact(SURVIVOR, ScreeningOutcome.not_yet, NOW - timedelta(days=1)),
        ScreeningFact(RESPONSIBLE, ScreeningOutcome.ready, NOW),
    )
    assert _codes(ready_facts(screenings=lifted)) == []
    assert _codes(ready_facts(screenings=blocked)) == ["not_ready"]


@pytest.mark.parametrize(
    ("level", "at_medium", "needs_plan"),
    [
        (RiskLevel.low, True, False),
        (RiskLevel.medium, False, False),
        (RiskLevel.medium, True, True),
        (RiskLevel.high, False, True),
    ],
)
def test_a_safety_plan_is_needed_at_high_risk_and_at_medium_when_the_program_says(
    level: RiskLevel, at_medium: bool, needs_plan: bool
) -> None:
    facts = ready_facts(assessments=(AssessmentFact(SURVIVOR, level, NOW),), safety_plan_required_at_medium=at_medium)
    assert ("safety_plan_missing" in _codes(facts)) is needs_plan
    assert _codes(replace(facts, has_safety_plan=True)) == []


def test_a_lower_reassessment_after_a_critical_one_lifts_the_block() -> None:
    history = (
        AssessmentFact(SURVIVOR, RiskLevel.critical, NOW - timedelta(days=3)),
        AssessmentFact(SURVIVOR, RiskLevel.low, NOW - timedelta(days=1)),
    )
    assert _codes(ready_facts(assessments=history)) == []


def test_critical_risk_pauses_the_case_and_blocks_it() -> None:
    facts = ready_facts(assessments=(AssessmentFact(SURVIVOR, RiskLevel.critical, NOW),))
    assert [c.code for c in pause_reasons(facts)] == ["risk_critical"]
    assert _codes(facts) == ["case_paused", "risk_critical"]
    assert derive_journey(facts).paused


def test_withdrawing_any_participation_scope_pauses_the_case() -> None:
    withdrawn = ConsentFact(SURVIVOR, ConsentScope.contact, NOW - timedelta(days=1), NOW)
    facts = ready_facts(consents=(*ready_facts().consents, withdrawn))
    assert [c.code for c in pause_reasons(facts)] == ["consent_withdrawn"]
    assert _codes(facts)[0] == "case_paused"


def test_withdrawing_a_non_participation_scope_does_not_pause() -> None:
    withdrawn = ConsentFact(SURVIVOR, ConsentScope.progress_updates, NOW - timedelta(days=1), NOW)
    facts = ready_facts(consents=(*ready_facts().consents, withdrawn))
    assert pause_reasons(facts) == []
    assert _codes(facts) == []


def test_consent_given_again_after_withdrawal_lifts_the_pause() -> None:
    history = (
        ConsentFact(RESPONSIBLE, ConsentScope.conference, NOW - timedelta(days=5), NOW - timedelta(days=4)),
        ConsentFact(RESPONSIBLE, ConsentScope.conference, NOW - timedelta(days=1), None),
        *_consents(SURVIVOR),
    )
    assert pause_reasons(ready_facts(consents=history)) == []
    assert _codes(ready_facts(consents=history)) == []


def test_a_reviewed_urgent_concern_and_a_non_urgent_one_do_not_pause() -> None:
    facts = ready_facts(
        concerns=(ConcernFact(1, urgent=True, reviewed=True), ConcernFact(2, urgent=False, reviewed=False))
    )
    assert pause_reasons(facts) == []


def test_an_interpreter_among_the_attendees_meets_the_interpreter_need() -> None:
    interpreter = ParticipantFact(INTERPRETER, ParticipantRole.interpreter, "Ines", False)
    facts = ready_facts(
        participants=_people(interpreter, survivor_needs_interpreter=True),
        consents=_consents(SURVIVOR, RESPONSIBLE, INTERPRETER),
    )
    assert _codes(facts) == []
    assert "interpreter_missing" in _codes(facts, attendees={SURVIVOR, RESPONSIBLE})


def test_only_the_attendees_need_consent() -> None:
    supporter = ParticipantFact(SUPPORTER, ParticipantRole.supporter, "Sol", False)
    facts = ready_facts(participants=_people(supporter))
    assert _codes(facts) == ["consent_missing"]
    assert _codes(facts, attendees={SURVIVOR, RESPONSIBLE}) == []


def test_every_condition_links_to_where_it_is_fixed() -> None:
    facts = ready_facts(
        screenings=(),
        acknowledgements=(),
        assessments=(),
        consents=(),
        participants=_people(survivor_needs_interpreter=True),
    )
    assert all(c.fix_path and c.fix_path.startswith("/cases/7/") for c in conference_conditions(facts))


def test_a_new_case_is_in_preparation_with_referral_done_and_the_rest_not_started() -> None:
    journey = derive_journey(CaseFacts(case_id=7, now=NOW))
    states = {s.step: s.state for s in journey.steps}
    assert journey.stage == Step.preparation
    assert states[Step.referral] == StepState.done
    assert states[Step.preparation] == StepState.current
    assert states[Step.ready] == StepState.blocked
    assert all(states[step] == StepState.not_started for step in JOURNEY[3:])
    assert [c.code for c in journey.blockers] == ["survivor_missing", "responsible_party_missing"]


def test_every_journey_step_appears_once_in_order() -> None:
    journey = derive_journey(ready_facts())
    assert [s.step for s in journey.steps] == list(JOURNEY)
    assert sum(s.state == StepState.current for s in journey.steps) == 1
    assert journey.next_step == Step.conference_scheduled


# --- after the conference: the agreement, then monitoring (G6) ----------------------------------

HELD = (SessionFact(SessionKind.conference, SessionStatus.held, NOW - timedelta(days=30)),)


def _commitment(**overrides) -> CommitmentFact:  # type: ignore[no-untyped-def]
    fields = {
        "kind": CommitmentKind.payment,
        "due_on": date(2026, 12, 1),
        "completed_on": None,
        "breached_on": None,
        "waived": False,
    }
    return CommitmentFact(**(fields | overrides))


@pytest.mark.parametrize(
    ("latest", "stage"),
    [
        ("draft", Step.agreement_drafted),
        ("changes_requested", Step.agreement_drafted),
        ("in_review", Step.survivor_review),
        ("accepted", Step.survivor_review),
        ("signing", Step.signing),
    ],
)
def test_after_the_conference_the_stage_follows_the_agreement(latest: str, stage: Step) -> None:
    journey = derive_journey(ready_facts(sessions=HELD, agreement=AgreementFact(latest, ever_sealed=False)))
    assert journey.stage == stage
    states = {s.step: s.state for s in journey.steps}
    assert states[Step.conference_held] == StepState.done
    assert states[stage] == StepState.current


def test_a_sealed_agreement_with_open_commitments_is_in_monitoring() -> None:
    facts = ready_facts(
        sessions=HELD,
        agreement=AgreementFact("sealed", ever_sealed=True),
        commitments=(_commitment(completed_on=date(2026, 11, 1)), _commitment(due_on=date(2026, 10, 1))),
    )
    journey = derive_journey(facts)
    assert journey.stage == Step.monitoring
    assert journey.next_step == Step.completed


def test_an_amendment_in_drafting_keeps_a_sealed_case_in_monitoring() -> None:
    facts = ready_facts(sessions=HELD, agreement=AgreementFact("draft", ever_sealed=True), commitments=(_commitment(),))
    assert derive_journey(facts).stage == Step.monitoring


def test_a_case_completes_when_every_commitment_is_completed_or_waived() -> None:
    facts = ready_facts(
        sessions=HELD,
        agreement=AgreementFact("sealed", ever_sealed=True),
        commitments=(
            _commitment(completed_on=date(2026, 11, 20)),
            _commitment(waived=True),
            _commitment(kind=CommitmentKind.no_contact, due_on=None),  # standing, not breached
        ),
    )
    journey = derive_journey(facts)
    assert journey.stage == Step.completed
    assert all(s.state == StepState.done for s in journey.steps[:-1])


def test_a_breached_no_contact_commitment_keeps_the_case_in_monitoring() -> None:
    breached = _commitment(kind=CommitmentKind.no_contact, due_on=None, breached_on=date(2026, 11, 2))
    facts = ready_facts(
        sessions=HELD,
        agreement=AgreementFact("sealed", ever_sealed=True),
        commitments=(_commitment(completed_on=date(2026, 11, 20)), breached),
    )
    assert derive_journey(facts).stage == Step.monitoring


def test_a_closed_case_says_so_and_shows_where_it_stopped() -> None:
    facts = ready_facts(
        sessions=HELD,
        agreement=AgreementFact("sealed", ever_sealed=True),
        commitments=(_commitment(due_on=date(2026, 10, 1)),),
        closure_reason="non_compliance",
    )
    journey = derive_journey(facts)
    assert journey.stage == Step.closed
    assert journey.reached == Step.monitoring
    assert journey.next_step is None and journey.blockers == ()
    states = {s.step: s.state for s in journey.steps}
    assert states[Step.monitoring] == StepState.stopped
    assert states[Step.completed] == StepState.not_started
    assert Step.closed not in JOURNEY


def test_completion_is_judged_on_the_programs_local_date() -> None:
    """Due on 21 November in Auckland: at 12:00 UTC it is already the 22nd there, so the standing
    no-contact term that ended on the 21st is over and the case is complete; in UTC it is not yet."""
    ended = _commitment(kind=CommitmentKind.no_contact, due_on=date(2026, 11, 21))
    facts = ready_facts(
        sessions=HELD,
        agreement=AgreementFact("sealed", ever_sealed=True),
        commitments=(ended,),
        timezone="Pacific/Auckland",
    )
    assert derive_journey(facts).stage == Step.completed
    assert derive_journey(replace(facts, timezone="UTC")).stage == Step.monitoring
