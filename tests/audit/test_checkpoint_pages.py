"""An admin keeps their program's audit checkpoint outside Mend and checks the log against it later."""

import json

from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.audit.models import AuditChainHead, AuditEvent
from app.audit.service import verify_chains
from app.auth.models import User
from app.programs.models import Program
from tests.factories import signed_in_client

AUDIT_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]


def _download(client: TestClient) -> dict:  # type: ignore[type-arg]
    response = client.get("/admin/audit/checkpoint")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].startswith('attachment; filename="mend-audit-checkpoint-')
    # One JSON line, as `mend audit checkpoint --append` writes: files concatenate for `mend audit verify`.
    assert response.text.count("\n") == 1 and response.text.endswith("\n")
    return response.json()


def _check(client: TestClient, content: bytes, name: str = "checkpoint.json"):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/audit/checkpoint",
        data={"csrf_token": client.csrf_token},  # type: ignore[attr-defined]
        files={"checkpoint": (name, content, "application/json")},
    )


def _chain(db: Session, program_id: int) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.chain_key == program_id).order_by(col(AuditEvent.seq))
    return list(db.exec(query).all())


def test_the_download_signs_the_programs_own_chain_including_its_own_taking(
    db: Session, as_admin: TestClient, program: Program, other_program: Program
) -> None:
    checkpoint = _download(as_admin)
    assert list(checkpoint["chains"]) == [str(program.id)]  # no other program's head
    newest = _chain(db, program.id)[-1]  # type: ignore[arg-type]
    assert newest.action == "audit.checkpoint_taken"
    assert checkpoint["chains"][str(program.id)] == {"seq": newest.seq, "hash": newest.hash}
    assert verify_chains(db, chain_key=program.id, checkpoints=[checkpoint]).ok


def test_the_api_gives_the_same_checkpoint_to_a_script(db: Session, as_admin: TestClient, program: Program) -> None:
    checkpoint = as_admin.get("/api/v1/audit/checkpoint").json()
    assert set(checkpoint) == {"taken_at", "key_id", "chains", "mac"}
    assert verify_chains(db, chain_key=program.id, checkpoints=[checkpoint]).ok


def test_an_untouched_log_matches_its_checkpoint(db: Session, as_admin: TestClient, program: Program) -> None:
    checkpoint = _download(as_admin)
    response = _check(as_admin, json.dumps(checkpoint).encode())
    assert response.status_code == 200
    assert "The log matches the checkpoint taken at" in response.text
    checked = _chain(db, program.id)[-1]  # type: ignore[arg-type]
    assert (checked.action, checked.detail) == ("audit.checkpoint_checked", {"intact": True})


def test_a_log_cut_back_after_the_checkpoint_does_not_match(
    db: Session, as_admin: TestClient, program: Program
) -> None:
    as_admin.get("/admin/audit")  # some history before the checkpoint
    checkpoint = _download(as_admin)
    events = _chain(db, program.id)  # type: ignore[arg-type]
    last_seq, kept_seq, kept_hash = events[-1].seq, events[-3].seq, events[-3].hash
    # Someone with database access removes the newest events and winds the chain's head back.
    db.execute(delete(AUDIT_TABLE).where(AUDIT_TABLE.c.id.in_([e.id for e in events[-2:]])))
    db.execute(
        update(AuditChainHead)
        .where(col(AuditChainHead.chain_key) == program.id)
        .values(seq=kept_seq, last_hash=kept_hash)
    )
    db.expire_all()
    assert verify_chains(db, chain_key=program.id).ok  # the shorter chain still links on its own
    response = _check(as_admin, json.dumps(checkpoint).encode())
    assert response.status_code == 200
    assert "The log does not match the checkpoint" in response.text
    assert f"starting at entry {last_seq}" in response.text


def test_another_programs_checkpoint_is_refused_beside_the_field(
    app, db: Session, as_admin: TestClient, other_admin: User
) -> None:
    theirs = _download(signed_in_client(app, db, other_admin))
    response = _check(as_admin, json.dumps(theirs).encode())
    assert response.status_code == 422
    assert 'id="field-checkpoint-error"' in response.text
    assert "another program" in response.text


def test_a_file_that_is_not_a_checkpoint_gets_a_message_not_an_error(as_admin: TestClient) -> None:
    for content in (b"\xff\xfe not text", b"[1, 2]", b'{"chains": {"x": 1}}', b"{"):
        response = _check(as_admin, content)
        assert response.status_code == 422, content
        assert "Choose a checkpoint file downloaded from this page" in response.text
    missing = as_admin.post("/admin/audit/checkpoint", data={"csrf_token": as_admin.csrf_token})  # type: ignore[attr-defined]
    assert missing.status_code == 422


def test_the_checkpoint_section_is_in_spanish_for_a_spanish_reader(as_admin: TestClient) -> None:
    page = as_admin.get("/admin/audit", headers={"Accept-Language": "es"})
    assert "Descargar un punto de control" in page.text
