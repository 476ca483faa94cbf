"""`mend keys`, run as a real process: generate prints a key and stores nothing, status counts values per key
without printing any, rotate moves every value to the active key; start-up refuses to run without keys."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from app.auth.models import UserRole
from app.crypto import Keyring
from tests.agreements.monitoring_support import stub_pdf
from tests.crypto_support import MARKER, MARKER_EMAIL, confidential_case, decrypted_values, scratch_url
from tests.factories import make_program, make_user
from tests.support import migrate
from tests.test_cli import LOAD_SETTINGS, MEND, SECRET, Mend, _env, _run
from tests.test_crypto import SECOND_KEY, TEST_KEYS, keyring_settings


class Keys(Mend):
    """`mend` against one database, with a chosen keyring (the tests' key test-1 to begin with)."""

    keys, active = TEST_KEYS, ""

    def with_keys(self, keys: str, active: str = "") -> "Keys":
        self.keys, self.active = keys, active
        return self

    def __call__(self, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        env = _env(MEND_ENV="test", MEND_SECRET_KEY=SECRET, MEND_DATABASE_URL=self.url, MEND_ENCRYPTION_KEYS=self.keys)
        if self.active:
            env["MEND_ENCRYPTION_KEY_ID"] = self.active
        return _run([str(MEND), *args], env, stdin)


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Keys]:
    """A migrated scratch database holding one confidential case, all under the tests' key test-1."""
    stub_pdf(monkeypatch)
    with scratch_url(tmp_path) as url:
        runner = Keys(url)
        try:
            migrate(runner.engine)
            with Session(runner.engine) as session:
                program = make_program(session, "Keys Program")
                confidential_case(session, make_user(session, program, UserRole.facilitator, "Kim Keys"))
                session.commit()
            yield runner
        finally:
            runner.engine.dispose()


def status_counts(output: str) -> dict[str, str]:
    return dict(re.findall(r"^(\w+\.\w+)\s+(.+)$", output, flags=re.MULTILINE))


def test_generate_works_before_any_key_is_configured_and_prints_a_new_key_each_time() -> None:
    env = _env(MEND_ENV="production")  # no secret key, no encryption keys: generating one must still work
    first, second = (_run([str(MEND), "keys", "generate", "--id", "k2027"], env) for _ in range(2))
    assert first.returncode == 0 and second.returncode == 0, first.stderr
    assert first.stdout != second.stdout
    assert len(Keyring.parse(first.stdout.strip()).keys["k2027"]) == 32


def test_status_and_rotate_move_every_value_to_the_active_key_and_print_no_value(keys: Keys) -> None:
    with Session(keys.engine) as session:
        before = decrypted_values(session)
    status = keys("keys", "status")
    assert status.returncode == 0, status.stderr
    counts = status_counts(status.stdout)
    assert counts["safety_plan.exit_plan"] == "test-1: 1" and counts["contact_preference.email"] == "test-1: 1"
    assert "Values not under the active key: 0" in status.stdout

    keys.with_keys(f"{TEST_KEYS},{SECOND_KEY}", active="test-2")
    stale = keys("keys", "status")
    total = sum(len(v) for v in before.values())
    assert f"Values not under the active key: {total} (run: mend keys rotate)" in stale.stdout
    rotated = keys("keys", "rotate", "--batch-size", "3")
    assert rotated.returncode == 0, rotated.stderr
    assert f"Re-encrypted {total} values under key test-2" in rotated.stdout
    after = keys("keys", "status")
    assert all(re.fullmatch(r"test-2: \d+", counts) for counts in status_counts(after.stdout).values())
    assert "Values not under the active key: 0" in after.stdout
    for output in (status, stale, rotated, after):
        assert MARKER not in output.stdout + output.stderr and MARKER_EMAIL not in output.stdout
        assert not re.search(r"enc:v1:[\w-]+:\w", output.stdout + output.stderr)
    with keyring_settings(SECOND_KEY), Session(keys.engine) as session:  # only the new key is needed now
        assert decrypted_values(session) == before
    with keys.engine.connect() as connection:
        [detail] = connection.execute(
            sa.text("SELECT detail FROM audit_event WHERE action = 'encryption.rotated'")
        ).scalars()
    assert MARKER not in str(detail)


def test_the_app_refuses_to_start_in_production_without_encryption_keys() -> None:
    result = _run(LOAD_SETTINGS, _env(MEND_ENV="production", MEND_SECRET_KEY=SECRET))
    assert result.returncode != 0
    assert "MEND_ENCRYPTION_KEYS is not set" in result.stderr and "mend keys generate" in result.stderr


def test_the_app_refuses_to_start_with_a_key_id_missing_from_the_keys() -> None:
    env = _env(
        MEND_ENV="production", MEND_SECRET_KEY=SECRET, MEND_ENCRYPTION_KEYS=TEST_KEYS, MEND_ENCRYPTION_KEY_ID="gone"
    )
    result = _run(LOAD_SETTINGS, env)
    assert result.returncode != 0
    assert "MEND_ENCRYPTION_KEY_ID 'gone' is not one of the keys given" in result.stderr
    assert TEST_KEYS.split(":")[1] not in result.stderr
