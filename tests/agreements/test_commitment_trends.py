"""The monitoring charts' figures: plain calls of the pure function, month by month."""

from datetime import date

from app.agreements.commitment_trends import DueItem, Receipt, month_starts, monthly_trends
from app.agreements.models import CommitmentKind

PAY, HOURS, APOLOGY, NO_CONTACT = (
    CommitmentKind.payment,
    CommitmentKind.service_hours,
    CommitmentKind.apology,
    CommitmentKind.no_contact,
)
TODAY = date(2026, 3, 15)


def test_the_months_are_the_last_twelve_calendar_months_ending_with_this_one() -> None:
    starts = month_starts(TODAY)
    assert len(starts) == 12
    assert starts[0] == date(2025, 4, 1) and starts[-1] == date(2026, 3, 1)
    assert month_starts(date(2026, 1, 31), 3) == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)]


def test_a_month_with_two_of_four_completed_on_time_is_fifty_percent() -> None:
    due = [
        DueItem(PAY, date(2026, 2, 5), 10_000, "EUR", date(2026, 2, 5)),  # on the day: on time
        DueItem(PAY, date(2026, 2, 10), 5_000, "EUR", date(2026, 2, 1)),  # early: on time
        DueItem(APOLOGY, date(2026, 2, 15), 1, None, date(2026, 2, 16)),  # a day late
        DueItem(HOURS, date(2026, 2, 20), 600, None, None),  # not done
        DueItem(NO_CONTACT, date(2026, 2, 28), 0, None, None),  # standing: not a task with a due date
    ]
    february = monthly_trends(today=TODAY, due=due, received=[]).months[-2]
    assert february.month == date(2026, 2, 1)
    assert (february.due_count, february.on_time_count, february.compliance_rate) == (4, 2, 0.5)


def test_only_commitments_whose_due_date_passed_count_towards_the_rate() -> None:
    due = [
        DueItem(PAY, date(2026, 3, 1), 100, "EUR", None),
        DueItem(PAY, date(2026, 3, 15), 100, "EUR", None),  # due today: not late yet
        DueItem(PAY, date(2026, 3, 30), 100, "EUR", None),
    ]
    march = monthly_trends(today=TODAY, due=due, received=[]).months[-1]
    assert (march.due_count, march.on_time_count, march.compliance_rate) == (1, 0, 0.0)
    assert march.money_due == {"EUR": 300}  # what falls due in the month, all of it


def test_a_month_with_nothing_due_has_no_rate_rather_than_zero() -> None:
    trends = monthly_trends(today=TODAY, due=[], received=[])
    assert all(m.compliance_rate is None for m in trends.months)


def test_money_and_hours_received_go_to_the_month_they_happened_in_per_currency() -> None:
    due = [
        DueItem(PAY, date(2026, 1, 10), 20_000, "EUR", None),
        DueItem(PAY, date(2026, 1, 20), 5_000, "GBP", None),
        DueItem(HOURS, date(2026, 1, 31), 2_400, None, None),
    ]
    received = [
        Receipt(PAY, date(2026, 1, 12), 15_000, "EUR"),
        Receipt(PAY, date(2026, 2, 2), 5_000, "EUR"),
        Receipt(PAY, date(2026, 2, 3), -1_000, "EUR"),  # a correction subtracts
        Receipt(HOURS, date(2026, 1, 30), 600, None),
        Receipt(PAY, date(2025, 3, 31), 9_999, "EUR"),  # before the twelve months
    ]
    trends = monthly_trends(today=TODAY, due=due, received=received)
    january, february = trends.months[-3], trends.months[-2]
    assert january.money_due == {"EUR": 20_000, "GBP": 5_000} and january.money_received == {"EUR": 15_000}
    assert february.money_received == {"EUR": 4_000}
    assert (january.minutes_due, january.minutes_worked) == (2_400, 600)
    assert trends.currencies == ["EUR", "GBP"]
    assert sum(m.money_received.get("EUR", 0) for m in trends.months) == 19_000
