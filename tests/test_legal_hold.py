"""Legal hold (only the admins of a case's program set and clear it, with a reason; audited; shown on the
case), and the program's retention setting."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit.models import AuditEvent
from app.auth.models import User, UserRole
from app.auth.service import actor_for
from app.conferences.models import Case
from app.errors import Conflict, PermissionDenied
from app.programs.models import Program
from app.retention.schemas import LegalHoldSet
from app.retention.service import clear_legal_hold, set_legal_hold
from tests.factories import make_case, make_user

REASON = "Court order 44/2031: keep every record until the appeal is decided."


@pytest.fixture
def case(db: Session, facilitator: User) -> Case:
    return make_case(db, facilitator)


def _events(db: Session, case: Case, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.action == action)).all())


# --- API -----------------------------------------------------------------------------------------------


def test_admin_puts_a_case_on_hold_and_clears_it_through_the_api(as_admin: TestClient, db: Session, case: Case) -> None:
    response = as_admin.put(f"/api/v1/cases/{case.id}/legal-hold", json={"reason": f"  {REASON}  "})
    assert response.status_code == 200, response.text
    assert response.json()["on_hold"] is True and response.json()["reason"] == REASON
    detail = as_admin.get(f"/api/v1/cases/{case.id}").json()
    assert detail["legal_hold"] is True and detail["legal_hold_reason"] == REASON and detail["legal_hold_since"]
    (event,) = _events(db, case, "case.legal_hold_set")
    assert event.actor_label == "Ada Admin" and REASON not in str(event.detail)

    assert as_admin.put(f"/api/v1/cases/{case.id}/legal-hold", json={"reason": REASON}).status_code == 409
    cleared = as_admin.delete(f"/api/v1/cases/{case.id}/legal-hold")
    assert cleared.status_code == 200 and cleared.json()["on_hold"] is False
    assert as_admin.get(f"/api/v1/cases/{case.id}").json()["legal_hold"] is False
    assert len(_events(db, case, "case.legal_hold_cleared")) == 1
    assert as_admin.delete(f"/api/v1/cases/{case.id}/legal-hold").status_code == 409


@pytest.mark.parametrize(
    ("client", "status"),
    [("as_facilitator", 403), ("as_staff", 403), ("as_facilitator2", 404), ("as_other_admin", 404)],
)
def test_only_the_programs_admins_set_or_clear_a_hold_through_the_api(
    request: pytest.FixtureRequest, db: Session, case: Case, admin: User, client: str, status: int
) -> None:
    caller: TestClient = request.getfixturevalue(client)
    assert caller.put(f"/api/v1/cases/{case.id}/legal-hold", json={"reason": REASON}).status_code == status
    set_legal_hold(db, actor=actor_for(admin), case=case, data=LegalHoldSet(reason=REASON))
    db.commit()
    assert caller.delete(f"/api/v1/cases/{case.id}/legal-hold").status_code == status
    db.refresh(case)
    assert case.legal_hold_at is not None and case.legal_hold_reason == REASON


def test_the_api_refuses_a_hold_without_a_reason(as_admin: TestClient, db: Session, case: Case) -> None:
    for body in ({}, {"reason": "  "}, {"reason": "x" * 2_001}):
        assert as_admin.put(f"/api/v1/cases/{case.id}/legal-hold", json=body).status_code == 422
    db.refresh(case)
    assert case.legal_hold_at is None


# --- service -------------------------------------------------------------------------------------------


def test_the_service_refuses_anyone_but_an_admin_of_the_cases_program(
    db: Session, case: Case, facilitator: User, staff: User, other_admin: User, admin: User
) -> None:
    for user in (facilitator, staff, other_admin):
        with pytest.raises(PermissionDenied):
            set_legal_hold(db, actor=actor_for(user), case=case, data=LegalHoldSet(reason=REASON))
    set_legal_hold(db, actor=actor_for(admin), case=case, data=LegalHoldSet(reason=REASON))
    for user in (facilitator, staff, other_admin):
        with pytest.raises(PermissionDenied):
            clear_legal_hold(db, actor=actor_for(user), case=case)
    assert case.legal_hold_at is not None


def test_an_anonymised_case_cannot_be_put_on_hold(db: Session, case: Case, admin: User) -> None:
    from app.db import utcnow

    case.anonymised_at = utcnow()
    with pytest.raises(Conflict):
        set_legal_hold(db, actor=actor_for(admin), case=case, data=LegalHoldSet(reason=REASON))


# --- pages ---------------------------------------------------------------------------------------------


def test_admin_puts_a_case_on_hold_from_the_case_page(as_admin: TestClient, db: Session, case: Case) -> None:
    page = as_admin.get(f"/cases/{case.id}")
    assert f'action="/cases/{case.id}/legal-hold"' in page.text
    response = as_admin.post(
        f"/cases/{case.id}/legal-hold",
        data={"reason": REASON, "csrf_token": as_admin.csrf_token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = as_admin.get(f"/cases/{case.id}")
    assert "Legal hold</span>" in page.text and REASON in page.text
    assert "Clear the legal hold" in page.text


def test_the_page_shows_a_missing_reason_beside_the_field(as_admin: TestClient, db: Session, case: Case) -> None:
    response = as_admin.post(f"/cases/{case.id}/legal-hold", data={"reason": "", "csrf_token": as_admin.csrf_token})
    assert response.status_code == 422
    assert 'id="field-hold-reason-error"' in response.text
    htmx = as_admin.post(
        f"/cases/{case.id}/legal-hold",
        data={"reason": "no", "csrf_token": as_admin.csrf_token},
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 422 and "<html" not in htmx.text and 'id="field-hold-reason-error"' in htmx.text
    db.refresh(case)
    assert case.legal_hold_at is None


def test_htmx_hold_redirects_and_clearing_from_the_page(as_admin: TestClient, db: Session, case: Case) -> None:
    response = as_admin.post(
        f"/cases/{case.id}/legal-hold",
        data={"reason": REASON, "csrf_token": as_admin.csrf_token},
        headers={"HX-Request": "true"},
    )
    assert response.headers.get("HX-Redirect") == f"/cases/{case.id}"
    cleared = as_admin.post(
        f"/cases/{case.id}/legal-hold/clear", data={"csrf_token": as_admin.csrf_token}, follow_redirects=False
    )
    assert cleared.status_code == 303
    db.refresh(case)
    assert case.legal_hold_at is None


def test_the_page_refuses_a_hold_without_the_csrf_token(as_admin: TestClient, db: Session, case: Case) -> None:
    as_admin.headers.pop("X-CSRF-Token")
    assert as_admin.post(f"/cases/{case.id}/legal-hold", data={"reason": REASON}).status_code == 403
    db.refresh(case)
    assert case.legal_hold_at is None


@pytest.mark.parametrize(
    ("client", "status"),
    [("as_facilitator", 403), ("as_staff", 403), ("as_facilitator2", 404), ("as_other_admin", 404)],
)
def test_only_admins_use_the_hold_forms(
    request: pytest.FixtureRequest, db: Session, case: Case, client: str, status: int
) -> None:
    caller: TestClient = request.getfixturevalue(client)
    form = {"reason": REASON, "csrf_token": caller.csrf_token}  # type: ignore[attr-defined]
    assert caller.post(f"/cases/{case.id}/legal-hold", data=form).status_code == status
    assert caller.post(f"/cases/{case.id}/legal-hold/clear", data=form).status_code == status
    db.refresh(case)
    assert case.legal_hold_at is None


def test_staff_and_facilitators_see_the_hold_badge_but_no_form(
    as_staff: TestClient, as_facilitator: TestClient, db: Session, case: Case, admin: User
) -> None:
    set_legal_hold(db, actor=actor_for(admin), case=case, data=LegalHoldSet(reason=REASON))
    db.commit()
    staff_page = as_staff.get(f"/cases/{case.id}").text
    assert "Legal hold</span>" in staff_page and REASON not in staff_page
    facilitator_page = as_facilitator.get(f"/cases/{case.id}").text
    assert "Legal hold</span>" in facilitator_page and REASON in facilitator_page
    for page in (staff_page, facilitator_page):
        assert "legal-hold/clear" not in page and f'action="/cases/{case.id}/legal-hold"' not in page
    assert as_staff.get(f"/api/v1/cases/{case.id}").json()["legal_hold"] is True


# --- the retention setting -------------------------------------------------------------------------------


def test_admin_sets_the_retention_period_through_the_api(as_admin: TestClient, db: Session, program: Program) -> None:
    assert as_admin.get("/api/v1/program").json()["retention_years"] == 6
    response = as_admin.patch("/api/v1/program", json={"retention_years": 10})
    assert response.status_code == 200 and response.json()["retention_years"] == 10
    event = db.exec(
        select(AuditEvent).where(AuditEvent.action == "program.updated").order_by(col(AuditEvent.id).desc())
    ).first()
    assert event is not None and event.detail == {"changed": {"retention_years": 10}}
    for bad in (0, 51, "six"):
        assert as_admin.patch("/api/v1/program", json={"retention_years": bad}).status_code == 422
    db.refresh(program)
    assert program.retention_years == 10


def test_only_admins_change_the_retention_period(as_facilitator: TestClient, as_staff: TestClient) -> None:
    for client in (as_facilitator, as_staff):
        assert client.patch("/api/v1/program", json={"retention_years": 1}).status_code == 403


def test_settings_page_saves_and_refuses_the_retention_period(
    as_admin: TestClient, db: Session, program: Program
) -> None:
    assert 'name="retention_years"' in as_admin.get("/admin/program").text
    form = {"name": program.name, "timezone": program.timezone, "csrf_token": as_admin.csrf_token}
    refused = as_admin.post("/admin/program", data=form | {"retention_years": "0"})
    assert refused.status_code == 422 and 'id="field-retention_years-error"' in refused.text
    saved = as_admin.post("/admin/program", data=form | {"retention_years": "12"}, follow_redirects=False)
    assert saved.status_code == 303
    db.refresh(program)
    assert program.retention_years == 12


def test_any_admin_of_the_program_may_set_a_hold(db: Session, program: Program, case: Case) -> None:
    other = make_user(db, program, UserRole.admin, "Bea Admin")
    set_legal_hold(db, actor=actor_for(other), case=case, data=LegalHoldSet(reason=REASON))
    assert case.legal_hold_by_id == other.id
