"""The readiness screening page in a real browser: "Check the suggested outcome first" lands on the
suggestion it produced, far down a long page, and moves the focus there."""

import re
from collections.abc import Callable

import pytest

from tests.browser.conftest import SeededProgram, Watch
from tests.browser.test_foundation_journey import h1, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips (or, with MEND_REQUIRE_BROWSER=1, fails) every browser test
    expect = None  # type: ignore[assignment]

Browse = Callable[..., Watch]


@pytest.mark.browser
def test_checking_the_suggested_outcome_lands_on_it_with_the_focus(seeded: SeededProgram, browse: Browse) -> None:
    watch = browse(seeded.server, viewport={"width": 1280, "height": 800})
    page = watch.page
    sign_in(watch, seeded.facilitator_email, seeded.password)
    watch.goto(f"/cases/{seeded.case_id}")
    watch.scan()
    page.get_by_role("link", name="Screening of Rosa Martínez-Ocampo").click()
    expect(h1(watch)).to_have_text("Readiness screening of Rosa Martínez-Ocampo")
    watch.scan()

    debt = page.get_by_role("group", name=re.compile(r"^Does anyone say that you still owe them money"))
    debt.get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Check the suggested outcome first").click()
    suggestion = page.locator("#suggested-outcome")
    expect(page).to_have_url(re.compile(r"/participants/\d+/screening#suggested-outcome$"))
    expect(suggestion).to_contain_text("The rules suggest: Not yet")
    expect(suggestion).to_be_focused()
    expect(suggestion).to_be_in_viewport()
    assert page.evaluate("() => window.scrollY") > 2000, "the page did not move down to the suggestion"
    watch.scan()
