"""Security headers and cookies, on every page: each GET route of the app (from its router, as a role the
authorization table lets see it), the portal pages as a participant, the sign-in page anonymously,
static files and error pages; over plain http and over https.

Every response: a Content-Security-Policy without 'unsafe-inline' or 'unsafe-eval' (default-src and
script-src 'self', frame-ancestors 'none'), X-Frame-Options DENY, X-Content-Type-Options nosniff, a
Referrer-Policy that sends no path; Cache-Control no-store on everything but static files (case pages,
portal pages, API reads, PDFs and CSV all hold confidential data); Strict-Transport-Security over https
only. HTML pages carry no inline script, event handler or style attribute, so the policy needs no
'unsafe-inline'. The session, portal, CSRF and flash cookies: HttpOnly, SameSite, Path=/, no Domain,
Secure over https, and a bounded lifetime."""

import re
from http.cookies import SimpleCookie

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.config import get_settings
from tests.factories import PASSWORD
from tests.route_world import ROLES, World, app_on, build_world
from tests.test_authorization_matrix import TABLE, _routes

HSTS_MIN_SECONDS = 180 * 24 * 3600
NO_PATH_REFERRERS = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin", "origin"}
# Who looks at each page: the first of these the authorization table lets in (200).
VIEWERS = ("admin", "facilitator", "survivor", "anonymous")
INLINE = [
    (re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<[^>]+\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"<[^>]+\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I), "a javascript: URL"),
]


@pytest.fixture(scope="module")
def world(engine):  # type: ignore[no-untyped-def]
    yield from build_world(engine)


def _viewer(method: str, path: str) -> str:
    """The first of VIEWERS the table lets see the page (200), else the first it lets through at all
    (a page that redirects onwards), else anonymous."""
    cells = dict(zip(ROLES, TABLE[(method, path)], strict=True))
    for allowed in ("ok", "w"):
        if role := next((role for role in VIEWERS if cells[role] == allowed), None):
            return role
    return "anonymous"


PAGES = [(method, path) for method, path in _routes() if method == "GET"]


def _directives(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


def header_problems(response: httpx.Response, *, https: bool) -> list[str]:
    """What is wrong with the security headers of one response."""
    headers = response.headers
    problems: list[str] = []
    policy = headers.get("content-security-policy")
    if policy is None:
        problems.append("no Content-Security-Policy")
    else:
        directives = _directives(policy)
        for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'"):
            if unsafe in policy:
                problems.append(f"the CSP allows {unsafe}")
        if directives.get("default-src") != ["'self'"] and directives.get("default-src") != ["'none'"]:
            problems.append(f"CSP default-src is {directives.get('default-src')}")
        if directives.get("script-src", directives.get("default-src")) != ["'self'"]:
            problems.append(f"CSP script-src is {directives.get('script-src')}")
        if directives.get("frame-ancestors") != ["'none'"]:
            problems.append(f"CSP frame-ancestors is {directives.get('frame-ancestors')}")
        if directives.get("object-src") != ["'none'"]:
            problems.append("CSP object-src is not 'none'")
    if headers.get("x-frame-options", "").upper() != "DENY":
        problems.append(f"X-Frame-Options is {headers.get('x-frame-options')}")
    if headers.get("x-content-type-options", "").lower() != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if headers.get("referrer-policy", "").lower() not in NO_PATH_REFERRERS:
        problems.append(f"Referrer-Policy is {headers.get('referrer-policy')}")
    static = response.request.url.path.startswith("/static/")
    if not static and "no-store" not in headers.get("cache-control", ""):
        problems.append(f"Cache-Control is {headers.get('cache-control')}, not no-store")
    hsts = headers.get("strict-transport-security")
    if https:
        match = re.match(r"max-age=(\d+)", hsts or "")
        if not match or int(match.group(1)) < HSTS_MIN_SECONDS:
            problems.append(f"over https, Strict-Transport-Security is {hsts}")
    elif hsts is not None:
        problems.append("Strict-Transport-Security over plain http")
    if response.status_code == 200 and headers.get("content-type", "").startswith("text/html"):
        for pattern, what in INLINE:
            if found := pattern.search(response.text):
                problems.append(f"the page has {what}: {found.group(0)[:80]}")
    return problems


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_every_page_sends_the_security_headers(world: World, scheme: str) -> None:
    assert len(PAGES) > 80
    wrong: list[str] = []
    for method, path in PAGES:
        role = _viewer(method, path)
        overrides = {"participant_id": world.params["responsible_id"]} if "acknowledgement" in path else {}
        response = world.call(role, method, path, scheme=scheme, **overrides)
        if TABLE[(method, path)][ROLES.index(role)] == "ok":
            assert response.status_code == 200, f"{method} {path} as {role}: {response.status_code}"
        wrong += [
            f"{method} {path} ({role}): {problem}" for problem in header_problems(response, https=scheme == "https")
        ]
    assert wrong == []


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_error_pages_redirects_and_refusals_send_them_too(world: World, scheme: str) -> None:
    calls = [
        ("anonymous", "GET", "/no-such-page", 404),
        ("admin", "GET", "/no-such-page", 404),
        ("anonymous", "GET", "/api/v1/no-such-thing", 404),
        ("anonymous", "GET", "/static/no-such-file.css", 404),
        ("admin", "DELETE", "/cases", 405),
        ("admin", "PUT", "/api/v1/cases", 405),
        ("admin", "GET", "/cases/999999", 404),
        ("unassigned", "GET", "/api/v1/cases/{case_id}", 404),
        ("staff", "GET", "/cases/{case_id}/safety", 403),
        ("anonymous", "GET", "/cases/{case_id}", 303),
        ("anonymous", "GET", "/api/v1/cases/{case_id}", 401),
        ("anonymous", "GET", "/portal", 303),
        ("survivor", "GET", "/cases", 303),
        ("admin", "GET", "/cases/{case_id}/sessions/abc", 422),
    ]
    wrong: list[str] = []
    for role, method, path, status in calls:
        response = world.call(role, method, path, scheme=scheme)
        assert response.status_code == status, f"{method} {path} as {role}: {response.status_code}"
        wrong += [f"{method} {path} ({role}): {p}" for p in header_problems(response, https=scheme == "https")]
    assert wrong == []


def _cookie(response: httpx.Response, name: str) -> tuple[str, dict[str, str]]:
    """The raw Set-Cookie header for `name` and its attributes (lower-case names)."""
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            morsel = jar[name]
            return header, {key: str(value) for key, value in morsel.items() if value not in ("", False)}
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


def cookie_problems(response: httpx.Response, name: str, *, https: bool, max_hours: int | None) -> list[str]:
    header, attributes = _cookie(response, name)
    problems = []
    if "httponly" not in attributes:
        problems.append("not HttpOnly")
    if attributes.get("samesite", "").lower() not in ("lax", "strict"):
        problems.append(f"SameSite is {attributes.get('samesite')}")
    if attributes.get("path") != "/":
        problems.append(f"Path is {attributes.get('path')}")
    if "domain" in attributes:
        problems.append(f"it has a Domain ({attributes['domain']})")
    if https and "secure" not in attributes:
        problems.append("not Secure over https")
    if not https and "secure" in attributes:
        problems.append("Secure over plain http (the browser would drop it)")
    if max_hours is None:
        if "max-age" in attributes or "expires" in attributes:
            problems.append("it outlives the browser session")
    elif not 0 < int(attributes.get("max-age", "0")) <= max_hours * 3600:
        problems.append(f"Max-Age is {attributes.get('max-age')}")
    return [f"{name}: {problem} ({header})" for problem in problems]


def _sign_in(world: World, scheme: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return world.call(
        "anonymous",
        "POST",
        "/login",
        body={"email": world.params["admin_email"], "password": PASSWORD},
        scheme=scheme,
        headers=headers,
    )


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_cookies_are_http_only_same_site_host_only_and_secure_over_https(world: World, scheme: str) -> None:
    https = scheme == "https"
    signed_in = _sign_in(world, scheme)
    assert signed_in.status_code == 303, signed_in.text
    entered = world.call("anonymous", "POST", "/portal/enter/{token}", scheme=scheme)
    assert entered.status_code == 303 and entered.headers["location"] == "/portal", entered.text
    fresh = TestClient(world.app, raise_server_exceptions=False)
    with world.rolled_back():
        first_visit = fresh.get(f"{scheme}://testserver/login")
    opened = world.call(
        "facilitator",
        "POST",
        "/cases",
        body={"harm_type": "labour_trafficking", "referral_source": "court"},
        scheme=scheme,
    )
    assert opened.status_code == 303, opened.text
    problems = (
        cookie_problems(signed_in, "mend_session", https=https, max_hours=24)
        + cookie_problems(entered, "mend_portal", https=https, max_hours=None)
        + cookie_problems(first_visit, "mend_csrf", https=https, max_hours=None)
        + cookie_problems(opened, "mend_flash", https=https, max_hours=1)
    )
    assert problems == []


def test_behind_a_proxy_that_says_https_the_headers_and_cookies_are_those_of_https(world: World) -> None:
    """`mend serve` runs uvicorn with proxy headers: a TLS-terminating proxy's X-Forwarded-Proto counts."""
    proxied = TestClient(ProxyHeadersMiddleware(world.app, trusted_hosts="*"), raise_server_exceptions=False)  # type: ignore[arg-type]
    world.clients["proxied"] = proxied
    world.cookies["proxied"] = world.cookies["anonymous"]
    proxied.csrf_token = world.clients["anonymous"].csrf_token  # type: ignore[attr-defined]
    proxied.headers.update(world.clients["anonymous"].headers)
    try:
        signed_in = world.call(
            "proxied",
            "POST",
            "/login",
            body={"email": world.params["admin_email"], "password": PASSWORD},
            headers={"X-Forwarded-Proto": "https"},
        )
        page = world.call("proxied", "GET", "/login", headers={"X-Forwarded-Proto": "https"})
    finally:
        del world.clients["proxied"], world.cookies["proxied"]
    assert signed_in.status_code == 303, signed_in.text
    assert cookie_problems(signed_in, "mend_session", https=True, max_hours=24) == []
    assert header_problems(page, https=True) == []


def test_with_an_https_base_url_cookies_are_secure_even_when_the_proxy_does_not_say_so(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEND_BASE_URL", "https://mend.example.org")
    get_settings.cache_clear()
    try:
        configured = app_on(world.db)
        for role in ("anonymous", "facilitator"):
            client = TestClient(configured, raise_server_exceptions=False)
            client.headers.update(world.clients[role].headers)
            client.csrf_token = world.clients[role].csrf_token  # type: ignore[attr-defined]
            world.clients[f"configured {role}"] = client
            world.cookies[f"configured {role}"] = world.cookies[role]
        signed_in = world.call(
            "configured anonymous", "POST", "/login", body={"email": world.params["admin_email"], "password": PASSWORD}
        )
        entered = world.call("configured anonymous", "POST", "/portal/enter/{token}")
        page = world.call("configured anonymous", "GET", "/login")
        opened = world.call(
            "configured facilitator",
            "POST",
            "/cases",
            body={"harm_type": "labour_trafficking", "referral_source": "court"},
        )
    finally:
        monkeypatch.delenv("MEND_BASE_URL")
        get_settings.cache_clear()
        for role in ("anonymous", "facilitator"):
            world.clients.pop(f"configured {role}", None)
            world.cookies.pop(f"configured {role}", None)
    assert cookie_problems(signed_in, "mend_session", https=True, max_hours=24) == []
    assert cookie_problems(entered, "mend_portal", https=True, max_hours=None) == []
    assert cookie_problems(opened, "mend_flash", https=True, max_hours=1) == []
    assert "strict-transport-security" in page.headers
