"""The foundation, in a real browser: the first-admin setup link, creating a facilitator, signing
in as them, opening a case with two participants; keyboard use, a phone-sized screen, form
errors and the HTMX case filter. Every page visited gets an axe-core scan with no violations,
and no test may see a console error, a CSP violation or a request leaving 127.0.0.1."""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import MendServer, SeededProgram, Watch

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips (or, with MEND_REQUIRE_BROWSER=1, fails) every browser test
    expect = None  # type: ignore[assignment]
if TYPE_CHECKING:
    from playwright.sync_api import Locator

Browse = Callable[..., Watch]

ADMIN_PASSWORD = "quiet harbour lantern 42"  # noqa: S105 (test accounts)
FACILITATOR_PASSWORD = "copper willow thistle river"  # noqa: S105


def h1(watch: Watch) -> "Locator":
    return watch.page.get_by_role("heading", level=1)


def flash(watch: Watch) -> "Locator":
    """The one-time message shown after a redirect."""
    return watch.page.locator("main > p.notice-success[role=status]")


def invitation_path(server: MendServer, email: str) -> str:
    """The link in the invitation e-mail Mend queued for `email` (read from the server's outbox)."""
    from sqlmodel import Session, select

    from app.db import make_engine
    from app.notifications.models import Notification

    engine = make_engine(server.database_url)
    try:
        with Session(engine) as session:
            message = session.exec(select(Notification).where(Notification.recipient_email == email)).one()
    finally:
        engine.dispose()
    match = re.search(r"/invite/\S+", message.body)
    assert match, message.body
    return match.group(0)


def sign_in(watch: Watch, email: str, password: str) -> None:
    """Sign in through the form (pointer and typing), landing on the case list."""
    page = watch.page
    watch.goto("/login")
    expect(h1(watch)).to_have_text("Sign in to Mend")
    watch.scan()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{watch.server.base_url}/cases")
    expect(h1(watch)).to_have_text("Cases")
    watch.scan()


def assert_no_horizontal_page_scroll(watch: Watch) -> None:
    widths = watch.page.evaluate("() => ({scroll: document.scrollingElement.scrollWidth, viewport: window.innerWidth})")
    culprits = watch.page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.table-wrap'))
            .slice(0, 5)
            .map(el => `${el.tagName.toLowerCase()}.${el.className}: ${(el.textContent || '').trim().slice(0, 40)}`)"""
    )
    assert widths["scroll"] <= widths["viewport"], (
        f"{watch.page.url} scrolls sideways at {widths['viewport']}px: the page is {widths['scroll']}px wide; "
        f"too wide: {culprits}"
    )


@pytest.mark.browser
def test_first_admin_sets_up_mend_then_a_facilitator_opens_a_case_with_two_participants(
    fresh_server: MendServer, browse: Browse
) -> None:
    watch = browse(fresh_server)
    page = watch.page
    base = fresh_server.base_url
    main_nav = page.get_by_role("navigation", name="Main")
    assert fresh_server.setup_url and fresh_server.setup_url.startswith(f"{base}/setup/")

    # 1. The one-time setup link: name the program and create the first administrator.
    response = watch.goto(fresh_server.setup_url)
    assert response is not None and response.status == 200
    expect(h1(watch)).to_have_text("Set up Mend")
    watch.scan()
    page.get_by_label("Program name").fill("Harbour Restorative Program")
    page.get_by_label("Time zone").select_option("Europe/Madrid")
    page.get_by_label("Full name").fill("Ada Admin")
    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Create program and account").click()

    expect(page).to_have_url(f"{base}/admin/users")
    expect(h1(watch)).to_have_text("Users")
    expect(flash(watch)).to_have_text("Welcome, Ada Admin. Your program is ready.")
    expect(page.get_by_role("banner")).to_contain_text("Signed in as Ada Admin")
    expect(main_nav.get_by_role("link", name="Users")).to_have_attribute("aria-current", "page")
    accounts = page.get_by_role("table", name="Accounts in this program")
    expect(accounts.locator("tbody tr")).to_have_count(1)
    expect(accounts.locator("tbody tr").first.locator("td")).to_have_text(
        ["Ada Admin", "ada@example.org", "Admin", "Active"]
    )
    watch.scan()

    response = watch.goto(fresh_server.setup_url)
    assert response is not None and response.status == 404
    expect(h1(watch)).to_have_text("This setup link no longer works")
    expect(page.get_by_label("Program name")).to_have_count(0)
    watch.scan()

    # 2. The administrator invites a facilitator and signs out.
    page.get_by_role("link", name="Go to the start page").click()
    expect(page).to_have_url(f"{base}/cases")  # the start page of a signed-in user
    expect(h1(watch)).to_have_text("Cases")
    watch.scan()
    main_nav.get_by_role("link", name="Users").click()
    expect(page).to_have_url(f"{base}/admin/users")
    expect(h1(watch)).to_have_text("Users")
    watch.scan()
    page.get_by_role("link", name="Invite a user").click()
    expect(page).to_have_url(f"{base}/admin/users/new")
    expect(h1(watch)).to_have_text("Invite a user")
    watch.scan()
    page.get_by_label("Full name").fill("Fran Facilitator")
    page.get_by_label("Email address").fill("fran@example.org")
    page.get_by_label("Role").select_option("facilitator")
    expect(page.get_by_label("Language of the invitation e-mail")).to_have_value("en")
    page.get_by_role("button", name="Send invitation").click()

    expect(page).to_have_url(f"{base}/admin/users")
    expect(flash(watch)).to_have_text("Invitation sent to fran@example.org. The link in it works for 7 days.")
    waiting = page.get_by_role("table", name="Invitations waiting for an answer")
    expect(waiting.locator("tbody tr").locator("td").first).to_have_text("Fran Facilitator")
    expect(waiting.get_by_role("button", name="Cancel invitation for Fran Facilitator")).to_be_visible()
    watch.scan()

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(f"{base}/login")
    expect(flash(watch)).to_have_text("You are signed out.")
    expect(main_nav).to_have_count(0)
    watch.scan()

    # 3. The facilitator follows the e-mailed link, chooses a password, and signs in with it later.
    watch.goto(invitation_path(fresh_server, "fran@example.org"))
    expect(h1(watch)).to_have_text("Choose your password")
    expect(page.locator("main")).to_contain_text("Harbour Restorative Program")
    watch.scan()
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.locator("#field-password-error")).to_be_visible()
    watch.scan()
    page.get_by_label("Password", exact=True).fill(FACILITATOR_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(f"{base}/cases")
    expect(flash(watch)).to_have_text("Welcome, Fran Facilitator. Your account is ready.")
    watch.scan()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(f"{base}/login")
    watch.scan()

    # 4. The facilitator signs in and opens a case.
    page.get_by_label("Email address").fill("fran@example.org")
    page.get_by_label("Password", exact=True).fill(FACILITATOR_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{base}/cases")
    expect(h1(watch)).to_have_text("Cases")
    expect(page.get_by_role("banner")).to_contain_text("Signed in as Fran Facilitator")
    expect(main_nav.get_by_role("link", name="Users")).to_have_count(0)  # not an administrator
    expect(page.locator("#case-results")).to_contain_text("0 cases found.")
    watch.scan()

    page.get_by_role("link", name="Open a case").click()
    expect(page).to_have_url(f"{base}/cases/new")
    expect(h1(watch)).to_have_text("Open a case")
    watch.scan()
    expect(page.get_by_label("Reference number")).to_have_value("")
    expect(page.get_by_role("checkbox", name="Fran Facilitator")).to_be_checked()
    page.get_by_label("Harm type").select_option(label="Trafficking for labour exploitation")
    page.get_by_label("Referred by").select_option(label="Victim services")
    page.get_by_role("button", name="Open case").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/cases/\d+$"))
    case_url = page.url
    expect(h1(watch)).to_have_text(re.compile(r"^Case \d{4}-\d{4}$"))  # numbered by Mend
    reference = h1(watch).inner_text().removeprefix("Case ")
    expect(flash(watch)).to_have_text(f"Case {reference} is open.")
    journey = page.get_by_role("region", name="Journey")
    expect(journey.locator("ul.blockers a")).to_have_text(
        ["Add the survivor as a participant.", "Add the responsible party as a participant."]
    )
    expect(page.get_by_role("region", name="Participants")).to_contain_text("No participants yet.")
    watch.scan()

    # The survivor, through the blocker's own link; the responsible party through the button.
    journey.get_by_role("link", name="Add the survivor as a participant.").click()
    _add_participant(watch, case_url, role="Survivor", name="Rosa Martínez", language="Spanish", interpreter=True)
    page.get_by_role("link", name="Add a participant", exact=True).click()
    _add_participant(watch, case_url, role="Responsible party", name="Dan Novak", language="English", interpreter=False)

    # The case page: preparation in progress; gate G1 lists every unmet condition with its code.
    expect(h1(watch)).to_have_text(f"Case {reference}")
    expect(journey).to_contain_text("Stage: Preparation")
    current = journey.locator("li[aria-current=step]")
    expect(current).to_have_count(1)
    expect(current.locator("span")).to_have_text(["Preparation", "In progress"])
    expect(journey.locator("li.journey-step").filter(has_text="Ready to schedule")).to_contain_text("Blocked")
    codes = journey.locator("ul.blockers > li").evaluate_all("items => items.map(li => li.dataset.code)")
    assert codes == [
        "screening_missing",
        "screening_missing",
        "acknowledgement_missing",
        "safety_assessment_missing",
        "consent_missing",
        "consent_missing",
        "interpreter_missing",
    ]
    # The page shows the sentence and its link; the code stays in the markup (and the API's problems).
    expect(journey.locator("ul.blockers > li").first).to_have_text("Record a readiness screening for the survivor.")
    expect(journey.locator("ul.blockers code")).to_have_count(0)
    participants = page.get_by_role("table", name="Participants in this case")
    expect(participants.locator("tbody tr")).to_have_count(2)
    expect(participants.locator("tbody tr").filter(has_text="Rosa Martínez").locator("td")).to_have_text(
        ["Rosa Martínez", "Survivor", "Spanish", "Needed", "None recorded", re.compile("Screening")]
    )
    expect(participants.locator("tbody tr").filter(has_text="Dan Novak").locator("td")).to_have_text(
        ["Dan Novak", "Responsible party", "English", "No", "None recorded", re.compile("Acknowledgement")]
    )
    watch.assert_clean()


def _add_participant(watch: Watch, case_url: str, *, role: str, name: str, language: str, interpreter: bool) -> None:
    page = watch.page
    expect(page).to_have_url(f"{case_url}/participants/new")
    expect(h1(watch)).to_have_text("Add a participant")
    watch.scan()
    page.get_by_label("Role in the case").select_option(label=role)
    page.get_by_label("Name to use").fill(name)
    page.get_by_label("Preferred language").select_option(label=language)
    if interpreter:
        page.get_by_label("Needs an interpreter").check()
    page.get_by_role("button", name="Add participant").click()
    expect(page).to_have_url(case_url)
    expect(flash(watch)).to_have_text(f"{name} is added to the case.")
    watch.scan()


@pytest.mark.browser
def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(seeded: SeededProgram, browse: Browse) -> None:
    watch = browse(seeded.server)
    page = watch.page

    def check_skip_link(first_in_main: str) -> None:
        page.keyboard.press("Tab")
        skip = page.locator(":focus")
        expect(skip).to_have_text("Skip to main content")
        expect(skip).to_have_attribute("href", "#main")
        box = skip.bounding_box()
        assert box is not None and box["y"] >= 0 and box["x"] >= 0, f"the focused skip link is off screen: {box}"
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()
        page.keyboard.press("Tab")  # the next stop is inside main, not back in the header
        expect(page.locator(":focus")).to_have_accessible_name(first_in_main)

    watch.goto("/login")
    watch.scan()
    check_skip_link("Email address")

    sign_in(watch, seeded.facilitator_email, seeded.password)
    watch.goto(f"/cases/{seeded.case_id}")
    expect(h1(watch)).to_have_text(f"Case {seeded.reference}")
    watch.scan()
    check_skip_link("Edit case details")
    watch.assert_clean()


@pytest.mark.browser
def test_sign_in_form_can_be_completed_with_the_keyboard_only(seeded: SeededProgram, browse: Browse) -> None:
    watch = browse(seeded.server)
    page = watch.page
    watch.goto("/login")
    watch.scan()

    for _ in range(5):  # past the skip link and the site name
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "field-email":
            break
    expect(page.get_by_label("Email address")).to_be_focused()
    page.keyboard.type(seeded.facilitator_email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type("not the password at all")
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{seeded.server.base_url}/login")
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()  # a screen reader user hears the problem first
    expect(summary).to_contain_text("There is a problem")
    watch.scan()

    page.keyboard.press("Tab")
    expect(page.get_by_label("Email address")).to_be_focused()
    expect(page.get_by_label("Email address")).to_have_value(seeded.facilitator_email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(seeded.password)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{seeded.server.base_url}/cases")
    expect(page.get_by_role("banner")).to_contain_text(f"Signed in as {seeded.facilitator_name}")
    watch.scan()
    watch.assert_clean()


@pytest.mark.browser
def test_case_page_fits_a_phone_screen_without_sideways_scrolling(seeded: SeededProgram, browse: Browse) -> None:
    watch = browse(seeded.server, viewport={"width": 375, "height": 667})
    sign_in(watch, seeded.facilitator_email, seeded.password)
    assert_no_horizontal_page_scroll(watch)

    watch.goto(f"/cases/{seeded.case_id}")
    expect(h1(watch)).to_have_text(f"Case {seeded.reference}")
    expect(watch.page.get_by_role("table", name="Participants in this case").locator("tbody tr")).to_have_count(2)
    watch.scan()
    assert_no_horizontal_page_scroll(watch)
    watch.assert_clean()


@pytest.mark.browser
def test_form_with_errors_shows_the_summary_and_the_message_beside_the_field(
    seeded: SeededProgram, browse: Browse
) -> None:
    watch = browse(seeded.server)
    page = watch.page
    sign_in(watch, seeded.facilitator_email, seeded.password)
    case_url = f"{seeded.server.base_url}/cases/{seeded.other_case_id}"
    watch.goto(f"{case_url}/participants/new")
    expect(h1(watch)).to_have_text("Add a participant")
    watch.scan()

    page.get_by_label("Role in the case").select_option(label="Survivor")
    page.get_by_role("button", name="Add participant").click()

    expect(page).to_have_url(f"{case_url}/participants")
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(["Enter the name this person wants to be called."])
    name_field = page.get_by_label("Name to use")
    expect(name_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#field-display_name-error")).to_have_text(
        "Error: Enter the name this person wants to be called."
    )
    expect(name_field).to_have_accessible_description(
        re.compile(r"Error: Enter the name this person wants to be called\.$")
    )
    expect(page.get_by_label("Role in the case")).to_have_value("survivor")  # what was chosen is kept
    watch.scan()

    summary.get_by_role("link", name="Enter the name this person wants to be called.").click()
    expect(name_field).to_be_focused()
    name_field.fill("Mira")
    page.get_by_role("button", name="Add participant").click()
    expect(page).to_have_url(case_url)
    expect(flash(watch)).to_have_text("Mira is added to the case.")
    watch.scan()
    watch.assert_clean()


@pytest.mark.browser
def test_an_interpreter_is_added_with_the_languages_they_work_in(seeded: SeededProgram, browse: Browse) -> None:
    watch = browse(seeded.server)
    page = watch.page
    sign_in(watch, seeded.facilitator_email, seeded.password)
    case_url = f"{seeded.server.base_url}/cases/{seeded.other_case_id}"
    watch.goto(f"{case_url}/participants/new")
    languages = page.get_by_role("group", name="Languages they interpret")
    expect(languages).to_be_hidden()  # folded away: most participants are not interpreters

    page.get_by_label("Role in the case").select_option(label="Interpreter")
    page.get_by_label("Name to use").fill("Leila")
    page.get_by_text("Adding an interpreter? Record the languages they work in").click()
    expect(languages).to_be_visible()
    watch.scan()
    languages.get_by_label("Arabic", exact=True).check()
    languages.get_by_label("Tigrinya").check()
    page.get_by_role("button", name="Add participant").click()

    expect(page).to_have_url(case_url)
    row = page.get_by_role("table", name="Participants in this case").locator("tbody tr").filter(has_text="Leila")
    expect(row.locator("td").nth(3)).to_have_text("Works in Arabic, Tigrinya")
    watch.scan()
    watch.assert_clean()


@pytest.mark.browser
def test_case_list_filter_updates_the_results_in_place(seeded: SeededProgram, browse: Browse) -> None:
    watch = browse(seeded.server)
    page = watch.page
    sign_in(watch, seeded.facilitator_email, seeded.password)
    results = page.locator("#case-results")
    references = results.get_by_role("table", name="Cases, newest first").locator("tbody tr td:first-child")
    expect(references).to_have_text([seeded.other_reference, seeded.reference])
    page.evaluate("() => { window.__sameDocument = true; }")  # gone if the page reloads
    history_before = page.evaluate("() => history.length")
    filter_requests: list[str] = []
    page.on("request", lambda r: r.headers.get("hx-request") == "true" and filter_requests.append(r.url))

    search = page.get_by_label("Search by reference or name")
    search.fill(seeded.reference)
    search.press("Enter")
    expect(results).to_contain_text("1 case found.")
    expect(references).to_have_text([seeded.reference])
    expect(page).to_have_url(re.compile(rf"/cases\?q={re.escape(seeded.reference)}(&|$)"))
    assert page.evaluate("() => window.__sameDocument === true"), "the filter reloaded the whole page"
    expect(page.locator("header.site-header")).to_have_count(1)
    expect(results.get_by_role("heading", level=1)).to_have_count(0)  # only the results were swapped
    expect(search).to_have_value(seeded.reference)
    watch.scan()
    # One search, one request and one history entry (so Back undoes it in one step).
    assert len(filter_requests) == 1, f"one search sent {len(filter_requests)} requests: {filter_requests}"
    assert page.evaluate("() => history.length") == history_before + 1

    page.get_by_label("Harm type").select_option(label="Domestic servitude")  # filters on change
    expect(results).to_contain_text("0 cases found.")
    expect(references).to_have_count(0)
    assert page.evaluate("() => window.__sameDocument === true"), "the filter reloaded the whole page"
    expect(page).to_have_url(re.compile(r"[?&]harm_type=domestic_servitude(&|$)"))
    watch.scan()
    assert len(filter_requests) == 2, f"one change sent {len(filter_requests) - 1} requests: {filter_requests}"

    page.get_by_label("Harm type").select_option(label="Any harm type")
    expect(references).to_have_text([seeded.reference])
    watch.scan()
    page.get_by_label("Facilitator", exact=True).select_option(label=seeded.facilitator_name)
    expect(page).to_have_url(re.compile(r"[?&]facilitator=\d+(&|$)"))
    expect(references).to_have_text([seeded.reference])
    watch.scan()
    assert page.evaluate("() => window.__sameDocument === true"), "the filter reloaded the whole page"
    assert len(filter_requests) == 4
    watch.assert_clean()
