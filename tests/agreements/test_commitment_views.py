"""The monitoring pages: the dashboard's figures and filtered list (a whole page, or the list alone for
htmx), progress recorded inline under a row, a case's compliance page with corrections, waivers and
closure, the CSV export and the follow-up report download, and who may see and do what."""

import csv
import html
import io
import re
import sys
import types
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.agreements.commitment_rules import local_today
from app.agreements.commitment_schemas import ProgressCreate
from app.agreements.commitment_service import record_progress, today_for
from app.agreements.models import Commitment, ProgressEntry, ProgressKind, Waiver
from app.agreements.terms import ApologyTerm, Instalment, NoContactTerm, RestitutionTerm, ServiceHoursTerm, Term
from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import CaseClosure
from app.db import utcnow
from tests.agreements.monitoring_support import Sealed, sealed_case, stub_pdf
from tests.agreements.test_service import Held

HX = {"HX-Request": "true"}
HX_LIST = HX | {"HX-Target": "commitment-list"}


@pytest.fixture(autouse=True)
def _stub_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_pdf(monkeypatch)


def overdue_terms(held: Held) -> list[Term]:
    """Two instalments already overdue (200 and 100 EUR), service hours due in 5 days, an apology in 60
    days, and a standing no-contact term."""
    owed = held.responsible.id
    today = date.today()
    return [
        RestitutionTerm(
            owed_by=owed,  # type: ignore[arg-type]
            currency="EUR",
            amount_cents=30_000,
            instalments=[
                Instalment(due_date=today - timedelta(days=30), amount_cents=20_000),
                Instalment(due_date=today - timedelta(days=20), amount_cents=10_000),
            ],
        ),
        ServiceHoursTerm(owed_by=owed, hours=40, deadline=today + timedelta(days=5), where="Harbour Food Bank"),  # type: ignore[arg-type]
        ApologyTerm(owed_by=owed, form="written", due_date=today + timedelta(days=60)),  # type: ignore[arg-type]
        NoContactTerm(owed_by=owed),  # type: ignore[arg-type]
    ]


@pytest.fixture
def sealed(db: Session, facilitator: User) -> Sealed:
    return sealed_case(db, facilitator, terms=overdue_terms)


def first_payment(sealed: Sealed) -> Commitment:
    return sealed.of_kind("payment")[0]


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.text)


def figure(body: str, label: str) -> str:
    """The number shown under a dashboard figure's label."""
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>(?:<a [^>]*>)?([^<]+)", body)
    assert match, f"no figure {label!r}"
    return match.group(1).strip()


def field_error(body: str, field_id: str) -> str:
    """The message shown beside a field (the element the field's aria-describedby names)."""
    match = re.search(
        rf'id="{re.escape(field_id)}-error"><span class="field-error-prefix">Error:</span> ([^<]*)<', body
    )
    assert match, f"no error beside {field_id}"
    assert f'aria-describedby="{field_id}-hint {field_id}-error"' in body or (
        f'aria-describedby="{field_id}-error"' in body
    )
    return match.group(1)


def row_of(body: str, commitment: Commitment) -> str:
    match = re.search(rf'<tbody id="commitment-{commitment.id}">(.*?)</tbody>', body, re.S)
    assert match, f"no row for commitment {commitment.id}"
    return match.group(1)


def progress_url(sealed: Sealed, commitment: Commitment, tail: str = "") -> str:
    return f"/cases/{sealed.case.id}/commitments/{commitment.id}/progress{tail}"


def program_today() -> date:
    """Today where the test program is (Europe/Madrid)."""
    return local_today(utcnow(), "Europe/Madrid")


def payment_form(client: TestClient, sealed: Sealed, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": client.csrf_token,  # type: ignore[attr-defined]
        "kind": "payment",
        "amount": "200.00",
        "occurred_on": program_today().isoformat(),
        "evidence_reference": "Receipt 4411",
        "evidence_note": "",
        "notify_survivor": "true",
        "next": "/monitoring?status=overdue",
    } | changes


# --- the dashboard ---------------------------------------------------------------------------------


def test_the_dashboard_shows_the_programs_figures(as_staff: TestClient, sealed: Sealed) -> None:
    response = as_staff.get("/monitoring")
    assert response.status_code == 200
    body = text(response)
    assert figure(body, "Overdue") == "2"
    assert figure(body, "Due in the next 14 days") == "1"
    assert figure(body, "Completed this month") == "0"
    assert figure(body, "Compliance rate").startswith("0%")
    assert "0 of 2 due were completed on time." in body
    assert figure(body, "Cases in monitoring") == "1"
    assert figure(body, "Cases completed") == "0"


def test_the_list_shows_each_commitment_with_its_status_in_words_and_a_record_button(
    as_staff: TestClient, sealed: Sealed
) -> None:
    body = text(as_staff.get("/monitoring"))
    row = row_of(body, first_payment(sealed))
    assert f'href="/cases/{sealed.case.id}/commitments"' in row
    assert sealed.case.reference in row
    assert "Payment 1 of 2: 200.00 EUR" in row
    assert "Responsible party" in row
    assert "0.00 EUR of 200.00 EUR" in row
    assert ">Overdue</span>" in row
    assert "Fran Facilitator" in row
    assert "Record progress" in row


def test_filtering_by_status_keeps_only_those_commitments(as_staff: TestClient, sealed: Sealed) -> None:
    body = text(as_staff.get("/monitoring?status=overdue"))
    assert "2 commitments found." in body
    assert "Payment 1 of 2" in body and "Payment 2 of 2" in body
    assert "hours of community service" not in body
    hours = text(as_staff.get("/monitoring?kind=service_hours&status="))
    assert "1 commitment found." in hours and "40 hours of community service" in hours


def test_filters_by_due_range_and_facilitator(
    as_staff: TestClient, sealed: Sealed, facilitator: User, facilitator2: User
) -> None:
    today = date.today()
    window = text(as_staff.get(f"/monitoring?due_from={today.isoformat()}&due_to={(today + timedelta(days=30))}"))
    assert "1 commitment found." in window and "40 hours of community service" in window
    assert "3 commitments found." in text(as_staff.get(f"/monitoring?due_to={today + timedelta(days=30)}"))
    assert "5 commitments found." in text(as_staff.get(f"/monitoring?facilitator_id={facilitator.id}"))
    assert "0 commitments found." in text(as_staff.get(f"/monitoring?facilitator_id={facilitator2.id}"))


def test_a_date_that_is_not_a_date_gets_a_message_beside_the_field_and_the_list_stays(
    as_staff: TestClient, sealed: Sealed
) -> None:
    response = as_staff.get("/monitoring?due_from=yesterday&status=overdue")
    assert response.status_code == 422
    body = text(response)
    assert field_error(body, "field-due_from") == "Enter a date, for example 2026-03-31."
    assert 'value="yesterday"' in body
    assert "2 commitments found." in body  # the other filter still applies


def test_an_unknown_status_or_sort_is_a_message_not_a_server_error(as_staff: TestClient, sealed: Sealed) -> None:
    response = as_staff.get("/monitoring?status=lost&sort=nonsense&page=x")
    assert response.status_code == 422
    body = text(response)
    assert field_error(body, "field-status") == "Choose one of the options."
    assert field_error(body, "field-sort") == "Choose one of the options."
    assert "5 commitments found." in body


def test_htmx_gets_the_list_alone_and_a_normal_request_the_whole_page(as_staff: TestClient, sealed: Sealed) -> None:
    fragment = as_staff.get("/monitoring?status=overdue&kind=&due_from=&sort=due_on", headers=HX_LIST)
    assert fragment.status_code == 200 and fragment.headers["Vary"] == "HX-Request"
    assert "<html" not in fragment.text and "At a glance" not in fragment.text
    assert 'id="field-status"' in fragment.text and "Payment 1 of 2" in fragment.text
    assert '<div id="monitoring-status" hx-swap-oob="innerHTML">2 commitments found.</div>' in fragment.text
    assert fragment.headers["HX-Push-Url"] == "/monitoring?status=overdue"  # not every empty field
    page = as_staff.get("/monitoring?status=overdue")
    assert "<html" in page.text and "At a glance" in page.text and "hx-swap-oob" not in page.text


def test_the_filter_form_works_with_and_without_javascript(as_staff: TestClient, sealed: Sealed) -> None:
    body = as_staff.get("/monitoring").text
    form = re.search(r"<form method=\"get\" action=\"/monitoring\"[^>]*>", body)
    assert form and 'hx-get="/monitoring"' in form.group(0)
    assert 'hx-target="#commitment-list"' in form.group(0) and 'hx-push-url="true"' in form.group(0)


def test_a_bad_filter_sent_by_htmx_comes_back_with_the_message_in_the_fragment(
    as_staff: TestClient, sealed: Sealed
) -> None:
    fragment = as_staff.get("/monitoring?due_to=31/12/2026", headers=HX_LIST)
    assert fragment.status_code == 200  # htmx swaps only 2xx answers
    assert field_error(text(fragment), "field-due_to") == "Enter a date, for example 2026-03-31."


def test_the_list_pages_keep_the_filters(as_staff: TestClient, db: Session, facilitator: User) -> None:
    for _ in range(7):  # 35 commitments: two pages of 25
        sealed_case(db, facilitator, terms=overdue_terms)
    body = text(as_staff.get("/monitoring?kind=payment"))
    assert "14 commitments found." in body and "Page" not in body
    body = text(as_staff.get("/monitoring"))
    assert "35 commitments found." in body and "Page 1 of 2" in body
    assert 'href="/monitoring?page=2"' in body
    second = text(as_staff.get("/monitoring?page=2&sort=-due_on"))
    assert "Page 2 of 2" in second and 'href="/monitoring?sort=-due_on"' in second


def test_a_facilitator_sees_only_their_own_cases(
    as_facilitator2: TestClient, as_facilitator: TestClient, sealed: Sealed
) -> None:
    assert "0 commitments found." in text(as_facilitator2.get("/monitoring"))
    assert figure(text(as_facilitator2.get("/monitoring")), "Overdue") == "0"
    mine = text(as_facilitator.get("/monitoring"))
    assert "5 commitments found." in mine and "in your cases" in mine


def test_the_csv_link_follows_the_filters(as_staff: TestClient, sealed: Sealed) -> None:
    body = as_staff.get("/monitoring?status=overdue&kind=payment").text
    assert 'href="/monitoring/commitments.csv?status=overdue&amp;kind=payment"' in body


def test_the_csv_export_has_the_filtered_rows_and_is_audited(as_staff: TestClient, db: Session, sealed: Sealed) -> None:
    response = as_staff.get("/monitoring/commitments.csv?status=overdue")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    today = today_for(db, sealed.case)
    assert response.headers["content-disposition"] == f'attachment; filename="commitments-{today.isoformat()}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["commitment"] for r in rows] == ["Payment 1 of 2: 200.00 EUR", "Payment 2 of 2: 100.00 EUR"]
    assert {r["status"] for r in rows} == {"Overdue"} and rows[0]["case_reference"] == sealed.case.reference
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "commitments.exported")).one()
    assert event.entity_type == "program" and event.detail == {"filters": {"status": "overdue"}}


def test_the_navigation_has_monitoring(as_staff: TestClient, sealed: Sealed) -> None:
    assert '<a href="/monitoring" aria-current="page">Monitoring</a>' in as_staff.get("/monitoring").text
    assert '<a href="/monitoring">Monitoring</a>' in as_staff.get("/cases").text


# --- inline progress -------------------------------------------------------------------------------


def test_the_progress_form_opens_under_the_row_for_htmx(as_staff: TestClient, db: Session, sealed: Sealed) -> None:
    payment = first_payment(sealed)
    fragment = as_staff.get(progress_url(sealed, payment, "/new"), headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    body = fragment.text
    assert body.lstrip().startswith(f'<tbody id="commitment-{payment.id}">')
    assert f'hx-post="{progress_url(sealed, payment)}"' in body
    assert '<option value="payment" selected>Payment received</option>' in body
    assert f'value="{today_for(db, sealed.case).isoformat()}"' in body
    assert "Amount received (EUR)" in body and "Evidence reference" in body
    assert 'name="notify_survivor" value="true" checked' in body
    apology = sealed.of_kind("apology")[0]
    apology_form = as_staff.get(progress_url(sealed, apology, "/new"), headers=HX).text
    assert '<option value="apology_delivered" selected>' in apology_form and 'name="amount"' not in apology_form


def test_without_javascript_the_progress_form_is_a_page_of_its_own(as_staff: TestClient, sealed: Sealed) -> None:
    page = as_staff.get(progress_url(sealed, first_payment(sealed), "/new"))
    assert "<html" in page.text and "Record progress, case" in page.text and "hx-post" not in page.text


def test_recording_a_payment_inline_completes_it_and_returns_the_updated_row(
    as_staff: TestClient, db: Session, sealed: Sealed
) -> None:
    payment = first_payment(sealed)
    response = as_staff.post(progress_url(sealed, payment), data=payment_form(as_staff, sealed), headers=HX)
    assert response.status_code == 200
    body = text(response)
    row = row_of(body, payment)
    assert ">Completed</span>" in row and "200.00 EUR of 200.00 EUR" in row
    assert "Payment received recorded for case" in row
    assert '<div id="monitoring-status" hx-swap-oob="innerHTML">' in body  # the live region's message
    db.refresh(payment)
    assert payment.completed_on is not None and payment.progress_total == 20_000


def test_partial_payment_keeps_the_status_and_adds_up(as_staff: TestClient, sealed: Sealed) -> None:
    payment = first_payment(sealed)
    form = payment_form(as_staff, sealed, amount="50")
    row = row_of(text(as_staff.post(progress_url(sealed, payment), data=form, headers=HX)), payment)
    assert ">Overdue</span>" in row and "50.00 EUR of 200.00 EUR" in row


def test_an_overpayment_is_refused_beside_the_amount_and_nothing_is_saved(
    as_staff: TestClient, db: Session, sealed: Sealed
) -> None:
    payment = first_payment(sealed)
    form = payment_form(as_staff, sealed, amount="250.00")
    response = as_staff.post(progress_url(sealed, payment), data=form, headers=HX)
    assert response.status_code == 200
    body = text(response)
    message = field_error(body, f"field-p{payment.id}-amount")
    assert message.startswith("That is more than is owed") and "At most 200.00 EUR can be recorded." in message
    assert 'value="250.00"' in body and "Receipt 4411" in body  # what was typed stays
    assert db.exec(select(ProgressEntry)).all() == []
    without_js = as_staff.post(progress_url(sealed, payment), data=form)
    assert without_js.status_code == 422 and "That is more than is owed" in text(without_js)


def test_a_malformed_amount_or_date_gets_a_plain_message(as_staff: TestClient, sealed: Sealed) -> None:
    payment = first_payment(sealed)
    form = payment_form(as_staff, sealed, amount="lots", occurred_on="soon")
    body = text(as_staff.post(progress_url(sealed, payment), data=form, headers=HX))
    assert field_error(body, f"field-p{payment.id}-amount") == (
        "Enter the amount done as a number of at most 2 decimals, for example 50 or 12.50."
    )
    assert (
        field_error(body, f"field-p{payment.id}-occurred_on") == "Enter the date it happened, for example 2026-03-31."
    )


def test_without_javascript_recording_progress_redirects_back_to_the_list(as_staff: TestClient, sealed: Sealed) -> None:
    response = as_staff.post(
        progress_url(sealed, first_payment(sealed)), data=payment_form(as_staff, sealed), follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/monitoring?status=overdue"
    other = payment_form(as_staff, sealed, amount="10", next="https://example.org/monitoring")
    response = as_staff.post(progress_url(sealed, sealed.of_kind("payment")[1]), data=other, follow_redirects=False)
    assert response.headers["location"] == "/monitoring"


def test_cancel_closes_the_inline_form(as_staff: TestClient, sealed: Sealed) -> None:
    payment = first_payment(sealed)
    row = as_staff.get(f"/cases/{sealed.case.id}/commitments/{payment.id}/row", headers=HX).text
    assert row.lstrip().startswith(f'<tbody id="commitment-{payment.id}">') and "<form" not in row


# --- a case's compliance page ----------------------------------------------------------------------


def case_url(sealed: Sealed, tail: str = "") -> str:
    return f"/cases/{sealed.case.id}{tail}"


def pay(
    db: Session, by: User, sealed: Sealed, commitment: Commitment, euros: str, *, on: date | None = None
) -> ProgressEntry:
    data = ProgressCreate(
        kind=ProgressKind.payment,
        amount=euros,  # type: ignore[arg-type]
        occurred_on=on or today_for(db, sealed.case),
        evidence_reference="R-1",
    )
    return record_progress(db, actor=actor_for(by), case=sealed.case, commitment=commitment, data=data)


def test_the_case_page_shows_the_state_counts_timeline_and_entries(
    as_staff: TestClient, db: Session, facilitator: User, sealed: Sealed
) -> None:
    payment = first_payment(sealed)
    pay(db, facilitator, sealed, payment, "200", on=payment.due_on)  # on time
    response = as_staff.get(case_url(sealed, "/commitments"))
    assert response.status_code == 200
    body = text(response)
    assert "In monitoring" in body
    assert "<li>Completed: 1</li>" in body and "<li>Overdue: 1</li>" in body
    assert "50% of the commitments due so far were completed on time" in body
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', body, re.S).group(1)  # type: ignore[union-attr]
    order = [
        "Payment 1 of 2: 200.00 EUR due",
        "Payment received, 200.00 EUR: Payment 1 of 2",  # paid on its due date
        "Payment 2 of 2: 100.00 EUR due",
        "40 hours of community service at Harbour Food Bank due",
        "Written apology due",
    ]
    assert [timeline.index(item) for item in order] == sorted(timeline.index(item) for item in order)
    assert "Reference: R-1" in body and "Fran Facilitator" in body
    assert f'href="{case_url(sealed, "/commitments/report.pdf")}"' in body
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "commitments.read")).first() is not None


def test_a_correction_keeps_both_entries_visible(
    as_staff: TestClient, db: Session, facilitator: User, sealed: Sealed
) -> None:
    entry = pay(db, facilitator, sealed, first_payment(sealed), "200")
    form = {"csrf_token": as_staff.csrf_token, "reason": "Typed against the wrong instalment."}  # type: ignore[attr-defined]
    response = as_staff.post(case_url(sealed, f"/progress/{entry.id}/correction"), data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == case_url(sealed, "/commitments")
    body = text(as_staff.get(case_url(sealed, "/commitments")))
    entries = re.search(r'aria-label="Progress on Payment 1 of 2: 200.00 EUR".*?</table>', body, re.S).group(0)  # type: ignore[union-attr]
    assert entries.count('<tr id="entry-') == 2
    assert "Corrected</span> It no longer counts." in entries
    assert "Correction: payment received reversed" in entries and "−200.00 EUR" in entries
    assert "Reason: Typed against the wrong instalment." in entries
    assert "Correct this entry" not in entries  # neither can be corrected again
    db.refresh(first_payment(sealed))
    assert first_payment(sealed).completed_on is None


def test_a_correction_without_a_reason_is_refused_beside_the_field(
    as_staff: TestClient, db: Session, facilitator: User, sealed: Sealed
) -> None:
    entry = pay(db, facilitator, sealed, first_payment(sealed), "200")
    form = {"csrf_token": as_staff.csrf_token, "reason": ""}  # type: ignore[attr-defined]
    response = as_staff.post(case_url(sealed, f"/progress/{entry.id}/correction"), data=form)
    assert response.status_code == 422
    assert field_error(text(response), f"field-correct-{entry.id}-reason") == "Say why the entry was wrong."


def waiver_form(client: TestClient, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": client.csrf_token,  # type: ignore[attr-defined]
        "reason": "The survivor no longer wants the apology.",
        "how": "agreed",
        "consent_method": "in_person",
    } | changes


def test_a_waiver_without_the_survivors_consent_is_refused_with_the_message(
    as_facilitator: TestClient, db: Session, sealed: Sealed
) -> None:
    apology = sealed.of_kind("apology")[0]
    response = as_facilitator.post(
        case_url(sealed, f"/commitments/{apology.id}/waiver"), data=waiver_form(as_facilitator)
    )
    assert response.status_code == 409
    body = text(response)
    assert "A waiver needs the survivor's consent on record." in body
    assert "Confirm that the survivor agreed to waive exactly this commitment." in body
    assert "survivor_consent_missing" in body
    assert db.exec(select(Waiver)).all() == []
    assert '<details class="inline-form" open>' in body  # the form stays open with what was typed
    assert "The survivor no longer wants the apology." in body


def test_a_waiver_needs_a_choice_of_how_the_survivor_consents(as_facilitator: TestClient, sealed: Sealed) -> None:
    apology = sealed.of_kind("apology")[0]
    response = as_facilitator.post(
        case_url(sealed, f"/commitments/{apology.id}/waiver"), data=waiver_form(as_facilitator, how="")
    )
    assert response.status_code == 422
    message = field_error(text(response), f"field-waive-{apology.id}-how")
    assert message == "Choose whether the survivor already agreed, or is to be asked."


def test_a_waiver_with_consent_waives_the_commitment(as_facilitator: TestClient, db: Session, sealed: Sealed) -> None:
    apology = sealed.of_kind("apology")[0]
    form = waiver_form(as_facilitator, survivor_consent_confirmed="true")
    response = as_facilitator.post(case_url(sealed, f"/commitments/{apology.id}/waiver"), data=form)
    assert response.status_code == 200  # followed the redirect
    body = text(response)
    assert "The commitment is waived, with the survivor's consent on record." in body
    assert "The survivor agreed</strong> (In person, recorded by Fran Facilitator" in body
    db.refresh(apology)
    assert apology.waived_at is not None


def test_asking_the_survivor_in_the_portal_leaves_the_commitment_waiting(
    as_facilitator: TestClient, db: Session, sealed: Sealed
) -> None:
    apology = sealed.of_kind("apology")[0]
    form = waiver_form(as_facilitator, how="ask", consent_method="")
    body = text(as_facilitator.post(case_url(sealed, f"/commitments/{apology.id}/waiver"), data=form))
    assert "The survivor is asked in their private page." in body
    assert "Waiting for the survivor's answer in their private page." in body
    db.refresh(apology)
    assert apology.waived_at is None


def test_closing_the_case_shows_the_reason(as_facilitator: TestClient, db: Session, sealed: Sealed) -> None:
    form = {"csrf_token": as_facilitator.csrf_token, "reason": "non_compliance", "note": "No payment after 3 calls."}  # type: ignore[attr-defined]
    response = as_facilitator.post(case_url(sealed, "/closure"), data=form, follow_redirects=False)
    assert response.status_code == 303
    body = text(as_facilitator.get(case_url(sealed, "/commitments")))
    assert "<strong>Closed</strong>: Unresolved: commitments were not met" in body
    assert "No payment after 3 calls." in body
    assert "Close the case</button>" not in body and "Waive this commitment" not in body
    assert db.exec(select(CaseClosure)).one().reason == "non_compliance"


def test_closing_needs_a_reason_from_the_list_and_a_note(as_facilitator: TestClient, sealed: Sealed) -> None:
    form = {"csrf_token": as_facilitator.csrf_token, "reason": "bored", "note": ""}  # type: ignore[attr-defined]
    response = as_facilitator.post(case_url(sealed, "/closure"), data=form)
    assert response.status_code == 422
    body = text(response)
    assert field_error(body, "field-close-reason") == "Choose why the case is closed."
    assert field_error(body, "field-close-note") == "Explain the closure in a note."


# --- who may see and do what -----------------------------------------------------------------------


def test_staff_record_progress_but_cannot_waive_or_close(as_staff: TestClient, db: Session, sealed: Sealed) -> None:
    apology = sealed.of_kind("apology")[0]
    body = text(as_staff.get(case_url(sealed, "/commitments")))
    assert "Waive this commitment" not in body and "Close the case" not in body
    form = waiver_form(as_staff, survivor_consent_confirmed="true")
    assert as_staff.post(case_url(sealed, f"/commitments/{apology.id}/waiver"), data=form).status_code == 403
    closure = {"csrf_token": as_staff.csrf_token, "reason": "other", "note": "x"}  # type: ignore[attr-defined]
    assert as_staff.post(case_url(sealed, "/closure"), data=closure).status_code == 403
    assert db.exec(select(Waiver)).all() == [] and db.exec(select(CaseClosure)).all() == []
    recorded = as_staff.post(progress_url(sealed, first_payment(sealed)), data=payment_form(as_staff, sealed))
    assert recorded.status_code == 200 and "Payment received recorded" in text(recorded)


def test_a_facilitator_of_another_case_gets_not_found(as_facilitator2: TestClient, db: Session, sealed: Sealed) -> None:
    payment = first_payment(sealed)
    for url in (
        case_url(sealed, "/commitments"),
        progress_url(sealed, payment, "/new"),
        case_url(sealed, "/commitments/report.pdf"),
    ):
        assert as_facilitator2.get(url).status_code == 404, url
    assert (
        as_facilitator2.post(progress_url(sealed, payment), data=payment_form(as_facilitator2, sealed)).status_code
        == 404
    )
    assert db.exec(select(ProgressEntry)).all() == []


def test_another_programs_administrator_gets_not_found(as_other_admin: TestClient, db: Session, sealed: Sealed) -> None:
    payment = first_payment(sealed)
    assert as_other_admin.get(case_url(sealed, "/commitments")).status_code == 404
    assert as_other_admin.get(progress_url(sealed, payment, "/new")).status_code == 404
    form = payment_form(as_other_admin, sealed)
    assert as_other_admin.post(progress_url(sealed, payment), data=form).status_code == 404
    assert "0 commitments found." in text(as_other_admin.get("/monitoring"))
    assert "Payment 1 of 2" not in as_other_admin.get("/monitoring/commitments.csv").text


def test_a_commitment_of_another_case_is_not_found_under_this_case(
    as_facilitator: TestClient, db: Session, facilitator: User, sealed: Sealed
) -> None:
    other = sealed_case(db, facilitator, terms=overdue_terms)
    url = f"/cases/{sealed.case.id}/commitments/{first_payment(other).id}/progress/new"
    assert as_facilitator.get(url).status_code == 404


# --- links from the case and the agreement, and the report -----------------------------------------


def test_the_case_page_links_to_its_commitments(as_staff: TestClient, sealed: Sealed) -> None:
    assert f'href="/cases/{sealed.case.id}/commitments"' in as_staff.get(case_url(sealed)).text


def test_the_sealed_agreement_has_a_follow_up_section(as_staff: TestClient, sealed: Sealed) -> None:
    body = text(as_staff.get(case_url(sealed, "/agreement")))
    section = re.search(r'<section aria-labelledby="followup-title">(.*?)</section>', body, re.S).group(1)  # type: ignore[union-attr]
    assert "The follow-up report is a section of the signed agreement's record" in section
    assert "<li>Overdue: 2</li>" in section and "<li>Due soon: 1</li>" in section
    assert f'href="/cases/{sealed.case.id}/commitments"' in section
    assert f'href="/cases/{sealed.case.id}/commitments/report.pdf"' in section


def test_the_follow_up_report_downloads_as_an_attachment_that_is_not_cached(
    as_staff: TestClient, db: Session, sealed: Sealed, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = []
    report = types.ModuleType("app.agreements.followup_pdf")
    report.render_followup_pdf = lambda session, *, actor, case, language="en": (
        asked.append(case.id) or b"%PDF-1.7 follow-up"
    )  # type: ignore[attr-defined]
    report.followup_filename = lambda case, language="en": f"follow-up-{case.reference}.pdf"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.agreements.followup_pdf", report)
    response = as_staff.get(case_url(sealed, "/commitments/report.pdf"))
    assert response.status_code == 200 and response.content == b"%PDF-1.7 follow-up"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="follow-up-{sealed.case.reference}.pdf"'
    assert response.headers["cache-control"] == "no-store"
    assert asked == [sealed.case.id]
    assert db.exec(select(AuditEvent).where(col(AuditEvent.action) == "commitments.report.read")).first() is not None
