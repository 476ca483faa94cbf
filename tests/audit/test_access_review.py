"""Access review: who read which confidential records in a period, from the audit log's read events;
admins only, program-scoped, validated filters, and itself audited."""

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

import app.audit.service as audit_service
from app.agreements.commitment_service import today_in
from app.audit.models import AuditEvent
from app.auth.models import User, UserRole
from app.auth.service import actor_for
from app.conferences.models import Case
from app.conferences.service import record_case_read
from app.db import utcnow
from app.programs.models import Program
from app.safety.service import record_safety_read
from tests.factories import make_case, make_user


def read_at(
    db: Session, monkeypatch: pytest.MonkeyPatch, when: datetime, user: User, case: Case, what: str = "case"
) -> None:
    """A read of `what` in `case` by `user`, recorded as if at `when`."""
    with monkeypatch.context() as patch:
        patch.setattr(audit_service, "utcnow", lambda: when)
        record_case_read(db, actor=actor_for(user), case=case, what=what)


@pytest.fixture
def case(db: Session, facilitator: User) -> Case:
    return make_case(db, facilitator)


@pytest.fixture
def today(program: Program) -> date:
    return today_in(program)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_reads_in_the_period_are_listed_and_older_ones_are_not(
    as_admin: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch, facilitator: User, case: Case, today: date
) -> None:
    read_at(db, monkeypatch, noon(today - timedelta(days=3)), facilitator, case, "safety.plan")
    read_at(db, monkeypatch, noon(today - timedelta(days=45)), facilitator, case, "consent")
    db.commit()

    body = as_admin.get("/api/v1/access-review").json()
    records = [(i["user_name"], i["user_role"], i["case_reference"], i["record"]) for i in body["items"]]
    assert ("Fran Facilitator", "facilitator", case.reference, "Safety plan") in records
    assert all(r[3] != "Consent records" for r in records)  # 45 days ago: outside the default 30
    assert body["date_to"] == today.isoformat() and body["date_from"] == (today - timedelta(days=30)).isoformat()

    older = as_admin.get(
        "/api/v1/access-review",
        params={
            "date_from": (today - timedelta(days=50)).isoformat(),
            "date_to": (today - timedelta(days=40)).isoformat(),
        },
    ).json()
    assert [i["record"] for i in older["items"]] == ["Consent records"]

    page = as_admin.get("/admin/access-review")
    assert page.status_code == 200 and "Safety plan" in page.text and case.reference in page.text
    assert "Consent records" not in page.text


def test_filters_by_user_and_by_case(
    as_admin: TestClient,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    facilitator: User,
    admin: User,
    case: Case,
    today: date,
) -> None:
    other_case = make_case(db, facilitator)
    read_at(db, monkeypatch, noon(today), facilitator, case)
    read_at(db, monkeypatch, noon(today), admin, other_case)
    db.commit()
    by_user = as_admin.get("/api/v1/access-review", params={"user_id": facilitator.id}).json()["items"]
    assert {i["user_id"] for i in by_user} == {facilitator.id}
    by_case = as_admin.get("/api/v1/access-review", params={"case_id": other_case.id}).json()["items"]
    assert {i["case_reference"] for i in by_case} == {other_case.reference}
    page = as_admin.get("/admin/access-review", params={"case": other_case.reference})
    assert other_case.reference in page.text and f">{case.reference}<" not in page.text
    unknown = as_admin.get("/admin/access-review", params={"case": "no-such-case"})
    assert unknown.status_code == 422 and 'id="field-case-error"' in unknown.text


def test_another_programs_reads_are_never_shown(
    as_admin: TestClient,
    as_other_admin: TestClient,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    facilitator: User,
    other_admin: User,
    other_program: Program,
    case: Case,
) -> None:
    theirs = make_case(db, other_admin, facilitator_ids=[other_admin.id])
    # A minute ago, not noon: near midnight UTC, noon of Madrid's today is still ahead of Chicago's today.
    just_now = utcnow() - timedelta(minutes=1)
    read_at(db, monkeypatch, just_now, other_admin, theirs, "safety.concerns")
    read_at(db, monkeypatch, just_now, facilitator, case, "case.participants")
    db.commit()
    ours = as_admin.get("/api/v1/access-review").json()["items"]
    assert ours and all(i["user_name"] != "Olu Other" and i["record"] != "Safety concerns" for i in ours)
    assert as_admin.get("/api/v1/access-review", params={"case_id": theirs.id}).json()["items"] == []
    assert "Olu Other" not in as_admin.get("/admin/access-review").text
    their_view = as_other_admin.get("/api/v1/access-review").json()["items"]
    assert [i["record"] for i in their_view] == ["Safety concerns"]


@pytest.mark.parametrize("client", ["as_facilitator", "as_staff", "anon"])
def test_only_admins_see_the_access_review(request: pytest.FixtureRequest, client: str) -> None:
    caller: TestClient = request.getfixturevalue(client)
    expected = 401 if client == "anon" else 403
    assert caller.get("/api/v1/access-review").status_code == expected
    assert caller.get("/api/v1/access-review.csv").status_code == expected
    page = caller.get("/admin/access-review", follow_redirects=False)
    assert page.status_code in ((303, 401) if client == "anon" else (403,))


def test_viewing_the_review_is_audited(as_admin: TestClient, db: Session, admin: User) -> None:
    as_admin.get("/admin/access-review")
    as_admin.get("/api/v1/access-review.csv")
    actions = [
        (e.action, e.actor_id)
        for e in db.exec(select(AuditEvent).where(AuditEvent.action.startswith("access_review."))).all()  # type: ignore[attr-defined]
    ]
    assert actions == [("access_review.viewed", admin.id), ("access_review.exported", admin.id)]


def test_a_bad_period_is_refused_beside_the_fields(as_admin: TestClient, today: date) -> None:
    backwards = {"date_from": today.isoformat(), "date_to": (today - timedelta(days=2)).isoformat()}
    page = as_admin.get("/admin/access-review", params=backwards)
    assert page.status_code == 422 and 'id="field-date_from-error"' in page.text
    assert as_admin.get("/api/v1/access-review", params=backwards).status_code == 422
    malformed = as_admin.get("/admin/access-review", params={"date_to": "2026-13-45"})
    assert malformed.status_code == 422 and 'id="field-date_to-error"' in malformed.text
    too_long = {"date_from": (today - timedelta(days=800)).isoformat()}
    assert as_admin.get("/api/v1/access-review", params=too_long).status_code == 422


def test_pages_of_fifty(
    as_admin: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch, facilitator: User, case: Case, today: date
) -> None:
    for minute in range(51):
        read_at(db, monkeypatch, noon(today) - timedelta(minutes=minute + 1), facilitator, case)
    db.commit()
    first = as_admin.get("/api/v1/access-review", params={"user_id": facilitator.id}).json()
    second = as_admin.get("/api/v1/access-review", params={"user_id": facilitator.id, "page": 2}).json()
    assert (first["total"], first["pages"], len(first["items"]), len(second["items"])) == (51, 2, 50, 1)
    assert "Older" in as_admin.get("/admin/access-review", params={"user_id": facilitator.id}).text


def test_the_csv_neutralises_formulas(
    as_admin: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch, program: Program, case: Case, today: date
) -> None:
    sly = make_user(db, program, UserRole.facilitator, "=HYPERLINK(1)", email="sly@example.org")
    record_safety_read(db, actor=actor_for(sly), case=case, what="contact_preference")
    db.commit()
    response = as_admin.get("/admin/access-review.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "'=HYPERLINK(1),facilitator" in response.text and "Contact details" in response.text
    assert response.text.splitlines()[0] == "when_utc,user,role,case_reference,record,action"
