"""Reading commitments for the dashboard, the list, the CSV export and a case's timeline.

Lists compute each commitment's status in SQL (`status_case`), from the same columns and the same
"today" (the program's local date) as `commitment_rules.commitment_status`, which is the reference.
Filters use `status_predicate`, the same rule written so an index can serve it. Every query here is
scoped to the actor's program, and for a facilitator to their own cases; a page of any size costs
the same handful of queries.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, case, exists, false, func, not_, or_
from sqlmodel import Session, col, select

from app.actor import Actor
from app.agreements.commitment_rules import (
    KIND_LABELS,
    STATUS_LABELS,
    CommitmentStatus,
    describe_amount,
    due_soon_until,
)
from app.agreements.commitment_schemas import CommitmentFilter
from app.agreements.commitment_trends import DueItem, Receipt, Trends, month_starts, monthly_trends
from app.agreements.models import (
    AgreementVersion,
    Commitment,
    CommitmentKind,
    DueTally,
    FollowupSummary,
    ProgressEntry,
)
from app.auth.models import User, UserRole
from app.conferences.models import Case, CaseClosure, CaseFacilitator, Participant
from app.conferences.queries import facts_for_cases
from app.conferences.rules import derive_journey

PAGE_SIZE = 25
NO_CONTACT = CommitmentKind.no_contact.value

C = Commitment


# --- the status in SQL --------------------------------------------------------------------------


def status_case(today: date, due_soon_days: int) -> ColumnElement[str]:
    """The commitment's status as a SQL expression: the same rule as `commitment_status`."""
    soon = due_soon_until(today, due_soon_days)
    return case(
        (col(C.waived_at).is_not(None), CommitmentStatus.waived.value),
        (and_(C.kind == NO_CONTACT, col(C.breached_on).is_not(None)), CommitmentStatus.breached.value),
        (and_(C.kind == NO_CONTACT, col(C.due_on).is_not(None), col(C.due_on) < today), "completed"),
        (C.kind == NO_CONTACT, CommitmentStatus.upcoming.value),
        (col(C.completed_on).is_not(None), CommitmentStatus.completed.value),
        (col(C.due_on).is_(None), CommitmentStatus.upcoming.value),
        (col(C.due_on) < today, CommitmentStatus.overdue.value),
        (col(C.due_on) <= soon, CommitmentStatus.due_soon.value),
        else_=CommitmentStatus.upcoming.value,
    )


def _open_task() -> ColumnElement[bool]:
    """Not waived, not no-contact, not completed: what a due date applies to."""
    return and_(col(C.waived_at).is_(None), col(C.completed_on).is_(None), C.kind != NO_CONTACT)


def status_predicate(status: CommitmentStatus, today: date, due_soon_days: int) -> ColumnElement[bool]:
    """`status_case(...) == status`, written so that the indexes on (program, completion, due date) serve it."""
    soon = due_soon_until(today, due_soon_days)
    not_waived = col(C.waived_at).is_(None)
    no_contact = and_(not_waived, C.kind == NO_CONTACT)
    match status:
        case CommitmentStatus.waived:
            return col(C.waived_at).is_not(None)
        case CommitmentStatus.breached:
            return and_(no_contact, col(C.breached_on).is_not(None))
        case CommitmentStatus.overdue:
            return and_(_open_task(), col(C.due_on) < today)
        case CommitmentStatus.due_soon:
            return and_(_open_task(), col(C.due_on) >= today, col(C.due_on) <= soon)
        case CommitmentStatus.completed:
            return or_(
                and_(not_waived, C.kind != NO_CONTACT, col(C.completed_on).is_not(None)),
                and_(no_contact, col(C.breached_on).is_(None), col(C.due_on) < today),
            )
        case CommitmentStatus.upcoming:
            return or_(
                and_(_open_task(), or_(col(C.due_on).is_(None), col(C.due_on) > soon)),
                and_(no_contact, col(C.breached_on).is_(None), or_(col(C.due_on).is_(None), col(C.due_on) >= today)),
            )
    return false()


# --- scope ----------------------------------------------------------------------------------------


def _closed(case_id_column) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    return exists().where(CaseClosure.case_id == case_id_column)


def scope(actor: Actor) -> list[ColumnElement[bool]]:
    """Where-clauses for the commitments this actor may see: in force, in their program, and for a
    facilitator only on the cases assigned to them."""
    clauses: list[ColumnElement[bool]] = [C.program_id == actor.program_id, col(C.superseded_at).is_(None)]
    if actor.role == UserRole.facilitator:
        clauses.append(exists().where(CaseFacilitator.case_id == C.case_id, CaseFacilitator.user_id == actor.user_id))
    elif actor.role not in (UserRole.admin, UserRole.staff):
        clauses.append(false())
    return clauses


def filters(f: CommitmentFilter, *, today: date, due_soon_days: int) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.status is not None:
        clauses.append(status_predicate(f.status, today, due_soon_days))
    if f.kind is not None:
        clauses.append(C.kind == f.kind.value)
    if f.facilitator_id is not None:
        clauses.append(
            exists().where(CaseFacilitator.case_id == C.case_id, CaseFacilitator.user_id == f.facilitator_id)
        )
    if f.case_id is not None:
        clauses.append(C.case_id == f.case_id)
    if f.due_from is not None:
        clauses.append(col(C.due_on) >= f.due_from)
    if f.due_to is not None:
        clauses.append(col(C.due_on) <= f.due_to)
    return clauses


# --- the dashboard --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    overdue: int
    due_soon: int
    completed_this_month: int
    due_so_far: int
    completed_on_time: int
    cases_in_monitoring: int
    cases_completed: int
    today: date
    due_soon_days: int

    @property
    def compliance_rate(self) -> float | None:
        return self.completed_on_time / self.due_so_far if self.due_so_far else None


def dashboard_counts(session: Session, *, actor: Actor, today: date, due_soon_days: int) -> Counts:
    """The program's figures (a facilitator's: their own cases'), in four queries whatever the size:
    programs from the per-day tallies and per-case summaries the service keeps, facilitators from their
    own commitments."""
    where = scope(actor)

    def count(*clauses: ColumnElement[bool]) -> int:
        return session.exec(select(func.count()).select_from(C).where(*where, *clauses)).one()

    first_of_month = today.replace(day=1)
    completed_this_month = count(
        col(C.completed_on) >= first_of_month,
        col(C.completed_on) <= today,
        col(C.waived_at).is_(None),
        C.kind != NO_CONTACT,
    )
    soon = due_soon_until(today, due_soon_days)
    if actor.role in (UserRole.admin, UserRole.staff):
        # The whole program: sum the per-day tallies the service keeps (a few hundred rows) instead of
        # reading every commitment due before today.
        t = DueTally
        past, coming = col(t.due_on) < today, and_(col(t.due_on) >= today, col(t.due_on) <= soon)
        due_row = session.exec(
            select(
                func.coalesce(func.sum(t.due).filter(past), 0),
                func.coalesce(func.sum(t.on_time).filter(past), 0),
                func.coalesce(func.sum(t.open).filter(past), 0),
                func.coalesce(func.sum(t.open).filter(coming), 0),
            ).where(t.program_id == actor.program_id)
        ).one()
    else:
        # A facilitator's own cases: from their commitments. One pass over those due before today gives
        # the compliance rate (completed by the due date) and the overdue count (not completed: the rows
        # `status_predicate(overdue)` selects).
        past_c = col(C.due_on) < today
        coming_c = and_(col(C.due_on) >= today, col(C.completed_on).is_(None))
        due_row = session.exec(
            select(
                func.count().filter(past_c),
                func.count().filter(and_(past_c, col(C.completed_on) <= col(C.due_on))),
                func.count().filter(and_(past_c, col(C.completed_on).is_(None))),
                func.count().filter(coming_c),
            )
            .select_from(C)
            .where(*where, col(C.due_on) <= soon, col(C.waived_at).is_(None), C.kind != NO_CONTACT)
        ).one()
    # Cases: those with commitments in force and not closed; in monitoring while any is unsettled.
    # Grouped first (read in case order from an index), the closure looked up once a case, not once a row.
    # Cases: from each case's follow-up summary (kept with its commitments), not closed; in
    # monitoring while something is open whatever the date, or a no-contact term still runs.
    fs = FollowupSummary
    case_where: list[ColumnElement[bool]] = [fs.program_id == actor.program_id, not_(_closed(fs.case_id))]
    if actor.role == UserRole.facilitator:
        case_where.append(
            exists().where(CaseFacilitator.case_id == fs.case_id, CaseFacilitator.user_id == actor.user_id)
        )
    elif actor.role not in (UserRole.admin, UserRole.staff):
        case_where.append(false())
    is_open = or_(fs.open_tasks > 0, col(fs.standing_until) >= today)
    monitoring, completed = session.exec(
        select(
            func.coalesce(func.sum(case((is_open, 1), else_=0)), 0),
            func.coalesce(func.sum(case((is_open, 0), else_=1)), 0),
        ).where(*case_where)
    ).one()
    return Counts(
        overdue=int(due_row[2]),
        due_soon=int(due_row[3]),
        completed_this_month=completed_this_month,
        due_so_far=int(due_row[0]),
        completed_on_time=int(due_row[1]),
        cases_in_monitoring=int(monitoring),
        cases_completed=int(completed),
        today=today,
        due_soon_days=due_soon_days,
    )


# --- compliance over time -------------------------------------------------------------------------


def trends(session: Session, *, actor: Actor, today: date, months: int = 12) -> Trends:
    """The charts' month-by-month figures for the commitments the actor may see (two queries), computed
    by `commitment_trends.monthly_trends` from the commitments due and the amounts recorded."""
    start = month_starts(today, months)[0]
    end = date(today.year + today.month // 12, today.month % 12 + 1, 1)  # the first day after this month
    where = scope(actor)
    due = session.exec(
        select(C.kind, C.due_on, C.quantity, C.currency, C.completed_on).where(
            *where, col(C.waived_at).is_(None), col(C.due_on) >= start, col(C.due_on) < end
        )
    ).all()
    amount_kinds = (CommitmentKind.payment.value, CommitmentKind.service_hours.value)
    received = session.exec(
        select(C.kind, ProgressEntry.occurred_on, ProgressEntry.amount, C.currency)
        .join(C, col(C.id) == ProgressEntry.commitment_id)
        .where(
            *where,
            col(C.kind).in_(amount_kinds),
            ProgressEntry.occurred_on >= start,
            ProgressEntry.occurred_on <= today,
        )
    ).all()
    return monthly_trends(
        today=today,
        due=[DueItem(CommitmentKind(k), d, q, cur, done) for k, d, q, cur, done in due],  # type: ignore[arg-type]
        received=[Receipt(CommitmentKind(k), on, amount, cur) for k, on, amount, cur in received],
        months=months,
    )


# --- the list -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitmentRow:
    id: int
    case_id: int
    case_reference: str
    version_id: int
    version_number: int
    term_number: int
    sequence: int
    of_count: int
    kind: CommitmentKind
    description: str
    owed_by_id: int
    owed_by_role: str
    due_on: date | None
    quantity: int
    currency: str | None
    verification: str
    done: int
    status: CommitmentStatus
    completed_on: date | None
    breached_on: date | None
    waived_at: object
    facilitators: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def quantity_text(self) -> str:
        return (
            "" if self.kind == CommitmentKind.no_contact else describe_amount(self.kind, self.quantity, self.currency)
        )

    @property
    def done_text(self) -> str:
        if self.kind == CommitmentKind.no_contact:
            return "Breach reported" if self.breached_on else "No breach reported"
        return describe_amount(self.kind, self.done, self.currency)

    @property
    def unit(self) -> str:
        return {
            CommitmentKind.payment: "cents",
            CommitmentKind.service_hours: "minutes",
            CommitmentKind.program_attendance: "sessions",
            CommitmentKind.no_contact: "none",
        }.get(self.kind, "done")


@dataclass(frozen=True)
class RowPage:
    rows: list[CommitmentRow]
    page: int
    pages: int
    total: int


_SORTS = {
    "due_on": (col(C.due_on).is_(None), col(C.due_on), col(C.id)),
    "-due_on": (col(C.due_on).is_(None), col(C.due_on).desc(), col(C.id).desc()),
    "case": (col(Case.reference), col(C.due_on), col(C.id)),
    "-case": (col(Case.reference).desc(), col(C.due_on), col(C.id)),
    "kind": (col(C.kind), col(C.due_on), col(C.id)),
}


def _row_select(today: date, due_soon_days: int):  # type: ignore[no-untyped-def]
    status = status_case(today, due_soon_days).label("status")
    return (
        select(C, col(Case.reference), col(AgreementVersion.number), col(Participant.role), status)
        .join(Case, col(Case.id) == C.case_id)
        .join(AgreementVersion, col(AgreementVersion.id) == C.version_id)
        .join(Participant, col(Participant.id) == C.owed_by_id)
    ), status


def _to_row(record, facilitators: dict[int, tuple[str, ...]]) -> CommitmentRow:  # type: ignore[no-untyped-def]
    c, reference, number, role, status = record
    return CommitmentRow(
        id=c.id,
        case_id=c.case_id,
        case_reference=reference,
        version_id=c.version_id,
        version_number=number,
        term_number=c.term_number,
        sequence=c.sequence,
        of_count=c.of_count,
        kind=CommitmentKind(c.kind),
        description=c.description,
        owed_by_id=c.owed_by_id,
        owed_by_role=str(role),
        due_on=c.due_on,
        quantity=c.quantity,
        currency=c.currency,
        verification=c.verification,
        done=c.progress_total,
        status=CommitmentStatus(status),
        completed_on=c.completed_on,
        breached_on=c.breached_on,
        waived_at=c.waived_at,
        facilitators=facilitators.get(c.case_id, ()),
    )


def facilitator_names(session: Session, *, case_ids: set[int]) -> dict[int, tuple[str, ...]]:
    if not case_ids:
        return {}
    names: dict[int, list[str]] = {}
    for case_id, name in session.exec(
        select(CaseFacilitator.case_id, User.full_name)
        .join(User, col(User.id) == CaseFacilitator.user_id)
        .where(col(CaseFacilitator.case_id).in_(case_ids))
        .order_by(col(User.full_name))
    ).all():
        names.setdefault(case_id, []).append(name)
    return {k: tuple(v) for k, v in names.items()}


def paused_case_ids(session: Session, *, case_ids: set[int]) -> set[int]:
    """Which of these cases are paused (consent withdrawn, a critical risk, an urgent concern unreviewed),
    derived from their records as the case's journey derives it; a few queries for a page's cases."""
    if not case_ids:
        return set()
    cases = list(session.exec(select(Case).where(col(Case.id).in_(case_ids))).all())
    facts = facts_for_cases(session, cases=cases)
    return {case_id for case_id, f in facts.items() if derive_journey(f).paused}


def list_commitments(
    session: Session, *, actor: Actor, f: CommitmentFilter, today: date, due_soon_days: int, page_size: int = PAGE_SIZE
) -> RowPage:
    """One page of the filtered, sorted list: three or four queries whatever the size (the count, the
    page, in due-date order possibly in two slices, and the facilitators' names)."""
    where = scope(actor) + filters(f, today=today, due_soon_days=due_soon_days)
    total, dated = session.exec(select(func.count(), func.count(C.due_on)).select_from(C).where(*where)).one()
    pages = max(1, math.ceil(total / page_size))
    page = min(f.page, pages)
    query, status = _row_select(today, due_soon_days)
    offset = (page - 1) * page_size
    if f.sort in ("due_on", "-due_on"):
        order = _due_order(f)
        records = _in_due_order(session, query.where(*where), order, dated, total - dated, offset, page_size)
    else:
        order = (status, col(C.due_on), col(C.id)) if f.sort == "status" else _SORTS[f.sort]
        records = list(session.exec(query.where(*where).order_by(*order).offset(offset).limit(page_size)).all())
    names = facilitator_names(session, case_ids={r[0].case_id for r in records})
    return RowPage([_to_row(r, names) for r in records], page, pages, total)


# Statuses whose rows all have no completion and no waiver: the index on (program, in force, completion,
# waiver, due date, id) holds them in due-date order.
_OPEN = (CommitmentStatus.overdue, CommitmentStatus.due_soon)


def _due_order(f: CommitmentFilter) -> tuple:  # type: ignore[type-arg]
    """The due-date sorts (undated last) as two slices, both in an order an index delivers, so that no
    query sorts the whole filtered list to return one page of it. The leading columns are the same on
    every row selected (NULL), so they change nothing; they let PostgreSQL match the index's order,
    which it does not infer from `IS NULL` conditions as SQLite does."""
    descending = f.sort == "-due_on"
    constant = [col(C.superseded_at)]
    if f.status in _OPEN:
        constant += [col(C.completed_on), col(C.waived_at)]
    keys = [*constant, col(C.due_on), col(C.id)]
    return tuple(k.desc() if descending else k for k in keys)


def _in_due_order(session: Session, query, order, dated: int, undated: int, offset: int, limit: int) -> list:  # type: ignore[no-untyped-def]
    """`limit` rows from `offset` of `query` ordered as `_SORTS` orders it: the dated rows by due date,
    then the undated ones (by id, their due dates being all NULL)."""
    records: list = []
    if offset < dated:
        dated_rows = query.where(col(C.due_on).is_not(None)).order_by(*order).offset(offset).limit(limit)
        records = list(session.exec(dated_rows).all())
    if len(records) < limit and undated:
        rest = query.where(col(C.due_on).is_(None)).order_by(*order)
        records += session.exec(rest.offset(max(0, offset - dated)).limit(limit - len(records))).all()
    return records


def iter_commitments(
    session: Session, *, actor: Actor, f: CommitmentFilter, today: date, due_soon_days: int, batch: int = 2_000
) -> Iterator[CommitmentRow]:
    """Every row of the filtered list, in its sort order, fetched in batches (for the CSV export)."""
    where = scope(actor) + filters(f, today=today, due_soon_days=due_soon_days)
    query, status = _row_select(today, due_soon_days)
    order = (status, col(C.due_on), col(C.id)) if f.sort == "status" else _SORTS[f.sort]
    offset = 0
    while True:
        records = session.exec(query.where(*where).order_by(*order).offset(offset).limit(batch)).all()
        if not records:
            return
        names = facilitator_names(session, case_ids={r[0].case_id for r in records})
        yield from (_to_row(r, names) for r in records)
        offset += batch


def case_rows(session: Session, *, actor: Actor, case: Case, today: date, due_soon_days: int) -> list[CommitmentRow]:
    """A case's commitments in force, in due-date order (standing and undated last)."""
    f = CommitmentFilter(case_id=case.id)
    return list(iter_commitments(session, actor=actor, f=f, today=today, due_soon_days=due_soon_days))
