"""Compliance over time: the monitoring charts' figures, month by month, as pure functions (no I/O).

Months are calendar months of the program's time zone (the caller passes "today" as the program's local
date), the last `months` of them ending with the current one.

- Compliance rate of a month: of the commitments due in that month whose due date has passed (waived
  ones and standing no-contact terms left out, as in the dashboard's figure), the share completed on or
  before their due date. A month with nothing due yet has no rate (None), not 0 %.
- Money and hours: what fell due in the month (the whole calendar month, waived ones left out) against
  what was recorded as received or worked with a date in that month (corrections subtract). Money is
  kept per currency, in cents; hours in minutes.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from app.agreements.models import CommitmentKind


@dataclass(frozen=True)
class DueItem:
    """A commitment in force, as the charts read it."""

    kind: CommitmentKind
    due_on: date
    quantity: int
    currency: str | None
    completed_on: date | None


@dataclass(frozen=True)
class Receipt:
    """A progress entry that carries an amount (payment cents, service minutes), as the charts read it."""

    kind: CommitmentKind
    occurred_on: date
    amount: int
    currency: str | None


@dataclass
class MonthFigures:
    month: date  # the first day of the month
    due_count: int = 0  # due in the month with the due date passed
    on_time_count: int = 0
    money_due: dict[str, int] = field(default_factory=dict)  # cents, per currency
    money_received: dict[str, int] = field(default_factory=dict)
    minutes_due: int = 0
    minutes_worked: int = 0

    @property
    def compliance_rate(self) -> float | None:
        return self.on_time_count / self.due_count if self.due_count else None


@dataclass(frozen=True)
class Trends:
    today: date
    months: list[MonthFigures]

    @property
    def start(self) -> date:
        return self.months[0].month

    @property
    def currencies(self) -> list[str]:
        """Every currency that was due or received in the period, in order of first sight."""
        seen: dict[str, None] = {}
        for m in self.months:
            seen.update(dict.fromkeys(m.money_due))
            seen.update(dict.fromkeys(m.money_received))
        return list(seen)


def month_starts(today: date, months: int = 12) -> list[date]:
    """The first days of the last `months` calendar months, oldest first, the current month last."""
    index = today.year * 12 + today.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


def _key(day: date) -> date:
    return day.replace(day=1)


def monthly_trends(*, today: date, due: Iterable[DueItem], received: Iterable[Receipt], months: int = 12) -> Trends:
    """The figures of each of the last `months` months (see the module's docstring for what counts)."""
    figures = {start: MonthFigures(start) for start in month_starts(today, months)}
    for item in due:
        month = figures.get(_key(item.due_on))
        if month is None or item.kind == CommitmentKind.no_contact:
            continue
        if item.due_on < today:
            month.due_count += 1
            if item.completed_on is not None and item.completed_on <= item.due_on:
                month.on_time_count += 1
        if item.kind == CommitmentKind.payment:
            currency = item.currency or ""
            month.money_due[currency] = month.money_due.get(currency, 0) + item.quantity
        elif item.kind == CommitmentKind.service_hours:
            month.minutes_due += item.quantity
    for entry in received:
        month = figures.get(_key(entry.occurred_on))
        if month is None or entry.occurred_on > today:
            continue
        if entry.kind == CommitmentKind.payment:
            currency = entry.currency or ""
            month.money_received[currency] = month.money_received.get(currency, 0) + entry.amount
        elif entry.kind == CommitmentKind.service_hours:
            month.minutes_worked += entry.amount
    return Trends(today, list(figures.values()))
