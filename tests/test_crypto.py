"""Field-level encryption: what the database holds is ciphertext under a named key, the app reads it back
unchanged, keys rotate (and a stopped rotation resumes), and no plaintext or ciphertext of these fields
leaks into exports, the audit log or error messages."""

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from app.agreements.models import Signature
from app.audit.models import AuditEvent
from app.audit.service import verify_chains
from app.auth.models import User
from app.conferences.models import Participant, Screening
from app.config import Environment, InsecureConfiguration, Settings, get_settings
from app.crypto import DecryptionError, Keyring, KeyringError, encrypted_columns, get_keyring, new_key_line
from app.db import utcnow
from app.keys import PLAINTEXT, RotationReport, key_status, rotate_keys
from app.main import logger as app_logger
from app.safety.models import ContactPreference, SafetyPlan
from tests.agreements.monitoring_support import stub_pdf
from tests.crypto_support import (
    CIPHERTEXT,
    MARKER,
    MARKER_EMAIL,
    MARKER_IP,
    MARKER_PHONE,
    Confidential,
    confidential_case,
    decrypted_values,
    raw_values,
)

TEST_KEYS = os.environ["MEND_ENCRYPTION_KEYS"]
SECOND_KEY = "test-2:c2Vjb25kLXRlc3Qtb25seS1maWVsZC1lbmNyeXB0aW8"
SECRETS = (MARKER, MARKER_EMAIL, MARKER_PHONE, MARKER_IP)


@contextmanager
def keyring_settings(keys: str, active: str | None = None) -> Iterator[None]:
    """Run with another keyring in the settings (as after an operator changes MEND_ENCRYPTION_KEYS)."""
    saved = {name: os.environ.get(name) for name in ("MEND_ENCRYPTION_KEYS", "MEND_ENCRYPTION_KEY_ID")}
    os.environ["MEND_ENCRYPTION_KEYS"] = keys
    if active is None:
        os.environ.pop("MEND_ENCRYPTION_KEY_ID", None)
    else:
        os.environ["MEND_ENCRYPTION_KEY_ID"] = active
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


@pytest.fixture
def confidential(db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch) -> Confidential:
    stub_pdf(monkeypatch)
    built = confidential_case(db, facilitator)
    db.commit()
    return built


# --- at rest --------------------------------------------------------------------------------------


def test_every_encrypted_column_holds_ciphertext_under_the_active_key_never_plaintext(
    db: Session, confidential: Confidential
) -> None:
    for column, values in raw_values(db).items():
        assert values, f"the confidential case leaves {column} empty: add it to tests/crypto_support.py"
        for value in values:
            match = CIPHERTEXT.fullmatch(value)
            assert match is not None and match["kid"] == "test-1", column
            assert not any(secret in value for secret in SECRETS)


def test_the_app_reads_every_field_back_unchanged(db: Session, confidential: Confidential) -> None:
    db.expire_all()
    pref = db.exec(select(ContactPreference)).one()
    assert (pref.email, pref.phone, pref.code_word) == (MARKER_EMAIL, MARKER_PHONE, MARKER)
    plan = db.exec(select(SafetyPlan)).one()
    assert (plan.support_person, plan.exit_plan) == (f"{MARKER} Ana", f"{MARKER} side door")
    assert {s.ip_address for s in db.exec(select(Signature)).all()} == {MARKER_IP}
    answers = db.exec(select(Screening.answers).where(Screening.participant_id == confidential.survivor.id)).first()
    assert isinstance(answers, dict) and answers
    for column, values in decrypted_values(db).items():
        assert not any(isinstance(v, str) and v.startswith("enc:") for v in values), column


def test_pages_and_api_show_the_decrypted_fields_to_those_allowed(
    as_admin: TestClient, as_facilitator: TestClient, confidential: Confidential
) -> None:
    case, survivor = confidential.case, confidential.survivor
    base = f"/api/v1/cases/{case.id}"
    pref = as_facilitator.get(f"{base}/participants/{survivor.id}/contact-preferences").json()
    assert (pref["email"], pref["phone"], pref["code_word"]) == (MARKER_EMAIL, MARKER_PHONE, MARKER)
    [latest, *_] = as_facilitator.get(f"{base}/participants/{survivor.id}/screenings").json()
    detail = as_facilitator.get(f"{base}/participants/{survivor.id}/screenings/{latest['id']}").json()
    assert detail["rationale"] == f"{MARKER} rationale" and detail["answers"]
    assert as_facilitator.get(f"{base}/safety/assessments").json()[0]["notes"] == f"{MARKER} n"
    assert as_facilitator.get(f"{base}/safety/plan").json()["plan"]["exit_plan"] == f"{MARKER} side door"
    session = as_facilitator.get(f"{base}/sessions/{confidential.conference.id}").json()
    assert session["outcome_note"] == f"{MARKER} went well"
    version = as_admin.get(f"{base}/agreement/versions/1").json()
    assert {s["evidence"]["ip_address"] for s in version["signatures"]} == {MARKER_IP}
    page = as_facilitator.get(f"/cases/{case.id}/safety/plan")
    assert page.status_code == 200 and f"{MARKER} side door" in page.text and "enc:v1:" not in page.text
    contact = as_facilitator.get(f"/cases/{case.id}/participants/{survivor.id}/contact")
    assert MARKER_EMAIL in contact.text and "enc:v1:" not in contact.text


# --- nothing leaks --------------------------------------------------------------------------------


def test_no_confidential_value_or_ciphertext_reaches_the_audit_log_the_outbox_or_the_csv_export(
    as_admin: TestClient, db: Session, confidential: Confidential
) -> None:
    export = as_admin.get("/api/v1/commitments.csv")
    assert export.status_code == 200 and "Payment" in export.text
    audit = [
        json.dumps([e.actor_label, e.entity_id, e.detail], ensure_ascii=False)
        for e in db.exec(select(AuditEvent)).all()
    ]
    # The outbox keeps each email until it is sent (an invitation names its attendee's address), so its body
    # and attachment are encrypted columns too; its subject is not, and must say nothing confidential.
    outbox = list(db.execute(sa.text("SELECT subject FROM notification")).scalars())
    assert audit and outbox
    for text in [export.text, *audit, *outbox]:
        assert not any(secret in text for secret in SECRETS), text
        assert "enc:v1:" not in text


def test_a_failed_statement_echoes_no_value_and_its_log_entry_no_ciphertext(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    now = utcnow()
    row = {"program_id": 1, "case_id": None, "role": "survivor", "display_name": "R", "support_needs": MARKER}
    insert = Participant.__table__.insert().values(**row, created_at=now, updated_at=now)  # type: ignore[attr-defined]
    with engine.connect() as connection, pytest.raises(sa.exc.DBAPIError) as failed:
        connection.execute(insert)  # no case: NOT NULL fails (PostgreSQL quotes the failing row)
    assert MARKER not in str(failed.value)
    try:
        raise failed.value
    except sa.exc.DBAPIError:
        app_logger.exception("unhandled error (request %s)", "r-1")  # as the app's last-resort handler does
    assert "unhandled error (request r-1)" in caplog.text and "Traceback" in caplog.text
    assert MARKER not in caplog.text and not re.search(r"enc:v1:test-1:(?!\[redacted\])", caplog.text)


# --- refusals and errors --------------------------------------------------------------------------


def test_a_tampered_value_is_a_clear_error_that_names_the_column_and_key_not_the_value() -> None:
    keyring = get_keyring()
    stored = keyring.encrypt(MARKER, column="safety_plan.exit_plan")
    body = stored.rsplit(":", 1)[1]
    tampered = stored[: -len(body)] + body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    with pytest.raises(DecryptionError) as failed:
        keyring.decrypt(tampered, column="safety_plan.exit_plan")
    message = str(failed.value)
    assert "safety_plan.exit_plan" in message and "'test-1'" in message
    assert MARKER not in message and body[:12] not in message


def test_a_value_copied_into_another_column_does_not_decrypt(db: Session, confidential: Confidential) -> None:
    plan = sa.table("safety_plan", sa.column("id"), sa.column("exit_plan"), sa.column("support_person"))
    db.execute(plan.update().values(support_person=plan.c.exit_plan))
    db.expire_all()
    with pytest.raises(DecryptionError, match=r"safety_plan\.support_person under key 'test-1'") as failed:
        db.exec(select(SafetyPlan)).all()
    assert MARKER not in str(failed.value)


def test_a_value_under_a_key_no_longer_configured_names_that_key(db: Session, confidential: Confidential) -> None:
    with keyring_settings(SECOND_KEY):
        db.expire_all()
        with pytest.raises(DecryptionError, match=r"contact_preference\.\w+ under key 'test-1': that key is not in"):
            db.exec(select(ContactPreference)).all()


def test_a_plaintext_value_written_behind_the_apps_back_is_refused_when_read(
    db: Session, confidential: Confidential
) -> None:
    db.execute(sa.text("UPDATE contact_preference SET code_word = 'written by hand'"))
    db.expire_all()
    with pytest.raises(DecryptionError, match="not in the encrypted format") as failed:
        db.exec(select(ContactPreference)).all()
    assert "written by hand" not in str(failed.value)


def test_queries_cannot_search_compare_or_sort_on_an_encrypted_column() -> None:
    with pytest.raises(TypeError, match="encrypted"):
        select(ContactPreference).where(ContactPreference.email == MARKER_EMAIL)
    with pytest.raises(TypeError, match="encrypted"):
        select(Participant).where(Participant.support_needs.like(f"%{MARKER}%"))  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="encrypted"):
        select(SafetyPlan).order_by(SafetyPlan.exit_plan.desc())  # type: ignore[attr-defined]
    assert select(ContactPreference).where(ContactPreference.email.is_not(None)) is not None  # type: ignore[union-attr]


def test_each_encrypted_column_binds_its_values_to_its_own_name() -> None:
    for column in encrypted_columns(SQLModel.metadata):
        assert column.type.column == f"{column.table.name}.{column.name}"  # type: ignore[attr-defined]
        assert not column.index and not column.unique and not column.primary_key
        assert not [i for i in column.table.indexes if column in i.columns.values()]


# --- settings -------------------------------------------------------------------------------------


def production(**values: object) -> Settings:
    return Settings(env=Environment.production, secret_key="p" * 40, **values)  # type: ignore[arg-type]


def test_production_without_encryption_keys_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEND_ENCRYPTION_KEYS")
    with pytest.raises(InsecureConfiguration, match="MEND_ENCRYPTION_KEYS is not set"):
        production()


@pytest.mark.parametrize(
    ("keys", "active", "complaint"),
    [
        ("", None, "holds no key"),
        ("k1", None, "entry 1 is not `key-id:base64url-key`"),
        ("k_1:" + TEST_KEYS.split(":")[1], None, "entry 1 is not"),
        ("k1:c2hvcnQ", None, "key 'k1' is not a base64url-encoded 256-bit key"),
        (f"{TEST_KEYS},{SECOND_KEY}", None, "set MEND_ENCRYPTION_KEY_ID"),
        (TEST_KEYS, "test-9", "'test-9' is not one of the keys"),
        (f"{TEST_KEYS},{TEST_KEYS}", "test-1", "names key 'test-1' twice"),
    ],
)
def test_a_malformed_keyring_refuses_to_start_without_echoing_key_material(
    monkeypatch: pytest.MonkeyPatch, keys: str, active: str | None, complaint: str
) -> None:
    monkeypatch.delenv("MEND_ENCRYPTION_KEYS")
    with pytest.raises(InsecureConfiguration, match=re.escape(complaint)) as refused:
        production(encryption_keys=keys, encryption_key_id=active)
    assert TEST_KEYS.split(":")[1][:10] not in str(refused.value) and "c2hvcnQ" not in str(refused.value)


def test_generated_keys_are_random_256_bit_keys_the_settings_accept() -> None:
    first, second = new_key_line("k2027"), new_key_line("k2027")
    assert first != second
    keyring = Keyring.parse(first)
    assert keyring.active_id == "k2027" and len(keyring.keys["k2027"]) == 32
    with pytest.raises(KeyringError, match="A key id is 1-32 letters"):
        new_key_line("no_underscores")  # "_" would be a wildcard in the rotation's LIKE pattern


# --- two keys and rotation ------------------------------------------------------------------------


def test_after_the_active_key_changes_old_values_still_read_and_new_ones_use_the_new_key(
    db: Session, confidential: Confidential
) -> None:
    before = decrypted_values(db)
    with keyring_settings(f"{TEST_KEYS},{SECOND_KEY}", active="test-2"):
        db.expire_all()
        assert decrypted_values(db) == before
        plan = db.exec(select(SafetyPlan)).one()
        plan.exit_plan = "a new way out"
        db.add(plan)
        db.flush()
        [stored] = db.execute(sa.text("SELECT exit_plan FROM safety_plan")).scalars()
        assert stored.startswith("enc:v1:test-2:")
        counts = {s.column: s.by_key for s in key_status(db)}
        assert counts["safety_plan.exit_plan"] == {"test-2": 1}
        assert counts["safety_plan.support_person"] == {"test-1": 1}


def test_rotation_reencrypts_everything_without_touching_timestamps_hashes_or_the_audit_chain(
    db: Session, confidential: Confidential
) -> None:
    before = decrypted_values(db)
    stamps = db.execute(sa.text("SELECT id, updated_at FROM participant ORDER BY id")).all()
    hashes = db.execute(sa.text("SELECT id, text_sha256 FROM signature ORDER BY id")).all()
    total = sum(len(v) for v in before.values())
    with keyring_settings(f"{TEST_KEYS},{SECOND_KEY}", active="test-2"):
        report = rotate_keys(db, batch_size=4)
        assert report.total == total and report.batches >= len(before)
        assert all(set(s.by_key) == {"test-2"} for s in key_status(db))
        db.expire_all()
        assert decrypted_values(db) == before
        assert rotate_keys(db).total == 0  # nothing left under the old key: a second run changes nothing
    assert db.execute(sa.text("SELECT id, updated_at FROM participant ORDER BY id")).all() == stamps
    assert db.execute(sa.text("SELECT id, text_sha256 FROM signature ORDER BY id")).all() == hashes
    assert verify_chains(db).ok
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "encryption.rotated")).all()
    assert [e.detail["reencrypted"] for e in events] == [report.reencrypted, {}]
    assert not any(secret in json.dumps(e.detail) for e in events for secret in SECRETS)
    with keyring_settings(SECOND_KEY):  # the old key can now be dropped from the ring
        db.expire_all()
        assert decrypted_values(db) == before


def test_an_interrupted_rotation_resumes_where_it_stopped_and_encrypts_nothing_twice(
    db: Session, confidential: Confidential
) -> None:
    before = decrypted_values(db)
    total = sum(len(v) for v in before.values())

    first_batch: list[int] = []

    def crash_after_first_batch(report: RotationReport) -> None:
        first_batch.append(report.total)
        raise KeyboardInterrupt("operator pressed Ctrl+C")

    with keyring_settings(f"{TEST_KEYS},{SECOND_KEY}", active="test-2"):
        with pytest.raises(KeyboardInterrupt):
            rotate_keys(db, batch_size=5, after_batch=crash_after_first_batch)
        db.rollback()
        status = {s.column: s.by_key for s in key_status(db)}
        assert sum(n.get("test-2", 0) for n in status.values()) == first_batch[0] > 0  # committed
        resumed = rotate_keys(db, batch_size=5)
        assert resumed.total == total - first_batch[0]
        assert all(set(s.by_key) == {"test-2"} for s in key_status(db))
        db.expire_all()
        assert decrypted_values(db) == before  # a value encrypted twice would read back as "enc:v1:..."


def test_rotation_encrypts_values_that_were_left_in_plaintext(db: Session, confidential: Confidential) -> None:
    db.execute(sa.text("UPDATE contact_preference SET code_word = 'left plain'"))
    assert {s.column: s.by_key for s in key_status(db)}["contact_preference.code_word"] == {PLAINTEXT: 1}
    rotate_keys(db)
    db.expire_all()
    assert db.exec(select(ContactPreference)).one().code_word == "left plain"
    assert {s.column: s.by_key for s in key_status(db)}["contact_preference.code_word"] == {"test-1": 1}
