"""Real-browser tests: the app runs as `mend serve` in a subprocess on a scratch database, and
Debian's Chromium drives it through Playwright's sync API.

Chromium comes from the system (/usr/bin/chromium, or the path in MEND_CHROMIUM), never from
`playwright install`. Without it the browser tests are skipped, unless MEND_REQUIRE_BROWSER=1
(CI), where a missing browser is a failure.

Each test opens its pages through `browse(server)`, which returns a `Watch`: it records console
errors, uncaught page errors, CSP violations, server errors (5xx responses or a traceback in the
server's output), requests to any host other than 127.0.0.1 and every page the browser lands
on; `watch.scan()` runs axe-core (WCAG 2.0/2.1 A and AA, WCAG 2.2 AA) on the current page, and
with `watch.every_rule` set (the survivor portal's pages) axe's best-practice rules too, `region`
among them; a violation of any impact fails. When a test ends, every page it landed on must have
been scanned and nothing above recorded.
"""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urlsplit

import pytest
from sqlmodel import Session

from tests.conftest import TEST_DATABASE_URL
from tests.factories import PASSWORD, make_case, make_participant, make_program, make_user
from tests.live_server import LOCAL_HOST, MendServer, run_mend
from tests.support import scratch_database

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Frame, Page, Request, Response

CHROMIUM = Path(os.environ.get("MEND_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
# Served to the browser by a route, from the app's own origin, so the app's CSP
# (script-src 'self') stays in force while axe runs. The app never sees the request.
AXE_PATH = "/__browser-tests__/axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Best practice beyond WCAG: `region` (all content inside landmarks), one main, one h1, heading order...
AXE_EVERY_RULE_TAGS = [*AXE_TAGS, "best-practice"]
ACTION_TIMEOUT_MS = 5_000
NAVIGATION_TIMEOUT_MS = 10_000


def _browser_required() -> bool:
    return os.environ.get("MEND_REQUIRE_BROWSER") == "1"


def _missing_browser() -> str | None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium is not installed at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """No browser: skip locally, fail where MEND_REQUIRE_BROWSER=1 says the browser must run."""
    if item.get_closest_marker("browser") is None:
        return
    problem = _missing_browser()
    if problem is None:
        return
    if _browser_required():
        pytest.fail(f"MEND_REQUIRE_BROWSER=1 but {problem}.", pytrace=False)
    pytest.skip(f"{problem}; set MEND_REQUIRE_BROWSER=1 to make this a failure")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Keep each phase's report on the item, so teardown knows whether the test itself passed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# --- the app under test ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MendServer]:
    """Mend on an empty database, as on a first start: it prints the first-admin setup link."""
    with scratch_database(TEST_DATABASE_URL, tmp_path_factory.mktemp("fresh-db")) as url:
        with run_mend(url, expect_setup_link=True) as server:
            yield server


@dataclass(frozen=True)
class SeededProgram:
    server: MendServer
    facilitator_name: str
    facilitator_email: str
    password: str
    case_id: int
    reference: str
    other_case_id: int
    other_reference: str


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededProgram]:
    """Mend with a program, a facilitator and two of their cases, one with a survivor and a
    responsible party, written before the server starts."""
    from app.auth.models import UserRole
    from app.conferences.models import HarmType, ParticipantRole
    from app.db import make_engine

    with scratch_database(TEST_DATABASE_URL, tmp_path_factory.mktemp("seeded-db")) as url:
        engine = make_engine(url)
        with Session(engine) as session:
            program = make_program(session, "Harbour Restorative Program", timezone="Europe/Madrid")
            fran = make_user(
                session, program, UserRole.facilitator, "Fran Facilitator", email="fran@example.org", password=PASSWORD
            )
            case = make_case(session, fran, reference="HRP-2026-017")
            make_participant(
                session,
                fran,
                case,
                ParticipantRole.survivor,
                display_name="Rosa Martínez-Ocampo",
                preferred_language="es",
                interpreter_needed=True,
                support_needs="Prefers a support person from the shelter at every meeting.",
            )
            make_participant(session, fran, case, ParticipantRole.responsible_party, display_name="Dan Novak")
            other = make_case(session, fran, reference="HRP-2026-018", harm_type=HarmType.domestic_servitude)
            session.commit()
            assert case.id is not None and other.id is not None
            case_id, other_case_id = case.id, other.id
        engine.dispose()
        with run_mend(url, expect_setup_link=False) as server:
            yield SeededProgram(
                server,
                "Fran Facilitator",
                "fran@example.org",
                PASSWORD,
                case_id,
                "HRP-2026-017",
                other_case_id,
                "HRP-2026-018",
            )


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator["Browser"]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob"):
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname == LOCAL_HOST


@dataclass
class Watch:
    """One browser page on the app, and what happened in it."""

    page: "Page"
    server: MendServer
    log_mark: int
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    scanned: set[int] = field(default_factory=set)
    error_pages: set[str] = field(default_factory=set)
    every_rule: bool = False
    _new_document: bool = False

    def goto(self, path_or_url: str) -> "Response | None":
        return self.page.goto(path_or_url)

    def requested(self, request: "Request") -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self._new_document = True

    def landed(self, frame: "Frame") -> None:
        """Count each new document, and each in-page address change (htmx's history push)."""
        if frame != self.page.main_frame or frame.url == "about:blank":
            return
        new_document, self._new_document = self._new_document, False
        same_address = bool(self.visited) and urldefrag(frame.url).url == urldefrag(self.visited[-1]).url
        if new_document or not same_address:
            self.visited.append(frame.url)

    def responded(self, response: "Response") -> None:
        request = response.request
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {request.method} {response.url}")
        elif response.status >= 400 and (request.is_navigation_request() or "hx-request" in request.headers):
            # A refused form sent in the background (htmx, or the portal's in-place forms) is a page too.
            self.error_pages.add(response.url)

    def console(self, message: "ConsoleMessage") -> None:
        if message.type != "error":
            return
        url = message.location.get("url")
        # Chromium logs every 4xx document (and fetch) as a console error; an error page the app rendered on
        # purpose (a refused form, an expired link) is not a fault of the page. The tests assert
        # those statuses themselves.
        if url in self.error_pages and message.text.startswith("Failed to load resource: the server responded"):
            return
        self.console_errors.append(f"{message.text} ({url})")

    def scan(self) -> None:
        """Run axe-core on the page as it is now; fail listing every violation, whatever its impact."""
        self.page.wait_for_load_state("load")
        self.page.wait_for_function(  # and htmx has finished swapping
            "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
        )
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(url=AXE_PATH)
        violations = self.page.evaluate(
            """async (tags) => {
                const results = await axe.run(document, {
                    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
                });
                return results.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                    nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary})),
                }));
            }""",
            AXE_EVERY_RULE_TAGS if self.every_rule else AXE_TAGS,
        )
        if violations:
            report = [f"axe-core found {len(violations)} violation(s) on {self.page.url}:"]
            for v in violations:
                report.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
                for node in v["nodes"]:
                    summary = " ".join((node["summary"] or "").split())
                    report.append(f"    at {node['target']}: {summary}")
            pytest.fail("\n".join(report), pytrace=False)
        if self.visited:
            self.scanned.add(len(self.visited) - 1)

    def problems(self) -> list[str]:
        found = []
        unscanned = [url for i, url in enumerate(self.visited) if i not in self.scanned]
        if unscanned:
            found.append("pages visited without an axe-core scan: " + ", ".join(unscanned))
        for label, items in (
            ("console errors", self.console_errors),
            ("uncaught page errors", self.page_errors),
            ("CSP violations", self.csp_violations),
            ("requests to hosts other than 127.0.0.1", self.foreign_requests),
            ("server errors", self.server_errors),
        ):
            if items:
                found.append(f"{label}:\n  " + "\n  ".join(items))
        log = self.server.output_since(self.log_mark)
        if "Traceback" in log:
            found.append(f"the server logged an exception:\n{log}")
        return found

    def assert_clean(self) -> None:
        """Every page scanned; no console or page errors, CSP violations, foreign requests, 5xx."""
        problems = self.problems()
        assert not problems, "\n".join(problems)


CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.__mendCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} on ${document.location.href}`);
});
"""


@pytest.fixture
def browse(chromium: "Browser", request: pytest.FixtureRequest) -> Iterator[Callable[..., Watch]]:
    """browse(server, **context_options) -> Watch: a new browser context and page on `server`."""
    opened: list[Watch] = []

    def open_page(server: MendServer, **context_options: Any) -> Watch:
        context = chromium.new_context(base_url=server.base_url, **context_options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        context.route(
            f"{server.base_url}{AXE_PATH}",
            lambda route: route.fulfill(path=AXE_JS, content_type="text/javascript; charset=utf-8"),
        )
        csp_violations: list[str] = []
        context.expose_function("__mendCspViolation", lambda text: csp_violations.append(text))
        context.add_init_script(script=CSP_LISTENER)
        page = context.new_page()
        watch = Watch(page, server, log_mark=len(server.lines), csp_violations=csp_violations)
        context.on("request", lambda req: None if _is_local(req.url) else watch.foreign_requests.append(req.url))
        context.on("response", watch.responded)
        page.on("request", watch.requested)
        page.on("framenavigated", watch.landed)
        page.on("console", watch.console)
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
        opened.append(watch)
        return watch

    yield open_page

    call = getattr(request.node, "report_call", None)
    try:
        if call is not None and call.passed:
            for watch in opened:
                watch.assert_clean()
        elif call is not None and call.failed:
            for watch in opened:
                print(
                    f"\nBrowser was at {watch.page.url}. Server output during the test:\n"
                    f"{watch.server.output_since(watch.log_mark)}"
                )
    finally:
        for watch in opened:
            watch.page.context.close()
