"""Benchmark: the compliance dashboard, the overdue list and the CSV export of a program of 10,000 cases.

    uv run --frozen python bench/monitoring_bench.py [--cases 10000] [--small 1000] [--runs 50] [--explain]
    MEND_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/mend_bench \\
        uv run --frozen python bench/monitoring_bench.py

It seeds a fresh, migrated database (a SQLite file in a temporary folder by default; the PostgreSQL
database named by MEND_BENCH_DATABASE_URL when it is set, whose public schema is dropped first): one
program, six facilitators and a staff member, then with bulk inserts 10,000 sealed cases with 100,000
commitments (an apology, four instalments, service hours, a course, a no-contact term and two other
tasks each; due dates over two years around today) and 200,000 progress entries (partial payments,
hours, sessions, corrections, notes, breaches), some commitments waived, some cases closed. Each
commitment's progress summary is computed from its entries with `commitment_rules.summarise`, as the
service would have written it.

Then, through the real ASGI app (a TestClient signed in as the staff member), it times each request
`--runs` times after 3 untimed ones, and counts the SQL statements each one sends (a
`before_cursor_execute` listener on the engine). A second, smaller seed (`--small` cases, in its own
database) shows that the count does not grow with the number of rows. `--explain` prints the plan of
every statement of the dashboard and the list (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on
PostgreSQL).
"""

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="mend-bench-"))
os.environ.setdefault("MEND_ENV", "test")  # cookies without the Secure flag, for the test client's http://
os.environ.setdefault("MEND_SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnop")
os.environ.setdefault("MEND_ENCRYPTION_KEYS", "bench-1:YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE")
BENCH_URL = os.environ.get("MEND_BENCH_DATABASE_URL") or f"sqlite:///{_TMP / 'monitoring-bench.db'}"
os.environ["MEND_DATABASE_URL"] = BENCH_URL  # never the development database, whatever else happens

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, func, insert, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import Session, SQLModel, select  # noqa: E402

from app.actor import Actor  # noqa: E402
from app.agreements import commitment_queries  # noqa: E402
from app.agreements.commitment_csv import csv_lines  # noqa: E402
from app.agreements.commitment_rules import EntryFact, local_today, summarise  # noqa: E402
from app.agreements.commitment_schemas import CommitmentFilter  # noqa: E402
from app.agreements.commitment_service import rebuild_followup_summaries  # noqa: E402
from app.agreements.models import (  # noqa: E402
    Agreement,
    AgreementVersion,
    Commitment,
    CommitmentKind,
    ProgressEntry,
    ProgressKind,
    VersionStatus,
    Waiver,
    WaiverStatus,
)
from app.auth.models import User, UserRole  # noqa: E402
from app.auth.schemas import UserCreate  # noqa: E402
from app.auth.service import actor_for, create_user, start_session  # noqa: E402
from app.conferences.models import (  # noqa: E402
    Case,
    CaseClosure,
    CaseFacilitator,
    ClosureReason,
    HarmType,
    Participant,
    ParticipantRole,
    ReferralSource,
)
from app.db import get_session, make_engine, utcnow  # noqa: E402
from app.programs.models import Program  # noqa: E402
from app.programs.schemas import ProgramCreate  # noqa: E402
from app.programs.service import create_program  # noqa: E402
from app.security import csrf_token_for  # noqa: E402
from tests.support import migrate, reset_database  # noqa: E402

TIMEZONE = "Europe/Madrid"
PASSWORD = "lantern orbit cobalt meadow"  # noqa: S105 (benchmark accounts only)
FACILITATORS = 6
ENTRIES_PER_CASE = 20  # 200,000 progress entries for 10,000 cases
BATCH = 5_000

K = CommitmentKind
P = ProgressKind


# --- seeding ----------------------------------------------------------------------------------


@dataclass
class Seeded:
    url: str
    program_id: int
    staff_id: int
    cases: int = 0
    commitments: int = 0
    entries: int = 0
    waived: int = 0
    breached: int = 0
    closed: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def _next_ids(engine: Engine, *tables: type[SQLModel]) -> dict[type[SQLModel], int]:
    with engine.connect() as connection:
        return {t: (connection.execute(select(func.max(t.id))).scalar() or 0) + 1 for t in tables}  # type: ignore[attr-defined]


def _insert(connection, model: type[SQLModel], rows: list[dict]) -> None:  # type: ignore[no-untyped-def]
    table = model.__table__  # type: ignore[attr-defined]
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(table), rows[start : start + BATCH])


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, clock(hour), tzinfo=UTC)


def _plan(start: date, rng: random.Random) -> list[tuple[CommitmentKind, int, int, date | None, int]]:
    """One case's ten commitments: (kind, term number, sequence, due date, quantity)."""
    instalment = rng.choice([5_000, 7_500, 10_000, 25_000, 40_000])
    ends = start + timedelta(days=365) if rng.random() < 0.5 else None
    return [
        (K.apology, 1, 1, start + timedelta(days=14), 1),
        *[(K.payment, 2, n, start + timedelta(days=30 * n), instalment) for n in range(1, 5)],
        (K.service_hours, 3, 1, start + timedelta(days=180), rng.choice([20, 40, 60]) * 60),
        (K.program_attendance, 4, 1, start + timedelta(days=150), rng.choice([4, 6, 8])),
        (K.no_contact, 5, 1, ends, 0),
        (K.other, 6, 1, start + timedelta(days=45), 1),
        (K.other, 7, 1, start + timedelta(days=200), 1),
    ]


def _progress(
    kind: CommitmentKind,
    due: date | None,
    quantity: int,
    start: date,
    today: date,
    diligence: float,
    rng: random.Random,
) -> list[tuple[ProgressKind, int, date]]:
    """What was done towards one commitment by today: (kind, amount, date), in the order it happened.
    A diligent person completes most of what is due, on time or a little late, and starts early on
    what is not due yet; parts are split in several entries (partial payments, hour logs, sessions)."""
    if kind == K.no_contact:
        if rng.random() < 0.03:
            return [(P.breach_reported, 0, start + timedelta(days=rng.randint(1, max(1, (today - start).days))))]
        return []
    assert due is not None
    if start >= today:
        return []
    if due < today:
        share = 1.0 if rng.random() < diligence else rng.choice([0.0, 0.0, 0.5])
    else:
        share = rng.choice([0.0, 0.0, 0.25, 0.5, 1.0]) if rng.random() < diligence else 0.0
    done = int(quantity * share)
    if done == 0:
        return []
    parts = {
        K.payment: 2,
        K.service_hours: max(1, done // 300),  # logs of about five hours
        K.program_attendance: done,  # one entry a session
    }.get(kind, 1)
    parts = min(parts, done)
    base, extra = divmod(done, parts)
    amounts = [base + (1 if n < extra else 0) for n in range(parts)]
    late = rng.random() < 0.2
    finish = min(today, due + timedelta(days=rng.randint(1, 30)) if late else due - timedelta(days=rng.randint(0, 10)))
    finish = max(finish, start)
    span = max(0, (finish - start).days)
    days = sorted(start + timedelta(days=rng.randint(0, span)) for _ in range(parts - 1)) + [finish]
    entry_kind = {
        K.payment: P.payment,
        K.service_hours: P.hours,
        K.program_attendance: P.session_attended,
        K.apology: P.apology_delivered,
    }.get(kind, P.done)
    return [(entry_kind, amount, day) for amount, day in zip(amounts, days, strict=True)]


def seed(url: str, cases: int, *, rng_seed: int = 6) -> Seeded:
    """A fresh database with one program of `cases` sealed cases, their commitments and progress."""
    started = time.perf_counter()
    reset_database(url)
    engine = make_engine(url)
    migrate(engine)
    with Session(engine, expire_on_commit=False) as session:
        system = Actor.system("bench")
        program = create_program(session, actor=system, data=ProgramCreate(name="Bench Program", timezone=TIMEZONE))
        people = [
            create_user(
                session,
                actor=Actor.system("bench", program_id=program.id),
                program_id=program.id,  # type: ignore[arg-type]
                data=UserCreate(
                    email=f"{name.lower()}@bench.example.org", full_name=name, role=role, password=PASSWORD
                ),
            )
            for name, role in [(f"Facilitator{n}", UserRole.facilitator) for n in range(1, FACILITATORS + 1)]
            + [("Staff", UserRole.staff)]
        ]
        session.commit()
    facilitator_ids = [u.id for u in people[:-1]]
    staff_id = people[-1].id
    program_id = program.id
    assert program_id is not None and staff_id is not None
    today = local_today(utcnow(), TIMEZONE)
    rng = random.Random(rng_seed)  # noqa: S311 (reproducible data, not secrets)
    ids = _next_ids(engine, Case, Participant, Agreement, AgreementVersion, Commitment, ProgressEntry, Waiver)
    now = utcnow()
    rows: dict[type[SQLModel], list[dict]] = {
        m: [] for m in (Case, Participant, CaseFacilitator, Agreement, AgreementVersion, Commitment, ProgressEntry)
    }
    rows[Waiver], rows[CaseClosure] = [], []
    result = Seeded(url, program_id, staff_id, cases=cases)
    next_commitment, next_entry = ids[Commitment], ids[ProgressEntry]
    for n in range(cases):
        case_id = ids[Case] + n
        survivor_id, responsible_id = ids[Participant] + 2 * n, ids[Participant] + 2 * n + 1
        agreement_id, version_id = ids[Agreement] + n, ids[AgreementVersion] + n
        lead = facilitator_ids[n % FACILITATORS]
        start = today + timedelta(days=rng.randint(-540, 120))  # sealed over two years around today
        sealed_at = _at(min(start, today))
        rows[Case].append(
            {
                "id": case_id,
                "program_id": program_id,
                "reference": f"B-{n + 1:05d}",
                "harm_type": rng.choice(list(HarmType)).value,
                "referral_source": rng.choice(list(ReferralSource)).value,
                "notes": "",
                "created_by_id": lead,
                "created_at": sealed_at - timedelta(days=60),
                "updated_at": sealed_at,
            }
        )
        for pid, role, name in (
            (survivor_id, ParticipantRole.survivor, f"Survivor {n + 1}"),
            (responsible_id, ParticipantRole.responsible_party, f"Responsible {n + 1}"),
        ):
            rows[Participant].append(
                {
                    "id": pid,
                    "program_id": program_id,
                    "case_id": case_id,
                    "role": role.value,
                    "display_name": name,
                    "preferred_language": "en",
                    "interpreter_needed": False,
                    "support_needs": "",
                    "created_at": sealed_at,
                    "updated_at": sealed_at,
                }
            )
        assigned = [lead] + ([facilitator_ids[(n + 1) % FACILITATORS]] if n % 10 == 0 else [])
        rows[CaseFacilitator] += [
            {"case_id": case_id, "user_id": u, "program_id": program_id, "assigned_at": sealed_at} for u in assigned
        ]
        rows[Agreement].append(
            {
                "id": agreement_id,
                "program_id": program_id,
                "case_id": case_id,
                "created_by_id": lead,
                "created_at": sealed_at,
            }
        )
        rows[AgreementVersion].append(
            {
                "id": version_id,
                "program_id": program_id,
                "agreement_id": agreement_id,
                "number": 1,
                "status": VersionStatus.sealed.value,
                "terms": [],
                "canonical_text": f"Agreement of case B-{n + 1:05d} (benchmark).",
                "text_sha256": f"{n:064x}",
                "change_note": "",
                "created_by_id": lead,
                "created_at": sealed_at,
                "sealed_at": sealed_at,
            }
        )
        diligence = rng.choice([0.95, 0.9, 0.8, 0.6, 0.3])
        for kind, term, sequence, due, quantity in _plan(start, rng):
            commitment_id = next_commitment
            next_commitment += 1
            facts: list[EntryFact] = []
            for entry_kind, amount, day in _progress(kind, due, quantity, start, today, diligence, rng):
                # Now and then an entry was wrong: it stays, with its reversal, and the right one follows.
                if entry_kind != P.breach_reported and rng.random() < 0.02:
                    wrong, reversal = next_entry, next_entry + 1
                    next_entry += 2
                    for eid, value, reverses, reason in (
                        (wrong, amount, None, None),
                        (reversal, -amount, wrong, "Entered against the wrong commitment."),
                    ):
                        facts.append(EntryFact(eid, entry_kind, value, day, reverses))
                        rows[ProgressEntry].append(
                            _entry(
                                eid, program_id, case_id, commitment_id, entry_kind, value, day, reverses, reason, lead
                            )
                        )
                facts.append(EntryFact(next_entry, entry_kind, amount, day))
                rows[ProgressEntry].append(
                    _entry(next_entry, program_id, case_id, commitment_id, entry_kind, amount, day, None, None, lead)
                )
                next_entry += 1
            summary = summarise(kind=kind, quantity=quantity, entries=facts)
            waived = kind != K.no_contact and summary.completed_on is None and rng.random() < 0.02
            rows[Commitment].append(
                {
                    "id": commitment_id,
                    "program_id": program_id,
                    "case_id": case_id,
                    "agreement_id": agreement_id,
                    "version_id": version_id,
                    "term_number": term,
                    "sequence": sequence,
                    "of_count": 4 if kind == K.payment else 1,
                    "kind": kind.value,
                    "owed_by_id": responsible_id,
                    "description": f"{kind.value.replace('_', ' ').capitalize()} {sequence}",
                    "due_on": due,
                    "quantity": quantity,
                    "currency": "EUR" if kind == K.payment else None,
                    "verification": "Benchmark",
                    "progress_total": summary.total,
                    "completed_on": summary.completed_on,
                    "breached_on": summary.breached_on,
                    "waived_at": _at(today - timedelta(days=rng.randint(1, 90))) if waived else None,
                    "superseded_at": None,
                    "created_at": sealed_at,
                }
            )
            result.breached += summary.breached_on is not None
            if waived:
                result.waived += 1
                rows[Waiver].append(
                    {
                        "program_id": program_id,
                        "case_id": case_id,
                        "commitment_id": commitment_id,
                        "reason": "The survivor agreed to let this go.",
                        "status": WaiverStatus.consented.value,
                        "survivor_id": survivor_id,
                        "consent_method": "in_person",
                        "consent_at": _at(today - timedelta(days=1)),
                        "consent_recorded_by_id": lead,
                        "requested_by_id": lead,
                        "created_at": _at(today - timedelta(days=2)),
                    }
                )
        if rng.random() < 0.03:
            result.closed += 1
            rows[CaseClosure].append(
                {
                    "program_id": program_id,
                    "case_id": case_id,
                    "reason": rng.choice([ClosureReason.non_compliance, ClosureReason.participant_withdrew]).value,
                    "note": "Closed unresolved (benchmark).",
                    "closed_by_id": lead,
                    "closed_at": now,
                }
            )
    # Notes fill the entries up to twenty a case on average (they count towards nothing).
    by_case = rows[Commitment]
    while len(rows[ProgressEntry]) < ENTRIES_PER_CASE * cases:
        c = by_case[rng.randrange(len(by_case))]
        day = min(today, max(c["created_at"].date(), today - timedelta(days=rng.randint(0, 400))))
        rows[ProgressEntry].append(
            _entry(next_entry, program_id, c["case_id"], c["id"], P.note, 0, day, None, None, facilitator_ids[0])
        )
        next_entry += 1
    with engine.begin() as connection:
        for model in (
            Case,
            Participant,
            CaseFacilitator,
            Agreement,
            AgreementVersion,
            Commitment,
            ProgressEntry,
            Waiver,
            CaseClosure,
        ):
            _insert(connection, model, rows[model])
    with Session(engine) as session:  # the per-case summaries the service keeps as it writes
        rebuild_followup_summaries(session, program_id=result.program_id)
        session.commit()
    _after_bulk_load(engine)
    engine.dispose()
    result.commitments = len(rows[Commitment])
    result.entries = len(rows[ProgressEntry])
    result.seconds = time.perf_counter() - started
    return result


def _entry(eid, program_id, case_id, commitment_id, kind, amount, day, reverses, reason, by) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": eid,
        "program_id": program_id,
        "case_id": case_id,
        "commitment_id": commitment_id,
        "kind": kind.value,
        "amount": amount,
        "occurred_on": day,
        "evidence_reference": f"R-{eid}" if kind == P.payment else "",
        "evidence_note": "Called the office." if kind == P.note else "",
        "reverses_id": reverses,
        "correction_reason": reason,
        "recorded_by_id": by,
        "recorded_at": _at(day, 12),
    }


def _after_bulk_load(engine: Engine) -> None:
    """PostgreSQL: move the id sequences past the ids given explicitly, and gather statistics (as
    autovacuum would soon after such a load). SQLite is left as the app leaves it: no ANALYZE."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in ("case_file", "participant", "agreement", "agreement_version", "commitment", "progress_entry"):
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608 (table names from our own list)
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def small_url(url: str) -> str:
    """The database for the small seed: a second SQLite file, or a second PostgreSQL database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{_TMP / 'monitoring-bench-small.db'}"
    name = f"{parsed.database}_small"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


# --- measuring --------------------------------------------------------------------------------


class StatementCounter:
    """Counts (and, when asked, keeps) the SQL statements an engine sends."""

    def __init__(self) -> None:
        self.count = 0
        self.kept: list[tuple[str, object]] | None = None

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.count += 1
        if self.kept is not None:
            self.kept.append((statement, parameters))

    @contextmanager
    def watching(self, engine: Engine) -> Iterator["StatementCounter"]:
        event.listen(engine, "before_cursor_execute", self)
        try:
            yield self
        finally:
            event.remove(engine, "before_cursor_execute", self)


@dataclass
class Timing:
    name: str
    times_ms: list[float]
    queries: list[int]
    detail: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.times_ms, n=20, method="inclusive")[18]

    def line(self) -> str:
        counts = sorted(set(self.queries))
        shown = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
        return (
            f"  {self.name:<44} median {self.median:6.1f} ms   p95 {self.p95:6.1f} ms   "
            f"{shown:>5} SQL statements{self.detail}"
        )


def measure(name: str, engine: Engine, runs: int, call: Callable[[], str]) -> Timing:
    """`call` once per run, after three untimed ones; it returns a short description of its result."""
    counter = StatementCounter()
    detail = ""
    with counter.watching(engine):
        for _ in range(3):
            detail = call()
        times, queries = [], []
        for _ in range(runs):
            counter.count = 0
            started = time.perf_counter()
            detail = call()
            times.append((time.perf_counter() - started) * 1000)
            queries.append(counter.count)
    return Timing(name, times, queries, f"   ({detail})" if detail else "")


def signed_in_client(app, engine: Engine, staff_id: int):  # type: ignore[no-untyped-def]
    """A test client holding a live session of the staff member (as tests/factories.py does)."""
    from fastapi.testclient import TestClient

    with Session(engine) as session:
        user = session.get(User, staff_id)
        assert user is not None
        token = start_session(session, user=user)
        session.commit()
    binding = "b" * 43
    client = TestClient(app, raise_server_exceptions=True)
    client.cookies.set("mend_session", token)
    client.cookies.set("mend_csrf", binding)
    client.headers["X-CSRF-Token"] = csrf_token_for(binding)
    return client


# The requests the issue names: the dashboard, the first page of the overdue list, a filtered export.
OVERDUE_PAYMENTS = "status=overdue&kind=payment"


def http_requests(client) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(name, path) of each request to time. The page route is included when the app has it."""
    paths = [
        ("GET /api/v1/monitoring/counts", "/api/v1/monitoring/counts"),
        ("GET /api/v1/commitments?status=overdue", "/api/v1/commitments?status=overdue"),
        (f"GET /api/v1/commitments.csv?{OVERDUE_PAYMENTS}", f"/api/v1/commitments.csv?{OVERDUE_PAYMENTS}"),
    ]
    if client.get("/monitoring").status_code == 200:
        paths.insert(1, ("GET /monitoring (dashboard page)", "/monitoring"))
    return paths


def app_on(engine: Engine):  # type: ignore[no-untyped-def]
    """The real app, its sessions opened on `engine` (the same one-request-one-transaction session)."""
    from app.main import create_app

    app = create_app()

    def session_on_engine() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    app.dependency_overrides[get_session] = session_on_engine
    return app


def bench_http(engine: Engine, seeded: Seeded, runs: int) -> list[Timing]:
    client = signed_in_client(app_on(engine), engine, seeded.staff_id)
    timings = []
    for name, path in http_requests(client):

        def call(path: str = path) -> str:
            response = client.get(path)
            response.raise_for_status()
            if path.startswith("/api/v1/commitments.csv"):
                return f"{response.text.count(chr(10)) - 1:,} rows, {len(response.content):,} bytes"
            if path.startswith("/api/v1/commitments"):
                body = response.json()
                return f"{len(body['items'])} of {body['total']:,}"
            if path.startswith("/api/v1/monitoring"):
                body = response.json()
                return f"overdue {body['overdue']:,}, due soon {body['due_soon']:,}"
            return f"{len(response.content):,} bytes"

        timings.append(measure(name, engine, runs, call))
    return timings


def bench_queries(engine: Engine, seeded: Seeded, runs: int) -> list[Timing]:
    """The query functions alone, in one session: what the requests cost without the app around them."""
    with Session(engine) as session:
        staff = session.get(User, seeded.staff_id)
        program = session.get(Program, seeded.program_id)
        assert staff is not None and program is not None
        actor = actor_for(staff)
        today, window = local_today(utcnow(), program.timezone), program.due_soon_days
        overdue = CommitmentFilter(status="overdue")  # type: ignore[arg-type]
        payments = CommitmentFilter(status="overdue", kind="payment")  # type: ignore[arg-type]
        q = commitment_queries

        def counts() -> str:
            c = q.dashboard_counts(session, actor=actor, today=today, due_soon_days=window)
            return f"monitoring {c.cases_in_monitoring:,}, completed {c.cases_completed:,}"

        def first_page() -> str:
            return f"{q.list_commitments(session, actor=actor, f=overdue, today=today, due_soon_days=window).total:,}"

        def export() -> str:
            rows = q.iter_commitments(session, actor=actor, f=payments, today=today, due_soon_days=window)
            return f"{sum(chunk.count(chr(10)) for chunk in csv_lines(rows)) - 1:,} rows"

        return [
            measure("dashboard_counts()", engine, runs, counts),
            measure("list_commitments(status=overdue)", engine, runs, first_page),
            measure(f"csv_lines(iter_commitments({OVERDUE_PAYMENTS}))", engine, runs, export),
        ]


def explain(engine: Engine, seeded: Seeded) -> None:
    """The plan of every statement the dashboard counts and the overdue list send."""
    counter = StatementCounter()
    counter.kept = []
    with Session(engine) as session, counter.watching(engine):
        staff = session.get(User, seeded.staff_id)
        program = session.get(Program, seeded.program_id)
        assert staff is not None and program is not None
        today = local_today(utcnow(), program.timezone)
        actor = actor_for(staff)
        counter.kept.clear()
        commitment_queries.dashboard_counts(session, actor=actor, today=today, due_soon_days=program.due_soon_days)
        f = CommitmentFilter(status="overdue")  # type: ignore[arg-type]
        commitment_queries.list_commitments(session, actor=actor, f=f, today=today, due_soon_days=14)
        statements = [s for s in counter.kept if s[0].lstrip().upper().startswith("SELECT")]
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " if postgres else "EXPLAIN QUERY PLAN "
    with engine.connect() as connection:
        for statement, parameters in statements:
            print("\n" + " ".join(statement.split())[:400])
            for row in connection.exec_driver_sql(prefix + statement, parameters):  # type: ignore[arg-type]
                print("   ", row[0] if postgres else row[-1])


def report(label: str, seeded: Seeded, runs: int, with_explain: bool) -> tuple[list[Timing], list[Timing]]:
    engine = make_engine(seeded.url)
    with Session(engine) as session:
        active = session.exec(select(func.count()).select_from(Commitment)).one()
    print(
        f"\n{label}: {seeded.cases:,} cases, {seeded.commitments:,} commitments ({active:,} stored), "
        f"{seeded.entries:,} progress entries, {seeded.waived:,} waived, {seeded.breached:,} breached, "
        f"{seeded.closed:,} cases closed; seeded in {seeded.seconds:.1f} s"
    )
    print(f"Through the app (TestClient, signed in as staff), {runs} timed runs each:")
    http = bench_http(engine, seeded, runs)
    for timing in http:
        print(timing.line())
    print("The query functions alone (one session):")
    direct = bench_queries(engine, seeded, runs)
    for timing in direct:
        print(timing.line())
    if with_explain:
        explain(engine, seeded)
    engine.dispose()
    return http, direct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000, help="cases in the second seed (0: skip it)")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--explain", action="store_true", help="print the plan of each dashboard and list query")
    args = parser.parse_args()

    backend = make_url(BENCH_URL).get_backend_name()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Database: {backend} ({make_url(BENCH_URL).render_as_string(hide_password=True)})\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load}, Python {platform.python_version()}"
    )
    small: tuple[list[Timing], list[Timing]] | None = None
    if args.small:
        small = report("Small seed", seed(small_url(BENCH_URL), args.small), args.runs, with_explain=False)
    full = report("Full seed", seed(BENCH_URL, args.cases), args.runs, args.explain)
    if small is not None:
        print("\nSQL statements per request, small seed → full seed:")
        for before, after in zip(small[0] + small[1], full[0] + full[1], strict=True):
            same = "same" if set(before.queries) == set(after.queries) else "DIFFERENT"
            print(f"  {after.name:<44} {sorted(set(before.queries))} → {sorted(set(after.queries))}  {same}")
    target = [t for t in full[0] if "csv" not in t.name]
    missed = [t.name for t in target if t.p95 > 50]
    print("\nTarget p95 ≤ 50 ms for the dashboard and the list: " + ("met" if not missed else f"MISSED by {missed}"))


if __name__ == "__main__":
    main()
