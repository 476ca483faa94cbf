"""The audit log through the app: who may read it, its filters, and reads of cases being recorded."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.actor import Actor
from app.audit.models import AuditEvent
from app.audit.service import record_event
from app.auth.models import User
from app.conferences.models import Case
from app.programs.models import Program
from tests.factories import make_case


def _mark(session: Session, program: Program, label: str, case: Case | None = None) -> AuditEvent:
    """An event whose actor label is easy to spot on the page."""
    return record_event(
        session,
        actor=Actor.system(label, program_id=program.id),
        action="case.note_added",
        entity_type="case",
        entity_id=case.id if case else None,
        case_id=case.id if case else None,
    )


def test_an_admin_sees_their_programs_events_and_not_another_programs(
    as_admin: TestClient, db: Session, program: Program, other_program: Program
) -> None:
    _mark(db, program, "Clerk of Harbour")
    _mark(db, other_program, "Clerk of Elsewhere")
    response = as_admin.get("/admin/audit")
    assert response.status_code == 200
    assert "Clerk of Harbour" in response.text
    assert "Clerk of Elsewhere" not in response.text


def test_the_other_programs_admin_does_not_see_this_programs_events(
    as_other_admin: TestClient, db: Session, program: Program
) -> None:
    _mark(db, program, "Clerk of Harbour")
    response = as_other_admin.get("/admin/audit")
    assert response.status_code == 200
    assert "Clerk of Harbour" not in response.text


def test_an_admin_can_filter_the_audit_log_by_case(
    as_admin: TestClient, db: Session, program: Program, facilitator: User
) -> None:
    first, second = make_case(db, facilitator), make_case(db, facilitator)
    _mark(db, program, "Reader of the first case", first)
    _mark(db, program, "Reader of the second case", second)
    response = as_admin.get("/admin/audit", params={"case": first.id})
    assert response.status_code == 200
    assert "Reader of the first case" in response.text
    assert "Reader of the second case" not in response.text


def test_an_empty_case_filter_shows_every_case(
    as_admin: TestClient, db: Session, program: Program, facilitator: User
) -> None:
    first, second = make_case(db, facilitator), make_case(db, facilitator)
    _mark(db, program, "Reader of the first case", first)
    _mark(db, program, "Reader of the second case", second)
    response = as_admin.get("/admin/audit?case=")
    assert response.status_code == 200
    assert "Reader of the first case" in response.text
    assert "Reader of the second case" in response.text


@pytest.mark.parametrize("client", ["as_facilitator", "as_staff"])
@pytest.mark.parametrize("path", ["/admin/audit", "/api/v1/audit"])
def test_facilitators_and_staff_are_refused_the_audit_log(
    request: pytest.FixtureRequest, client: str, path: str
) -> None:
    response = request.getfixturevalue(client).get(path)
    assert response.status_code == 403


def test_the_api_filtered_by_case_returns_only_that_cases_events(
    as_admin: TestClient, db: Session, program: Program, facilitator: User
) -> None:
    first, second = make_case(db, facilitator), make_case(db, facilitator)
    _mark(db, program, "Reader of the first case", first)
    _mark(db, program, "Reader of the second case", second)
    expected = db.exec(select(AuditEvent.hash).where(AuditEvent.case_id == first.id)).all()

    response = as_admin.get("/api/v1/audit", params={"case_id": first.id})

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == len(expected) >= 2
    assert {item["case_id"] for item in body["items"]} == {first.id}
    assert sorted(item["hash"] for item in body["items"]) == sorted(expected)
    assert {item["actor_label"] for item in body["items"]} >= {facilitator.full_name, "Reader of the first case"}


def test_the_api_lists_only_the_callers_program(
    as_other_admin: TestClient, db: Session, program: Program, other_program: Program
) -> None:
    ours = _mark(db, program, "Clerk of Harbour")
    response = as_other_admin.get("/api/v1/audit")
    assert response.status_code == 200
    hashes = {item["hash"] for item in response.json()["items"]}
    theirs = set(db.exec(select(AuditEvent.hash).where(AuditEvent.program_id == other_program.id)).all())
    assert hashes == theirs
    assert ours.hash not in hashes


def test_reading_a_case_page_records_who_read_it_and_the_request_id(
    as_facilitator: TestClient, db: Session, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    response = as_facilitator.get(f"/cases/{case.id}")
    assert response.status_code == 200
    reads = db.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "case.read", AuditEvent.case_id == case.id)
        .order_by(col(AuditEvent.seq))
    ).all()
    assert len(reads) == 1
    read = reads[0]
    assert (read.actor_kind, read.actor_id, read.actor_label) == ("user", facilitator.id, facilitator.full_name)
    assert read.program_id == facilitator.program_id
    assert read.request_id == response.headers["X-Request-ID"]


def test_a_facilitator_reads_the_audit_log_of_their_own_case_only(
    as_facilitator, as_facilitator2, db: Session, facilitator: User
) -> None:
    from tests.factories import make_case

    mine = make_case(db, facilitator, reference="MINE-1")
    other = make_case(db, facilitator, reference="OTHER-1")
    page = as_facilitator.get(f"/cases/{mine.id}/audit")
    assert page.status_code == 200
    assert "case.opened" in page.text
    api = as_facilitator.get(f"/api/v1/cases/{mine.id}/audit").json()
    assert {e["case_id"] for e in api["items"]} == {mine.id}
    assert other.id not in {e["case_id"] for e in api["items"]}
    assert as_facilitator2.get(f"/cases/{mine.id}/audit").status_code == 404
    assert as_facilitator2.get(f"/api/v1/cases/{mine.id}/audit").status_code == 404


def test_staff_cannot_read_a_case_audit_log(as_staff, db: Session, facilitator: User) -> None:
    from tests.factories import make_case

    case = make_case(db, facilitator)
    assert as_staff.get(f"/cases/{case.id}/audit").status_code == 403
    assert as_staff.get(f"/api/v1/cases/{case.id}/audit").status_code == 403
