"""The `mend` command line, run as a real process against a fresh database."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.agreements.models import AgreementDocument, Commitment
from app.audit.models import AuditChainHead, AuditEvent
from app.auth.models import SetupToken, User, UserRole
from app.auth.passwords import verify_password
from app.conferences.models import Case
from app.config import PROJECT_ROOT, VAR_DIR
from app.db import make_engine
from app.programs.models import Program
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_program, make_user
from tests.support import scratch_database

MEND = Path(sys.executable).parent / "mend"
SECRET = "cli-test-secret-key-0123456789abcdefghijklmnopq"  # noqa: S105 (test-only)
PASSWORD = "harbour lantern violet orbit"  # noqa: S105 (test-only)


def _env(**overrides: str) -> dict[str, str]:
    """This process's environment without any MEND_ setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEND_")}
    return env | overrides


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own command, fixed arguments)
        args, input=stdin, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False
    )


class Mend:
    """Runs `mend ...` against one database, and reads that database directly."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = _env(
            MEND_ENV="test",
            # The seeding process's keys, as an operator's app and command line share theirs: the audit
            # chain's key is derived from the secret key.
            MEND_SECRET_KEY=os.environ["MEND_SECRET_KEY"],
            MEND_ENCRYPTION_KEYS=os.environ["MEND_ENCRYPTION_KEYS"],
            MEND_DATABASE_URL=self.url,
        )
        return _run([str(MEND), *args], env, stdin)

    def scalar(self, statement):  # type: ignore[no-untyped-def]
        with self.engine.connect() as connection:
            return connection.execute(statement).scalar()


@pytest.fixture
def mend(tmp_path: Path) -> Iterator[Mend]:
    with scratch_database(TEST_DATABASE_URL, tmp_path) as url:
        runner = Mend(url)
        try:
            yield runner
        finally:
            runner.engine.dispose()


def _seed(mend: Mend, *, users: int = 0) -> int:
    """A program (and users) written straight to the database, to set the scene quickly; its id."""
    with Session(mend.engine) as session:
        program = make_program(session, "Harbour Program")
        for n in range(users):
            make_user(session, program, UserRole.facilitator, f"Person {n}", password=PASSWORD)
        session.commit()
        assert program.id is not None
        return program.id


def test_create_program_stores_the_program_with_its_time_zone(mend: Mend) -> None:
    result = mend("create-program", "Harbour Restorative Program", "--timezone", "Europe/Madrid")
    assert result.returncode == 0, result.stderr
    assert "Created program 1: Harbour Restorative Program (Europe/Madrid)" in result.stdout
    assert mend.scalar(select(Program.timezone).where(Program.name == "Harbour Restorative Program")) == "Europe/Madrid"


def test_create_program_refuses_an_unknown_time_zone(mend: Mend) -> None:
    result = mend("create-program", "Harbour", "--timezone", "Mars/Olympus_Mons")
    assert result.returncode == 1
    assert "Choose a time zone" in result.stderr
    assert "Traceback" not in result.stderr
    assert mend.scalar(select(func.count()).select_from(Program)) == 0


def test_create_user_reads_the_password_from_stdin(mend: Mend) -> None:
    program_id = _seed(mend)
    result = mend(
        "create-user",
        "--program",
        str(program_id),
        "--email",
        "a@example.org",
        "--name",
        "A B",
        "--role",
        "facilitator",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Created facilitator a@example.org" in result.stdout
    with mend.engine.connect() as connection:
        user = connection.execute(select(User).where(User.email == "a@example.org")).one()
    assert (user.full_name, user.role, user.program_id) == ("A B", "facilitator", program_id)
    assert PASSWORD not in user.password_hash
    assert verify_password(user.password_hash, PASSWORD)


def test_create_user_has_no_option_to_pass_the_password_as_an_argument(mend: Mend) -> None:
    program_id = _seed(mend)
    result = mend(
        "create-user",
        "--program",
        str(program_id),
        "--email",
        "a@example.org",
        "--name",
        "A B",
        "--role",
        "facilitator",
        "--password",
        PASSWORD,
    )
    assert result.returncode == 2
    assert "No such option" in result.stderr and "--password" in result.stderr
    assert mend.scalar(select(func.count()).select_from(User)) == 0


def test_create_user_refuses_a_weak_password_with_a_clear_message(mend: Mend) -> None:
    program_id = _seed(mend)
    result = mend(
        "create-user",
        "--program",
        str(program_id),
        "--email",
        "a@example.org",
        "--name",
        "A B",
        "--role",
        "facilitator",
        "--password-stdin",
        stdin="short\n",
    )
    assert result.returncode == 1
    assert "password: Choose a new password of at least 12 characters" in result.stderr
    assert "Traceback" not in result.stderr
    assert mend.scalar(select(func.count()).select_from(User)) == 0


def test_create_user_refuses_a_program_that_does_not_exist(mend: Mend) -> None:
    result = mend(
        "create-user",
        "--program",
        "7",
        "--email",
        "a@example.org",
        "--name",
        "A B",
        "--role",
        "facilitator",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 1
    assert "There is no program 7." in result.stderr
    assert mend.scalar(select(func.count()).select_from(User)) == 0


def test_load_demo_creates_the_fictional_demo_program(mend: Mend) -> None:
    result = mend("load-demo", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "admin@demo.mend.example" in result.stdout
    assert mend.scalar(select(Program.name)) == "Riverside Restorative Practice (demo)"
    assert mend.scalar(select(func.count()).select_from(User).where(User.email.like("%@demo.mend.example"))) == 4
    assert mend.scalar(select(func.count()).select_from(Case)) == 4
    # One case is past its conference with a sealed agreement, so monitoring has something to show.
    assert mend.scalar(select(func.count()).select_from(Commitment)) == 5
    # The monitored case is sealed: its English record copy and Leila's Spanish copy.
    assert mend.scalar(select(func.count()).select_from(AgreementDocument)) == 2


def test_load_demo_refuses_a_second_run(mend: Mend) -> None:
    assert mend("load-demo", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    again = mend("load-demo", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode == 1
    assert "already loaded" in again.stderr
    assert mend.scalar(select(func.count()).select_from(Program)) == 1


def test_load_demo_refuses_a_weak_password_without_echoing_it(mend: Mend) -> None:
    result = mend("load-demo", "--password-stdin", stdin="tiny-secret\n")
    assert result.returncode == 1
    assert "password: Choose a new password of at least 12 characters" in result.stderr
    assert "tiny-secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert mend.scalar(select(func.count()).select_from(Program)) == 0


def test_audit_verify_says_intact_on_an_untouched_log(mend: Mend) -> None:
    _seed(mend, users=2)
    result = mend("audit", "verify")
    assert result.returncode == 0, result.stderr
    assert "Audit log intact" in result.stdout


def test_audit_verify_names_the_edited_event_and_exits_non_zero(mend: Mend) -> None:
    program_id = _seed(mend, users=2)  # the chain: program.created, user.created, user.created
    assert mend("audit", "verify").returncode == 0
    target = mend.scalar(select(AuditEvent.id).where(AuditEvent.chain_key == program_id, AuditEvent.seq == 2))
    with mend.engine.begin() as connection:
        connection.execute(update(AuditEvent).where(AuditEvent.id == target).values(detail={"role": "admin"}))

    result = mend("audit", "verify")

    assert result.returncode == 1
    assert "BROKEN" in result.stderr
    assert f"chain {program_id} at sequence 2" in result.stderr
    assert f"event id {target}" in result.stderr


def test_audit_verify_of_a_program_that_does_not_exist_is_an_error_not_intact(mend: Mend) -> None:
    _seed(mend)
    result = mend("audit", "verify", "--program", "999")
    assert result.returncode == 1
    assert "no audit chain for program 999" in result.stderr
    assert "intact" not in result.stdout


def test_setup_link_prints_a_one_time_link_on_an_empty_database(mend: Mend) -> None:
    result = mend("setup-link")
    assert result.returncode == 0, result.stderr
    assert re.search(r"https?://\S+/setup/[A-Za-z0-9_-]{20,}", result.stdout)
    assert mend.scalar(select(func.count()).select_from(SetupToken)) == 1


def test_setup_link_refuses_once_a_user_exists(mend: Mend) -> None:
    _seed(mend, users=1)
    result = mend("setup-link")
    assert result.returncode == 1
    assert "already has accounts" in result.stderr
    assert "/setup/" not in result.stdout
    assert mend.scalar(select(func.count()).select_from(SetupToken)) == 0


LOAD_SETTINGS = [sys.executable, "-c", "from app.config import get_settings; get_settings()"]


def test_the_app_refuses_to_start_in_production_without_a_secret_key() -> None:
    result = _run(LOAD_SETTINGS, _env(MEND_ENV="production"))
    assert result.returncode != 0
    assert "MEND_SECRET_KEY is not set" in result.stderr


def test_the_app_refuses_a_short_secret_key() -> None:
    result = _run(LOAD_SETTINGS, _env(MEND_ENV="production", MEND_SECRET_KEY="too-short"))  # noqa: S106
    assert result.returncode != 0
    assert "MEND_SECRET_KEY must be at least 32 characters" in result.stderr


DEV_KEY_FILES = (VAR_DIR / "dev-secret-key", VAR_DIR / "dev-encryption-key")


@pytest.fixture
def dev_keys() -> Iterator[None]:
    """Development makes up its own keys in var/; leave the checkout as it was."""
    had_var_dir, had_keys = VAR_DIR.exists(), [f.exists() for f in DEV_KEY_FILES]
    yield
    for key_file, had_key in zip(DEV_KEY_FILES, had_keys, strict=True):
        if not had_key:
            key_file.unlink(missing_ok=True)
    if not had_var_dir and VAR_DIR.exists() and not any(VAR_DIR.iterdir()):
        VAR_DIR.rmdir()


def test_the_app_starts_in_development_without_a_secret_key(dev_keys: None) -> None:
    result = _run(LOAD_SETTINGS, _env(MEND_ENV="development"))
    assert result.returncode == 0, result.stderr
    assert all(f.exists() for f in DEV_KEY_FILES)  # development makes up its own keys and keeps them


def test_the_worker_keeps_an_hourly_audit_checkpoint_that_verify_compares_with(mend: Mend, tmp_path: Path) -> None:
    program_id = _seed(mend, users=2)
    checkpoints = tmp_path / "checkpoints.jsonl"
    for _ in range(2):  # two rounds within the hour: one checkpoint
        result = mend("worker", "--once", "--checkpoints", str(checkpoints))
        assert result.returncode == 0, result.stderr
    [line] = checkpoints.read_text().splitlines()
    assert json.loads(line)["chains"][str(program_id)]["seq"] == 3
    assert mend("audit", "verify", "--checkpoints", str(checkpoints)).returncode == 0
    with mend.engine.begin() as connection:  # cut the newest event and wind the head back
        connection.execute(delete(AuditEvent).where(AuditEvent.chain_key == program_id, AuditEvent.seq == 3))
        connection.execute(
            update(AuditChainHead)
            .where(AuditChainHead.chain_key == program_id)
            .values(
                seq=2,
                last_hash=select(AuditEvent.hash)
                .where(AuditEvent.chain_key == program_id, AuditEvent.seq == 2)
                .scalar_subquery(),
            )
        )
    assert mend("audit", "verify").returncode == 0
    result = mend("audit", "verify", "--checkpoints", str(checkpoints))
    assert result.returncode == 1 and "the log was cut back" in result.stderr


def test_outside_development_a_missing_secret_is_one_plain_message_naming_the_way_on_a_dev_install() -> None:
    for env in (_env(), _env(MEND_ENV="production", MEND_SECRET_KEY="too-short")):  # noqa: S106
        result = _run([str(MEND), "audit", "verify"], env)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr and "╭" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 2, result.stderr
        assert "MEND_SECRET_KEY" in result.stderr and "./mend audit verify" in result.stderr


def test_the_checkout_script_runs_commands_with_the_development_settings_make_run_uses(
    tmp_path: Path, dev_keys: None
) -> None:
    with scratch_database(TEST_DATABASE_URL, tmp_path) as url:
        result = _run([str(PROJECT_ROOT / "mend"), "audit", "verify"], _env(MEND_DATABASE_URL=url))
    assert result.returncode == 0, result.stderr
    assert "intact" in result.stdout
