"""Gates G4 and G5 as plain function calls: every pair of the transition table, review before signing,
signatures bound to the exact text; and the editor's pure helpers (money, monthly instalments)."""

from datetime import date
from itertools import product

import pytest

from app.agreements.models import ReviewDecision, VersionStatus
from app.agreements.rules import (
    ALLOWED_TRANSITIONS,
    EDITABLE,
    INTENT_STATEMENT,
    ReviewFact,
    all_signed,
    can_move,
    review_conditions,
    signing_conditions,
    transition_conditions,
)
from app.agreements.schemas import add_months, parse_money, split_amount

HASH, OLD_HASH = "a" * 64, "b" * 64
SURVIVOR, RESPONSIBLE = 11, 12
ACCEPTED, CHANGES = ReviewDecision.accepted, ReviewDecision.changes_requested
PAIRS = list(product(VersionStatus, VersionStatus))


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{c}->{t}" for c, t in PAIRS])
def test_every_transition_is_allowed_or_refused_exactly_as_the_table_says(
    current: VersionStatus, target: VersionStatus
) -> None:
    allowed = target in ALLOWED_TRANSITIONS[current]
    assert can_move(current, target) is allowed
    problems = transition_conditions(current, target)
    if allowed:
        assert problems == []
    else:
        expected = {VersionStatus.sealed: "version_sealed", VersionStatus.superseded: "version_superseded"}
        assert [p.code for p in problems] == [expected.get(current, "transition_not_allowed")]


def test_the_table_covers_every_status() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(VersionStatus)


def test_a_sealed_version_only_becomes_superseded_and_a_superseded_one_never_moves() -> None:
    assert ALLOWED_TRANSITIONS[VersionStatus.sealed] == frozenset({VersionStatus.superseded})
    assert ALLOWED_TRANSITIONS[VersionStatus.superseded] == frozenset()
    assert VersionStatus.sealed not in EDITABLE and VersionStatus.superseded not in EDITABLE


def test_only_a_signing_version_can_be_sealed_and_only_an_accepted_one_goes_to_signing() -> None:
    assert {s for s in VersionStatus if can_move(s, VersionStatus.sealed)} == {VersionStatus.signing}
    assert {s for s in VersionStatus if can_move(s, VersionStatus.signing)} == {VersionStatus.accepted}


# --- G4: review before signing ----------------------------------------------------------------


def _review_codes(*reviews: ReviewFact, survivor: int | None = SURVIVOR) -> list[str]:
    problems = review_conditions(reviews=reviews, text_sha256=HASH, survivor_id=survivor, responsible_id=RESPONSIBLE)
    return [p.code for p in problems]


def test_g4_is_met_when_both_parties_accepted_this_exact_text() -> None:
    assert _review_codes(ReviewFact(SURVIVOR, ACCEPTED, HASH), ReviewFact(RESPONSIBLE, ACCEPTED, HASH)) == []


def test_g4_refuses_without_the_survivors_acceptance() -> None:
    assert _review_codes(ReviewFact(RESPONSIBLE, ACCEPTED, HASH)) == ["survivor_acceptance_missing"]


def test_g4_refuses_an_acceptance_of_another_text() -> None:
    codes = _review_codes(ReviewFact(SURVIVOR, ACCEPTED, OLD_HASH), ReviewFact(RESPONSIBLE, ACCEPTED, HASH))
    assert codes == ["survivor_acceptance_missing"]


def test_g4_counts_the_latest_review_so_a_later_request_for_changes_undoes_an_acceptance() -> None:
    reviews = (
        ReviewFact(SURVIVOR, ACCEPTED, HASH),
        ReviewFact(RESPONSIBLE, ACCEPTED, HASH),
        ReviewFact(SURVIVOR, CHANGES, HASH),
    )
    assert _review_codes(*reviews) == ["survivor_acceptance_missing"]


def test_g4_refuses_when_the_case_has_no_survivor_and_names_who_is_missing() -> None:
    problems = review_conditions(reviews=(), text_sha256=HASH, survivor_id=None, responsible_id=RESPONSIBLE)
    assert [(p.code, p.participant_id) for p in problems] == [
        ("survivor_acceptance_missing", None),
        ("responsible_acceptance_missing", RESPONSIBLE),
    ]


# --- G5: signing ------------------------------------------------------------------------------

REQUIRED = ("participant:11", "participant:12", "facilitator")


def _sign_codes(
    *,
    status: VersionStatus = VersionStatus.signing,
    offered: str = HASH,
    signer: str = "participant:11",
    signed: tuple[str, ...] = (),
) -> list[str]:
    problems = signing_conditions(
        status=status, version_sha256=HASH, offered_sha256=offered, signer_key=signer, required=REQUIRED, signed=signed
    )
    return [p.code for p in problems]


def test_g5_accepts_a_required_signer_on_the_exact_text_of_a_version_open_for_signature() -> None:
    assert _sign_codes() == []


@pytest.mark.parametrize("status", [s for s in VersionStatus if s != VersionStatus.signing])
def test_g5_refuses_a_version_that_is_not_open_for_signature(status: VersionStatus) -> None:
    assert _sign_codes(status=status) == ["not_open_for_signature"]


def test_g5_refuses_a_signature_on_another_text() -> None:
    assert _sign_codes(offered=OLD_HASH) == ["text_changed"]


def test_g5_refuses_someone_who_is_not_a_signer() -> None:
    assert _sign_codes(signer="participant:99") == ["not_a_signer"]


def test_g5_refuses_a_second_signature_by_the_same_signer() -> None:
    assert _sign_codes(signed=("participant:11",)) == ["already_signed"]


def test_g5_lists_every_reason_at_once() -> None:
    codes = _sign_codes(status=VersionStatus.sealed, offered=OLD_HASH, signed=("participant:11",))
    assert codes == ["not_open_for_signature", "text_changed", "already_signed"]


def test_the_version_is_complete_only_when_every_required_signer_signed() -> None:
    assert not all_signed(required=REQUIRED, signed=REQUIRED[:2])
    assert all_signed(required=REQUIRED, signed=REQUIRED)


def test_the_intent_statement_is_the_one_the_issue_asks_signers_to_tick() -> None:
    assert INTENT_STATEMENT == "I have read this agreement and I sign it of my own free will."


# --- the editor's helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("1200", 120_000), ("1200.5", 120_050), ("1,200.50", 120_050), ("0.07", 7), (" 35 000.10", 3_500_010)],
)
def test_an_amount_is_read_in_cents(typed: str, cents: int) -> None:
    assert parse_money(typed) == cents


@pytest.mark.parametrize("typed", ["1200,50", "12,00", "1.234", "abc", "-5", "1e3", ""])
def test_an_unclear_amount_is_refused_rather_than_guessed(typed: str) -> None:
    assert parse_money(typed) is None


def test_splitting_an_amount_keeps_every_cent_and_puts_the_leftover_first() -> None:
    parts = split_amount(10_000, 3, date(2027, 1, 31))
    assert [p["amount_cents"] for p in parts] == [3_334, 3_333, 3_333]
    assert [p["due_date"] for p in parts] == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]


@pytest.mark.parametrize(("amount", "count"), [(1, 1), (100_001, 7), (99_999_999_999, 120), (120, 120)])
def test_a_split_always_adds_up_to_the_whole_amount(amount: int, count: int) -> None:
    parts = split_amount(amount, count, date(2027, 12, 15))
    assert sum(p["amount_cents"] for p in parts) == amount and len(parts) == count
    assert min(p["amount_cents"] for p in parts) >= 1


def test_monthly_dates_run_over_the_year_end_and_keep_leap_days() -> None:
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2027, 12, 1), 13) == date(2029, 1, 1)
