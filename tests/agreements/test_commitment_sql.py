"""The status in SQL is the rules function's status (hypothesis): over generated commitments, for several
"today"s and windows, `status_case` equals `commitment_status` row by row, each `status_predicate`
selects exactly the rows of its status, and the dashboard's figures equal the same figures counted in
Python with the rules. And the service keeps each commitment's progress summary equal to its entries
through any sequence of records and corrections."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from app.agreements.commitment_queries import dashboard_counts, list_commitments, status_case, status_predicate
from app.agreements.commitment_rules import (
    CommitmentStatus,
    ComplianceFact,
    EntryFact,
    commitment_status,
    compliance_rate,
    settles_case,
    summarise,
)
from app.agreements.commitment_schemas import CommitmentFilter, ProgressCreate
from app.agreements.commitment_service import (
    correct_entry,
    entries_of,
    rebuild_followup_summaries,
    record_progress,
    today_for,
)
from app.agreements.models import Commitment, CommitmentKind, ProgressKind
from app.auth.models import User, UserRole
from app.auth.service import actor_for
from app.conferences.models import CaseClosure, CaseFacilitator, ClosureReason
from app.errors import Conflict, InvalidInput
from app.programs.models import Program
from tests.agreements.monitoring_support import sealed_case, stub_pdf
from tests.factories import make_case, make_user

BASE = date(2027, 3, 10)
NC = CommitmentKind.no_contact
# Mid-month, the first and the last day of a month (the "completed this month" edges), windows of 0 to 30.
TODAYS = [(BASE, 14), (BASE, 0), (date(2027, 3, 1), 14), (date(2027, 3, 31), 30), (date(2027, 4, 1), 1)]
FAST = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@contextmanager
def rolled_back(db: Session) -> Iterator[None]:
    """One hypothesis example's rows, gone before the next example."""
    savepoint = db.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
        db.expire_all()


# --- generated commitments ------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    case: int  # index into the pool of cases
    kind: CommitmentKind
    due: int | None  # days from BASE
    quantity: int
    completed: int | None
    breached: int | None
    waived: bool
    superseded: bool


# Due dates anywhere around BASE, and often right on an edge of one of TODAYS: the day before, the day
# itself, the last day of the window and the day after it.
EDGES = sorted({(today - BASE).days + shift for today, window in TODAYS for shift in (-1, 0, window, window + 1)})
days = st.one_of(st.integers(min_value=-45, max_value=45), st.sampled_from(EDGES))
maybe_days = st.one_of(st.none(), days)


@st.composite
def specs(draw: st.DrawFn, cases: int) -> Spec:
    kind = draw(st.sampled_from(list(CommitmentKind)))
    return Spec(
        case=draw(st.integers(min_value=0, max_value=cases - 1)),
        kind=kind,
        due=draw(maybe_days),
        quantity=0 if kind == NC else draw(st.integers(min_value=1, max_value=50_000)),
        # The columns are drawn freely, beyond what the service would write (a breach date on a
        # payment, a completion on a no-contact): both sides must still agree.
        completed=draw(maybe_days),
        breached=draw(st.one_of(st.none(), st.none(), days)),
        waived=draw(st.integers(min_value=0, max_value=5)) == 0,
        superseded=draw(st.integers(min_value=0, max_value=9)) == 0,
    )


def at(offset: int | None) -> date | None:
    return None if offset is None else BASE + timedelta(days=offset)


def rule_status(c: Commitment, today: date, window: int) -> CommitmentStatus:
    return commitment_status(
        kind=CommitmentKind(c.kind),
        due_on=c.due_on,
        completed_on=c.completed_on,
        breached_on=c.breached_on,
        waived=c.waived_at is not None,
        today=today,
        due_soon_days=window,
    )


@dataclass
class Pool:
    """The cases generated commitments go on: the sealed one, three more (one closed), and one case of
    another program, all using the sealed version for their foreign keys."""

    program_id: int
    agreement_id: int
    version_id: int
    owed_by_id: int
    cases: list[tuple[int, int]]  # (case id, program id)
    closed: set[int]
    assigned: set[int]  # the cases facilitator2 is assigned to


@pytest.fixture
def pool(db: Session, facilitator: User, facilitator2: User, other_program: Program, monkeypatch) -> Pool:  # type: ignore[no-untyped-def]
    stub_pdf(monkeypatch)
    sealed = sealed_case(db, facilitator)
    extra = [make_case(db, facilitator) for _ in range(3)]
    foreign = make_case(db, make_user(db, other_program, UserRole.facilitator, "Otto Elsewhere"))
    db.add(
        CaseClosure(
            program_id=extra[2].program_id,
            case_id=extra[2].id,  # type: ignore[arg-type]
            reason=ClosureReason.non_compliance,
            note="Stopped paying.",
            closed_by_id=facilitator.id,  # type: ignore[arg-type]
        )
    )
    for case in (extra[0], extra[2]):
        db.add(CaseFacilitator(case_id=case.id, user_id=facilitator2.id, program_id=case.program_id))  # type: ignore[arg-type]
    db.flush()
    cases = [sealed.case, *extra, foreign]
    return Pool(
        program_id=sealed.case.program_id,
        agreement_id=sealed.version.agreement_id,
        version_id=sealed.version.id,  # type: ignore[arg-type]
        owed_by_id=sealed.held.responsible.id,  # type: ignore[arg-type]
        cases=[(c.id, c.program_id) for c in cases],  # type: ignore[misc]
        closed={extra[2].id},  # type: ignore[arg-type]
        assigned={extra[0].id, extra[2].id},  # type: ignore[arg-type]
    )


def insert(db: Session, pool: Pool, batch: list[Spec]) -> None:
    rows = []
    for number, spec in enumerate(batch, start=100):
        case_id, program_id = pool.cases[spec.case]
        rows.append(
            Commitment(
                program_id=program_id,
                case_id=case_id,
                agreement_id=pool.agreement_id,
                version_id=pool.version_id,
                term_number=number,
                kind=spec.kind,
                owed_by_id=pool.owed_by_id,
                description=f"Generated {number}",
                due_on=at(spec.due),
                quantity=spec.quantity,
                currency="EUR" if spec.kind == CommitmentKind.payment else None,
                verification="Generated",
                progress_total=spec.quantity if spec.completed is not None else 0,
                completed_on=at(spec.completed),
                breached_on=at(spec.breached),
                waived_at=datetime(2027, 2, 1, 9, 30, tzinfo=UTC) if spec.waived else None,
                superseded_at=datetime(2027, 1, 1, tzinfo=UTC) if spec.superseded else None,
            )
        )
    db.add_all(rows)
    db.flush()
    # The rows were written directly, not through the service: rebuild the case summaries the
    # dashboard counts cases from (the service keeps them; a test below holds the two equal).
    for program_id in {program_id for _, program_id in pool.cases}:
        rebuild_followup_summaries(db, program_id=program_id)


def expected_counts(rows: list[Commitment], *, closed: set[int], today: date, window: int) -> dict:
    """The dashboard's figures, counted in Python with the rules."""
    statuses = {c.id: rule_status(c, today, window) for c in rows}
    by_status = Counter(statuses.values())
    first_of_month = today.replace(day=1)
    completed_this_month = sum(
        1
        for c in rows
        if statuses[c.id] == CommitmentStatus.completed and c.kind != NC and first_of_month <= c.completed_on <= today  # type: ignore[operator]
    )
    facts = [ComplianceFact(CommitmentKind(c.kind), c.due_on, c.completed_on, c.waived_at is not None) for c in rows]
    settled: dict[int, bool] = {}
    for c in rows:
        if c.case_id in closed:
            continue
        ok = settles_case(CommitmentKind(c.kind), c.due_on, statuses[c.id])
        settled[c.case_id] = settled.get(c.case_id, True) and ok
    return {
        "overdue": by_status[CommitmentStatus.overdue],
        "due_soon": by_status[CommitmentStatus.due_soon],
        "completed_this_month": completed_this_month,
        "compliance_rate": compliance_rate(facts, today=today),
        "cases_in_monitoring": sum(not done for done in settled.values()),
        "cases_completed": sum(settled.values()),
    }


def observed_counts(db: Session, user: User, today: date, window: int) -> dict:
    counts = dashboard_counts(db, actor=actor_for(user), today=today, due_soon_days=window)
    return {
        "overdue": counts.overdue,
        "due_soon": counts.due_soon,
        "completed_this_month": counts.completed_this_month,
        "compliance_rate": counts.compliance_rate,
        "cases_in_monitoring": counts.cases_in_monitoring,
        "cases_completed": counts.cases_completed,
    }


def test_the_sql_status_equals_the_rules_status_and_the_dashboard_equals_the_rules_counts(
    db: Session, pool: Pool, staff: User, facilitator2: User
) -> None:
    case_ids = [case_id for case_id, _ in pool.cases]

    @FAST
    @given(
        batch=st.lists(specs(len(pool.cases)), min_size=1, max_size=30),
        shift=st.integers(min_value=-50, max_value=50),
        window=st.integers(min_value=0, max_value=40),
    )
    def check(batch: list[Spec], shift: int, window: int) -> None:
        with rolled_back(db):
            insert(db, pool, batch)
            rows = list(db.exec(select(Commitment).where(col(Commitment.case_id).in_(case_ids))).all())
            in_force = [c for c in rows if c.program_id == pool.program_id and c.superseded_at is None]
            for today, due_soon_days in [*TODAYS, (BASE + timedelta(days=shift), window)]:
                sql = dict(
                    db.execute(
                        select(Commitment.id, status_case(today, due_soon_days)).where(
                            col(Commitment.case_id).in_(case_ids)
                        )
                    ).all()
                )
                rules = {c.id: rule_status(c, today, due_soon_days).value for c in rows}
                assert sql == rules, (today, due_soon_days)
                for status in CommitmentStatus:
                    selected = db.exec(
                        select(Commitment.id).where(
                            col(Commitment.case_id).in_(case_ids), status_predicate(status, today, due_soon_days)
                        )
                    ).all()
                    assert sorted(selected) == sorted(i for i, s in rules.items() if s == status), (status, today)
                assert observed_counts(db, staff, today, due_soon_days) == expected_counts(
                    in_force, closed=pool.closed, today=today, window=due_soon_days
                ), (today, due_soon_days)
                theirs = [c for c in in_force if c.case_id in pool.assigned]
                assert observed_counts(db, facilitator2, today, due_soon_days) == expected_counts(
                    theirs, closed=pool.closed, today=today, window=due_soon_days
                ), ("facilitator", today, due_soon_days)

    check()


def test_the_status_predicates_partition_every_commitment(db: Session, pool: Pool) -> None:
    """Each commitment is selected by exactly one status (no gaps, no overlaps)."""
    case_ids = [case_id for case_id, _ in pool.cases]

    @FAST
    @given(batch=st.lists(specs(len(pool.cases)), min_size=1, max_size=30), shift=st.integers(-50, 50))
    def check(batch: list[Spec], shift: int) -> None:
        with rolled_back(db):
            insert(db, pool, batch)
            today = BASE + timedelta(days=shift)
            everything = db.exec(select(Commitment.id).where(col(Commitment.case_id).in_(case_ids))).all()
            seen: list[int] = []
            for status in CommitmentStatus:
                seen += db.exec(
                    select(Commitment.id).where(
                        col(Commitment.case_id).in_(case_ids), status_predicate(status, today, 14)
                    )
                ).all()
            assert sorted(seen) == sorted(everything)

    check()


# --- the service keeps the summary equal to the entries -------------------------------------------


@dataclass(frozen=True)
class Step:
    target: str  # which commitment: payment, hours, no_contact
    action: str  # record, note, correct
    amount: int  # cents, minutes, or which entry to correct
    days_ago: int


steps = st.builds(
    Step,
    target=st.sampled_from(["payment", "hours", "no_contact"]),
    action=st.sampled_from(["record", "record", "record", "note", "correct", "correct"]),
    amount=st.integers(min_value=1, max_value=15_000),
    days_ago=st.integers(min_value=0, max_value=60),
)


def progress_for(target: str, step: Step, today: date) -> ProgressCreate:
    occurred_on = today - timedelta(days=step.days_ago)
    if step.action == "note":
        return ProgressCreate(kind=ProgressKind.note, occurred_on=occurred_on, evidence_note="Called the office.")
    match target:
        case "payment":
            return ProgressCreate(kind=ProgressKind.payment, amount=Decimal(step.amount) / 100, occurred_on=occurred_on)
        case "hours":
            hours = Decimal(3 * (step.amount % 200 + 1)) / 60  # whole minutes in steps of 0.05 h, up to ten hours
            return ProgressCreate(kind=ProgressKind.hours, amount=hours, occurred_on=occurred_on)
    return ProgressCreate(kind=ProgressKind.breach_reported, occurred_on=occurred_on)


def test_records_and_corrections_keep_the_progress_summary_equal_to_the_entries(
    db: Session, facilitator: User, staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_pdf(monkeypatch)
    sealed = sealed_case(db, facilitator)
    targets = {
        "payment": sealed.of_kind("payment")[0],  # 200.00 EUR
        "hours": sealed.of_kind("service_hours")[0],  # 40 hours
        "no_contact": sealed.of_kind("no_contact")[0],
    }
    actor = actor_for(staff)
    today = today_for(db, sealed.case)

    @FAST
    @given(plan=st.lists(steps, min_size=1, max_size=12))
    def check(plan: list[Step]) -> None:
        with rolled_back(db):
            for step in plan:
                commitment = targets[step.target]
                db.refresh(commitment)
                if step.action == "correct":
                    entries = entries_of(db, commitment=commitment)
                    if not entries:
                        continue
                    chosen = entries[step.amount % len(entries)]
                    try:
                        correct_entry(db, actor=actor, case=sealed.case, entry=chosen, reason="Entered twice.")
                    except Conflict as refused:  # a correction, or an entry already corrected
                        assert refused.conditions[0].code in {"is_correction", "already_corrected"}
                else:
                    try:
                        record_progress(
                            db,
                            actor=actor,
                            case=sealed.case,
                            commitment=commitment,
                            data=progress_for(step.target, step, today),
                        )
                    except InvalidInput as refused:  # more than is owed
                        assert "than is owed" in str(refused) or "already complete" in str(refused)
                for c in targets.values():
                    db.refresh(c)
                    entries = entries_of(db, commitment=c)
                    facts = [
                        EntryFact(e.id, ProgressKind(e.kind), e.amount, e.occurred_on, e.reverses_id) for e in entries
                    ]  # type: ignore[arg-type]
                    summary = summarise(kind=CommitmentKind(c.kind), quantity=c.quantity, entries=facts)
                    assert (c.progress_total, c.completed_on, c.breached_on) == (
                        summary.total,
                        summary.completed_on,
                        summary.breached_on,
                    )
                    # Independently of summarise: a reversal negates its entry, so the plain sum is the total,
                    # and more than is owed was never recorded.
                    if c.kind != NC:
                        assert c.progress_total == sum(e.amount for e in entries if e.kind != ProgressKind.note)
                        assert 0 <= c.progress_total <= c.quantity
                        assert (c.completed_on is not None) == (c.progress_total == c.quantity)

    check()


def test_a_fixed_sequence_of_payments_and_corrections(db: Session, facilitator: User, staff: User, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The same, spelled out: 200.00 EUR in three payments, the last one corrected and paid again later."""
    stub_pdf(monkeypatch)
    sealed = sealed_case(db, facilitator)
    payment = sealed.of_kind("payment")[0]
    actor, today = actor_for(staff), today_for(db, sealed.case)

    def pay(euros: str, days_ago: int):  # type: ignore[no-untyped-def]
        data = ProgressCreate(kind=ProgressKind.payment, amount=Decimal(euros), occurred_on=today - timedelta(days_ago))
        return record_progress(db, actor=actor, case=sealed.case, commitment=payment, data=data)

    pay("50.00", 30)
    pay("50.00", 20)
    last = pay("100.00", 10)
    assert (payment.progress_total, payment.completed_on) == (20_000, today - timedelta(10))
    correct_entry(db, actor=actor, case=sealed.case, entry=last, reason="The transfer bounced.")
    assert (payment.progress_total, payment.completed_on) == (10_000, None)
    pay("100.00", 2)
    assert (payment.progress_total, payment.completed_on) == (20_000, today - timedelta(2))
    assert len(entries_of(db, commitment=payment)) == 5


def due_order(c: Commitment, descending: bool) -> tuple:
    """The list's due-date sorts, undated last: the reference order for `list_commitments`."""
    if c.due_on is None:
        return (1, 0, -c.id if descending else c.id)  # type: ignore[operator]
    day = c.due_on.toordinal()
    return (0, -day, -c.id) if descending else (0, day, c.id)  # type: ignore[operator]


def test_every_page_of_the_list_in_due_date_order_is_the_rules_order(db: Session, pool: Pool, staff: User) -> None:
    """Paging through the list (7 rows a page) gives every row in force once, in due-date order with the
    undated last, with the status the rules give; with and without a status filter."""
    actor = actor_for(staff)

    @FAST
    @given(
        batch=st.lists(specs(len(pool.cases)), min_size=0, max_size=30),
        sort=st.sampled_from(["due_on", "-due_on"]),
        status=st.one_of(st.none(), st.sampled_from(list(CommitmentStatus))),
    )
    def check(batch: list[Spec], sort: str, status: CommitmentStatus | None) -> None:
        with rolled_back(db):
            insert(db, pool, batch)
            rows = db.exec(
                select(Commitment).where(
                    Commitment.program_id == pool.program_id, col(Commitment.superseded_at).is_(None)
                )
            ).all()
            wanted = [c for c in rows if status is None or rule_status(c, BASE, 14) == status]
            expected = [
                (c.id, rule_status(c, BASE, 14)) for c in sorted(wanted, key=lambda c: due_order(c, sort[0] == "-"))
            ]
            seen: list[tuple[int, CommitmentStatus]] = []
            page, pages = 1, 1
            while page <= pages:
                f = CommitmentFilter(status=status, sort=sort, page=page)  # type: ignore[arg-type]
                result = list_commitments(db, actor=actor, f=f, today=BASE, due_soon_days=14, page_size=7)
                assert result.total == len(wanted) and result.page == page
                seen += [(r.id, r.status) for r in result.rows]
                pages, page = result.pages, page + 1
            assert seen == expected

    check()
