"""Gate G6 as plain function calls: every status of a commitment and the edges of its due date, "today"
in the program's time zone, progress that adds up and corrections that undo it, the overpayment refusal,
instalments that lose no cent, the compliance rate and what lets a case complete."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.agreements.commitment_rules import (
    MINUTES_PER_HOUR,
    CommitmentStatus,
    ComplianceFact,
    EntryFact,
    commitment_status,
    commitments_from_terms,
    compliance_rate,
    local_today,
    progress_conditions,
    settles_case,
    split_evenly,
    summarise,
)
from app.agreements.models import CommitmentKind, ProgressKind
from app.agreements.terms import (
    ApologyTerm,
    Instalment,
    NoContactTerm,
    OtherTerm,
    ProgramAttendanceTerm,
    RestitutionTerm,
    ServiceHoursTerm,
)

TODAY = date(2027, 3, 10)
DAY = timedelta(days=1)
RESPONSIBLE = 12
S = CommitmentStatus
TASKS = [k for k in CommitmentKind if k != CommitmentKind.no_contact]


def status(
    *,
    kind: CommitmentKind = CommitmentKind.payment,
    due_on: date | None = None,
    completed_on: date | None = None,
    breached_on: date | None = None,
    waived: bool = False,
    today: date = TODAY,
    due_soon_days: int = 14,
) -> CommitmentStatus:
    return commitment_status(
        kind=kind,
        due_on=due_on,
        completed_on=completed_on,
        breached_on=breached_on,
        waived=waived,
        today=today,
        due_soon_days=due_soon_days,
    )


# --- status: a task with a due date ---------------------------------------------------------------


@pytest.mark.parametrize("kind", TASKS)
@pytest.mark.parametrize(
    ("due_on", "expected"),
    [
        (TODAY - timedelta(days=30), S.overdue),
        (TODAY - DAY, S.overdue),  # the day after the due date
        (TODAY, S.due_soon),  # due today is due soon, not overdue: it is due by the end of the day
        (TODAY + DAY, S.due_soon),
        (TODAY + timedelta(days=14), S.due_soon),  # exactly the window ahead
        (TODAY + timedelta(days=15), S.upcoming),  # one day more
        (TODAY + timedelta(days=400), S.upcoming),
        (None, S.upcoming),  # no due date: never overdue
    ],
)
def test_an_open_commitment_moves_from_upcoming_to_due_soon_to_overdue_by_its_due_date(
    kind: CommitmentKind, due_on: date | None, expected: CommitmentStatus
) -> None:
    assert status(kind=kind, due_on=due_on) == expected


def test_with_a_window_of_zero_only_a_commitment_due_today_is_due_soon() -> None:
    assert status(due_on=TODAY, due_soon_days=0) == S.due_soon
    assert status(due_on=TODAY + DAY, due_soon_days=0) == S.upcoming
    assert status(due_on=TODAY - DAY, due_soon_days=0) == S.overdue


def test_the_window_is_the_programs_setting() -> None:
    due = TODAY + timedelta(days=30)
    assert status(due_on=due, due_soon_days=14) == S.upcoming
    assert status(due_on=due, due_soon_days=30) == S.due_soon
    assert status(due_on=due, due_soon_days=29) == S.upcoming


@pytest.mark.parametrize("kind", TASKS)
def test_a_commitment_completed_late_is_still_completed_and_one_completed_early_is_too(kind: CommitmentKind) -> None:
    due = TODAY - timedelta(days=20)
    assert status(kind=kind, due_on=due, completed_on=TODAY - DAY) == S.completed
    assert status(kind=kind, due_on=TODAY + timedelta(days=60), completed_on=TODAY) == S.completed
    assert status(kind=kind, due_on=None, completed_on=TODAY) == S.completed


@pytest.mark.parametrize("kind", TASKS)
def test_a_breach_date_means_nothing_for_a_commitment_that_is_not_no_contact(kind: CommitmentKind) -> None:
    assert status(kind=kind, due_on=TODAY - DAY, breached_on=TODAY - DAY) == S.overdue


# --- status: no contact ---------------------------------------------------------------------------


NC = CommitmentKind.no_contact


@pytest.mark.parametrize(
    ("end", "breached_on", "expected"),
    [
        (TODAY + timedelta(days=90), None, S.upcoming),  # in force
        (TODAY + DAY, None, S.upcoming),  # in force, never "due soon": there is nothing to do by then
        (TODAY, None, S.upcoming),  # its last day: still in force
        (TODAY - DAY, None, S.completed),  # ended without a breach
        (None, None, S.upcoming),  # indefinite
        (TODAY + timedelta(days=90), TODAY - timedelta(days=3), S.breached),
        (TODAY - DAY, TODAY - timedelta(days=30), S.breached),  # a breach stays on the record after the end
        (None, TODAY, S.breached),
    ],
)
def test_a_no_contact_commitment_is_in_force_breached_or_completed_after_its_end_date(
    end: date | None, breached_on: date | None, expected: CommitmentStatus
) -> None:
    assert status(kind=NC, due_on=end, breached_on=breached_on) == expected


def test_an_indefinite_no_contact_commitment_never_completes() -> None:
    for today in (TODAY, date(2040, 1, 1), date(2099, 12, 31)):
        assert status(kind=NC, due_on=None, today=today) == S.upcoming


def test_a_no_contact_commitment_is_never_completed_by_progress() -> None:
    assert status(kind=NC, due_on=TODAY + DAY, completed_on=TODAY - DAY) == S.upcoming


# --- status: waived wins ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(CommitmentKind))
@pytest.mark.parametrize("due_on", [TODAY - timedelta(days=40), TODAY, TODAY + timedelta(days=5), None])
@pytest.mark.parametrize("completed_on", [None, TODAY - DAY])
@pytest.mark.parametrize("breached_on", [None, TODAY - DAY])
def test_a_waived_commitment_is_waived_whatever_else_is_true(
    kind: CommitmentKind, due_on: date | None, completed_on: date | None, breached_on: date | None
) -> None:
    assert status(kind=kind, due_on=due_on, completed_on=completed_on, breached_on=breached_on, waived=True) == S.waived


# --- today is the program's date ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "timezone", "expected"),
    [
        # 12:00 UTC on 9 March is already 01:00 on 10 March in Auckland (NZDT, UTC+13).
        (datetime(2027, 3, 9, 12, 0, tzinfo=UTC), "Pacific/Auckland", date(2027, 3, 10)),
        (datetime(2027, 3, 9, 10, 59, tzinfo=UTC), "Pacific/Auckland", date(2027, 3, 9)),
        # 05:00 UTC on 10 March is still 21:00 on 9 March in Los Angeles (PST, UTC-8).
        (datetime(2027, 3, 10, 5, 0, tzinfo=UTC), "America/Los_Angeles", date(2027, 3, 9)),
        (datetime(2027, 3, 10, 8, 0, tzinfo=UTC), "America/Los_Angeles", date(2027, 3, 10)),
        # In July Los Angeles is on daylight time (UTC-7) and Auckland on standard time (UTC+12).
        (datetime(2027, 7, 1, 6, 59, tzinfo=UTC), "America/Los_Angeles", date(2027, 6, 30)),
        (datetime(2027, 7, 1, 7, 0, tzinfo=UTC), "America/Los_Angeles", date(2027, 7, 1)),
        (datetime(2027, 6, 30, 12, 0, tzinfo=UTC), "Pacific/Auckland", date(2027, 7, 1)),
        (datetime(2027, 3, 9, 12, 0, tzinfo=UTC), "UTC", date(2027, 3, 9)),
    ],
)
def test_today_is_the_date_where_the_program_is_not_the_utc_date(
    instant: datetime, timezone: str, expected: date
) -> None:
    assert local_today(instant, timezone) == expected


def test_a_commitment_due_today_in_auckland_is_overdue_only_once_aucklands_day_has_ended() -> None:
    due = date(2027, 3, 10)  # Auckland's 10 March runs from 11:00 UTC on the 9th to 11:00 UTC on the 10th
    start = datetime(2027, 3, 9, 11, 0, tzinfo=UTC)
    for minutes in range(0, 24 * 60, 29):
        instant = start + timedelta(minutes=minutes)
        today = local_today(instant, "Pacific/Auckland")
        assert status(due_on=due, today=today) == S.due_soon, instant
    end = datetime(2027, 3, 10, 10, 59, 59, tzinfo=UTC)
    assert status(due_on=due, today=local_today(end, "Pacific/Auckland")) == S.due_soon
    after = datetime(2027, 3, 10, 11, 0, tzinfo=UTC)
    assert status(due_on=due, today=local_today(after, "Pacific/Auckland")) == S.overdue
    # By then it is 10 March in UTC and 03:00 on 10 March in Los Angeles, where the same date is not over.
    assert status(due_on=due, today=local_today(after, "UTC")) == S.due_soon
    assert status(due_on=due, today=local_today(after, "America/Los_Angeles")) == S.due_soon
    la_end = datetime(2027, 3, 11, 8, 0, tzinfo=UTC)  # midnight in Los Angeles (PST)
    assert status(due_on=due, today=local_today(la_end - timedelta(seconds=1), "America/Los_Angeles")) == S.due_soon
    assert status(due_on=due, today=local_today(la_end, "America/Los_Angeles")) == S.overdue


# --- progress -------------------------------------------------------------------------------------


PAY = CommitmentKind.payment


def entry(id: int, amount: int, on: date, kind: ProgressKind = ProgressKind.payment, reverses: int | None = None):  # noqa: A002
    return EntryFact(id, kind, amount, on, reverses)


def test_partial_payments_add_up_and_complete_on_the_day_the_last_needed_one_was_made() -> None:
    entries = [entry(1, 10_000, date(2027, 1, 5)), entry(2, 5_000, date(2027, 1, 20))]
    assert summarise(kind=PAY, quantity=30_000, entries=entries).total == 15_000
    assert summarise(kind=PAY, quantity=30_000, entries=entries).completed_on is None
    entries.append(entry(3, 15_000, date(2027, 2, 1)))
    done = summarise(kind=PAY, quantity=30_000, entries=entries)
    assert (done.total, done.completed_on, done.breached_on) == (30_000, date(2027, 2, 1), None)


def test_completion_is_dated_by_when_things_happened_not_by_when_they_were_recorded() -> None:
    # Recorded first: a payment made on 20 January; recorded second: an earlier one made on 5 January.
    entries = [entry(1, 20_000, date(2027, 1, 20)), entry(2, 10_000, date(2027, 1, 5))]
    assert summarise(kind=PAY, quantity=30_000, entries=entries).completed_on == date(2027, 1, 20)


def test_a_reversal_removes_the_entry_and_the_completion_it_brought() -> None:
    entries = [entry(1, 10_000, date(2027, 1, 5)), entry(2, 20_000, date(2027, 1, 20))]
    assert summarise(kind=PAY, quantity=30_000, entries=entries).completed_on == date(2027, 1, 20)
    entries.append(entry(3, -20_000, date(2027, 1, 20), reverses=2))
    corrected = summarise(kind=PAY, quantity=30_000, entries=entries)
    assert (corrected.total, corrected.completed_on) == (10_000, None)
    entries.append(entry(4, 20_000, date(2027, 2, 3)))
    assert summarise(kind=PAY, quantity=30_000, entries=entries).completed_on == date(2027, 2, 3)


def test_notes_never_count_towards_the_total() -> None:
    entries = [entry(1, 500, date(2027, 1, 5), ProgressKind.note), entry(2, 29_500, date(2027, 1, 6))]
    summary = summarise(kind=PAY, quantity=30_000, entries=entries)
    assert (summary.total, summary.completed_on) == (29_500, None)


def test_hours_add_up_in_minutes() -> None:
    entries = [entry(1, 90, date(2027, 1, 5), ProgressKind.hours), entry(2, 30, date(2027, 1, 7), ProgressKind.hours)]
    summary = summarise(kind=CommitmentKind.service_hours, quantity=2 * MINUTES_PER_HOUR, entries=entries)
    assert (summary.total, summary.completed_on) == (120, date(2027, 1, 7))


def test_breaches_give_the_first_breach_date_and_a_reversed_breach_does_not_count() -> None:
    breach = ProgressKind.breach_reported
    entries = [entry(1, 0, date(2027, 3, 1), breach), entry(2, 0, date(2027, 2, 1), breach)]
    summary = summarise(kind=NC, quantity=0, entries=entries)
    assert (summary.total, summary.completed_on, summary.breached_on) == (0, None, date(2027, 2, 1))
    entries.append(entry(3, 0, date(2027, 2, 1), breach, reverses=2))
    assert summarise(kind=NC, quantity=0, entries=entries).breached_on == date(2027, 3, 1)
    entries.append(entry(4, 0, date(2027, 3, 1), breach, reverses=1))
    assert summarise(kind=NC, quantity=0, entries=entries).breached_on is None


def refusal(**overrides: object) -> list[tuple[str, str]]:
    arguments: dict = {
        "commitment_kind": PAY,
        "quantity": 30_000,
        "done": 20_000,
        "entry_kind": ProgressKind.payment,
        "amount": 10_000,
        "occurred_on": TODAY,
        "today": TODAY,
        "unit": "EUR",
    } | overrides
    return [(c.code, c.message) for c in progress_conditions(**arguments)]


def test_the_exact_amount_still_owed_is_accepted() -> None:
    assert refusal() == []
    assert refusal(done=0, amount=1) == []


def test_an_overpayment_is_refused_with_the_most_that_can_still_be_recorded() -> None:
    assert refusal(amount=15_000) == [
        (
            "overpayment",
            "That is more than is owed: 350.00 EUR would be recorded against 300.00 EUR. "
            "At most 100.00 EUR can be recorded.",
        )
    ]
    assert refusal(amount=10_001)[0][1].endswith("At most 100.00 EUR can be recorded.")


def test_more_hours_than_owed_are_refused_in_hours() -> None:
    problems = refusal(
        commitment_kind=CommitmentKind.service_hours,
        quantity=40 * 60,
        done=39 * 60,
        entry_kind=ProgressKind.hours,
        amount=90,
        unit="",
    )
    assert problems == [
        (
            "more_than_owed",
            "That is more than is owed: 40.5 hours would be recorded against 40 hours. At most 1 hour can be recorded.",
        )
    ]


def test_anything_more_against_a_complete_commitment_is_refused_as_already_complete() -> None:
    assert refusal(done=30_000, amount=1) == [
        ("overpayment", "This commitment is already complete: nothing more can be recorded against it.")
    ]
    apology = refusal(
        commitment_kind=CommitmentKind.apology, quantity=1, done=1, entry_kind=ProgressKind.apology_delivered, amount=1
    )
    assert apology == [
        ("more_than_owed", "This commitment is already complete: nothing more can be recorded against it.")
    ]


def test_progress_of_the_wrong_kind_is_refused_but_a_note_is_always_accepted() -> None:
    assert refusal(entry_kind=ProgressKind.hours, amount=60) == [
        ("wrong_progress_kind", "For this commitment, record payment received or a note.")
    ]
    assert refusal(done=30_000, entry_kind=ProgressKind.note, amount=0) == []
    no_contact = {"commitment_kind": NC, "quantity": 0, "done": 0, "amount": 0}
    assert refusal(**no_contact, entry_kind=ProgressKind.breach_reported) == []
    assert [code for code, _ in refusal(**no_contact, entry_kind=ProgressKind.payment)] == ["wrong_progress_kind"]


def test_a_date_in_the_future_is_refused_and_today_is_accepted() -> None:
    assert refusal(occurred_on=TODAY + DAY) == [("future_date", "The date cannot be in the future.")]
    assert refusal(occurred_on=TODAY) == []


def test_an_amount_of_zero_is_refused() -> None:
    assert [code for code, _ in refusal(amount=0)] == ["amount_not_positive"]


# --- instalments ----------------------------------------------------------------------------------


@settings(database=None)
@given(count=st.integers(min_value=1, max_value=120), extra=st.integers(min_value=0, max_value=10**11))
def test_splitting_evenly_adds_up_exactly_and_the_parts_differ_by_at_most_one_cent(count: int, extra: int) -> None:
    total = count + extra
    parts = split_evenly(total, count)
    assert len(parts) == count
    assert sum(parts) == total
    assert max(parts) - min(parts) <= 1
    assert min(parts) >= 1
    assert parts == sorted(parts, reverse=True)  # the earlier instalments carry the extra cents


def test_splitting_refuses_no_instalments_and_parts_under_one_cent() -> None:
    with pytest.raises(ValueError):
        split_evenly(100, 0)
    with pytest.raises(ValueError):
        split_evenly(2, 3)
    assert split_evenly(3, 3) == [1, 1, 1]
    assert split_evenly(100_000, 3) == [33_334, 33_333, 33_333]


@settings(database=None)
@given(count=st.integers(min_value=1, max_value=36), total=st.integers(min_value=36, max_value=10**9))
def test_a_payment_plan_becomes_one_commitment_per_instalment_and_no_cent_is_lost(count: int, total: int) -> None:
    parts = split_evenly(total, count)
    plan = RestitutionTerm(
        owed_by=RESPONSIBLE,
        currency="EUR",
        amount_cents=total,
        instalments=[
            Instalment(due_date=date(2027, 1, 1) + timedelta(days=30 * n), amount_cents=p) for n, p in enumerate(parts)
        ],
    )
    specs = commitments_from_terms([plan])
    assert len(specs) == count
    assert sum(s.quantity for s in specs) == total
    assert [s.sequence for s in specs] == list(range(1, count + 1))
    assert {(s.kind, s.of_count, s.term_number, s.owed_by_id, s.currency) for s in specs} == {
        (CommitmentKind.payment, count, 1, RESPONSIBLE, "EUR")
    }
    assert [s.due_on for s in specs] == [i.due_date for i in plan.instalments]


def test_each_kind_of_term_becomes_its_commitment() -> None:
    terms = [
        ApologyTerm(owed_by=RESPONSIBLE, form="letter_through_program", due_date=date(2027, 1, 15)),
        RestitutionTerm(
            owed_by=RESPONSIBLE,
            currency="EUR",
            amount_cents=100_000,
            instalments=[
                Instalment(due_date=date(2027, 2, 1), amount_cents=33_334),
                Instalment(due_date=date(2027, 3, 1), amount_cents=33_333),
                Instalment(due_date=date(2027, 4, 1), amount_cents=33_333),
            ],
        ),
        ServiceHoursTerm(owed_by=RESPONSIBLE, hours=40, deadline=date(2027, 6, 30), where="Harbour Food Bank"),
        ProgramAttendanceTerm(
            owed_by=RESPONSIBLE, program_name="the budgeting course", sessions=12, deadline=date(2027, 7, 31)
        ),
        NoContactTerm(owed_by=RESPONSIBLE, end_date=date(2028, 3, 1)),
        NoContactTerm(owed_by=RESPONSIBLE),
        OtherTerm(owed_by=RESPONSIBLE, text="  Return Rosa's papers.  ", due_date=date(2027, 2, 15)),
    ]
    got = [
        (s.term_number, s.sequence, s.of_count, s.kind, s.description, s.due_on, s.quantity, s.currency)
        for s in commitments_from_terms(terms)
    ]
    assert got == [
        (1, 1, 1, CommitmentKind.apology, "Letter of apology, through the program", date(2027, 1, 15), 1, None),
        (2, 1, 3, PAY, "Payment 1 of 3: 333.34 EUR", date(2027, 2, 1), 33_334, "EUR"),
        (2, 2, 3, PAY, "Payment 2 of 3: 333.33 EUR", date(2027, 3, 1), 33_333, "EUR"),
        (2, 3, 3, PAY, "Payment 3 of 3: 333.33 EUR", date(2027, 4, 1), 33_333, "EUR"),
        (
            3,
            1,
            1,
            CommitmentKind.service_hours,
            "40 hours of community service at Harbour Food Bank",
            date(2027, 6, 30),
            40 * 60,
            None,
        ),
        (
            4,
            1,
            1,
            CommitmentKind.program_attendance,
            "12 sessions of the budgeting course",
            date(2027, 7, 31),
            12,
            None,
        ),
        (5, 1, 1, NC, "No contact with the survivor", date(2028, 3, 1), 0, None),
        (6, 1, 1, NC, "No contact with the survivor", None, 0, None),  # standing, indefinite
        (7, 1, 1, CommitmentKind.other, "Return Rosa's papers.", date(2027, 2, 15), 1, None),
    ]


def test_a_single_payment_reads_without_a_count() -> None:
    plan = RestitutionTerm(
        owed_by=RESPONSIBLE,
        currency="USD",
        amount_cents=12_345,
        instalments=[Instalment(due_date=date(2027, 2, 1), amount_cents=12_345)],
    )
    assert [s.description for s in commitments_from_terms([plan])] == ["Payment of 123.45 USD"]


def test_each_commitment_says_how_its_completion_is_verified() -> None:
    spec = commitments_from_terms([NoContactTerm(owed_by=RESPONSIBLE)])[0]
    assert spec.verification == "No breach reported"


# --- compliance rate and completion of a case -----------------------------------------------------


def fact(kind: CommitmentKind = PAY, due_on: date | None = None, completed_on: date | None = None, waived=False):
    return ComplianceFact(kind, due_on, completed_on, waived)


def test_the_compliance_rate_is_commitments_completed_on_time_over_those_due() -> None:
    past = TODAY - timedelta(days=10)
    facts = [
        fact(due_on=past, completed_on=past),  # on time (on its due date)
        fact(due_on=past, completed_on=past - DAY),  # early
        fact(due_on=past, completed_on=past + DAY),  # late: due, not on time
        fact(due_on=past),  # not done
        fact(due_on=past, waived=True),  # waived: not counted
        fact(NC, due_on=past),  # no contact: not counted
        fact(due_on=TODAY),  # due today: not yet due
        fact(due_on=TODAY + DAY, completed_on=past),  # done early, not yet due
        fact(due_on=None, completed_on=past),  # no due date
    ]
    assert compliance_rate(facts, today=TODAY) == pytest.approx(2 / 4)


def test_the_compliance_rate_is_none_while_nothing_is_due() -> None:
    assert compliance_rate([], today=TODAY) is None
    assert compliance_rate([fact(due_on=TODAY), fact(NC, due_on=TODAY - DAY)], today=TODAY) is None


@pytest.mark.parametrize("kind", list(CommitmentKind))
@pytest.mark.parametrize("state", list(CommitmentStatus))
@pytest.mark.parametrize("due_on", [None, TODAY + timedelta(days=30)])
def test_only_completed_or_waived_commitments_and_an_unbroken_indefinite_no_contact_let_a_case_complete(
    kind: CommitmentKind, state: CommitmentStatus, due_on: date | None
) -> None:
    indefinite_in_force = kind == NC and due_on is None and state == S.upcoming
    expected = state in (S.completed, S.waived) or indefinite_in_force
    assert settles_case(kind, due_on, state) is expected
