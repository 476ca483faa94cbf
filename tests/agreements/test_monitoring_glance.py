"""Monitoring that reads at a glance: the figures follow an inline save, a paused case says so, a date range
that runs backwards is pointed out beside the field, and the compliance charts show the program's months."""

import html
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import User
from tests.agreements.monitoring_support import Sealed, sealed_case, stub_pdf
from tests.agreements.test_commitment_views import (
    HX,
    HX_LIST,
    field_error,
    figure,
    first_payment,
    overdue_terms,
    payment_form,
    program_today,
    progress_url,
    text,
)


@pytest.fixture(autouse=True)
def _stub_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_pdf(monkeypatch)


@pytest.fixture
def sealed(db: Session, facilitator: User) -> Sealed:
    return sealed_case(db, facilitator, terms=overdue_terms)


# --- the figures follow an inline save ---------------------------------------------------------------


def test_an_inline_progress_save_sends_the_updated_figures_out_of_band(as_staff: TestClient, sealed: Sealed) -> None:
    before = text(as_staff.get("/monitoring"))
    assert figure(before, "Overdue") == "2" and figure(before, "Completed this month") == "0"
    response = as_staff.post(
        progress_url(sealed, first_payment(sealed)),
        data=payment_form(as_staff, sealed),
        headers=HX | {"HX-Current-URL": "http://testserver/monitoring?status=overdue"},
    )
    assert response.status_code == 200
    body = text(response)
    oob = re.search(r'<dl class="figures" id="figures" hx-swap-oob="true">(.*?)</dl>', body, re.S)
    assert oob, "the saved row came without the figures"
    figures = oob.group(0)
    assert figure(figures, "Overdue") == "1"
    assert figure(figures, "Completed this month") == "1"
    after = text(as_staff.get("/monitoring"))
    assert figure(after, "Overdue") == "1"  # the same numbers a reload shows


def test_an_inline_save_on_a_case_page_sends_no_dashboard_figures(as_staff: TestClient, sealed: Sealed) -> None:
    page = f"http://testserver/cases/{sealed.case.id}/commitments"
    response = as_staff.post(
        progress_url(sealed, first_payment(sealed)),
        data=payment_form(as_staff, sealed),
        headers=HX | {"HX-Current-URL": page},
    )
    assert response.status_code == 200 and 'id="figures"' not in response.text


def test_without_javascript_the_save_still_redirects_back_to_the_list(as_staff: TestClient, sealed: Sealed) -> None:
    response = as_staff.post(
        progress_url(sealed, first_payment(sealed)), data=payment_form(as_staff, sealed), follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/monitoring?status=overdue"


# --- a date range that runs backwards ------------------------------------------------------------------


def test_a_from_date_after_the_until_date_is_a_message_beside_the_field_not_zero_results(
    as_staff: TestClient, sealed: Sealed
) -> None:
    today = date.today()
    response = as_staff.get(f"/monitoring?due_from={today}&due_to={today - timedelta(days=10)}")
    assert response.status_code == 422
    body = text(response)
    message = "The 'Due until' date must be the same as or after the 'Due from' date."
    assert field_error(body, "field-due_to") == message
    summary = re.search(r'<div class="error-summary".*?</div>', body, re.S)
    assert summary and f'<a href="#field-due_to">{message}</a>' in summary.group(0)
    assert "0 commitments found." not in body


def test_the_backwards_range_message_is_in_spanish_for_a_spanish_browser(as_staff: TestClient, sealed: Sealed) -> None:
    today = date.today()
    response = as_staff.get(
        f"/monitoring?due_from={today}&due_to={today - timedelta(days=1)}", headers={"Accept-Language": "es"}
    )
    body = html.unescape(response.text)
    match = re.search(r'id="field-due_to-error"><span class="field-error-prefix">[^<]*</span> ([^<]*)<', body)
    assert match and match.group(1) == "La fecha «Vence hasta» debe ser igual o posterior a la fecha «Vence desde»."


def test_htmx_gets_the_backwards_range_message_in_the_list_fragment(as_staff: TestClient, sealed: Sealed) -> None:
    today = date.today()
    fragment = as_staff.get(f"/monitoring?due_from={today}&due_to={today - timedelta(days=1)}", headers=HX_LIST)
    assert fragment.status_code == 200
    assert field_error(text(fragment), "field-due_to").startswith("The 'Due until' date")


def test_the_api_refuses_a_backwards_range_naming_the_field(as_staff: TestClient, sealed: Sealed) -> None:
    today = date.today()
    response = as_staff.get(f"/api/v1/commitments?due_from={today}&due_to={today - timedelta(days=1)}")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["due_to"]


# --- a paused case says so ---------------------------------------------------------------------------


def test_a_paused_case_is_flagged_in_words_on_its_commitments(
    as_staff: TestClient, db: Session, sealed: Sealed, facilitator: User
) -> None:
    from app.auth.service import actor_for
    from app.safety.service import raise_concern

    other = sealed_case(db, facilitator, terms=overdue_terms)
    assert "Case paused" not in text(as_staff.get("/monitoring"))
    raise_concern(db, actor=actor_for(facilitator), case=sealed.case, description="Threat reported", urgent=True)
    body = text(as_staff.get("/monitoring"))
    paused_row = re.search(rf'<tbody id="commitment-{first_payment(sealed).id}".*?</tbody>', body, re.S)
    calm_row = re.search(rf'<tbody id="commitment-{first_payment(other).id}".*?</tbody>', body, re.S)
    assert paused_row and '<span class="badge badge-paused">Case paused</span>' in paused_row.group(0)
    assert calm_row and "Case paused" not in calm_row.group(0)
    # the row sent back after an inline save keeps the flag
    fragment = text(
        as_staff.post(progress_url(sealed, first_payment(sealed)), data=payment_form(as_staff, sealed), headers=HX)
    )
    assert "Case paused" in fragment


# --- compliance over time --------------------------------------------------------------------------


def _last_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def four_instalments_last_month(held):  # type: ignore[no-untyped-def]
    """Four payments of 100 EUR due on the 1st to the 4th of last month (the program's calendar)."""
    from app.agreements.terms import Instalment, RestitutionTerm

    start = _last_month(program_today())
    return [
        RestitutionTerm(
            owed_by=held.responsible.id,
            currency="EUR",
            amount_cents=40_000,
            instalments=[Instalment(due_date=start + timedelta(days=i), amount_cents=10_000) for i in range(4)],
        )
    ]


@pytest.fixture
def half_on_time(db: Session, facilitator: User) -> Sealed:
    """Last month: 4 instalments due, 2 paid on their due date, 1 paid late (today), 1 not paid."""
    from app.agreements.commitment_schemas import ProgressCreate
    from app.agreements.commitment_service import record_progress
    from app.auth.service import actor_for

    sealed = sealed_case(db, facilitator, terms=four_instalments_last_month)
    payments = sorted(sealed.of_kind("payment"), key=lambda c: c.due_on)
    for commitment, on in ((payments[0], payments[0].due_on), (payments[1], payments[1].due_on)):
        data = ProgressCreate(kind="payment", amount="100.00", occurred_on=on, notify_survivor=False)
        record_progress(db, actor=actor_for(facilitator), case=sealed.case, commitment=commitment, data=data)
    data = ProgressCreate(kind="payment", amount="100.00", occurred_on=program_today(), notify_survivor=False)
    record_progress(db, actor=actor_for(facilitator), case=sealed.case, commitment=payments[2], data=data)
    return sealed


def _table_rows(body: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', body, re.S)
    assert table, f"no table {table_id}"
    return [
        [html.unescape(cell) for cell in re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1).split("<tbody>")[1], re.S)
    ]


def test_the_compliance_chart_shows_last_month_at_fifty_percent_with_its_table(
    as_staff: TestClient, half_on_time: Sealed
) -> None:
    from app.i18n import month_name

    body = as_staff.get("/monitoring").text
    svg = re.search(
        r'<svg class="chart-svg"[^>]*aria-labelledby="chart-compliance-title chart-compliance-desc"[^>]*>', body
    )
    assert svg and 'role="img"' in svg.group(0)
    assert '<title id="chart-compliance-title">Compliance rate by month</title>' in body
    assert "style=" not in body.split('<section aria-labelledby="trends-title"')[1].split("</section>")[0]
    rows = _table_rows(body, "table-compliance")
    assert len(rows) == 12
    last_month = month_name(_last_month(program_today()), language="en")
    assert rows[-2] == [last_month, "4", "2", "50%"]
    assert 'class="chart-value"' in body and ">50%</text>" in body  # the bar's label says it too
    money = _table_rows(body, "table-money-0")
    assert money[-2] == [last_month, "€400.00", "€200.00"]
    assert money[-1][2] == "€100.00"  # the late payment, received this month
    assert "of the commitments due in a month whose due date has passed" in html.unescape(body)


def test_the_charts_speak_spanish_for_a_spanish_browser(as_staff: TestClient, half_on_time: Sealed) -> None:
    from app.i18n import month_name

    body = as_staff.get("/monitoring", headers={"Accept-Language": "es"}).text
    rows = _table_rows(body, "table-compliance")
    assert rows[-2] == [
        month_name(_last_month(program_today()), language="es"),
        "4",
        "2",
        "50\xa0%",
    ]  # a no-break space, as Spanish writes it
    assert "Tasa de cumplimiento por mes" in html.unescape(body)


def test_the_api_gives_the_same_figures_as_the_page(as_staff: TestClient, half_on_time: Sealed) -> None:
    from app.i18n import percent

    api = as_staff.get("/api/v1/monitoring/trends").json()
    assert len(api["months"]) == 12
    last = api["months"][-2]
    assert last["month"] == _last_month(program_today()).strftime("%Y-%m")
    assert (last["due"], last["completed_on_time"], last["compliance_rate"]) == (4, 2, 0.5)
    assert last["money"] == [{"currency": "EUR", "due": 40_000, "received": 20_000}]
    page_rows = _table_rows(as_staff.get("/monitoring").text, "table-compliance")
    for month, row in zip(api["months"], page_rows, strict=True):
        rate = "–" if month["compliance_rate"] is None else percent(month["compliance_rate"], language="en")
        assert row[1:] == [str(month["due"]), str(month["completed_on_time"]), rate]


def test_the_trends_endpoint_is_in_the_openapi(as_staff: TestClient) -> None:
    spec = as_staff.get("/api/v1/openapi.json").json()
    assert "/api/v1/monitoring/trends" in spec["paths"]
    assert "MonitoringTrends" in spec["components"]["schemas"]
