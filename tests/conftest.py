"""Test set-up: one migrated database per run (SQLite, or PostgreSQL when MEND_TEST_DATABASE_URL
is set); every test runs inside a transaction that is rolled back."""

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from tests.clock import OFFSET_ENV, requested_offset, shift  # noqa: E402

if (_offset := requested_offset()) is not None:  # make test-shifted: every test runs at another date
    os.environ[OFFSET_ENV] = str(_offset)
    shift(_offset)

_TMP = Path(tempfile.mkdtemp(prefix="mend-tests-"))
os.environ["MEND_ENV"] = "test"
os.environ["MEND_SECRET_KEY"] = "test-only-secret-key-0123456789abcdefghijklmnop"
# A fixed test-only field-encryption key (32 bytes, base64url), so every test encrypts as production does.
os.environ["MEND_ENCRYPTION_KEYS"] = "test-1:dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5ISE"
os.environ.pop("MEND_ENCRYPTION_KEY_ID", None)
TEST_DATABASE_URL = os.environ.get("MEND_TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'mend-test.db'}"
os.environ["MEND_DATABASE_URL"] = TEST_DATABASE_URL

import pytest  # noqa: E402
import time_machine  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.actor import Actor  # noqa: E402
from app.auth.models import User, UserRole  # noqa: E402
from app.db import get_session, make_engine  # noqa: E402
from app.programs.models import Program  # noqa: E402
from tests.factories import make_program, make_user, signed_in_client  # noqa: E402
from tests.support import migrate, reset_database, scratch_database  # noqa: E402


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    reset_database(TEST_DATABASE_URL)
    engine = make_engine(TEST_DATABASE_URL)
    migrate(engine)
    yield engine
    engine.dispose()


# The moment that tests marked `@pytest.mark.clock` run at (their fixed dates were written around it):
# their process's clock starts there and ticks on, whatever the day the suite runs. Tests that start a
# server or worker process instead state their times relative to now, and `make test-shifted` proves it.
SUITE_CLOCK = datetime.fromisoformat("2026-11-23T09:00:00+00:00")


@pytest.fixture(autouse=True)
def _clock(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("clock")
    if marker is None:
        yield
        return
    with time_machine.travel(marker.args[0] if marker.args else SUITE_CLOCK, tick=True):
        yield


@pytest.fixture
def scratch_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database of its own, migrated, whose commits are real: for tests of several connections at once."""
    with scratch_database(TEST_DATABASE_URL, tmp_path) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test; the app's commits become savepoints."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def app(db: Session):
    from app.main import create_app

    application = create_app()

    def _session() -> Iterator[Session]:
        # Settle what the test set up, so a request that fails rolls back only its own work.
        db.commit()
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    application.dependency_overrides[get_session] = _session
    return application


@pytest.fixture
def anon(app) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def program(db: Session) -> Program:
    return make_program(db, "Harbour Restorative Program", timezone="Europe/Madrid")


@pytest.fixture
def other_program(db: Session) -> Program:
    return make_program(db, "Other Program", timezone="America/Chicago")


@pytest.fixture
def admin(db: Session, program: Program) -> User:
    return make_user(db, program, UserRole.admin, "Ada Admin")


@pytest.fixture
def facilitator(db: Session, program: Program) -> User:
    return make_user(db, program, UserRole.facilitator, "Fran Facilitator")


@pytest.fixture
def facilitator2(db: Session, program: Program) -> User:
    return make_user(db, program, UserRole.facilitator, "Gabe Unassigned")


@pytest.fixture
def staff(db: Session, program: Program) -> User:
    return make_user(db, program, UserRole.staff, "Sky Staff")


@pytest.fixture
def other_admin(db: Session, other_program: Program) -> User:
    return make_user(db, other_program, UserRole.admin, "Olu Other")


@pytest.fixture
def as_admin(app, db: Session, admin: User) -> TestClient:
    return signed_in_client(app, db, admin)


@pytest.fixture
def as_facilitator(app, db: Session, facilitator: User) -> TestClient:
    return signed_in_client(app, db, facilitator)


@pytest.fixture
def as_facilitator2(app, db: Session, facilitator2: User) -> TestClient:
    return signed_in_client(app, db, facilitator2)


@pytest.fixture
def as_staff(app, db: Session, staff: User) -> TestClient:
    return signed_in_client(app, db, staff)


@pytest.fixture
def as_other_admin(app, db: Session, other_admin: User) -> TestClient:
    return signed_in_client(app, db, other_admin)


@pytest.fixture
def system_actor(program: Program) -> Actor:
    return Actor.system("tests", program_id=program.id)


__all__ = ["text", "make_url"]
