"""The monitoring API: commitments appear at sealing and move through their statuses as progress is
recorded, corrections that keep both entries, waivers that need the survivor's consent, completion and
closure, the CSV export that neutralises formulas and holds nothing confidential, and who may do what.

Time is not frozen: each agreement is sealed with due dates around the program's local today, so the
statuses (overdue, due soon, upcoming) are what a person would see today."""

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.agreements.commitment_rules import local_today
from app.agreements.models import Commitment, Waiver
from app.agreements.terms import (
    Instalment,
    NoContactTerm,
    OtherTerm,
    ProgramAttendanceTerm,
    RestitutionTerm,
    ServiceHoursTerm,
    Term,
)
from app.audit.models import AuditEvent
from app.auth.models import User, UserRole
from app.db import utcnow
from app.programs.models import Program
from tests.agreements.monitoring_support import Sealed, sealed_case, stub_pdf
from tests.agreements.test_service import Held
from tests.factories import make_user
from tests.portal.conftest import browser, enter, issue_url

Terms = Callable[[Held], list[Term]]
PROGRAM_TZ = "Europe/Madrid"  # the `program` fixture's time zone


@pytest.fixture(autouse=True)
def _no_real_agreement_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_pdf(monkeypatch)


@pytest.fixture
def today(program: Program) -> date:
    return local_today(utcnow(), program.timezone)


def days(today: date, n: int) -> date:
    return today + timedelta(days=n)


def plan_terms(today: date) -> Terms:
    """300 EUR in two instalments (the first five days overdue), 10 service hours due in a week,
    3 course sessions in two months, and no contact with no end date."""

    def terms(held: Held) -> list[Term]:
        owed = held.responsible.id
        return [
            RestitutionTerm(
                owed_by=owed,  # type: ignore[arg-type]
                currency="EUR",
                amount_cents=30_000,
                instalments=[
                    Instalment(due_date=days(today, -5), amount_cents=20_000),
                    Instalment(due_date=days(today, 40), amount_cents=10_000),
                ],
            ),
            ServiceHoursTerm(owed_by=owed, hours=10, deadline=days(today, 7), where="Harbour Food Bank"),  # type: ignore[arg-type]
            ProgramAttendanceTerm(
                owed_by=owed,  # type: ignore[arg-type]
                program_name="the harbour anger-management course",
                sessions=3,
                deadline=days(today, 60),
            ),
            NoContactTerm(owed_by=owed),  # type: ignore[arg-type]
        ]

    return terms


def two_payments(today: date) -> Terms:
    """Two instalments of 50 EUR (due in 3 and 30 days) and an indefinite no-contact term."""

    def terms(held: Held) -> list[Term]:
        owed = held.responsible.id
        plan = [
            Instalment(due_date=days(today, 3), amount_cents=5_000),
            Instalment(due_date=days(today, 30), amount_cents=5_000),
        ]
        return [
            RestitutionTerm(owed_by=owed, currency="EUR", amount_cents=10_000, instalments=plan),  # type: ignore[arg-type]
            NoContactTerm(owed_by=owed),  # type: ignore[arg-type]
        ]

    return terms


@pytest.fixture
def plan(db: Session, facilitator: User, today: date) -> Sealed:
    return sealed_case(db, facilitator, terms=plan_terms(today))


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: Any, status: int = 409) -> list[str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [c["code"] for c in response.json().get("conditions", [])]


def case_url(sealed: Sealed) -> str:
    return f"/api/v1/cases/{sealed.case.id}"


def one_url(sealed: Sealed, commitment: Commitment) -> str:
    return f"{case_url(sealed)}/commitments/{commitment.id}"


def progress(client: TestClient, sealed: Sealed, commitment: Commitment, amount: str | None, **extra: Any) -> Any:
    kind = {"payment": "payment", "service_hours": "hours", "program_attendance": "session_attended"}.get(
        commitment.kind, "done"
    )
    body = {"kind": kind, "amount": amount, "occurred_on": str(local_today(utcnow(), PROGRAM_TZ))} | extra
    return client.post(one_url(sealed, commitment) + "/progress", json=body)


def detail(client: TestClient, sealed: Sealed, commitment: Commitment) -> dict:
    return ok(client.get(one_url(sealed, commitment)))


def compliance(client: TestClient, sealed: Sealed) -> dict:
    return ok(client.get(case_url(sealed) + "/commitments"))


def events(db: Session, action: str, case_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    return list(db.exec(query).all())


CONSENTED = {"reason": "Rosa asked to let it go.", "consent_method": "in_person", "survivor_consent_confirmed": True}


# --- commitments from sealing -----------------------------------------------------------------


def test_sealing_creates_the_commitments_the_list_shows_with_their_status_today(
    as_staff: TestClient, plan: Sealed
) -> None:
    page = ok(as_staff.get("/api/v1/commitments", params={"case_id": plan.case.id}))
    rows = [
        (i["kind"], i["description"], i["quantity"], i["unit"], i["quantity_text"], i["done_text"], i["status"])
        for i in page["items"]
    ]
    assert rows == [
        ("payment", "Payment 1 of 2: 200.00 EUR", 20_000, "cents", "200.00 EUR", "0.00 EUR", "overdue"),
        (
            "service_hours",
            "10 hours of community service at Harbour Food Bank",
            600,
            "minutes",
            "10 hours",
            "0 hours",
            "due_soon",
        ),
        ("payment", "Payment 2 of 2: 100.00 EUR", 10_000, "cents", "100.00 EUR", "0.00 EUR", "upcoming"),
        (
            "program_attendance",
            "3 sessions of the harbour anger-management course",
            3,
            "sessions",
            "3 sessions",
            "0 sessions",
            "upcoming",
        ),
        ("no_contact", "No contact with the survivor", 0, "none", "", "No breach reported", "upcoming"),
    ]
    assert {i["owed_by_role"] for i in page["items"]} == {"responsible_party"}
    assert page["items"][-1]["due_on"] is None and (page["total"], page["pages"]) == (5, 1)


def test_the_dashboard_counts_today_in_the_programs_time_zone(as_admin: TestClient, plan: Sealed, today: date) -> None:
    counts = ok(as_admin.get("/api/v1/monitoring/counts"))
    assert counts["today"] == str(today) and counts["due_soon_days"] == 14
    assert (counts["overdue"], counts["due_soon"], counts["cases_in_monitoring"], counts["cases_completed"]) == (
        1,
        1,
        1,
        0,
    )
    assert (counts["due_so_far"], counts["completed_on_time"], counts["compliance_rate"]) == (1, 0, 0.0)


def test_the_list_filters_by_status_and_refuses_a_status_that_does_not_exist(
    as_staff: TestClient, plan: Sealed
) -> None:
    overdue = ok(as_staff.get("/api/v1/commitments", params={"status": "overdue"}))
    assert [i["description"] for i in overdue["items"]] == ["Payment 1 of 2: 200.00 EUR"]
    for params in ({"status": "late"}, {"kind": "chores"}, {"sort": "owed_by"}, {"page": "0"}):
        response = as_staff.get("/api/v1/commitments", params=params)
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == list(params)
    assert as_staff.get("/api/v1/commitments.csv", params={"status": "late"}).status_code == 422


# --- progress ---------------------------------------------------------------------------------


def test_partial_progress_adds_up_and_then_completes_the_commitment(
    as_staff: TestClient, plan: Sealed, today: date
) -> None:
    [hours] = plan.of_kind("service_hours")
    entry = ok(progress(as_staff, plan, hours, "4.5", evidence_reference="LOG-12"), 201)
    assert (entry["amount"], entry["amount_text"], entry["recorded_by"]) == (270, "4.5 hours", "Sky Staff")
    partial = detail(as_staff, plan, hours)
    assert (partial["done"], partial["done_text"], partial["status"]) == (270, "4.5 hours", "due_soon")
    ok(progress(as_staff, plan, hours, "5.5"), 201)
    done = detail(as_staff, plan, hours)
    assert (done["done_text"], done["status"], done["completed_on"]) == ("10 hours", "completed", str(today))
    assert [p["amount_text"] for p in done["progress"]] == ["4.5 hours", "5.5 hours"]


def test_an_overpayment_is_refused_with_the_most_that_can_still_be_paid(as_staff: TestClient, plan: Sealed) -> None:
    first, second = plan.of_kind("payment")
    ok(progress(as_staff, plan, first, "150.00"), 201)
    response = progress(as_staff, plan, first, "60.00")
    assert refused(response, 422) == []
    body = response.json()
    message = (
        "That is more than is owed: 210.00 EUR would be recorded against 200.00 EUR. At most 50.00 EUR can be recorded."
    )
    assert body["detail"] == message and body["errors"] == [{"field": "amount", "message": message}]
    assert detail(as_staff, plan, first)["done_text"] == "150.00 EUR"
    assert detail(as_staff, plan, second)["progress"] == []


def test_progress_dated_after_the_programs_today_is_refused(as_staff: TestClient, plan: Sealed, today: date) -> None:
    [hours] = plan.of_kind("service_hours")
    response = progress(as_staff, plan, hours, "2", occurred_on=str(days(today, 1)))
    assert refused(response, 422) == []
    assert response.json()["errors"] == [{"field": "occurred_on", "message": "The date cannot be in the future."}]
    assert detail(as_staff, plan, hours)["progress"] == []


def test_a_correction_keeps_both_entries_and_the_status_goes_back(as_staff: TestClient, plan: Sealed) -> None:
    first, _ = plan.of_kind("payment")
    paid = ok(progress(as_staff, plan, first, "200.00", evidence_reference="RCPT-1"), 201)
    assert detail(as_staff, plan, first)["status"] == "completed"
    url = f"{case_url(plan)}/progress/{paid['id']}/correction"
    reversal = ok(as_staff.post(url, json={"reason": "The bank returned the transfer."}), 201)
    assert (reversal["amount"], reversal["amount_text"], reversal["reverses_id"]) == (
        -20_000,
        "−200.00 EUR",
        paid["id"],
    )
    assert reversal["correction_reason"] == "The bank returned the transfer."
    after = detail(as_staff, plan, first)
    assert (after["status"], after["done"], after["completed_on"]) == ("overdue", 0, None)
    assert [(p["id"], p["reversed_by_id"]) for p in after["progress"]] == [
        (paid["id"], reversal["id"]),
        (reversal["id"], None),
    ]
    assert refused(as_staff.post(url, json={"reason": "Again."})) == ["already_corrected"]
    reverse_reversal = f"{case_url(plan)}/progress/{reversal['id']}/correction"
    assert refused(as_staff.post(reverse_reversal, json={"reason": "Undo."})) == ["is_correction"]
    assert len(detail(as_staff, plan, first)["progress"]) == 2


# --- waivers ----------------------------------------------------------------------------------


def test_a_waiver_without_the_survivors_consent_is_refused_and_nothing_changes(
    as_facilitator: TestClient, db: Session, plan: Sealed
) -> None:
    [attendance] = plan.of_kind("program_attendance")
    body = {"reason": "The course was cancelled.", "consent_method": "phone"}
    response = as_facilitator.post(one_url(plan, attendance) + "/waiver", json=body)
    assert refused(response) == ["survivor_consent_missing"]
    assert response.json()["conditions"][0]["participant_id"] == plan.held.survivor.id
    after = detail(as_facilitator, plan, attendance)
    assert (after["status"], after["waived_at"], after["waivers"]) == ("upcoming", None, [])
    assert db.exec(select(Waiver)).all() == [] and events(db, "commitment.waived") == []


def test_a_waiver_with_the_survivors_consent_waives_the_commitment_and_is_audited(
    as_facilitator: TestClient, db: Session, plan: Sealed
) -> None:
    first, _ = plan.of_kind("payment")
    waiver = ok(as_facilitator.post(one_url(plan, first) + "/waiver", json=CONSENTED), 201)
    assert (waiver["status"], waiver["consent_method"], waiver["consent_recorded_by"]) == (
        "consented",
        "in_person",
        "Fran Facilitator",
    )
    assert waiver["consent_at"] is not None and waiver["reason"] == "Rosa asked to let it go."
    after = detail(as_facilitator, plan, first)
    assert after["status"] == "waived" and [w["id"] for w in after["waivers"]] == [waiver["id"]]
    [event] = events(db, "commitment.waived", plan.case.id)
    assert (event.entity_type, event.entity_id, event.actor_label) == ("commitment", str(first.id), "Fran Facilitator")
    assert event.detail == {"waiver": waiver["id"], "consent_method": "in_person"}
    assert refused(as_facilitator.post(one_url(plan, first) + "/waiver", json=CONSENTED)) == ["already_settled"]


def test_a_waiver_asked_in_the_portal_waits_for_the_survivor(
    as_facilitator: TestClient, db: Session, plan: Sealed
) -> None:
    first, _ = plan.of_kind("payment")
    url = one_url(plan, first) + "/waiver"
    waiver = ok(as_facilitator.post(url, json={"reason": "Dan lost his job."}), 201)
    assert (waiver["status"], waiver["consent_method"], waiver["consent_at"]) == ("asked", None, None)
    after = detail(as_facilitator, plan, first)
    assert (after["status"], after["waived_at"]) == ("overdue", None)
    assert [w["status"] for w in after["waivers"]] == ["asked"]
    assert [e.detail for e in events(db, "commitment.waiver_asked")] == [{"waiver": waiver["id"]}]
    assert events(db, "commitment.waived") == []
    assert refused(as_facilitator.post(url, json=CONSENTED)) == ["waiver_pending"]


# --- completion and closure -------------------------------------------------------------------


def test_the_case_completes_by_itself_once_every_commitment_is_paid_or_waived(
    as_facilitator: TestClient, db: Session, facilitator: User, today: date
) -> None:
    sealed = sealed_case(db, facilitator, terms=two_payments(today))
    first, second = sealed.of_kind("payment")
    ok(progress(as_facilitator, sealed, first, "50.00"), 201)
    assert compliance(as_facilitator, sealed)["state"] == "monitoring"
    assert events(db, "case.completed") == []
    ok(as_facilitator.post(one_url(sealed, second) + "/waiver", json=CONSENTED), 201)
    record = compliance(as_facilitator, sealed)
    assert record["state"] == "completed" and record["closure_reason"] is None
    assert (record["counts"]["completed"], record["counts"]["waived"], record["counts"]["upcoming"]) == (1, 1, 1)
    [event] = events(db, "case.completed", sealed.case.id)
    assert event.entity_id == str(sealed.case.id)
    counts = ok(as_facilitator.get("/api/v1/monitoring/counts"))
    assert (counts["cases_completed"], counts["cases_in_monitoring"]) == (1, 0)
    response = as_facilitator.post(case_url(sealed) + "/closure", json={"reason": "other", "note": "Done."})
    assert refused(response) == ["case_completed"]


def test_a_case_is_closed_with_a_reason_from_the_fixed_list_and_takes_no_more_progress(
    as_facilitator: TestClient, db: Session, plan: Sealed
) -> None:
    body = {"reason": "non_compliance", "note": "No payment after three reminders."}
    closure = ok(as_facilitator.post(case_url(plan) + "/closure", json=body), 201)
    assert closure["reason_label"] == "Unresolved: commitments were not met"
    assert (closure["state"], closure["closed_by"], closure["note"]) == (
        "closed",
        "Fran Facilitator",
        "No payment after three reminders.",
    )
    record = compliance(as_facilitator, plan)
    assert (record["state"], record["closure_reason"]) == ("closed", "non_compliance")
    assert [e.detail["reason"] for e in events(db, "case.closed", plan.case.id)] == ["non_compliance"]
    [hours] = plan.of_kind("service_hours")
    assert refused(progress(as_facilitator, plan, hours, "1")) == ["case_closed"]
    assert detail(as_facilitator, plan, hours)["progress"] == []
    assert refused(as_facilitator.post(case_url(plan) + "/closure", json=body)) == ["case_closed"]


def test_a_closure_reason_outside_the_fixed_list_is_malformed(
    as_facilitator: TestClient, db: Session, plan: Sealed
) -> None:
    response = as_facilitator.post(case_url(plan) + "/closure", json={"reason": "bored", "note": "Gave up."})
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["reason"]
    assert compliance(as_facilitator, plan)["state"] == "monitoring"


def test_reading_a_cases_commitments_is_recorded(as_staff: TestClient, db: Session, plan: Sealed, staff: User) -> None:
    record = compliance(as_staff, plan)
    assert record["case_reference"] == plan.case.reference and len(record["commitments"]) == 5
    [event] = events(db, "commitments.read", plan.case.id)
    assert event.actor_id == staff.id


# --- the CSV export ---------------------------------------------------------------------------


def test_the_csv_neutralises_formulas_and_holds_no_names_notes_or_evidence(
    as_admin: TestClient, db: Session, program: Program, today: date
) -> None:
    mallory = make_user(db, program, UserRole.facilitator, "@Mallory", email="mallory@example.org")

    def terms(held: Held) -> list[Term]:
        owed = held.responsible.id
        return [
            OtherTerm(owed_by=owed, text='=HYPERLINK("http://evil.example","Open")', due_date=days(today, 10)),  # type: ignore[arg-type]
            RestitutionTerm(
                owed_by=owed,  # type: ignore[arg-type]
                currency="EUR",
                amount_cents=5_000,
                instalments=[Instalment(due_date=days(today, 20), amount_cents=5_000)],
            ),
        ]

    sealed = sealed_case(db, mallory, terms=terms)
    payment = sealed.of_kind("payment")[0]
    evidence = {"evidence_reference": "RCPT-77-SECRET", "evidence_note": "Paid in cash at the survivor's flat."}
    ok(progress(as_admin, sealed, payment, "20.00", **evidence), 201)

    response = as_admin.get("/api/v1/commitments.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="commitments-{today}.csv"'
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["commitment"], r["status"], r["done"]) for r in rows] == [
        ('\'=HYPERLINK("http://evil.example","Open")', "Due soon", "not done"),
        ("Payment of 50.00 EUR", "Upcoming", "20.00 EUR"),
    ]
    assert {r["facilitators"] for r in rows} == {"'@Mallory"}
    assert {r["owed_by"] for r in rows} == {"responsible party"}
    for secret in ("Rosa", "Dan", "RCPT-77", "survivor's flat", "Confidential referral note"):
        assert secret not in response.text
    [event] = events(db, "commitments.exported")
    assert (event.entity_type, event.detail) == ("program", {"filters": {}})


def test_the_csv_exports_the_filtered_rows_and_audits_the_filters(
    as_staff: TestClient, db: Session, plan: Sealed
) -> None:
    response = as_staff.get("/api/v1/commitments.csv", params={"kind": "payment", "page": 2})
    lines = response.text.splitlines()
    assert lines[0].startswith("case_reference,agreement_version,term,commitment,")
    assert [line.split(",")[3] for line in lines[1:]] == ["Payment 1 of 2: 200.00 EUR", "Payment 2 of 2: 100.00 EUR"]
    [event] = events(db, "commitments.exported")
    assert event.detail == {"filters": {"kind": "payment"}}


# --- the follow-up report ---------------------------------------------------------------------


def test_the_follow_up_report_downloads_as_a_pdf(as_staff: TestClient, db: Session, plan: Sealed) -> None:
    followup_pdf = pytest.importorskip("app.agreements.followup_pdf")
    response = as_staff.get(case_url(plan) + "/commitments/report.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF")
    filename = followup_pdf.followup_filename(plan.case)
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["cache-control"] == "no-store"
    assert len(events(db, "commitments.report.read", plan.case.id)) == 1


# --- who may do what --------------------------------------------------------------------------


def case_routes(sealed: Sealed, entry_id: int) -> list[tuple[str, str, dict | None]]:
    """Every route of one case, with a body that would succeed for someone allowed."""
    first = sealed.of_kind("payment")[0]
    [hours] = sealed.of_kind("service_hours")
    today = str(local_today(utcnow(), PROGRAM_TZ))
    base = case_url(sealed)
    return [
        ("GET", f"{base}/commitments", None),
        ("GET", one_url(sealed, first), None),
        ("GET", f"{base}/commitments/report.pdf", None),
        ("POST", one_url(sealed, hours) + "/progress", {"kind": "hours", "amount": "1", "occurred_on": today}),
        ("POST", f"{base}/progress/{entry_id}/correction", {"reason": "Wrong."}),
        ("POST", one_url(sealed, first) + "/waiver", CONSENTED),
        ("POST", f"{base}/closure", {"reason": "other", "note": "Why."}),
    ]


@pytest.fixture
def with_entry(db: Session, plan: Sealed, as_admin: TestClient) -> int:
    [hours] = plan.of_kind("service_hours")
    return ok(progress(as_admin, plan, hours, "2"), 201)["id"]


def call(client: TestClient, method: str, path: str, body: dict | None) -> Any:
    return client.request(method, path, json=body)


def test_staff_read_and_record_progress_but_may_not_waive_or_close(
    as_staff: TestClient, db: Session, plan: Sealed, with_entry: int
) -> None:
    assert ok(as_staff.get("/api/v1/monitoring/counts"))["overdue"] == 1
    assert ok(as_staff.get("/api/v1/commitments"))["total"] == 5
    expected = {"GET": 200, "POST": 201}
    for method, path, body in case_routes(plan, with_entry):
        if path.endswith(("/waiver", "/closure", "report.pdf")):
            continue
        assert call(as_staff, method, path, body).status_code == expected[method], path
    for method, path, body in case_routes(plan, with_entry):
        if path.endswith(("/waiver", "/closure")):
            response = call(as_staff, method, path, body)
            assert response.status_code == 403 and response.headers["content-type"] == "application/problem+json"
    assert db.exec(select(Waiver)).all() == [] and events(db, "case.closed") == []


@pytest.mark.parametrize("who", ["as_facilitator2", "as_other_admin"])
def test_outsiders_find_no_such_case_and_their_lists_and_counts_leave_it_out(
    who: str, request: pytest.FixtureRequest, db: Session, plan: Sealed, with_entry: int
) -> None:
    client: TestClient = request.getfixturevalue(who)
    for method, path, body in case_routes(plan, with_entry):
        response = call(client, method, path, body)
        assert response.status_code == 404, (path, response.text)
    assert ok(client.get("/api/v1/commitments"))["items"] == []
    assert ok(client.get("/api/v1/commitments", params={"case_id": plan.case.id}))["total"] == 0
    counts = ok(client.get("/api/v1/monitoring/counts"))
    assert [counts[k] for k in ("overdue", "due_soon", "due_so_far", "cases_in_monitoring", "cases_completed")] == [
        0
    ] * 5
    assert client.get("/api/v1/commitments.csv").text.splitlines()[1:] == []
    [hours] = plan.of_kind("service_hours")
    assert db.get(Commitment, hours.id).progress_total == 120  # type: ignore[union-attr]


def portal_client(app, db: Session, facilitator: User, sealed: Sealed) -> TestClient:  # type: ignore[no-untyped-def]
    client = browser(app)
    assert enter(client, issue_url(db, facilitator, sealed.held.survivor)).status_code == 303
    client.headers["X-CSRF-Token"] = client.csrf_token  # type: ignore[attr-defined]
    return client


@pytest.mark.parametrize("who", ["anonymous", "portal"])
def test_without_a_staff_session_every_monitoring_route_is_401(
    who: str, app, anon: TestClient, db: Session, facilitator: User, plan: Sealed, with_entry: int
) -> None:  # type: ignore[no-untyped-def]
    client = anon if who == "anonymous" else portal_client(app, db, facilitator, plan)
    routes = case_routes(plan, with_entry) + [
        ("GET", "/api/v1/monitoring/counts", None),
        ("GET", "/api/v1/commitments", None),
        ("GET", "/api/v1/commitments.csv", None),
    ]
    for method, path, body in routes:
        response = call(client, method, path, body)
        assert response.status_code == 401, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert db.exec(select(Waiver)).all() == [] and events(db, "case.closed") == []
    assert events(db, "commitments.exported") == []
