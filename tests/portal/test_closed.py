"""A closed portal gives nothing away: a used, expired or unknown link, a page after signing out or after
the quick exit, all show one neutral page in the person's language that names no program, facilitator or
process. The portal's own pages sit in landmarks, tell how to browse safely, and have an icon."""

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import User
from app.conferences.models import Participant
from app.programs.models import Program
from tests.portal.conftest import browser, enter, form, issue_url

# Words that would tell whoever holds the phone what the page was for.
GIVEAWAYS = ("facilitador", "facilitator", "Mend", "Harbour", "Restorative", "restaurativ", "enlace", "link", "portal")


def _neutral_and_spanish(html: str) -> None:
    assert '<html lang="es">' in html
    assert "<h1>Esta página no está disponible</h1>" in html
    body = html[html.index("<body") :]
    seen = re.sub(r"<[^>]+>", " ", body) + re.search(r"<title>(.*?)</title>", html, re.S).group(1)  # type: ignore[union-attr]
    found = [word for word in GIVEAWAYS if word.lower() in seen.lower()]
    assert found == [], found
    assert "<a " not in body and "<form" not in body and "<script" not in html  # nothing to press, no quick exit


def test_a_used_link_shows_the_neutral_page_in_the_persons_language(
    app, db: Session, facilitator: User, survivor: Participant, program: Program
) -> None:  # type: ignore[no-untyped-def]
    url = issue_url(db, facilitator, survivor)
    assert enter(browser(app), url).status_code == 303
    path = url[url.index("/portal/enter/") :]
    for response in (browser(app).get(path), browser(app).post(path, data=form(browser(app)))):
        assert response.status_code == 410
        _neutral_and_spanish(response.text)
        assert "<title>Esta página no está disponible</title>" in response.text


def test_after_the_quick_exit_back_shows_the_neutral_page_in_the_browsers_language(
    as_survivor: TestClient,
) -> None:
    as_survivor.get("/portal/exit", follow_redirects=False)
    response = as_survivor.get("/portal/consent", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert response.url.path == "/portal/signed-out"
    _neutral_and_spanish(response.text)


def test_an_unknown_link_speaks_the_browsers_language(app) -> None:  # type: ignore[no-untyped-def]
    spanish = browser(app).get("/portal/enter/" + "A" * 43, headers={"Accept-Language": "es"})
    assert spanish.status_code == 410
    _neutral_and_spanish(spanish.text)
    english = browser(app).get("/portal/signed-out")
    assert '<html lang="en">' in english.text and "<h1>This page is not available</h1>" in english.text
    assert "facilitator" not in english.text and "Your page" not in english.text


def test_the_api_says_nothing_about_the_process_without_a_session(app) -> None:  # type: ignore[no-untyped-def]
    response = browser(app).get("/api/v1/portal/me")
    assert response.status_code == 401 and "facilitator" not in response.text


class _Landmarks(HTMLParser):
    """Which focusable or text-bearing elements sit outside header, nav, main and footer."""

    LANDMARKS = frozenset({"header", "nav", "main", "footer"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.outside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        in_body = "body" in self.stack
        if in_body and tag in ("a", "p", "form", "button") and not self.LANDMARKS & set(self.stack):
            self.outside.append(f"<{tag} {dict(attrs)}>")
        if tag not in ("meta", "link", "input", "br", "img"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag) :]


def test_the_quick_exit_and_the_skip_link_sit_in_the_header_and_still_come_first(as_survivor: TestClient) -> None:
    for path in ("/portal", "/portal/information", "/portal/consent", "/portal/consent/contact"):
        html = as_survivor.get(path).text
        parser = _Landmarks()
        parser.feed(html)
        assert parser.outside == [], path
        header = re.search(r"<header[^>]*>(.*?)</header>", html, re.S)
        assert header and header.group(1).lstrip().startswith('<a id="quick-exit"'), path
        assert 'class="skip-link"' in header.group(1), path


def test_the_information_page_says_how_to_browse_safely(as_survivor: TestClient) -> None:
    page = as_survivor.get("/portal/information").text
    assert "Cómo mantener esta página en privado" in page
    assert "ventana privada" in page and "incógnito" in page
    assert "borre el historial del navegador" in page
    assert "Salida rápida" in page and "Esc" in page
    assert "Si otras personas usan este teléfono" in page


def test_the_favicon_is_served_from_mend_itself_and_linked_on_every_layout(
    app, as_survivor: TestClient, as_facilitator: TestClient
) -> None:  # type: ignore[no-untyped-def]
    icon = browser(app).get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    link = '<link rel="icon" href="/favicon.ico"'
    assert link in as_survivor.get("/portal").text
    assert link in as_facilitator.get("/cases").text
    assert link in browser(app).get("/portal/signed-out").text
