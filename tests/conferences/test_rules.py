"""The journey is derived from the records by one pure function."""

import pytest

from app.conferences.models import ParticipantRole
from app.conferences.rules import JOURNEY, CaseFacts, ParticipantFact, Step, StepState, derive_journey


def _facts(*roles: ParticipantRole) -> CaseFacts:
    return CaseFacts(
        case_id=7,
        participants=tuple(ParticipantFact(i, role, f"P{i}", False) for i, role in enumerate(roles, start=1)),
    )


def _codes(facts: CaseFacts) -> list[str]:
    return [c.code for c in derive_journey(facts).blockers]


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ((), ["survivor_missing", "responsible_party_missing"]),
        ((ParticipantRole.survivor,), ["responsible_party_missing", "screening_missing"]),
        ((ParticipantRole.responsible_party,), ["survivor_missing", "screening_missing"]),
        ((ParticipantRole.supporter, ParticipantRole.interpreter), ["survivor_missing", "responsible_party_missing"]),
        ((ParticipantRole.survivor, ParticipantRole.responsible_party), ["screening_missing", "screening_missing"]),
    ],
)
def test_blockers_name_what_is_missing(roles: tuple[ParticipantRole, ...], expected: list[str]) -> None:
    assert _codes(_facts(*roles)) == expected


def test_a_new_case_is_in_preparation_with_referral_done_and_the_rest_not_started() -> None:
    journey = derive_journey(_facts())
    states = {s.step: s.state for s in journey.steps}
    assert journey.stage == Step.preparation
    assert states[Step.referral] == StepState.done
    assert states[Step.preparation] == StepState.current
    assert states[Step.ready] == StepState.blocked
    assert all(states[step] == StepState.not_started for step in JOURNEY[3:])


def test_every_journey_step_appears_once_in_order() -> None:
    journey = derive_journey(_facts(ParticipantRole.survivor))
    assert [s.step for s in journey.steps] == list(JOURNEY)
    assert sum(s.state == StepState.current for s in journey.steps) == 1


def test_missing_participant_blockers_link_to_where_they_are_fixed() -> None:
    blockers = derive_journey(_facts()).blockers
    assert {c.fix_path for c in blockers} == {"/cases/7/participants/new"}


def test_next_step_after_preparation_is_ready() -> None:
    assert derive_journey(_facts()).next_step == Step.ready
