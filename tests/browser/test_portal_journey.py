"""The survivor portal, in a real browser: a facilitator issues a sign-in link; the survivor opens it on a
phone, reads the information sheet in Spanish, says yes to taking part in the meeting (after a page
that says what it means and how to take it back), then stops (confirming) and is told what stops and
what stays. Moving around the portal adds no history entries. The quick exit is the first keyboard
stop on every portal page, leaves for the program's neutral site without adding a history entry, and
ends the session; Escape does the same; afterwards the portal's address shows only a neutral page in
her language. Every page visited gets an axe-core scan with no violation of any impact, best-practice
rules such as `region` included.

The program's neutral site is a page on the test server's own origin (answered by the browser
context, like axe-core), since no request may leave 127.0.0.1.
"""

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.browser.conftest import MendServer, Watch, run_mend
from tests.conftest import TEST_DATABASE_URL
from tests.factories import PASSWORD, make_case, make_participant, make_program, make_user
from tests.support import scratch_database

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips (or, with MEND_REQUIRE_BROWSER=1, fails) every browser test
    expect = None  # type: ignore[assignment]
if TYPE_CHECKING:
    from playwright.sync_api import Locator, Route

Browse = Callable[..., Watch]
PHONE = {"width": 375, "height": 667}
NEUTRAL_PATH = "/__browser-tests__/neutral-weather.html"
NEUTRAL_HTML = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Weather</title></head>'
    "<body><main><h1>Weather today</h1><p>Sunny, 21 degrees.</p></main></body></html>"
)


@dataclass(frozen=True)
class PortalProgram:
    server: MendServer
    engine: Engine
    facilitator_email: str
    case_id: int
    reference: str
    survivor_id: int

    @property
    def neutral_url(self) -> str:
        return self.server.base_url + NEUTRAL_PATH

    def issue_link(self) -> str:
        """A fresh sign-in link for the survivor, issued the way the facilitator's page does."""
        from app.auth.models import User
        from app.auth.service import actor_for
        from app.conferences.models import Participant
        from app.portal.service import issue_portal_link

        with Session(self.engine) as session:
            user = session.exec(select(User).where(User.email == self.facilitator_email)).one()
            survivor = session.get(Participant, self.survivor_id)
            assert survivor is not None
            url = issue_portal_link(session, actor=actor_for(user), participant=survivor).url
            session.commit()
        # This process's settings name another base address than the server's.
        return self.server.base_url + url[url.index("/portal/enter/") :]

    def wait_until_the_latest_portal_session_ended(self, timeout: float = 5.0) -> None:
        """The quick exit's beacon reaches the server while the browser is already elsewhere."""
        from app.portal.models import PortalSession

        deadline = time.monotonic() + timeout
        while True:
            with Session(self.engine) as session:
                latest = session.exec(select(PortalSession).order_by(col(PortalSession.id).desc())).first()
                if latest is not None and latest.revoked_at is not None:
                    return
            if time.monotonic() > deadline:
                pytest.fail("the quick exit did not end the portal session on the server")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def portal_program(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalProgram]:
    """Mend with a facilitator's case (a Spanish-speaking survivor and a responsible party), whose
    program's quick exit leads to a neutral page on the test server's own origin."""
    from app.auth.models import UserRole
    from app.conferences.models import ParticipantRole
    from app.db import make_engine
    from app.programs.models import Program

    with scratch_database(TEST_DATABASE_URL, tmp_path_factory.mktemp("portal-db")) as url:
        engine = make_engine(url)
        with Session(engine) as session:
            program = make_program(session, "Harbour Restorative Program", timezone="Europe/Madrid")
            fran = make_user(session, program, UserRole.facilitator, "Fran Facilitator", email="fran@example.org")
            case = make_case(session, fran, reference="HRP-2026-031")
            rosa = make_participant(
                session, fran, case, ParticipantRole.survivor, display_name="Rosa", preferred_language="es"
            )
            make_participant(session, fran, case, ParticipantRole.responsible_party, display_name="Dan Novak")
            session.commit()
            ids = (program.id, case.id, rosa.id)
        try:
            with run_mend(url, expect_setup_link=False) as server:
                with Session(engine) as session:  # the app keeps no state in memory: this applies at once
                    program = session.get(Program, ids[0])
                    assert program is not None
                    program.quick_exit_url = server.base_url + NEUTRAL_PATH
                    session.commit()
                yield PortalProgram(server, engine, "fran@example.org", ids[1], "HRP-2026-031", ids[2])  # type: ignore[arg-type]
        finally:
            engine.dispose()


def _serve_neutral_site(route: "Route") -> None:
    route.fulfill(body=NEUTRAL_HTML, content_type="text/html; charset=utf-8")


def phone(browse: Browse, portal_program: PortalProgram) -> Watch:
    """A phone-sized browser set to Spanish, where the program's neutral site answers; axe runs every rule."""
    watch = browse(portal_program.server, viewport=PHONE, locale="es-ES")
    watch.page.context.route(portal_program.neutral_url, _serve_neutral_site)
    watch.every_rule = True
    return watch


def history_length(watch: Watch) -> int:
    return int(watch.page.evaluate("() => history.length"))


def h1(watch: Watch) -> "Locator":
    return watch.page.get_by_role("heading", level=1)


def sign_in(watch: Watch, email: str) -> None:
    page = watch.page
    watch.goto("/login")
    watch.scan()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(h1(watch)).to_have_text("Cases")
    watch.scan()


def assert_quick_exit_stays_on_screen(watch: Watch) -> None:
    """Fixed on screen (also at the bottom of a long page), and big enough to tap."""
    page = watch.page
    page.evaluate("() => window.scrollTo(0, document.scrollingElement.scrollHeight)")
    box = page.locator("#quick-exit").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    assert box["height"] >= 44 and box["width"] >= 44, box
    widths = page.evaluate("() => ({scroll: document.scrollingElement.scrollWidth, viewport: window.innerWidth})")
    assert widths["scroll"] <= widths["viewport"], f"{page.url} scrolls sideways: {widths}"
    page.evaluate("() => window.scrollTo(0, 0)")


def open_link(watch: Watch, url: str) -> None:
    """Open a sign-in link and press its one button, landing on the portal home page."""
    page = watch.page
    response = watch.goto(url)
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(h1(watch)).to_have_text("Su página privada")
    watch.scan()
    entries = history_length(watch)
    page.get_by_role("button", name="Abrir mi página").click()
    expect(page).to_have_url(f"{watch.server.base_url}/portal")
    assert history_length(watch) == entries, "opening the page left the link in the history"
    expect(h1(watch)).to_have_text("Hola, Rosa.")
    watch.scan()


@pytest.mark.browser
def test_a_survivor_opens_her_link_on_a_phone_consents_to_the_meeting_then_stops_it(
    portal_program: PortalProgram, browse: Browse
) -> None:
    base = portal_program.server.base_url

    # The facilitator issues the link on the participant's portal page; it is shown once.
    desk = browse(portal_program.server, permissions=["clipboard-read", "clipboard-write"])
    sign_in(desk, portal_program.facilitator_email)
    desk.goto(f"/cases/{portal_program.case_id}")
    desk.scan()
    desk.page.get_by_role("link", name="Portal link for Rosa").click()
    expect(h1(desk)).to_have_text("Portal link for Rosa")
    desk.scan()
    desk.page.get_by_role("button", name="Issue a new link").click()
    link = desk.page.get_by_role("textbox", name="Sign-in link for Rosa")
    expect(link).to_have_value(re.compile(f"^{re.escape(base)}/portal/enter/"))
    expect(desk.page.get_by_role("status").filter(has_text="Copy this link now.")).to_be_visible()
    desk.scan()
    url = link.input_value().strip()
    # The script shows the Copy button; pressing it puts the link on the clipboard and says so.
    desk.page.get_by_role("button", name="Copy link").click()
    expect(desk.page.locator("#new-link-status")).to_have_text("The link is copied.")
    assert desk.page.evaluate("() => navigator.clipboard.readText()") == url

    # Rosa opens it on her phone; the page speaks Spanish, and the quick exit comes first.
    watch = phone(browse, portal_program)
    page = watch.page
    open_link(watch, url)
    status = page.get_by_role("region", name="¿En qué punto está?")
    expect(status).to_contain_text("Su facilitador está preparando todo. No se programará nada sin su permiso.")
    assert_quick_exit_stays_on_screen(watch)

    # She reads the information sheet in her language.
    page.get_by_role("link", name="Lea la hoja de información").click()
    expect(h1(watch)).to_have_text("Reunión para reparar el daño: lo que necesita saber")
    expect(page.get_by_text("Puede parar en cualquier momento", exact=False).first).to_be_visible()
    watch.scan()
    assert_quick_exit_stays_on_screen(watch)

    # She says yes to taking part in the meeting: a page first says what it means and how to take it back.
    entries = history_length(watch)
    page.get_by_role("link", name="Sus decisiones").last.click()
    expect(h1(watch)).to_have_text("Sus decisiones")
    watch.scan()
    assert_quick_exit_stays_on_screen(watch)
    meeting = page.locator("#choice-conference")
    expect(meeting.get_by_role("heading")).to_have_text("Participar en la reunión")
    expect(meeting).to_contain_text("No ha dicho que sí.")
    meeting.get_by_role("link", name="Quiero decir que sí (Participar en la reunión)").click()
    expect(h1(watch)).to_have_text("¿Quiere decir que sí?")
    expect(page.locator("main")).to_contain_text("Va a decir que sí a: Participar en la reunión.")
    expect(page.locator("main")).to_contain_text("Vaya a Sus decisiones y pulse Quiero parar.")
    watch.scan()
    assert_quick_exit_stays_on_screen(watch)
    page.get_by_role("button", name="Sí, estoy de acuerdo").click()
    expect(page.locator("main > p.notice-success[role=status]")).to_have_text("Dijo que sí.")
    expect(meeting).to_contain_text("Dijo que sí el")
    watch.scan()
    assert history_length(watch) == entries, "moving around the portal added history entries"

    # Then she stops: a confirmation first, which reassures her, then the paused message.
    meeting.get_by_role("link", name="Quiero parar (Participar en la reunión)").click()
    expect(h1(watch)).to_have_text("¿Quiere parar?")
    expect(page.locator("main")).to_contain_text("Parar no tiene ninguna sanción.")
    expect(page.locator("main")).to_contain_text("Se lo diremos a su facilitador.")
    expect(page.get_by_role("region", name="Lo que se para")).to_contain_text("El proceso está en pausa.")
    expect(page.get_by_role("region", name="Lo que sigue igual")).to_contain_text("No se borra nada.")
    watch.scan()
    assert_quick_exit_stays_on_screen(watch)
    page.get_by_role("button", name="Sí, parar").click()
    expect(page).to_have_url(f"{base}/portal/consent/conference/stopped")
    expect(h1(watch)).to_have_text("Usted dijo que quiere parar")
    expect(page.locator("main")).to_contain_text("El proceso está en pausa.")
    expect(page.locator("main")).not_to_contain_text("acuerdo que se firmó")  # nothing was signed
    watch.scan()
    page.get_by_role("link", name="Ir a su página").click()
    expect(status).to_contain_text("Usted dijo que quiere parar. El proceso está en pausa.")
    watch.scan()

    # The facilitator sees the case paused, and the link as used.
    desk.goto(f"/cases/{portal_program.case_id}")
    expect(desk.page.locator(".journey-panel")).to_contain_text("This case is paused.")
    desk.scan()
    desk.goto(f"/cases/{portal_program.case_id}/participants/{portal_program.survivor_id}/portal")
    expect(desk.page.get_by_role("table")).to_contain_text("Opened; portal session open")
    desk.scan()

    # The used link shows only a neutral page, in her language: no program, no facilitator, no way in.
    response = watch.goto(url)
    assert response is not None and response.status == 410
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(h1(watch)).to_have_text("Esta página no está disponible")
    expect(page.locator("body")).not_to_contain_text("facilitador")
    expect(page.locator("body")).not_to_contain_text("Harbour")
    assert page.locator("#quick-exit").count() == 0
    icon = watch.page.request.get(f"{base}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"
    watch.scan()
    watch.assert_clean()
    desk.assert_clean()


@pytest.mark.browser
def test_the_quick_exit_is_the_first_tab_stop_and_leaves_without_a_way_back(
    portal_program: PortalProgram, browse: Browse
) -> None:
    watch = phone(browse, portal_program)
    page = watch.page
    open_link(watch, portal_program.issue_link())
    page.get_by_role("link", name="Sus decisiones").first.click()
    expect(h1(watch)).to_have_text("Sus decisiones")
    watch.scan()

    page.reload()  # from page load: nothing focused yet
    watch.scan()
    history = page.evaluate("() => history.length")
    page.keyboard.press("Tab")
    quick_exit = page.locator(":focus")
    expect(quick_exit).to_have_id("quick-exit")
    expect(quick_exit).to_have_text("Salida rápida")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Ir al contenido principal")  # the skip link comes second
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")

    expect(page).to_have_url(portal_program.neutral_url)
    expect(h1(watch)).to_have_text("Weather today")
    watch.scan()
    assert page.evaluate("() => history.length") == history, "the quick exit added a history entry"
    portal_program.wait_until_the_latest_portal_session_ended()

    # Back finds no portal page: moving around the portal replaced its one history entry each time.
    page.go_back()
    assert "/portal" not in page.url, page.url
    # Her portal's address, typed again, shows only the neutral page, in the phone's language.
    watch.goto("/portal/consent")
    expect(page).to_have_url(f"{portal_program.server.base_url}/portal/signed-out")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(h1(watch)).to_have_text("Esta página no está disponible")
    for giveaway in ("Rosa", "facilitador", "Su página", "Salida rápida"):
        expect(page.locator("body")).not_to_contain_text(giveaway)
    watch.scan()
    assert not [c for c in page.context.cookies() if c["name"] == "mend_portal"]
    watch.assert_clean()


@pytest.mark.browser
def test_escape_anywhere_leaves_by_the_quick_exit(portal_program: PortalProgram, browse: Browse) -> None:
    watch = phone(browse, portal_program)
    page = watch.page
    open_link(watch, portal_program.issue_link())
    page.get_by_role("link", name="Lea la hoja de información").click()
    expect(h1(watch)).to_have_text("Reunión para reparar el daño: lo que necesita saber")
    watch.scan()
    history = page.evaluate("() => history.length")

    page.keyboard.press("Escape")

    expect(page).to_have_url(portal_program.neutral_url)
    watch.scan()
    assert page.evaluate("() => history.length") == history
    portal_program.wait_until_the_latest_portal_session_ended()
    watch.goto("/portal")
    expect(page).to_have_url(f"{portal_program.server.base_url}/portal/signed-out")
    expect(h1(watch)).to_have_text("Esta página no está disponible")
    watch.scan()
    watch.assert_clean()
