"""Every staff form, filled in as a person might get it wrong, says what to do and keeps what was typed.

The forms come from the app itself: every POST route outside /api and /portal is looked for on the
staff pages (every GET page of the app, opened as the administrator and as the case's facilitator in
the world of tests/route_world.py), so a new form is tried as soon as a page shows it. A route that no
page shows fails until it is given a way to its form (PREPARE) or a reason it has none (NO_FORM).

Each form is sent as its page has it, three ways: emptied; with what cannot be right (text longer than
any limit, letters in number fields, impossible dates and times, an address that is not one); and with
numbers and dates out of range; each in English and in Spanish. The answer is read as a person reads
it, and fails on: a server error; a message that could belong to any field (web's fallback words such
as "This is required." or "Choose one of the options.", pydantic's English, an internal code); one
message for several fields in the error summary; a summary link to no field, or out of the page's
order; an error beside a field that the summary leaves out; a title without "Error:"; anything typed
missing from the form; a Spanish page still in English; a required field emptied, or a field that
cannot be read, and yet saved.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import httpx2 as httpx
import pytest
from sqlmodel import select

from app import web
from app.actor import Actor
from app.agreements import queries
from app.agreements import service as agreements
from app.agreements.models import AgreementVersion
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Case, CaseSession, Participant
from app.db import utcnow
from app.i18n import use_language
from app.retention.schemas import LegalHoldSet
from app.retention.service import set_legal_hold
from tests.agreements.test_service import Held, to_signing
from tests.route_world import World, app_routes, build_world

# Routes outside /api and /portal that no staff page shows as a form with fields to fill, and why.
NO_FORM = {
    "/login": "the sign-in form, for people not signed in: tests/test_form_errors.py",
    "/setup/{token}": "the first administrator's form, shown only while no account exists: tests/auth/test_views.py",
    "/invite/{token}": "reached from an emailed link by someone not signed in: tests/auth/test_invitations.py",
    "/cases/{case_id}/participants/{participant_id}/portal-links/send": (
        "a single button with nothing to type; its refusals (no safe channel) are in tests/portal/test_link_delivery.py"
    ),
}


# --- forms a page shows only at some point of the case: the world is brought there first ---------


def _case(world: World) -> Case:
    return world.db.get(Case, int(world.params["case_id"]))  # type: ignore[return-value]


def _actor(world: World) -> Actor:
    return actor_for(world.db.get(User, int(world.params["user_id"])))  # type: ignore[arg-type]


def _draft(world: World) -> AgreementVersion:
    return queries.latest_version(world.db, case=_case(world))  # type: ignore[return-value]


def _in_review(world: World) -> None:
    agreements.send_for_review(world.db, actor=_actor(world), case=_case(world), version=_draft(world))


def _signing(world: World) -> None:
    case, version = _case(world), _draft(world)
    held = Held(case, *(world.db.get(Participant, int(world.params[k])) for k in ("participant_id", "responsible_id")))
    to_signing(world.db, _actor(world), held, version)  # type: ignore[arg-type]


def _sealed_only(world: World) -> None:
    world.db.delete(_draft(world))
    world.db.flush()


def _on_legal_hold(world: World) -> None:
    actor = actor_for(world.db.exec(select(User).where(User.email == world.params["admin_email"])).one())
    set_legal_hold(world.db, actor=actor, case=_case(world), data=LegalHoldSet(reason="A pending civil claim."))


def _started(world: World) -> None:
    meeting = world.db.get(CaseSession, int(world.params["session_id"]))
    assert meeting is not None
    meeting.starts_at = utcnow() - timedelta(minutes=30)
    world.db.add(meeting)
    world.db.flush()


AGREEMENT_PAGE = "/cases/{case_id}/agreement"
# Route -> (the page that then shows its form, what brings the case there).
PREPARE: dict[str, tuple[str, Callable[[World], None]]] = {
    "/cases/{case_id}/agreement/versions/{number}/reviews": (AGREEMENT_PAGE, _in_review),
    "/cases/{case_id}/agreement/versions/{number}/send-for-signature": (AGREEMENT_PAGE, _in_review),
    "/cases/{case_id}/agreement/versions/{number}/signatures": (AGREEMENT_PAGE, _signing),
    "/cases/{case_id}/agreement/versions/{number}/decline": (AGREEMENT_PAGE, _signing),
    "/cases/{case_id}/agreement/amend": ("/cases/{case_id}/agreement/amend", _sealed_only),
    "/cases/{case_id}/legal-hold/clear": ("/cases/{case_id}", _on_legal_hold),
    "/cases/{case_id}/sessions/{session_id}/held": ("/cases/{case_id}/sessions/{session_id}", _started),
}

VARIANTS = ("empty", "wrong", "out_of_range")
LONG = 20_001  # one more character than the longest text Mend keeps
WRONG_NUMBER, WRONG_DATE, WRONG_DATETIME, WRONG_TIME = "twelve", "2027-02-30", "2027-02-30T25:61", "25:61"
LOW_NUMBER, PAST_DATE, PAST_DATETIME = "-1", "1899-12-31", "1899-12-31T09:00"  # below every minimum
TEXT_TYPES = frozenset({"text", "search", "email", "tel", "url", "password", "textarea"})
RAW = (
    "Input should",
    "Value error",
    "Field required",
    "String should",
    "should have",
    "validation error",
    "value is not",
)
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _generic_patterns() -> list[re.Pattern[str]]:
    """Web's words for an error type, which fit any field: in English and Spanish, limits as wildcards."""
    templates = [*web._FRIENDLY.values(), web._LONGER, web._FALLBACK, web._EMAIL_WORDS]
    templates += ["Answer this question.", "Part of the address or form was not in the expected format."]
    patterns = []
    for language in ("en", "es"):
        with use_language(language):
            for template in templates:
                text = web.gettext(template)
                pieces = re.split(r"%\(\w+\)s", text)
                patterns.append(re.compile("^" + ".+".join(re.escape(p) for p in pieces) + "$"))
    return patterns


GENERIC = _generic_patterns()


# --- reading a page --------------------------------------------------------------------------------


@dataclass
class Control:
    name: str
    kind: str  # text, textarea, number, date, select, radio, checkbox, hidden, file, submit ...
    value: str
    checked: bool = False
    numeric: bool = False
    options: list[str] = field(default_factory=list)
    selected: str | None = None
    primary: bool = False
    required: bool = False


@dataclass
class Form:
    action: str
    htmx: bool
    controls: list[Control] = field(default_factory=list)


@dataclass
class Page:
    forms: list[Form] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # in the page's order
    title: str = ""
    summary: list[tuple[str | None, str]] = field(default_factory=list)
    field_errors: dict[str, str] = field(default_factory=dict)  # element id -> message
    text: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.form: Form | None = None
        self.control: Control | None = None  # an open <select> or <textarea>
        self.option: str | None = None
        self.stack: list[str] = []
        self.skip = 0  # inside <script>, <style>, <template> or a hidden element
        self.in_title = self.in_summary = False
        self.summary_level = 0
        self.summary_item: list[str] | None = None
        self.summary_href: str | None = None
        self.error_id: str | None = None
        self.error_text: list[str] = []
        self.in_main = False

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag not in ("input", "br", "meta", "link", "img", "hr", "col", "source"):
            self.stack.append(tag)
            if self.skip or tag in ("script", "style", "template") or "hidden" in attrs:
                self.skip += 1
        if "id" in attrs:
            self.page.ids.append(attrs["id"])
        classes = attrs.get("class", "").split()
        if tag == "main":
            self.in_main = True
        if tag == "title":
            self.in_title = True
        if "error-summary" in classes:
            self.in_summary, self.summary_level = True, len(self.stack)
        if self.in_summary and tag == "li":
            self.summary_item, self.summary_href = [], None
        if self.in_summary and tag == "a" and self.summary_item is not None:
            self.summary_href = attrs.get("href")
        if "field-error" in classes and attrs.get("id", "").endswith("-error") and self.in_main and not self.skip:
            self.error_id, self.error_text = attrs["id"], []
        if tag == "form" and attrs.get("method", "get").lower() == "post":
            action = attrs.get("action") or attrs.get("hx-post") or ""
            self.form = Form(action=action, htmx="hx-post" in attrs and "action" not in attrs)
            self.page.forms.append(self.form)
            if "hx-post" in attrs and "action" in attrs and attrs["hx-post"] != attrs["action"]:
                self.page.forms.append(Form(action=attrs["hx-post"], htmx=True, controls=self.form.controls))
        if self.form is None:
            return
        if "hx-post" in attrs and tag != "form":  # a live preview posted from inside the form
            self.page.forms.append(Form(action=attrs["hx-post"], htmx=True, controls=self.form.controls))
        if tag == "input" and "name" in attrs:
            kind = attrs.get("type", "text").lower()
            numeric = kind == "number" or attrs.get("inputmode") in ("numeric", "decimal")
            self.form.controls.append(
                Control(
                    attrs["name"],
                    kind,
                    attrs.get("value", ""),
                    checked="checked" in attrs,
                    numeric=numeric,
                    required="required" in attrs,
                )
            )
        elif tag == "button" and attrs.get("type", "submit") == "submit" and "name" in attrs:
            control = Control(attrs["name"], "submit", attrs.get("value", ""), primary="button" in classes)
            self.form.controls.append(control)
        elif tag == "textarea":
            self.control = Control(attrs.get("name", ""), "textarea", "", required="required" in attrs)
            self.form.controls.append(self.control)
        elif tag == "select":
            self.control = Control(attrs.get("name", ""), "select", "")
            self.form.controls.append(self.control)
        elif tag == "option" and self.control is not None:
            self.option = attrs.get("value", "")
            self.control.options.append(self.option)
            if "selected" in attrs:
                self.control.selected = self.option

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        if tag in ("select", "textarea"):
            if self.control is not None and self.control.kind == "textarea":
                self.control.value = self.control.value.removeprefix("\n")
            self.control = None
        if tag == "option":
            self.option = None
        if tag == "title":
            self.in_title = False
        if tag == "main":
            self.in_main = False
        if tag == "li" and self.summary_item is not None:
            self.page.summary.append((self.summary_href, " ".join("".join(self.summary_item).split())))
            self.summary_item = None
        if tag == "div" and self.in_summary and len(self.stack) == self.summary_level:
            self.in_summary = False
        if tag == "p" and self.error_id is not None:
            message = " ".join("".join(self.error_text).split())
            self.page.field_errors[self.error_id] = message.split(":", 1)[1].strip() if ":" in message else message
            self.error_id = None
        if self.stack and tag in self.stack:
            while self.stack:
                closed = self.stack.pop()
                if self.skip:
                    self.skip -= 1
                if closed == tag:
                    break

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.page.title += data
        if self.control is not None and self.control.kind == "textarea":
            self.control.value += data
        if self.skip:
            return
        if self.summary_item is not None:
            self.summary_item.append(data)
        if self.error_id is not None:
            self.error_text.append(data)
        if data.strip() and self.in_main:
            self.page.text.append(data.strip())


def read(html: str, *, fragment: bool = False) -> Page:
    reader = _Reader()
    reader.in_main = fragment  # an HTMX fragment is all main content
    reader.feed(html)
    return reader.page


# --- the forms of the app --------------------------------------------------------------------------


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", r"[^/]+", re.escape(path)) + "$")


def _role(route: str) -> str:
    """Who fills the form in: the administrator for the program's and their own pages, else the facilitator."""
    return "admin" if route.startswith(("/admin", "/account")) or "legal-hold" in route else "facilitator"


def _staff_routes(world: World, method: str) -> list[str]:
    return [
        path
        for m, path in app_routes(world.app)
        if m == method and not path.startswith(("/api/", "/portal", "/static")) and "{path}" not in path
    ]


def _form_routes() -> list[str]:
    from app.main import create_app

    return [
        path
        for method, path in app_routes(create_app())
        if method == "POST" and not path.startswith(("/api/", "/portal")) and path not in NO_FORM
    ]


def _page_urls(world: World, path: str) -> list[str]:
    """A page's address in the world; a participant's page also for the responsible party (the acknowledgement)."""
    urls = [world.url(path)]
    if "{participant_id}" in path:
        urls.append(world.url(path, participant_id=world.params["responsible_id"]))
    return urls


@dataclass
class Found:
    page: str
    form: Form


@pytest.fixture(scope="module")
def world(engine) -> Iterator[World]:  # type: ignore[no-untyped-def]
    yield from build_world(engine)


@pytest.fixture(scope="module")
def forms(world: World) -> dict[tuple[str, str], list[Found]]:
    """Every POST form of every staff page, by who fills it in and the route it posts to."""
    routes = {path: _pattern(path) for path in _staff_routes(world, "POST")}
    found: dict[tuple[str, str], list[Found]] = {}
    for path in _staff_routes(world, "GET"):
        if path.endswith((".csv", ".pdf", ".ics")) or path in ("/", "/login") or path.startswith(("/setup", "/invite")):
            continue
        # Each page as the person who fills its forms in; the case page also as the administrator (legal hold).
        for role in {_role(path), "admin" if path == "/cases/{case_id}" else _role(path)}:
            for url in _page_urls(world, path):
                with world.rolled_back():
                    response = _request(world, role, "GET", url)
                if response.status_code != 200 or "text/html" not in response.headers.get("content-type", ""):
                    continue
                for form in read(response.text).forms:
                    for route, pattern in routes.items():
                        if pattern.match(form.action.split("?")[0]):
                            found.setdefault((role, route), []).append(Found(url, form))
    return found


def _request(world: World, role: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    client = world.clients[role]
    client.cookies.clear()
    for name, value in world.cookies[role].items():
        client.cookies.set(name, value)
    return client.request(method, url, follow_redirects=False, **kwargs)


# --- filling a form in ----------------------------------------------------------------------------


def as_the_page_has_it(form: Form) -> list[tuple[str, str]]:
    """What the browser sends for an untouched form, pressing its main button."""
    data: list[tuple[str, str]] = []
    submits = [c for c in form.controls if c.kind == "submit"]
    pressed = next((c for c in submits if c.primary), submits[0] if submits else None)
    for c in form.controls:
        if c.kind in ("radio", "checkbox"):
            if c.checked:
                data.append((c.name, c.value))
        elif c.kind == "select":
            data.append((c.name, c.selected if c.selected is not None else (c.options[0] if c.options else "")))
        elif c.kind == "submit":
            if c is pressed:
                data.append((c.name, c.value))
        elif c.kind != "file":
            data.append((c.name, c.value))
    return data


def filled(form: Form, variant: str) -> list[tuple[str, str]]:
    """The form as `variant` fills it: "empty", "wrong" (what cannot be read) or "out_of_range"."""
    kinds = {c.name: c for c in form.controls}
    radios_done: set[str] = set()
    data: list[tuple[str, str]] = []
    for name, value in as_the_page_has_it(form):
        c = kinds[name]
        if c.kind in ("hidden", "submit") or name == "csrf_token":
            data.append((name, value))
        elif variant == "empty":
            if c.kind in ("radio", "checkbox"):
                continue
            data.append((name, "" if c.kind != "select" or "" in c.options else value))
        else:
            data.append((name, _wrong(c, value) if variant == "wrong" else _out_of_range(c, value)))
        radios_done.add(name)
    if variant != "empty":  # a choice the page left open is made, so the typed answers are what is wrong
        for c in form.controls:
            if c.kind == "radio" and c.name not in radios_done and c.value:
                data.append((c.name, c.value))
                radios_done.add(c.name)
            if c.kind == "select" and not dict(data).get(c.name):
                chosen = next((o for o in c.options if o), "")
                data = [(n, chosen if n == c.name else v) for n, v in data]
    return data


def _wrong(c: Control, value: str) -> str:
    if c.numeric:
        return WRONG_NUMBER
    return {
        "date": WRONG_DATE,
        "datetime-local": WRONG_DATETIME,
        "time": WRONG_TIME,
        "email": "not an address",
    }.get(c.kind, "x" * LONG if c.kind in TEXT_TYPES else value)


def _out_of_range(c: Control, value: str) -> str:
    if c.numeric:
        return LOW_NUMBER
    return {"date": PAST_DATE, "datetime-local": PAST_DATETIME}.get(c.kind, value)


# --- the test ----------------------------------------------------------------------------------------


def problems_in(page: Page, sent: list[tuple[str, str]], action: str, *, whole_page: bool) -> list[str]:
    """What a person would notice is wrong with a page (or an HTMX fragment) that answers a form."""
    problems = []
    messages = [message for _href, message in page.summary] + list(page.field_errors.values())
    for message in messages:
        if any(p.match(message) for p in GENERIC):
            problems.append(f"a message that fits any field: {message!r}")
    for text in messages or page.text:  # an answer without errors beside fields (a refusal, a fragment): all of it
        if any(raw in text for raw in RAW):
            problems.append(f"pydantic's own words: {text!r}")
        if codes := SNAKE_CASE.findall(text):
            problems.append(f"an internal code {codes} in {text[:120]!r}")
    linked = [href.removeprefix("#") for href, _m in page.summary if href and href.removeprefix("#") in page.ids]
    if whole_page and linked != sorted(linked, key=page.ids.index):
        problems.append(f"the error summary is not in the order of the fields on the page: {linked}")
    seen: dict[str, str | None] = {}
    for href, message in page.summary:
        if message in seen and seen[message] != href:
            problems.append(f"the summary says {message!r} for several fields")
        seen[message] = href
        if whole_page and href is not None and href.removeprefix("#") not in page.ids:
            problems.append(f"the summary link {href} ({message!r}) leads to no field")
    summary_messages = {m for _h, m in page.summary}
    for element, message in page.field_errors.items():
        if whole_page and message not in summary_messages:
            problems.append(f"the error beside {element} ({message!r}) is not in the error summary")
    if whole_page and page.field_errors and not page.title.strip().startswith(("Error:", "Error :")):
        problems.append(f"the title does not start with 'Error:': {page.title.strip()!r}")
    if whole_page and page.summary:
        problems += _lost(page, sent, action)
    return problems


def _lost(page: Page, sent: list[tuple[str, str]], action: str) -> list[str]:
    """Typed values the page no longer shows in its form."""
    form = next((f for f in page.forms if f.action == action and not f.htmx), None)
    if form is None:
        return [f"the form to {action} is not on the page any more"]
    shown = _grouped(as_the_page_has_it(form))
    kinds = {c.name: c.kind for c in form.controls}
    lost = []
    for name, values in _grouped(sent).items():
        if kinds.get(name) in (None, "hidden", "submit", "password", "file") or not any(v.strip() for v in values):
            continue
        if [v.strip() for v in shown.get(name, [])] != [v.strip() for v in values]:
            now = shown.get(name, [""])
            lost.append(f"{name} lost what was typed ({values[0][:20]!r} is now {now[0][:20] if now else ''!r})")
    return lost


def _typed(form: Form) -> list[str]:
    """The fields the wrong variant fills with what cannot be right (too long, letters for a number...)."""
    return [c.name for c in form.controls if c.numeric or c.kind in TEXT_TYPES | {"date", "datetime-local", "time"}]


def _required_and_emptied(form: Form) -> list[str]:
    """The text fields the page marks required that the empty variant emptied (it keeps hidden values)."""
    return [c.name for c in form.controls if c.required and c.kind in TEXT_TYPES | {"number", "date", "time"}]


def _grouped(data: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in data:
        grouped.setdefault(name, []).append(value)
    return grouped


def _submit(world: World, route: str, found: Found, variant: str, language: str) -> tuple[Form, list, httpx.Response]:
    """Fill the form in as `variant` says and send it; anything it writes is rolled back."""
    role = _role(route)
    with world.rolled_back():
        form = found.form
        if route in PREPARE:
            page, prepare = PREPARE[route]
            prepare(world)
            html = _request(world, role, "GET", world.url(page)).text
            form = next(f for f in read(html).forms if _pattern(route).match(f.action) and f.htmx == form.htmx)
        data = filled(form, variant)
        headers = {"Accept-Language": language} | ({"HX-Request": "true"} if form.htmx else {})
        return form, data, _request(world, role, "POST", form.action, data=_grouped(data), headers=headers)


def _where(world: World, forms: dict[tuple[str, str], list[Found]], route: str) -> Found | None:
    if route not in PREPARE:
        found = forms.get((_role(route), route)) or []
        return found[0] if found else None
    page, prepare = PREPARE[route]
    with world.rolled_back():
        prepare(world)
        html = _request(world, _role(route), "GET", world.url(page)).text
    form = next((f for f in read(html).forms if _pattern(route).match(f.action)), None)
    return Found(world.url(page), form) if form else None


@pytest.mark.parametrize("route", _form_routes())
def test_every_staff_form_says_what_to_do_and_keeps_what_was_typed(
    world: World, forms: dict[tuple[str, str], list[Found]], route: str
) -> None:
    where = _where(world, forms, route)
    assert where, f"no staff page shows a form that posts to {route}: add it to PREPARE, or to NO_FORM with why"
    problems: list[str] = []
    english: dict[str, dict[str | None, str]] = {}
    for language in ("en", "es"):
        for variant in VARIANTS:
            form, data, response = _submit(world, route, where, variant, language)
            label = f"{variant} ({language}, {response.status_code})"
            if response.status_code >= 500:
                problems.append(f"{label}: a server error")
                continue
            if response.status_code in (302, 303) or "HX-Redirect" in response.headers:
                if variant == "empty" and (emptied := _required_and_emptied(form)):
                    problems.append(f"{label}: {emptied} emptied, which the page marks required, and it was saved")
                if variant == "wrong" and (typed := _typed(form)):
                    problems.append(f"{label}: {typed} could not be read or were too long, and it was saved")
                continue
            page = read(response.text, fragment=form.htmx)
            problems += [f"{label}: {p}" for p in problems_in(page, data, form.action, whole_page=not form.htmx)]
            by_field = {href: message for href, message in page.summary} | page.field_errors
            if language == "en":
                english[variant] = by_field
            else:
                problems += [
                    f"{label}: still in English: {message!r}"
                    for key, message in by_field.items()
                    if english.get(variant, {}).get(key) == message
                ]
    assert problems == [], f"POST {route} (from {where.page})\n  " + "\n  ".join(problems)


def test_every_route_without_a_form_is_still_a_route() -> None:
    from app.main import create_app

    assert set(NO_FORM) <= {path for _m, path in app_routes(create_app())}
