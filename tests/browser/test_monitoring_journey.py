"""Monitoring, end to end in a real browser: a member of the program staff signs in and lands on the
dashboard, filters the overdue commitments (the list updates in place), records a payment under its row
(first too much, refused beside the amount, then the right amount), sees the status change to Completed
and the "At a glance" figures follow without a reload, downloads the filtered list as CSV, and opens the
case's compliance page. On a 390 px phone the commitments are cards: nothing scrolls sideways and Status
and "Record progress" are on screen. Every page visited gets an axe-core scan.

The data is written through the services, in the scratch database, before the server starts: a case whose
agreement was sealed with two instalments already overdue, service hours due soon and an apology later.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.browser.conftest import MendServer, Watch, run_mend
from tests.browser.test_foundation_journey import assert_no_horizontal_page_scroll, h1
from tests.conftest import TEST_DATABASE_URL
from tests.factories import PASSWORD, make_program, make_user
from tests.support import scratch_database

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips (or, with MEND_REQUIRE_BROWSER=1, fails) every browser test
    expect = None  # type: ignore[assignment]

Browse = Callable[..., Watch]
STAFF_EMAIL = "sky.monitoring@example.org"


@dataclass(frozen=True)
class Monitored:
    server: MendServer
    case_id: int
    reference: str


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitored]:
    """Mend with a program's staff member and a facilitator's case in monitoring, two payments overdue."""
    from app.auth.models import UserRole
    from app.db import make_engine
    from tests.agreements.monitoring_support import sealed_case
    from tests.agreements.test_commitment_views import overdue_terms

    with scratch_database(TEST_DATABASE_URL, tmp_path_factory.mktemp("monitoring-db")) as url:
        engine = make_engine(url)
        with Session(engine) as session:
            program = make_program(session, "Harbour Restorative Program", timezone="Europe/Madrid")
            make_user(session, program, UserRole.staff, "Sky Staff", email=STAFF_EMAIL, password=PASSWORD)
            fran = make_user(session, program, UserRole.facilitator, "Fran Facilitator", email="fran.m@example.org")
            sealed = sealed_case(session, fran, terms=overdue_terms)
            session.commit()
            case_id, reference = sealed.case.id, sealed.case.reference
        engine.dispose()
        with run_mend(url, expect_setup_link=False) as server:
            yield Monitored(server, case_id, reference)  # type: ignore[arg-type]


def sign_in_as_staff(watch: Watch) -> None:
    """Sign in through the form as the program's staff member, landing on Monitoring (their home)."""
    page = watch.page
    watch.goto("/login")
    watch.scan()
    page.get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{watch.server.base_url}/monitoring")
    expect(h1(watch)).to_have_text("Monitoring")


@pytest.mark.browser
def test_staff_filter_overdue_record_a_payment_inline_and_export_the_list(
    monitored: Monitored, browse: Browse, tmp_path: Path
) -> None:
    desk = browse(monitored.server)
    page = desk.page
    sign_in_as_staff(desk)
    figures = page.locator("dl.figures")
    expect(figures).to_contain_text("Overdue2")
    expect(figures).to_contain_text("Completed this month0")
    expect(figures).to_contain_text("0 of 2 due were completed on time.")
    chart = page.get_by_role("img", name="Compliance rate by month")
    expect(chart).to_be_visible()
    page.get_by_text("Compliance rate by month: the figures as a table").click()
    expect(page.locator("#table-compliance tbody tr")).to_have_count(12)
    desk.scan()

    # Filter the overdue commitments: the list updates in place and the address follows.
    page.evaluate("() => { window.__sameDocument = true; }")  # gone if the page reloads
    page.get_by_label("Status").select_option(label="Overdue")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"/monitoring\?status=overdue$"))
    status = page.locator("#monitoring-status")
    expect(status).to_have_text("2 commitments found.")
    rows = page.locator("table.commitment-table > tbody")
    expect(rows).to_have_count(2)
    assert page.evaluate("() => window.__sameDocument === true"), "the filter reloaded the whole page"
    desk.scan()

    # Record a payment under its row: too much first, refused beside the amount; then the right amount.
    row = page.locator("tbody", has_text="Payment 1 of 2: 200.00 EUR")
    expect(row.locator("td.commitment-status .badge")).to_have_text("Overdue")
    row.get_by_role("link", name=re.compile(r"^Record progress")).click()
    amount = row.get_by_label("Amount received (EUR)")
    expect(amount).to_be_visible()
    expect(row.get_by_label("What happened")).to_have_value("payment")
    desk.scan()
    amount.fill("250.00")
    row.get_by_label("Evidence reference (optional)").fill("Bank transfer 8812")
    row.get_by_role("button", name="Record progress", exact=True).click()
    expect(row.locator(".field-error")).to_contain_text("That is more than is owed")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_be_focused()
    desk.scan()
    amount.fill("200.00")
    row.get_by_role("button", name="Record progress", exact=True).click()
    expect(row.locator("td.commitment-status .badge")).to_have_text("Completed")
    expect(figures).to_contain_text("Overdue1")  # the figures followed the row, without a reload
    expect(figures).to_contain_text("Completed this month1")
    expect(row).to_contain_text("200.00 EUR of 200.00 EUR")
    expect(status).to_contain_text("Payment received recorded for case")
    expect(status).to_contain_text("Status now: Completed.")
    expect(row.locator("form")).to_have_count(0)
    assert page.evaluate("() => window.__sameDocument === true"), "recording progress reloaded the page"
    desk.scan()

    # The CSV of the filtered list: only what is still overdue.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these commitments (CSV)").click()
    assert re.fullmatch(r"commitments-\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    exported = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [(r["case_reference"], r["commitment"], r["status"]) for r in exported] == [
        (monitored.reference, "Payment 2 of 2: 100.00 EUR", "Overdue")
    ]

    # The case's compliance page shows the payment and its evidence.
    page.get_by_role("link", name=monitored.reference).first.click()
    expect(h1(desk)).to_have_text(f"Follow-up of the agreement, case {monitored.reference}")
    expect(page.locator("main")).to_contain_text("Reference: Bank transfer 8812")
    desk.scan()


@pytest.mark.browser
def test_on_a_phone_each_commitment_is_a_card_with_its_status_and_action_on_screen(
    monitored: Monitored, browse: Browse
) -> None:
    phone = browse(monitored.server, viewport={"width": 390, "height": 844})
    page = phone.page
    sign_in_as_staff(phone)
    assert_no_horizontal_page_scroll(phone)
    row = page.locator("tbody", has_text="Payment 2 of 2: 100.00 EUR")
    for part in (
        row.locator("td.commitment-status .badge"),
        row.get_by_role("link", name=re.compile(r"^Record progress")),
    ):
        expect(part).to_be_visible()
        box = part.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, f"off screen at 390 px: {box}"
    wrap = page.locator(".table-wrap", has=page.locator("table.commitment-table"))
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), "the commitment list scrolls sideways"
    phone.scan()

    # The inline form opens inside the card and still fits.
    row.get_by_role("link", name=re.compile(r"^Record progress")).click()
    expect(row.get_by_label("Amount received (EUR)")).to_be_visible()
    assert_no_horizontal_page_scroll(phone)
    phone.scan()
