"""Gate G6: commitments from sealed terms, their computed status, progress checks. Pure functions.

`commitment_status` is the reference for a commitment's status. Lists compute the same status in SQL
(`commitment_queries.status_case`), and a property test holds the two equal.

Dates: a commitment is due by the end of its due date in the program's time zone, so "today" is
always the program's local date (`local_today`), never the server's or UTC's.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.agreements.models import CommitmentKind, ProgressKind
from app.agreements.terms import (
    RECORD_LANGUAGE,
    ApologyTerm,
    NoContactTerm,
    OtherTerm,
    ProgramAttendanceTerm,
    RestitutionTerm,
    ServiceHoursTerm,
    Term,
    format_money,
    written_in,
    written_money,
)
from app.errors import Condition
from app.i18n import N_, translator

DEFAULT_DUE_SOON_DAYS = 14
MINUTES_PER_HOUR = 60


class CommitmentStatus(StrEnum):
    upcoming = "upcoming"
    due_soon = "due_soon"
    overdue = "overdue"
    completed = "completed"
    waived = "waived"
    breached = "breached"


STATUS_LABELS: dict[CommitmentStatus, str] = {
    CommitmentStatus.upcoming: N_("Upcoming"),
    CommitmentStatus.due_soon: N_("Due soon"),
    CommitmentStatus.overdue: N_("Overdue"),
    CommitmentStatus.completed: N_("Completed"),
    CommitmentStatus.waived: N_("Waived"),
    CommitmentStatus.breached: N_("Breached"),
}

KIND_LABELS: dict[CommitmentKind, str] = {
    CommitmentKind.apology: N_("Apology"),
    CommitmentKind.payment: N_("Payment"),
    CommitmentKind.service_hours: N_("Service hours"),
    CommitmentKind.program_attendance: N_("Program attendance"),
    CommitmentKind.no_contact: N_("No contact"),
    CommitmentKind.other: N_("Other"),
}

PROGRESS_LABELS: dict[ProgressKind, str] = {
    ProgressKind.payment: N_("Payment received"),
    ProgressKind.hours: N_("Hours logged"),
    ProgressKind.session_attended: N_("Session attended"),
    ProgressKind.apology_delivered: N_("Apology delivered"),
    ProgressKind.breach_reported: N_("No-contact breach reported"),
    ProgressKind.done: N_("Confirmed done"),
    ProgressKind.note: N_("Note"),
}

# Which progress a commitment takes (a note goes with any of them).
PROGRESS_FOR: dict[CommitmentKind, ProgressKind] = {
    CommitmentKind.payment: ProgressKind.payment,
    CommitmentKind.service_hours: ProgressKind.hours,
    CommitmentKind.program_attendance: ProgressKind.session_attended,
    CommitmentKind.apology: ProgressKind.apology_delivered,
    CommitmentKind.no_contact: ProgressKind.breach_reported,
    CommitmentKind.other: ProgressKind.done,
}

VERIFICATION: dict[CommitmentKind, str] = {
    CommitmentKind.payment: N_("Payment received, with a receipt reference"),
    CommitmentKind.service_hours: N_("Hours log confirmed by the host organisation"),
    CommitmentKind.program_attendance: N_("Attendance confirmed by the program"),
    CommitmentKind.apology: N_("Delivery confirmed by the facilitator"),
    CommitmentKind.no_contact: N_("No breach reported"),
    CommitmentKind.other: N_("Completion confirmed by the facilitator"),
}


@dataclass(frozen=True)
class CommitmentSpec:
    """A commitment as the sealed terms define it, before it is stored."""

    term_number: int
    sequence: int
    of_count: int
    kind: CommitmentKind
    owed_by_id: int
    description: str
    due_on: date | None
    quantity: int
    currency: str | None

    @property
    def verification(self) -> str:
        return VERIFICATION[self.kind]


_APOLOGY_COMMITMENT = {
    "spoken": N_("Spoken apology"),
    "written": N_("Written apology"),
    "letter_through_program": N_("Letter of apology, through the program"),
}


def commitments_from_terms(terms: list[Term], language: str = RECORD_LANGUAGE) -> list[CommitmentSpec]:
    """What sealing a version creates: one commitment per instalment of a payment plan, one per other
    term (service hours with a target, attendance with a number of sessions, a standing no-contact).
    Each is described in `language` (English for the stored commitments; a reader's copy in theirs)."""
    _ = translator(language)
    specs: list[CommitmentSpec] = []
    for number, term in enumerate(terms, start=1):
        owed = term.owed_by
        match term:
            case RestitutionTerm():
                count = len(term.instalments)
                for index, instalment in enumerate(term.instalments, start=1):
                    amount = written_money(instalment.amount_cents, term.currency, language)
                    what = (
                        _("Payment of %(amount)s", amount=amount)
                        if count == 1
                        else _("Payment %(index)s of %(count)s: %(amount)s", index=index, count=count, amount=amount)
                    )
                    specs.append(
                        CommitmentSpec(
                            number,
                            index,
                            count,
                            CommitmentKind.payment,
                            owed,
                            what,
                            instalment.due_date,
                            instalment.amount_cents,
                            term.currency,
                        )
                    )
            case ServiceHoursTerm():
                if term.where:
                    where = written_in(term, "where", language)
                    what = _("%(hours)s hours of community service at %(where)s", hours=term.hours, where=where)
                else:
                    what = _("%(hours)s hours of community service", hours=term.hours)
                minutes = term.hours * MINUTES_PER_HOUR
                specs.append(
                    CommitmentSpec(number, 1, 1, CommitmentKind.service_hours, owed, what, term.deadline, minutes, None)
                )
            case ProgramAttendanceTerm():
                program = written_in(term, "program_name", language)
                what = _("%(sessions)s sessions of %(program)s", sessions=term.sessions, program=program)
                kind = CommitmentKind.program_attendance
                specs.append(CommitmentSpec(number, 1, 1, kind, owed, what, term.deadline, term.sessions, None))
            case ApologyTerm():
                what = _(_APOLOGY_COMMITMENT[term.form])
                specs.append(CommitmentSpec(number, 1, 1, CommitmentKind.apology, owed, what, term.due_date, 1, None))
            case NoContactTerm():
                what = _("No contact with the survivor")
                specs.append(
                    CommitmentSpec(number, 1, 1, CommitmentKind.no_contact, owed, what, term.end_date, 0, None)
                )
            case OtherTerm():
                what = written_in(term, "text", language)
                specs.append(CommitmentSpec(number, 1, 1, CommitmentKind.other, owed, what, term.due_date, 1, None))
    return specs


def descriptions_in(terms: list[Term], written_in: Iterable[str], language: str) -> dict[tuple[int, int], str]:
    """Each commitment's description in `language`, by (term number, sequence), when the signed text is
    written in it (`written_in`: its languages); {} otherwise, and the stored English ones are shown."""
    if language == RECORD_LANGUAGE or language not in set(written_in):
        return {}
    return {(spec.term_number, spec.sequence): spec.description for spec in commitments_from_terms(terms, language)}


def split_evenly(total_cents: int, count: int) -> list[int]:
    """`total_cents` in `count` instalments that differ by at most one cent and add up exactly;
    the earlier instalments carry the extra cents."""
    if count < 1:
        raise ValueError("At least one instalment.")
    if total_cents < count:
        raise ValueError("Each instalment must be at least one cent.")
    base, extra = divmod(total_cents, count)
    return [base + 1 if index < extra else base for index in range(count)]


def local_today(now: datetime, timezone: str) -> date:
    """Today's date where the program is."""
    return now.astimezone(ZoneInfo(timezone)).date()


def due_soon_until(today: date, window_days: int) -> date:
    """The last due date that counts as "due soon" today (due today counts)."""
    return today + timedelta(days=window_days)


# --- progress -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryFact:
    id: int
    kind: ProgressKind
    amount: int
    occurred_on: date
    reverses_id: int | None = None


@dataclass(frozen=True)
class ProgressSummary:
    total: int
    completed_on: date | None
    breached_on: date | None


def effective_entries(entries: Iterable[EntryFact]) -> list[EntryFact]:
    """The entries that count: neither a reversal nor an entry that was reversed."""
    entries = list(entries)
    reversed_ids = {e.reverses_id for e in entries if e.reverses_id is not None}
    return [e for e in entries if e.reverses_id is None and e.id not in reversed_ids]


def summarise(*, kind: CommitmentKind, quantity: int, entries: Iterable[EntryFact]) -> ProgressSummary:
    """Totals of a commitment's progress: the amount done, the date the last needed part was done
    (completion), and the first breach reported (no contact)."""
    counting = sorted(effective_entries(entries), key=lambda e: (e.occurred_on, e.id))
    total, completed_on = 0, None
    breaches = [e.occurred_on for e in counting if e.kind == ProgressKind.breach_reported]
    if kind != CommitmentKind.no_contact:
        for entry in counting:
            if entry.kind == ProgressKind.note:
                continue
            total += entry.amount
            if completed_on is None and quantity > 0 and total >= quantity:
                completed_on = entry.occurred_on
    return ProgressSummary(total, completed_on, min(breaches) if breaches else None)


def progress_conditions(
    *,
    commitment_kind: CommitmentKind,
    quantity: int,
    done: int,
    entry_kind: ProgressKind,
    amount: int,
    occurred_on: date,
    today: date,
    unit: str,
) -> list[Condition]:
    """Whether this progress can be recorded against the commitment. Partial progress adds up; more than
    is owed is refused with the most that can still be recorded."""
    conditions: list[Condition] = []
    expected = PROGRESS_FOR[commitment_kind]
    if entry_kind not in (expected, ProgressKind.note):
        label = PROGRESS_LABELS[expected].lower()
        conditions.append(
            Condition("wrong_progress_kind", f"For this commitment, record {label} or a note.", None, None)
        )
    if occurred_on > today:
        conditions.append(Condition("future_date", N_("The date cannot be in the future."), None, None))
    if entry_kind in (ProgressKind.note, ProgressKind.breach_reported) or entry_kind != expected:
        return conditions
    if amount <= 0:
        conditions.append(Condition("amount_not_positive", N_("Enter an amount greater than zero."), None, None))
    elif done + amount > quantity:
        left = max(quantity - done, 0)
        if left == 0:
            message = "This commitment is already complete: nothing more can be recorded against it."
        else:
            message = (
                f"That is more than is owed: {describe_amount(commitment_kind, done + amount, unit)} would be "
                f"recorded against {describe_amount(commitment_kind, quantity, unit)}. "
                f"At most {describe_amount(commitment_kind, left, unit)} can be recorded."
            )
        code = "overpayment" if commitment_kind == CommitmentKind.payment else "more_than_owed"
        conditions.append(Condition(code, message, None, None))
    return conditions


def describe_amount(kind: CommitmentKind, amount: int, currency: str | None) -> str:
    """An amount in the commitment's unit, as people say it."""
    match kind:
        case CommitmentKind.payment:
            return format_money(amount, currency or "")
        case CommitmentKind.service_hours:
            hours = Decimal(amount) / MINUTES_PER_HOUR
            shown = hours.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
            return f"{shown:f} hour" + ("" if hours == 1 else "s")
        case CommitmentKind.program_attendance:
            return f"{amount} session" + ("" if amount == 1 else "s")
        case _:
            return "done" if amount >= 1 else "not done"


# --- status ---------------------------------------------------------------------------------------


def commitment_status(
    *,
    kind: CommitmentKind,
    due_on: date | None,
    completed_on: date | None,
    breached_on: date | None,
    waived: bool,
    today: date,
    due_soon_days: int = DEFAULT_DUE_SOON_DAYS,
) -> CommitmentStatus:
    """The status of one commitment today. The reference the SQL status must equal.

    Waived wins; a no-contact commitment is breached once a breach is on record, completed when its end
    date has passed, and otherwise in force (upcoming); anything else is completed once its progress
    reached the target, overdue after its due date, due soon within the window, upcoming before."""
    if waived:
        return CommitmentStatus.waived
    if kind == CommitmentKind.no_contact:
        if breached_on is not None:
            return CommitmentStatus.breached
        if due_on is not None and due_on < today:
            return CommitmentStatus.completed
        return CommitmentStatus.upcoming
    if completed_on is not None:
        return CommitmentStatus.completed
    if due_on is None:
        return CommitmentStatus.upcoming
    if due_on < today:
        return CommitmentStatus.overdue
    if due_on <= due_soon_until(today, due_soon_days):
        return CommitmentStatus.due_soon
    return CommitmentStatus.upcoming


SETTLED = frozenset({CommitmentStatus.completed, CommitmentStatus.waived})


def settles_case(kind: CommitmentKind, due_on: date | None, status: CommitmentStatus) -> bool:
    """Whether this commitment lets the case complete: completed or waived, or a no-contact commitment
    with no end date that has not been breached (it stands after the case completes)."""
    if status in SETTLED:
        return True
    return kind == CommitmentKind.no_contact and due_on is None and status == CommitmentStatus.upcoming


def case_outcome(*, closed: bool, commitments: Iterable[tuple[CommitmentKind, date | None, CommitmentStatus]]) -> str:
    """A case's follow-up state from its closure and its commitments in force (kind, due date, status):
    closed, no_agreement (nothing sealed yet), completed (every one settles the case) or monitoring."""
    if closed:
        return "closed"
    items = list(commitments)
    if not items:
        return "no_agreement"
    return "completed" if all(settles_case(kind, due_on, status) for kind, due_on, status in items) else "monitoring"


def on_time(*, due_on: date | None, completed_on: date | None) -> bool:
    return due_on is not None and completed_on is not None and completed_on <= due_on


@dataclass(frozen=True)
class ComplianceFact:
    kind: CommitmentKind
    due_on: date | None
    completed_on: date | None
    waived: bool


def compliance_rate(commitments: Iterable[ComplianceFact], *, today: date) -> float | None:
    """Commitments completed on time divided by those due: dated, not waived, not no-contact, and due
    before today. None when nothing is due yet."""
    due = [
        c
        for c in commitments
        if c.kind != CommitmentKind.no_contact and not c.waived and c.due_on is not None and c.due_on < today
    ]
    if not due:
        return None
    return sum(on_time(due_on=c.due_on, completed_on=c.completed_on) for c in due) / len(due)


@dataclass(frozen=True)
class CaseOpenness:
    """What keeps a case in monitoring: see `models.FollowupSummary`."""

    open_tasks: int
    standing_until: date | None

    def unsettled_on(self, today: date) -> bool:
        return self.open_tasks > 0 or (self.standing_until is not None and self.standing_until >= today)


def case_openness(
    commitments: Iterable[tuple[CommitmentKind, date | None, date | None, date | None, bool]],
) -> CaseOpenness:
    """From a case's commitments in force as (kind, due_on, completed_on, breached_on, waived):
    the count that keeps it open whatever the date, and the last day a no-contact term still runs.
    `unsettled_on(today)` equals "not every commitment settles the case" (`settles_case`)."""
    open_tasks, standing = 0, None
    for kind, due_on, completed_on, breached_on, waived in commitments:
        if waived:
            continue
        if kind == CommitmentKind.no_contact:
            if breached_on is not None:
                open_tasks += 1
            elif due_on is not None:
                standing = due_on if standing is None else max(standing, due_on)
        elif completed_on is None:
            open_tasks += 1
    return CaseOpenness(open_tasks, standing)
