"""Load benchmark: Mend with several workers on PostgreSQL under a mixed workload at a fixed rate,
and its case list against a minimal FastAPI + SQLAlchemy + Jinja2 "fortunes" page, in one run.

    uv run --frozen python bench/load_bench.py [--workers 2] [--rate 20] [--seconds 60] [--json out.json]
    MEND_LOAD_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/mend_load_ci \\
        uv run --frozen python bench/load_bench.py

1. Seed: the database's public schema is dropped, Alembic migrates it, and Mend's own services
   build a program (an admin, four facilitators, two staff members, known passwords) with a few
   hundred cases: participants, preparation meetings, held conferences, draft and sealed
   agreements, their commitments and some progress. Sealing is the real service, but the PDF it
   stores is a stand-in (WeasyPrint takes half a second a seal; `bench/pdf_bench.py` measures it).
   Each account gets a server-side session and an API token, as the sign-in page and
   /account/tokens would give them.
2. Mend starts as `mend serve --workers N` with MEND_ENV=production and a key generated for this
   run; the fortunes app (`bench/fortunes_app.py`, its table `bench_fortune` in the same database)
   starts under uvicorn with the same workers and options.
3. Mixed phase (`--seconds`, 60 by default; MEND_LOAD_SECONDS overrides the default): locust,
   headless, at a fixed rate (`constant_throughput` users): pages (case list, case detail,
   monitoring dashboard, agreement), API reads (case list and detail with a bearer token), API
   writes (a progress note on a commitment, a new case) and sign-ins (the form, then its POST with
   the CSRF token; argon2 is slow on purpose, so they are a small share).
4. Saturation (`--saturation-seconds`, 20 each): the same number of users with no wait, first on
   the fortunes page, then on Mend's case list; Mend's throughput is printed as a share of fortunes'.

Everything runs on this machine (nothing is fetched); every process started is stopped at the end.
"""

import argparse
import csv
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/mend_load"
PASSWORD = "harbour lantern quiet meadow"  # noqa: S105 (benchmark accounts only)
# The locust users of the mixed phase; their `weight`s in locustfile.py (10, 5, 3, 2) share the users out.
MIXED_USERS = ["PageUser", "ApiReader", "ApiWriter", "SignInUser"]
MIN_USERS = 20
MIXED_NAMES = {
    "page: case list",
    "page: case detail",
    "page: monitoring dashboard",
    "page: agreement",
    "api: list cases",
    "api: read case",
    "api: record progress note",
    "api: open case",
    "sign-in: form",
    "sign-in: post",
}


@dataclass
class Options:
    database_url: str
    cases: int
    workers: int
    rate: float
    users: int
    seconds: int
    saturation_seconds: int
    saturation_users: int
    port: int
    json_path: Path | None
    keep_logs: bool


@dataclass
class Row:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    average: float


@dataclass
class Result:
    machine: str
    workers: int
    cases: int
    seed_seconds: float
    target_rate: float
    seconds: int
    users: int
    mixed: list[Row] = field(default_factory=list)
    mixed_total: Row | None = None
    failures: list[dict] = field(default_factory=list)
    saturation_seconds: int = 0
    saturation_users: int = 0
    fortunes: Row | None = None
    case_list: Row | None = None
    ratio: float | None = None


# --- the database and its program ------------------------------------------------------------


def prepare_environment(options: Options) -> dict[str, str]:
    """The settings for this process's seeding and for the servers: production, with fresh keys."""
    from app.crypto import new_key_line

    env = {
        "MEND_ENV": "production",
        "MEND_SECRET_KEY": secrets.token_urlsafe(48),
        "MEND_ENCRYPTION_KEYS": new_key_line("load"),
        "MEND_DATABASE_URL": options.database_url,
        "MEND_HOST": "127.0.0.1",
        "MEND_PORT": str(options.port),
    }
    os.environ.update(env)
    return env


def create_database(url: str) -> None:
    """Create the benchmark database when it does not exist, then empty it (its public schema is dropped)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("The load benchmark runs on PostgreSQL: pass a postgresql+psycopg:// URL.")
    name = parsed.database or ""
    if "load" not in name and "bench" not in name:
        raise SystemExit(f"Refusing to empty database {name!r}: its name must contain 'load' or 'bench'.")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    from tests.support import reset_database

    reset_database(url)


def seed(url: str, cases: int) -> tuple[dict, float]:
    """Migrate and fill the database through Mend's services; returns the plan for locust."""
    started = time.perf_counter()
    from sqlalchemy import text
    from sqlmodel import Session

    from app.agreements import pdf
    from app.db import make_engine
    from tests.support import migrate

    engine = make_engine(url)
    migrate(engine)
    original = pdf.render_agreement_pdf
    pdf.render_agreement_pdf = lambda session, *, case, version, language="en": b"%PDF-1.7 load-bench stand-in"  # type: ignore[assignment]
    try:
        with Session(engine, expire_on_commit=False) as session:
            plan = _seed_program(session, cases)
    finally:
        pdf.render_agreement_pdf = original  # type: ignore[assignment]
    from bench.fortunes_app import seed_fortunes

    seed_fortunes(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return plan, time.perf_counter() - started


def _seed_program(session, cases: int) -> dict:  # type: ignore[no-untyped-def]
    """One program and its people; `cases` cases at every stage; a session and a token per account."""
    from app.actor import Actor
    from app.auth.models import UserRole
    from app.auth.schemas import AccessTokenCreate, UserCreate
    from app.auth.service import actor_for, create_user, issue_access_token, start_session
    from app.programs.schemas import ProgramCreate
    from app.programs.service import create_program

    program = create_program(
        session,
        actor=Actor.system("load bench"),
        data=ProgramCreate(name="Load Bench Program", timezone="Europe/Madrid"),
    )
    system = Actor.system("load bench", program_id=program.id)
    people = [("admin", UserRole.admin)] + [(f"facilitator{n}", UserRole.facilitator) for n in range(1, 5)]
    people += [("staff1", UserRole.staff), ("staff2", UserRole.staff)]
    users = {
        key: create_user(
            session,
            actor=system,
            program_id=program.id,  # type: ignore[arg-type]
            data=UserCreate(
                email=f"{key}@load.example.org", full_name=f"Load {key.capitalize()}", role=role, password=PASSWORD
            ),
        )
        for key, role in people
    }
    session.commit()
    facilitators = [users[f"facilitator{n}"] for n in range(1, 5)]
    built: list[dict] = []
    for n in range(cases):
        lead = facilitators[n % len(facilitators)]
        built.append(_seed_case(session, n, actor_for(lead), lead.id))
        if n % 20 == 19:
            session.commit()
    session.commit()
    accounts = []
    for user in users.values():
        actor = actor_for(user)
        _, token = issue_access_token(session, actor=actor, data=AccessTokenCreate(name="load bench"))
        own = [c for c in built if user.role != UserRole.facilitator or c["facilitator_id"] == user.id]
        accounts.append(
            {
                "email": user.email,
                "role": user.role.value,
                "session": start_session(session, user=user),
                "token": token,
                "cases": [c["id"] for c in own],
                "agreements": [
                    c["id"] for c in own if c["commitments"] or (c["agreement"] and user.role != UserRole.staff)
                ],
                "commitments": [[c["id"], m] for c in own for m in c["commitments"]],
            }
        )
    session.commit()
    return {"password": PASSWORD, "accounts": accounts, "cases": len(built)}


def _seed_case(session, n: int, actor, facilitator_id: int) -> dict:  # type: ignore[no-untyped-def]
    """One case: participants and their preparation meetings; 40 % sealed with commitments, 10 % drafted."""
    import uuid

    from app.agreements.commitment_schemas import ProgressCreate
    from app.agreements.commitment_service import active_commitments, record_progress
    from app.agreements.models import ReviewDecision
    from app.agreements.service import record_review, save_draft, send_for_review, send_for_signature, sign_version
    from app.agreements.terms import (
        ApologyTerm,
        Instalment,
        NoContactTerm,
        RestitutionTerm,
        ServiceHoursTerm,
        TermWording,
    )
    from app.conferences.models import (
        CaseSession,
        HarmType,
        ParticipantRole,
        ReferralSource,
        SessionAttendee,
        SessionKind,
        SessionStatus,
    )
    from app.conferences.schemas import CaseCreate, ParticipantCreate
    from app.conferences.service import add_participant, open_case
    from app.db import utcnow

    harms, sources = list(HarmType), list(ReferralSource)
    case = open_case(
        session,
        actor=actor,
        data=CaseCreate(
            harm_type=harms[n % len(harms)],
            referral_source=sources[n % len(sources)],
            notes="Synthetic case for the load benchmark.",
        ),
    )
    people = [
        (ParticipantRole.survivor, f"Survivor {n + 1}", "es" if n % 4 == 0 else "en"),
        (ParticipantRole.responsible_party, f"Responsible {n + 1}", "en"),
    ]
    if n % 3 == 0:
        people.append((ParticipantRole.supporter, f"Supporter {n + 1}", "en"))
    participants = [
        add_participant(
            session,
            actor=actor,
            case=case,
            data=ParticipantCreate(
                role=role, display_name=name, preferred_language=lang, interpreter_needed=lang != "en"
            ),
        )
        for role, name, lang in people
    ]
    now = utcnow()
    stage = n % 10
    meetings = [(SessionKind.preparation, [p], now - timedelta(days=60 - i)) for i, p in enumerate(participants[:2])]
    if stage < 5:
        meetings.append((SessionKind.conference, participants[:2], now - timedelta(days=40)))
    for kind, attendees, start in meetings:
        meeting = CaseSession(
            program_id=case.program_id,
            case_id=case.id,  # type: ignore[arg-type]
            kind=kind,
            mode="in_person",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            location="Community centre, room 2",
            status=SessionStatus.held,
            outcome_note="Held as planned.",
            uid=f"load-{uuid.uuid4()}",
            created_by_id=facilitator_id,
        )
        session.add(meeting)
        session.flush()
        for person in attendees:
            session.add(
                SessionAttendee(
                    session_id=meeting.id,  # type: ignore[arg-type]
                    participant_id=person.id,  # type: ignore[arg-type]
                    program_id=case.program_id,
                    arrives_at=start,
                    leaves_at=start + timedelta(hours=2),
                )
            )
    summary = {"id": case.id, "facilitator_id": facilitator_id, "agreement": False, "commitments": []}
    if stage >= 5:
        return summary
    survivor, responsible = participants[0], participants[1]
    today = now.date()
    owed = responsible.id
    terms = [
        ApologyTerm(owed_by=owed, form="letter_through_program", due_date=today + timedelta(days=14)),  # type: ignore[arg-type]
        RestitutionTerm(
            owed_by=owed,  # type: ignore[arg-type]
            currency="EUR",
            amount_cents=60_000,
            instalments=[
                Instalment(due_date=today - timedelta(days=10), amount_cents=30_000),
                Instalment(due_date=today + timedelta(days=20), amount_cents=30_000),
            ],
        ),
        ServiceHoursTerm(
            owed_by=owed,  # type: ignore[arg-type]
            hours=20,
            deadline=today + timedelta(days=90),
            where="Food bank",
            # A Spanish-reading participant reads the place's name as the interpreter gave it.
            translations={"es": TermWording(where="Banco de alimentos", translated_by="Load interpreter")},
        ),
        NoContactTerm(owed_by=owed),  # type: ignore[arg-type]
    ]
    version = save_draft(session, actor=actor, case=case, terms=terms, based_on=None)
    summary["agreement"] = True
    if stage == 4:
        return summary
    send_for_review(session, actor=actor, case=case, version=version)
    for person in (survivor, responsible):
        record_review(
            session,
            actor=actor,
            case=case,
            version=version,
            participant=person,
            decision=ReviewDecision.accepted,
            text_sha256=version.text_sha256,
        )
    send_for_signature(session, actor=actor, case=case, version=version)
    for person in (survivor, responsible, None):
        sign_version(
            session,
            actor=actor,
            case=case,
            version=version,
            participant=person,
            text_sha256=version.text_sha256,
            typed_name=person.display_name if person else "Load Facilitator",
            intent_confirmed=True,
            ip_address="198.51.100.7",
            user_agent="LoadBench/1.0",
        )
    commitments = active_commitments(session, case=case)
    summary["commitments"] = [c.id for c in commitments]
    if n % 2 == 0:
        payment = next(c for c in commitments if c.kind == "payment")
        record_progress(
            session,
            actor=actor,
            case=case,
            commitment=payment,
            data=ProgressCreate(
                kind="payment",  # type: ignore[arg-type]
                amount=Decimal("300"),
                occurred_on=today - timedelta(days=11),
                evidence_reference=f"TRANSFER-{n + 1}",
                notify_survivor=False,
            ),
        )
    return summary


# --- servers ---------------------------------------------------------------------------------


class Servers:
    """The processes this run starts; `stop()` ends each of them (and only them)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and scripts)
            command, cwd=ROOT, env=os.environ | env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append((name, process))
        return process

    def wait_until_up(self, name: str, url: str, timeout: float = 180.0) -> None:
        process = dict(self.processes)[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"{name} exited with code {process.returncode} before answering:\n{log}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own local server)
                    if response.status < 500:
                        return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{name} did not answer {url} within {timeout:.0f} s")

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # its own session: uvicorn and its workers
        for _name, process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# --- locust ----------------------------------------------------------------------------------


def run_locust(
    *, classes: list[str], host: str, users: int, seconds: int, env: dict[str, str], prefix: Path
) -> tuple[list[Row], Row, list[dict]]:
    """Run locust headless; returns its per-name rows, the total and the failures."""
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(BENCH / "locustfile.py"),
        "--headless",
        "--host",
        host,
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        *classes,
    ]
    completed = subprocess.run(  # noqa: S603 (our own interpreter)
        command, cwd=ROOT, env=os.environ | env, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise SystemExit(f"locust produced no statistics:\n{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}")
    rows, total = [], None
    with stats.open() as handle:
        for line in csv.DictReader(handle):
            row = Row(
                name=line["Name"],
                requests=int(line["Request Count"]),
                failures=int(line["Failure Count"]),
                rps=float(line["Requests/s"]),
                p50=_ms(line["50%"]),
                p95=_ms(line["95%"]),
                p99=_ms(line["99%"]),
                average=float(line["Average Response Time"]),
            )
            if line["Name"] == "Aggregated":
                total = row
            else:
                rows.append(row)
    with Path(f"{prefix}_failures.csv").open() as handle:
        failures = [
            {"name": f["Name"], "method": f["Method"], "error": f["Error"], "count": int(f["Occurrences"])}
            for f in csv.DictReader(handle)
        ]
    assert total is not None
    return rows, total, failures


def _ms(value: str) -> float:
    return float(value) if value not in ("", "N/A") else float("nan")


# --- the run ---------------------------------------------------------------------------------


def run(options: Options) -> Result:
    env = prepare_environment(options)
    sys.path.insert(0, str(ROOT))
    from app.cli import WORKER_HEALTHCHECK_SECONDS

    work = Path(tempfile.mkdtemp(prefix="mend-load-"))
    print(f"Seeding {options.database_url.rsplit('/', 1)[-1]} with {options.cases} cases ...", flush=True)
    create_database(options.database_url)
    plan, seed_seconds = seed(options.database_url, options.cases)
    plan_path = work / "plan.json"
    plan_path.write_text(json.dumps(plan))
    print(f"Seeded in {seed_seconds:.1f} s", flush=True)
    result = Result(
        machine=_machine(),
        workers=options.workers,
        cases=options.cases,
        seed_seconds=round(seed_seconds, 1),
        target_rate=options.rate,
        seconds=options.seconds,
        users=options.users,
        saturation_seconds=options.saturation_seconds,
        saturation_users=options.saturation_users,
    )
    mend_host = f"http://127.0.0.1:{options.port}"
    fortunes_host = f"http://127.0.0.1:{options.port + 1}"
    servers = Servers(work)
    try:
        bin_dir = Path(sys.executable).parent
        mend = [str(bin_dir / "mend"), "serve", "--workers", str(options.workers)]
        servers.start(
            "mend", mend if (bin_dir / "mend").exists() else [sys.executable, "-m", "app.cli", *mend[1:]], env
        )
        servers.start(
            "fortunes",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.fortunes_app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(options.port + 1),
                "--workers",
                str(options.workers),
                "--proxy-headers",
                "--timeout-worker-healthcheck",
                str(WORKER_HEALTHCHECK_SECONDS),
                "--log-level",
                "warning",
            ],
            {"FORTUNES_DATABASE_URL": options.database_url},
        )
        servers.wait_until_up("mend", f"{mend_host}/login")
        servers.wait_until_up("fortunes", f"{fortunes_host}/fortunes")
        locust_env = {
            "MEND_LOAD_PLAN": str(plan_path),
            "MEND_LOAD_PER_USER_RATE": str(options.rate / options.users),
        }
        _warm_up(locust_env, mend_host, options, work)
        print(
            f"Mixed workload: {options.rate:g} req/s for {options.seconds} s, {options.users} users, "
            f"{options.workers} workers ...",
            flush=True,
        )
        result.mixed, result.mixed_total, result.failures = run_locust(
            classes=MIXED_USERS,
            host=mend_host,
            users=options.users,
            seconds=options.seconds,
            env=locust_env,
            prefix=work / "mixed",
        )
        for label, cls, host in (
            ("fortunes", "FortunesSaturation", fortunes_host),
            ("case list", "CaseListSaturation", mend_host),
        ):
            print(
                f"Saturation: {label}, {options.saturation_users} users, {options.saturation_seconds} s ...", flush=True
            )
            _, total, failures = run_locust(
                classes=[cls],
                host=host,
                users=options.saturation_users,
                seconds=options.saturation_seconds,
                env=locust_env,
                prefix=work / cls,
            )
            result.failures += failures
            if cls == "FortunesSaturation":
                result.fortunes = total
            else:
                result.case_list = total
        if result.fortunes and result.case_list and result.fortunes.rps > 0:
            result.ratio = result.case_list.rps / result.fortunes.rps
    finally:
        servers.stop()
        if result.failures:
            for name in ("mend", "fortunes"):
                log = (work / f"{name}.log").read_text(errors="replace")
                print(f"--- the end of {name}'s log ---\n{log[-6000:]}", file=sys.stderr)
        if options.keep_logs:
            print(f"Logs and locust CSV kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return result


def _warm_up(env: dict[str, str], host: str, options: Options, work: Path) -> None:
    """A few seconds of the mix, not counted: every worker imports its templates and fills its pool."""
    run_locust(classes=MIXED_USERS, host=host, users=options.users, seconds=5, env=env, prefix=work / "warm-up")


def _machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    python = platform.python_version()
    return f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load} at the start, Python {python}"


# --- the report ------------------------------------------------------------------------------


def report(result: Result) -> str:
    lines = [
        f"Machine: {result.machine}",
        f"Mend: {result.workers} workers (mend serve, MEND_ENV=production), PostgreSQL, {result.cases} cases "
        f"seeded in {result.seed_seconds} s",
        "",
        f"Mixed workload: target {result.target_rate:g} req/s for {result.seconds} s ({result.users} users, "
        "locust constant_throughput)",
        f"  {'request':<30} {'count':>6} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}",
    ]
    for row in [*sorted(result.mixed, key=lambda r: r.name), result.mixed_total]:
        assert row is not None
        name = "total" if row.name == "Aggregated" else row.name
        if name == "total":
            lines.append("  " + "-" * 76)
        lines.append(
            f"  {name:<30} {row.requests:>6} {row.failures:>6} {row.rps:>7.2f} "
            f"{row.p50:>7.0f} {row.p95:>7.0f} {row.p99:>7.0f}"
        )
    if result.mixed_total:
        held = result.mixed_total.rps / result.target_rate
        lines.append(f"  achieved {result.mixed_total.rps:.2f} req/s of {result.target_rate:g} targeted ({held:.0%})")
    lines += ["", f"Saturation: {result.saturation_users} users, no wait, {result.saturation_seconds} s each"]
    for label, row in (
        ("fortunes (FastAPI + SQLAlchemy + Jinja2)", result.fortunes),
        ("Mend case list", result.case_list),
    ):
        if row:
            lines.append(
                f"  {label:<42} {row.rps:>8.1f} req/s  p50 {row.p50:.0f} ms  p95 {row.p95:.0f} ms  "
                f"p99 {row.p99:.0f} ms  errors {row.failures}"
            )
    if result.ratio is not None:
        lines.append(f"  Mend case list throughput / fortunes throughput = {result.ratio:.3f} ({result.ratio:.1%})")
    errors = sum(f["count"] for f in result.failures)
    lines += ["", f"Errors: {errors}"]
    lines += [f"  {f['count']} x {f['method']} {f['name']}: {f['error']}" for f in result.failures]
    return "\n".join(lines)


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("MEND_LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers for Mend and for fortunes")
    parser.add_argument("--rate", type=float, default=10.0, help="requests a second in the mixed phase")
    parser.add_argument(
        "--users",
        type=int,
        help="locust users in the mixed phase, each making rate/users requests a second (default: 4 x rate)",
    )
    parser.add_argument(
        "--seconds", type=int, default=int(os.environ.get("MEND_LOAD_SECONDS", "60")), help="mixed phase length"
    )
    parser.add_argument("--saturation-seconds", type=int, default=20)
    parser.add_argument("--saturation-users", type=int, default=16)
    parser.add_argument("--port", type=int, default=8730, help="Mend's port; fortunes uses the next one")
    parser.add_argument("--json", dest="json_path", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs and locust's CSV files")
    args = parser.parse_args(argv)
    if args.users is None:
        args.users = max(MIN_USERS, round(4 * args.rate))  # an unhurried pace: each user waits 4 s
    if args.users < MIN_USERS:
        parser.error(f"--users must be at least {MIN_USERS}, so every kind of request has its users")
    return Options(**vars(args))


def main(argv: list[str] | None = None) -> Result:
    options = parse_options(argv)
    result = run(options)
    print()
    print(report(result))
    if options.json_path:
        options.json_path.write_text(json.dumps(asdict(result), indent=2))
    return result


if __name__ == "__main__":
    sys.exit(1 if main().failures else 0)  # any error fails the run (after the report and the JSON)
