"""Safety, consent and contact pages in a real browser: the live risk level (HTMX) while boxes are
ticked, saving an assessment that pauses the case, and an axe-core scan of every page."""

from collections.abc import Callable

import pytest

from tests.browser.conftest import SeededProgram, Watch
from tests.browser.test_foundation_journey import assert_no_horizontal_page_scroll, h1, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips (or, with MEND_REQUIRE_BROWSER=1, fails) every browser test
    expect = None  # type: ignore[assignment]

Browse = Callable[..., Watch]


@pytest.mark.browser
def test_the_risk_level_updates_as_boxes_are_ticked_and_every_safety_page_passes_axe(
    seeded: SeededProgram, browse: Browse
) -> None:
    watch = browse(seeded.server)
    page = watch.page
    sign_in(watch, seeded.facilitator_email, seeded.password)
    base = f"/cases/{seeded.case_id}"

    watch.goto(f"{base}/safety")
    expect(h1(watch)).to_have_text(f"Safety of case {seeded.reference}")
    watch.scan()
    level = page.locator("#risk-level")
    expect(level).to_contain_text("Low")
    page.get_by_label("Threats to the survivor in the last 3 months").check()
    page.get_by_label("Threats to the survivor's family, here or abroad").check()
    expect(level).to_contain_text("High")
    page.get_by_label("Credible threat of imminent harm").check()
    expect(level).to_contain_text("pauses the case")
    watch.scan()
    page.get_by_role("button", name="Save assessment").click()
    expect(page.locator("main")).to_contain_text("This case is paused")
    watch.scan()

    for path, heading in (
        (f"{base}/safety/plan", "Safety plan"),
        (f"{base}/consent", f"Informed consent for case {seeded.reference}"),
        (f"{base}/information-sheet?lang=es", "Reunión para reparar el daño: lo que necesita saber"),
    ):
        watch.goto(path)
        expect(h1(watch)).to_have_text(heading)
        watch.scan()
    watch.goto(f"{base}/consent")
    watch.scan()
    page.get_by_label("Person", exact=True).select_option(label="Rosa Martínez-Ocampo")
    page.get_by_label("Consent to").select_option(label="Taking part in preparation meetings")
    page.get_by_label("Language of the sheet shown").select_option(label="Spanish")
    page.get_by_role("radio", name="In person").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator("main")).to_contain_text("Consent recorded")
    watch.scan()
    page.get_by_role(
        "button", name="Withdraw consent: taking part in preparation meetings, Rosa Martínez-Ocampo"
    ).click()
    expect(page.locator("main")).to_contain_text("withdrew consent")
    watch.scan()

    watch.goto(base)
    watch.scan()
    page.get_by_role("link", name="Contact preferences of Rosa Martínez-Ocampo").click()
    expect(h1(watch)).to_contain_text("Safe contact")
    watch.scan()
    page.get_by_role("button", name="Save contact preferences").click()
    watch.scan()
    page.get_by_role("radio", name="Email").check()
    page.get_by_role("button", name="Save contact preferences").click()
    expect(page.locator("#field-email-error")).to_be_visible()
    watch.scan()
    watch.assert_clean()


@pytest.mark.browser
def test_safety_and_consent_pages_fit_a_phone_screen(seeded: SeededProgram, browse: Browse) -> None:
    watch = browse(seeded.server, viewport={"width": 375, "height": 667})
    sign_in(watch, seeded.facilitator_email, seeded.password)
    base = f"/cases/{seeded.case_id}"
    for path in (f"{base}/safety", f"{base}/safety/plan", f"{base}/consent", f"{base}/information-sheet"):
        watch.goto(path)
        watch.scan()
        assert_no_horizontal_page_scroll(watch)
    watch.assert_clean()
