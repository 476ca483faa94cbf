"""Migration 0006 on a database that already holds data: downgrading decrypts every value back to what
revision 0005 stored, and upgrading encrypts it again, on SQLite and PostgreSQL."""

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session

from app.auth.models import UserRole
from app.db import make_engine
from tests.agreements.monitoring_support import stub_pdf
from tests.crypto_support import (
    CIPHERTEXT,
    MARKER,
    MARKER_EMAIL,
    MARKER_IP,
    confidential_case,
    decrypted_values,
    raw_values,
    scratch_url,
)
from tests.factories import make_program, make_user
from tests.support import alembic_config, migrate


def downgrade(engine: sa.Engine, revision: str) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_downgrade_decrypts_existing_rows_and_upgrade_encrypts_them_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_pdf(monkeypatch)
    with scratch_url(tmp_path) as url:
        engine = make_engine(url)
        try:
            migrate(engine)
            with Session(engine, expire_on_commit=False) as session:
                program = make_program(session, "Migration Program")
                facilitator = make_user(session, program, UserRole.facilitator, "Mig Facilitator")
                confidential_case(session, facilitator)
                session.commit()
                expected = decrypted_values(session)

            downgrade(engine, "0005")
            with Session(engine) as session:
                plain = raw_values(session)
            assert not any(v.startswith("enc:") for values in plain.values() for v in values)
            assert f"{MARKER} side door" in plain["safety_plan.exit_plan"]
            assert plain["contact_preference.email"] == [MARKER_EMAIL]
            assert set(plain["signature.ip_address"]) == {MARKER_IP}
            assert [json.loads(a) for a in plain["screening.answers"]] == expected["screening.answers"]

            migrate(engine)
            with Session(engine) as session:
                stored = raw_values(session)
                assert all(CIPHERTEXT.fullmatch(v) and MARKER not in v for values in stored.values() for v in values)
                assert decrypted_values(session) == expected
        finally:
            engine.dispose()
