"""Crash safety with real processes: Mend's server is killed (SIGKILL) in the middle of sealing an
agreement, and its worker in the middle of draining the outbox; after a restart there is no half
state, and no email is lost or sent more than the documented once-more.

The kill points are deterministic: app/faults.py freezes the process at a named point (armed
through MEND_FAULT_PAUSE, outside production only) and writes a marker file; the test waits for
the marker, then kills the process. Everything runs against a fresh database of the suite's kind
(SQLite, or PostgreSQL when MEND_TEST_DATABASE_URL is set).
"""

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select

from app import faults
from app.agreements.commitment_rules import commitments_from_terms
from app.agreements.models import (
    AgreementDocument,
    AgreementVersion,
    Commitment,
    DueTally,
    FollowupSummary,
    Signature,
    VersionStatus,
)
from app.agreements.service import save_draft, sign_version
from app.audit.models import AuditEvent
from app.audit.service import verify_chains
from app.auth.models import User, UserRole
from app.auth.service import actor_for, start_session
from app.config import PROJECT_ROOT, Environment, Settings
from app.db import make_engine, utcnow
from app.notifications.models import DeliveryStatus, Notification
from app.notifications.service import notify_case_facilitators
from tests.agreements.test_service import Held, held_case, terms_for, to_signing
from tests.conftest import TEST_DATABASE_URL
from tests.factories import csrf_pair, make_case, make_program, make_user
from tests.notifications.test_worker import Inbox
from tests.support import migrate, scratch_database

PORTS = range(8710, 8730)  # the ports these tests may use
START_SECONDS = 90.0  # a cold start imports the app (and WeasyPrint, to seal)
PAUSE_SECONDS = 60.0  # from the request (or the worker's start) to the marker
LEASE_MINUTES = 0.02  # 1.2 s: the restarted worker takes over the dead workers' claims quickly


# --- processes -------------------------------------------------------------------------------


_handed_out: set[int] = set()


def _free_port() -> int:
    """A port of ours nobody listens on and not given to a process that may not have bound it yet."""
    for port in PORTS:
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    _handed_out.clear()  # every port was used once: those processes are gone, start again
    return _free_port()


def _env(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment without any MEND_ setting, plus the test's."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MEND_")}
    return base | {
        "MEND_ENV": "test",
        "MEND_SECRET_KEY": os.environ["MEND_SECRET_KEY"],  # tests/conftest.py's, so our CSRF tokens hold
        "MEND_ENCRYPTION_KEYS": os.environ["MEND_ENCRYPTION_KEYS"],  # and its keyring, so both read the data
        "MEND_DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        **{f"MEND_{name.upper()}": value for name, value in settings.items()},
    }


@dataclass
class Process:
    popen: subprocess.Popen
    log: Path
    port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no handler, no clean-up, exactly like a crash or the OOM killer."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path, port: int | None = None) -> Iterator[Process]:
    """`python -m app.cli ARGS` as a child process, which is killed at the end whatever happened."""
    with log.open("w") as out:  # a file, not a pipe: a paused process never blocks on its output
        popen = subprocess.Popen(  # noqa: S603 (our own command, fixed arguments)
            [sys.executable, "-m", "tests.run_shifted", "app.cli", *args],  # its clock moves with the tests'
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    process = Process(popen, log, port)
    try:
        yield process
    finally:
        if popen.poll() is None:
            popen.kill()
        popen.wait(timeout=10)


def wait_for(condition: Callable[[], Any], *, what: str, process: Process, timeout: float) -> Any:
    """Poll until `condition()` is truthy; fail with the process's output if it dies or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if process.popen.poll() is not None:
            pytest.fail(f"the process exited ({process.popen.returncode}) before {what}:\n{process.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout:.0f}s:\n{process.output()}")
        time.sleep(0.05)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def server(database_url: str, log_dir: Path, name: str, **settings: str) -> Iterator[Process]:
    """`mend serve` on a port of ours, with the given MEND_ settings (a fault to arm); not waited for."""
    port = _free_port()
    env = _env(database_url, host="127.0.0.1", port=str(port), **settings)
    with running(["serve"], env, log_dir / f"serve-{name}.log", port) as process:
        yield process


def wait_until_serving(process: Process) -> None:
    assert process.port is not None
    wait_for(lambda: _answers(process.port), what="server answering", process=process, timeout=START_SECONDS)


# --- databases -------------------------------------------------------------------------------


@contextmanager
def crash_database(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of the suite's kind; on PostgreSQL it is named mend_crash_*."""
    parsed = make_url(TEST_DATABASE_URL)
    if parsed.get_backend_name() == "sqlite":
        with scratch_database(TEST_DATABASE_URL, tmp_path) as url:
            yield url
        return
    name = f"mend_crash_{uuid.uuid4().hex[:12]}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = parsed.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _program_and_facilitator(session: Session) -> User:
    program = make_program(session, f"Crash Program {uuid.uuid4().hex[:8]}")
    return make_user(session, program, UserRole.facilitator, "Fran Facilitator", email=f"fran-{uuid.uuid4()}@ex.org")


# --- the fault points themselves ---------------------------------------------------------------


SECRET = SecretStr("crash-safety-secret-key-0123456789abcdef")


def test_a_pause_point_is_inert_in_production_whatever_the_environment_says(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    point = "agreement.seal.after_commitments"
    production = Settings(env=Environment.production, secret_key=SECRET, fault_pause=point, fault_marker=str(marker))
    started = time.monotonic()
    faults.pause_point(point, production)
    assert not faults.armed(point, production)
    assert time.monotonic() - started < 1 and not marker.exists()
    test = Settings(env=Environment.test, secret_key=SECRET, fault_pause=point, fault_marker=str(marker))
    assert faults.armed(point, test)
    assert not faults.armed("outbox.after_smtp", test)  # only the point that was named
    assert not faults.armed(point, Settings(env=Environment.test, secret_key=SECRET))


# --- sealing -----------------------------------------------------------------------------------


@dataclass
class ReadyToSeal:
    """A version signed by both parties: the facilitator's signature, the last one, seals it."""

    held: Held
    version_id: int
    number: int
    text_sha256: str
    commitments: int  # what the sealed terms become
    cookies: dict[str, str]
    headers: dict[str, str]

    @property
    def signatures_url(self) -> str:
        return f"/api/v1/cases/{self.held.case.id}/agreement/versions/{self.number}/signatures"

    @property
    def pdf_url(self) -> str:
        return f"/api/v1/cases/{self.held.case.id}/agreement/versions/{self.number}/pdf"


def ready_to_seal(engine: Engine) -> ReadyToSeal:
    with Session(engine, expire_on_commit=False) as session:
        facilitator = _program_and_facilitator(session)
        actor = actor_for(facilitator)
        held = held_case(session, facilitator)
        terms = terms_for(held)
        version = save_draft(session, actor=actor, case=held.case, terms=terms, based_on=None)
        to_signing(session, actor, held, version)
        for person in (held.survivor, held.responsible):
            sign_version(
                session,
                actor=actor,
                case=held.case,
                version=version,
                participant=person,
                text_sha256=version.text_sha256,
                typed_name=person.display_name,
                intent_confirmed=True,
                ip_address=None,
                user_agent=None,
            )
        token = start_session(session, user=facilitator)
        session.commit()
    binding, csrf = csrf_pair()
    return ReadyToSeal(
        held=held,
        version_id=version.id,  # type: ignore[arg-type]
        number=version.number,
        text_sha256=version.text_sha256,
        commitments=len(commitments_from_terms(terms)),
        cookies={"mend_session": token, "mend_csrf": binding},
        headers={"X-CSRF-Token": csrf},
    )


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(base_url: str, method: str, path: str, ready: ReadyToSeal, body: object = None) -> Answer:
    """One HTTP request as the signed-in facilitator (the standard library's client: nothing retries)."""
    where = urlsplit(base_url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    headers = ready.headers | {"Cookie": "; ".join(f"{k}={v}" for k, v in ready.cookies.items())}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.read())
    finally:
        connection.close()


def facilitator_signs(base_url: str, ready: ReadyToSeal) -> Answer:
    body = {"text_sha256": ready.text_sha256, "typed_name": "Fran Facilitator", "intent_confirmed": True}
    return call(base_url, "POST", ready.signatures_url, ready, body)


def sealing_state(engine: Engine, ready: ReadyToSeal) -> dict[str, Any]:
    """Everything sealing writes, as plain values to compare."""
    case = ready.held.case
    with Session(engine) as session:
        version = session.get(AgreementVersion, ready.version_id)
        assert version is not None
        summary = session.get(FollowupSummary, case.id)
        return {
            "status": VersionStatus(version.status),
            "sealed_at": version.sealed_at,
            "signers": sorted(
                session.exec(select(Signature.signer_role).where(Signature.version_id == version.id)).all()
            ),
            "commitments": len(session.exec(select(Commitment.id).where(Commitment.version_id == version.id)).all()),
            "documents": [
                (d.sha256, hashlib.sha256(d.content).hexdigest(), d.size_bytes, len(d.content))
                for d in session.exec(select(AgreementDocument).where(AgreementDocument.version_id == version.id))
            ],
            "followup": (summary.open_tasks, summary.standing_until) if summary else None,
            "tallies": sorted(
                (t.due_on, t.due, t.on_time, t.open)
                for t in session.exec(select(DueTally).where(DueTally.program_id == case.program_id))
            ),
            "events": Counter(
                session.exec(select(AuditEvent.action).where(AuditEvent.program_id == case.program_id)).all()
            ),
            "outbox": sorted(
                session.exec(select(Notification.kind).where(Notification.case_id == case.id)).all()  # type: ignore[arg-type]
            ),
            "chains_ok": verify_chains(session).ok,
        }


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """The state without what differs between any two seals (the time, the PDF's bytes)."""
    return state | {"sealed_at": None, "documents": len(state["documents"])}


def assert_fully_sealed(state: dict[str, Any], ready: ReadyToSeal) -> None:
    assert state["status"] == VersionStatus.sealed and state["sealed_at"] is not None
    assert state["signers"] == ["facilitator", "responsible_party", "survivor"]
    assert state["commitments"] == ready.commitments
    [(stored_hash, actual_hash, size, length)] = state["documents"]  # exactly one PDF
    assert stored_hash == actual_hash and size == length > 0
    assert state["followup"] is not None and state["tallies"]
    assert state["events"]["agreement.sealed"] == 1 and state["events"]["agreement.signed"] == 3
    assert state["chains_ok"]


SEAL_POINTS = ["agreement.seal.after_commitments", "agreement.seal.after_pdf_stored", "agreement.seal.after_commit"]


@dataclass
class SealCrash:
    """One crash while sealing, and what the restarted server made of it."""

    ready: ReadyToSeal
    before: dict[str, Any]
    after_crash: dict[str, Any]
    unanswered: bool  # the signer's request got no answer
    retry: Answer | None
    again: Answer
    pdf: Answer
    final: dict[str, Any]
    uncrashed: dict[str, Any]  # a seal of the same terms, in another program, that nothing interrupted


@pytest.fixture(scope="module")
def seal_crashes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SealCrash]]:
    """For each point, a server armed to freeze there seals a version and is killed; then a new server
    takes the signer's retry (and a second one), and serves the PDF. One database, one case per point."""
    tmp = tmp_path_factory.mktemp("sealing")
    with crash_database(tmp) as url:
        engine = make_engine(url)
        try:
            ready = {point: ready_to_seal(engine) for point in [*SEAL_POINTS, "uncrashed"]}
            before = {point: sealing_state(engine, ready[point]) for point in SEAL_POINTS}
            after_crash, unanswered = {}, {}
            with ExitStack() as armed:  # started together: the imports are the slow part
                servers = {
                    point: armed.enter_context(
                        server(url, tmp, point, fault_pause=point, fault_marker=str(tmp / f"{point}.paused"))
                    )
                    for point in SEAL_POINTS
                }
                for point, process in servers.items():  # one at a time: a frozen seal holds its locks
                    wait_until_serving(process)
                    marker = tmp / f"{point}.paused"
                    with ThreadPoolExecutor(1) as pool:
                        request = pool.submit(facilitator_signs, process.base_url, ready[point])
                        try:
                            wait_for(
                                lambda: marker.exists() or request.done(),  # noqa: B023 (called in this iteration)
                                what=f"the pause at {point}",
                                process=process,
                                timeout=PAUSE_SECONDS,
                            )
                        finally:  # the request's thread ends only once its server is gone
                            process.kill()
                        if not marker.exists():
                            pytest.fail(
                                f"the seal ended without pausing at {point}: {request.exception() or request.result()}"
                            )
                        assert marker.read_text() == point
                        unanswered[point] = isinstance(
                            request.exception(timeout=30), OSError | http.client.HTTPException
                        )
                    after_crash[point] = sealing_state(engine, ready[point])
            retry, again, pdf = {}, {}, {}
            with server(url, tmp, "restarted") as process:
                wait_until_serving(process)
                for point in SEAL_POINTS:  # the signer tries again: what was lost is done once, never twice
                    if after_crash[point]["status"] != VersionStatus.sealed:
                        retry[point] = facilitator_signs(process.base_url, ready[point])
                    again[point] = facilitator_signs(process.base_url, ready[point])
                    pdf[point] = call(process.base_url, "GET", ready[point].pdf_url, ready[point])
                assert facilitator_signs(process.base_url, ready["uncrashed"]).status == 201
                assert call(process.base_url, "GET", ready["uncrashed"].pdf_url, ready["uncrashed"]).status == 200
            uncrashed = sealing_state(engine, ready["uncrashed"])
            yield {
                point: SealCrash(
                    ready=ready[point],
                    before=before[point],
                    after_crash=after_crash[point],
                    unanswered=unanswered[point],
                    retry=retry.get(point),
                    again=again[point],
                    pdf=pdf[point],
                    final=sealing_state(engine, ready[point]),
                    uncrashed=uncrashed,
                )
                for point in SEAL_POINTS
            }
        finally:
            engine.dispose()


@pytest.mark.parametrize("point", ["agreement.seal.after_commitments", "agreement.seal.after_pdf_stored"])
def test_a_server_killed_before_the_seal_commits_leaves_nothing_of_it_and_the_retry_seals_once(
    seal_crashes: dict[str, SealCrash], point: str
) -> None:
    crash = seal_crashes[point]
    assert crash.before["status"] == VersionStatus.signing and crash.before["commitments"] == 0
    assert crash.unanswered
    # No commitments, no PDF, no tallies, no events, no outbox rows, not even the last signature.
    assert crash.after_crash == crash.before
    assert crash.retry is not None and crash.retry.status == 201, crash.retry
    assert crash.retry.json()["version_status"] == "sealed"
    assert crash.again.status == 409, crash.again.body  # sealed once, never twice
    assert_fully_sealed(crash.final, crash.ready)
    assert comparable(crash.final) == comparable(crash.uncrashed)  # as if the crash had never happened
    assert crash.pdf.status == 200 and hashlib.sha256(crash.pdf.body).hexdigest() == crash.final["documents"][0][0]


def test_a_server_killed_after_the_seal_commits_leaves_it_whole_and_refuses_to_seal_again(
    seal_crashes: dict[str, SealCrash],
) -> None:
    crash = seal_crashes["agreement.seal.after_commit"]
    assert crash.unanswered  # the signer saw no answer, yet the seal is complete
    assert_fully_sealed(crash.after_crash, crash.ready)
    assert crash.retry is None and crash.again.status == 409, crash.again.body
    assert crash.pdf.status == 200 and hashlib.sha256(crash.pdf.body).hexdigest() == crash.final["documents"][0][0]
    read = Counter({"agreement.pdf.read": 1})
    assert crash.final == crash.after_crash | {"events": crash.after_crash["events"] + read}  # only the read is new
    assert comparable(crash.final) == comparable(crash.uncrashed)


# --- the outbox ----------------------------------------------------------------------------------

BATCH = 6
SENT_BEFORE_THE_KILL = 2  # the point lets the first two messages through, then freezes the third
OUTBOX_POINTS = {  # the point, and whether the message frozen there is sent again after the restart
    "outbox.after_claim": False,  # claimed, not yet handed to SMTP: sent once, after the lease
    "outbox.after_smtp": True,  # accepted by SMTP, not yet marked sent: the one possible resend
    "outbox.after_mark_sent": False,  # marked sent: nothing to redo
}


def queue_batch(engine: Engine) -> list[int]:
    """Six messages to a facilitator, queued by the service as a change to a case would queue them."""
    with Session(engine) as session:
        facilitator = _program_and_facilitator(session)
        case = make_case(session, facilitator)
        ids = [
            row.id
            for n in range(BATCH)
            for row in notify_case_facilitators(
                session, case=case, kind="crash_test", subject=f"Case {case.reference}: news {n}", body=f"News {n}."
            )
        ]
        session.commit()
    return ids  # type: ignore[return-value]


def outbox_rows(engine: Engine, ids: list[int]) -> dict[int, Notification]:
    with Session(engine) as session:
        return {row.id: row for row in session.exec(select(Notification).where(col(Notification.id).in_(ids)))}  # type: ignore[misc]


def delivered(handler: Inbox, ids: list[int]) -> Counter[int]:
    """How many times each message of this batch arrived."""
    return Counter(n for n in map(int, handler.ids()) if n in ids)


@dataclass
class DrainCrash:
    ids: list[int]
    rows_after_crash: dict[int, Notification]
    delivered_after_crash: Counter[int]
    rows: dict[int, Notification]
    delivered: Counter[int]
    messages: list[Message]


@pytest.fixture(scope="module")
def drain_crashes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, DrainCrash]]:
    """For each point, a batch is queued and a worker armed to freeze there is killed mid-drain; then,
    once the dead workers' claims have run out, one new worker drains what is left."""
    tmp = tmp_path_factory.mktemp("outbox")
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": str(controller.port)}
    try:
        with crash_database(tmp) as url:
            engine = make_engine(url)
            try:
                batches, rows_after_crash, delivered_after_crash = {}, {}, {}
                for point in OUTBOX_POINTS:  # one after the other; each takes only its own batch
                    batches[point] = queue_batch(engine)
                    marker = tmp / f"{point}.paused"
                    # The default ten-minute lease: this worker leaves the previous dead workers' claims alone.
                    env = _env(
                        url, fault_pause=point, fault_marker=str(marker), fault_skip=str(SENT_BEFORE_THE_KILL), **smtp
                    )
                    with running(["worker", "--once"], env, tmp / f"worker-{point}.log") as process:
                        wait_for(marker.exists, what=f"the pause at {point}", process=process, timeout=PAUSE_SECONDS)
                        process.kill()
                    rows_after_crash[point] = outbox_rows(engine, batches[point])
                    delivered_after_crash[point] = delivered(handler, batches[point])
                claims = [
                    row.claimed_at for rows in rows_after_crash.values() for row in rows.values() if row.claimed_at
                ]
                lease_over = max(claims) + timedelta(minutes=LEASE_MINUTES)
                time.sleep(max(0.0, (lease_over - utcnow()).total_seconds()) + 0.1)  # until every claim has run out
                env = _env(url, outbox_lease_minutes=str(LEASE_MINUTES), **smtp)
                with running(["worker", "--once"], env, tmp / "worker-restarted.log") as process:
                    try:
                        process.popen.wait(timeout=PAUSE_SECONDS)
                    except subprocess.TimeoutExpired:
                        pytest.fail(f"the restarted worker did not finish:\n{process.output()}")
                    assert process.popen.returncode == 0, process.output()
                yield {
                    point: DrainCrash(
                        ids=ids,
                        rows_after_crash=rows_after_crash[point],
                        delivered_after_crash=delivered_after_crash[point],
                        rows=outbox_rows(engine, ids),
                        delivered=delivered(handler, ids),
                        messages=[m for m in handler.messages if int(m["X-Mend-Notification"]) in ids],
                    )
                    for point, ids in batches.items()
                }
            finally:
                engine.dispose()
    finally:
        controller.stop()


@pytest.mark.parametrize("point", list(OUTBOX_POINTS))
def test_a_worker_killed_mid_drain_loses_nothing_and_resends_only_inside_the_smtp_window(
    drain_crashes: dict[str, DrainCrash], point: str
) -> None:
    crash, resent = drain_crashes[point], OUTBOX_POINTS[point]
    ids, frozen = crash.ids, crash.ids[SENT_BEFORE_THE_KILL]
    # At the kill: the dead worker had claimed the whole batch and sent the first messages.
    assert all(row.attempts == 1 and row.claimed_by for row in crash.rows_after_crash.values())
    marked = set(ids[: SENT_BEFORE_THE_KILL + (point == "outbox.after_mark_sent")])
    assert {n for n, row in crash.rows_after_crash.items() if row.status == DeliveryStatus.sent} == marked
    assert set(crash.delivered_after_crash) == marked | ({frozen} if resent else set())
    # After the restart: every message arrived, each once, but for the one frozen inside the SMTP window.
    assert set(crash.delivered) == set(ids)
    assert {n for n, count in crash.delivered.items() if count > 1} == ({frozen} if resent else set())
    assert max(crash.delivered.values()) <= 2  # never a third time
    if resent:  # the same message again, which the receiving side can recognise
        first, second = (m for m in crash.messages if m["X-Mend-Notification"] == str(frozen))
        assert first["Message-ID"] == second["Message-ID"] and first.as_bytes() == second.as_bytes()
    # No row stuck: all sent; the ones the dead worker left were taken over once, after its lease.
    assert all(row.status == DeliveryStatus.sent and row.sent_at is not None for row in crash.rows.values())
    assert all(crash.rows[n].attempts == (1 if n in marked else 2) for n in ids)
