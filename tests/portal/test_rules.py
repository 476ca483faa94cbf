"""Portal rules: what the home page says about where the person is, and each link's state. Pure functions."""

from datetime import timedelta

import pytest

from app.conferences.models import ParticipantRole
from app.conferences.rules import CaseFacts, Journey, ParticipantFact, Step
from app.db import utcnow
from app.portal import rules
from app.portal.models import PortalLink
from app.portal.rules import LinkState, link_state, link_usable, portal_status
from app.safety.models import ConsentScope
from app.safety.rules import ConsentFact

NOW = utcnow()
ROSA, DAN = 1, 2
PEOPLE = (
    ParticipantFact(ROSA, ParticipantRole.survivor, "Rosa", False),
    ParticipantFact(DAN, ParticipantRole.responsible_party, "Dan", False),
)


def _given(pid: int, scope: ConsentScope, withdrawn: bool = False) -> ConsentFact:
    return ConsentFact(pid, scope, NOW - timedelta(days=2), NOW - timedelta(days=1) if withdrawn else None)


def _facts(*consents: ConsentFact) -> CaseFacts:
    return CaseFacts(case_id=9, now=NOW, participants=PEOPLE, consents=consents)


@pytest.mark.parametrize(
    ("consents", "stage", "now", "next_", "stopped"),
    [
        ((), Step.preparation, rules.PREPARING, rules.NEXT_CHOICES, False),
        ((_given(ROSA, ConsentScope.conference),), Step.preparation, rules.PREPARING, rules.NEXT_MEET, False),
        ((_given(ROSA, ConsentScope.conference),), Step.ready, rules.READY, rules.NEXT_DATE, False),
        (
            (_given(ROSA, ConsentScope.conference, withdrawn=True),),
            Step.preparation,
            rules.STOPPED,
            rules.NEXT_AGAIN,
            True,
        ),
        (
            (_given(ROSA, ConsentScope.contact, withdrawn=True),),
            Step.preparation,
            rules.STOPPED,
            rules.NEXT_AGAIN,
            True,
        ),
        (
            (_given(ROSA, ConsentScope.preparation, withdrawn=True),),
            Step.preparation,
            rules.STOPPED,
            rules.NEXT_AGAIN,
            True,
        ),
        # Stopping something that is not participation does not stop the process.
        (
            (_given(ROSA, ConsentScope.conference), _given(ROSA, ConsentScope.progress_updates, withdrawn=True)),
            Step.preparation,
            rules.PREPARING,
            rules.NEXT_MEET,
            False,
        ),
    ],
)
def test_portal_status_speaks_of_the_persons_own_choices(consents, stage, now, next_, stopped) -> None:  # type: ignore[no-untyped-def]
    status = portal_status(_facts(*consents), Journey(stage=stage, steps=()), participant_id=ROSA)
    assert (status.now, status.next, status.stopped) == (now, next_, stopped)


def test_the_other_partys_withdrawal_is_not_told_to_the_person() -> None:
    facts = _facts(_given(ROSA, ConsentScope.conference), _given(DAN, ConsentScope.conference, withdrawn=True))
    status = portal_status(facts, Journey(stage=Step.preparation, steps=()), participant_id=ROSA)
    assert status.now == rules.PREPARING
    assert not status.stopped


@pytest.mark.parametrize(
    ("stage", "step"),
    [(Step.referral, 0), (Step.preparation, 0), (Step.ready, 1), (Step.conference_held, 2), (Step.monitoring, 3)],
)
def test_each_journey_stage_maps_to_one_of_the_four_portal_steps(stage: Step, step: int) -> None:
    assert portal_status(_facts(), Journey(stage=stage, steps=()), participant_id=ROSA).step == step


def _link(**overrides) -> PortalLink:  # type: ignore[no-untyped-def]
    values = {
        "program_id": 1,
        "case_id": 1,
        "participant_id": ROSA,
        "token_hash": "0" * 64,
        "issued_by_id": 1,
        "issued_at": NOW - timedelta(hours=1),
        "expires_at": NOW + timedelta(hours=71),
    } | overrides
    return PortalLink(**values)


@pytest.mark.parametrize(
    ("overrides", "session_open", "state", "usable"),
    [
        ({}, False, LinkState.waiting, True),
        ({"expires_at": NOW}, False, LinkState.expired, False),
        ({"used_at": NOW}, True, LinkState.in_use, False),
        ({"used_at": NOW}, False, LinkState.used, False),
        ({"revoked_at": NOW}, False, LinkState.revoked, False),
        ({"used_at": NOW, "revoked_at": NOW}, False, LinkState.revoked, False),
        ({"expires_at": NOW - timedelta(hours=1), "revoked_at": NOW}, False, LinkState.revoked, False),
    ],
)
def test_link_state_and_whether_it_still_opens_the_portal(overrides, session_open, state, usable) -> None:  # type: ignore[no-untyped-def]
    link = _link(**overrides)
    assert link_state(link, now=NOW, session_open=session_open) == state
    assert link_usable(link, now=NOW) is usable


def test_no_link_opens_nothing() -> None:
    assert link_usable(None, now=NOW) is False


# --- what stopping a choice stops, and what stays ------------------------------------------------


@pytest.mark.parametrize("scope", [ConsentScope.contact, ConsentScope.preparation, ConsentScope.conference])
def test_stopping_participation_pauses_and_cancels_meetings(scope: ConsentScope) -> None:
    effects = rules.withdrawal_effects(scope, rules.AgreementStanding())
    assert effects.stops == (rules.STOPS_PAUSE, rules.STOPS_MEETINGS)
    assert effects.stays == (rules.STAYS_RECORDS,)


def test_before_anything_is_signed_no_agreement_is_said_to_stay() -> None:
    unsigned = rules.AgreementStanding(signed=False, owed_to_them=2, owed_by_them=1, payments_to_them=True)
    assert rules.withdrawal_effects(ConsentScope.conference, unsigned).stays == (rules.STAYS_RECORDS,)


def test_after_signing_what_is_owed_to_the_person_stays_in_force() -> None:
    standing = rules.AgreementStanding(signed=True, owed_to_them=2, payments_to_them=True)
    stays = rules.withdrawal_effects(ConsentScope.conference, standing).stays
    assert stays == (rules.STAYS_SIGNED, rules.STAYS_OWED_TO_YOU, rules.STAYS_PAYMENTS, rules.STAYS_RECORDS)


def test_after_signing_what_the_person_owes_stays_too() -> None:
    stays = rules.withdrawal_effects(ConsentScope.progress_updates, rules.AgreementStanding(True, 0, 3)).stays
    assert stays == (rules.STAYS_SIGNED, rules.STAYS_OWED_BY_YOU, rules.STAYS_RECORDS)


def test_when_everything_is_done_the_signed_agreement_still_counts_but_nothing_is_said_to_be_owed() -> None:
    stays = rules.withdrawal_effects(ConsentScope.conference, rules.AgreementStanding(signed=True)).stays
    assert stays == (rules.STAYS_SIGNED, rules.STAYS_RECORDS)


def test_stopping_sharing_says_what_was_shared_cannot_be_taken_back() -> None:
    effects = rules.withdrawal_effects(ConsentScope.share_information, rules.AgreementStanding())
    assert effects.stops == (rules.STOPS_SHARING,)
    assert effects.stays[0] == rules.STAYS_SHARED


@pytest.mark.parametrize("scope", list(ConsentScope))
def test_every_scope_says_what_stops_and_never_that_nothing_will_happen(scope: ConsentScope) -> None:
    effects = rules.withdrawal_effects(scope, rules.AgreementStanding(True, 1, 1, True))
    assert effects.stops and effects.stays
    assert not [line for line in effects.stops + effects.stays if "nothing will happen" in line.lower()]
