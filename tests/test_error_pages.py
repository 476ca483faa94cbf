"""Refusals on staff pages, served by `mend serve` started as in production.

The test client's world rolls back to a SAVEPOINT and keeps every row bound to its session; a real
server closes the request's session after rolling it back, which is when an error page used to
fail (a bare 500 without the security headers). So these requests go to a real process.
"""

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2 as httpx
import pytest
from sqlmodel import Session

from app.auth.models import UserRole
from app.auth.service import start_session
from app.conferences.models import ParticipantRole
from app.db import make_engine
from app.security import SECURITY_HEADERS
from tests.conftest import TEST_DATABASE_URL
from tests.factories import csrf_pair, make_case, make_participant, make_program, make_user
from tests.live_server import MendServer, run_mend
from tests.support import scratch_database


@dataclass(frozen=True)
class World:
    server: MendServer
    case_id: int
    survivor_id: int
    sessions: dict[str, str]  # who -> session cookie


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with scratch_database(TEST_DATABASE_URL, tmp_path_factory.mktemp("error-pages")) as url:
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            program = make_program(session, "Harbour Program", timezone="Europe/Madrid")
            elsewhere = make_program(session, "Other Program")
            users = {
                "admin": make_user(session, program, UserRole.admin, "Ada Admin"),
                "assigned": make_user(session, program, UserRole.facilitator, "Fran Facilitator"),
                "unassigned": make_user(session, program, UserRole.facilitator, "Una Unassigned"),
                "staff": make_user(session, program, UserRole.staff, "Sam Staff"),
                "other_admin": make_user(session, elsewhere, UserRole.admin, "Otto Other"),
            }
            case = make_case(session, users["assigned"])
            survivor = make_participant(session, users["assigned"], case, ParticipantRole.survivor)
            sessions = {who: start_session(session, user=user) for who, user in users.items()}
            session.commit()
            case_id, survivor_id = case.id, survivor.id
        engine.dispose()
        with run_mend(url, expect_setup_link=False, environment="production") as server:
            yield World(server, case_id, survivor_id, sessions)  # type: ignore[arg-type]


def _client(world: World, who: str | None, language: str = "en") -> httpx.Client:
    binding, token = csrf_pair()
    cookies = {"mend_csrf": binding} | ({"mend_session": world.sessions[who]} if who else {})
    return httpx.Client(
        base_url=world.server.base_url,
        cookies=cookies,
        headers={"Accept-Language": language, "X-CSRF-Token": token},
        follow_redirects=False,
        timeout=20,
    )


def _assert_page(response: httpx.Response, status: int, *texts: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert response.headers["cache-control"] == "no-store"
    for text in texts:
        assert text in response.text


REFUSALS = [
    pytest.param("admin", "GET", "/cases/99999", 404, ("Not found", "No encontrado"), id="404-unknown-case"),
    pytest.param("unassigned", "GET", "/cases/{case}", 404, ("Not found", "No encontrado"), id="404-unassigned"),
    pytest.param(
        "other_admin", "GET", "/cases/{case}/safety", 404, ("Not found", "No encontrado"), id="404-other-program"
    ),
    pytest.param("staff", "GET", "/admin/users", 403, ("Not allowed", "No permitido"), id="403-staff-on-users"),
    pytest.param(
        "admin",
        "GET",
        "/cases/abc",
        422,
        ("The request was not understood", "No se entendió la solicitud"),
        id="422-not-a-number",
    ),
    pytest.param(
        "assigned",
        "POST",
        "/cases/{case}/participants/{survivor}/consents/conference/withdraw",
        409,
        ("Conflict with the current state", "Conflicto con el estado actual"),
        id="409-withdraw-what-was-not-given",
    ),
]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("who", "method", "path", "status", "titles"), REFUSALS)
def test_a_refused_page_is_a_full_page_in_the_users_language_with_the_security_headers(
    world: World, who: str, method: str, path: str, status: int, titles: tuple[str, str], language: str
) -> None:
    mark = len(world.server.lines)
    address = path.format(case=world.case_id, survivor=world.survivor_id)
    with _client(world, who, language) as client:
        response = client.request(method, address)
    _assert_page(response, status, f'lang="{language}"', titles[0] if language == "en" else titles[1])
    assert "Traceback" not in world.server.output_since(mark)


def test_a_signed_out_page_sends_the_person_to_sign_in(world: World) -> None:
    with _client(world, None) as client:
        response = client.get(f"/cases/{world.case_id}")
    assert response.status_code == 303 and response.headers["location"] == f"/login?next=/cases/{world.case_id}"


def test_a_signed_out_api_request_is_a_401_problem_with_the_security_headers(world: World) -> None:
    with _client(world, None) as client:
        response = client.get("/api/v1/cases")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


def test_the_signed_in_shell_still_names_the_user_on_an_error_page(world: World) -> None:
    with _client(world, "admin") as client:
        response = client.get("/cases/99999")
    _assert_page(response, 404, "Ada Admin")


def _raw_request(world: World, head: str, body: bytes = b"") -> bytes:
    """Send a request by hand (headers, then whatever body is given) and read what comes back."""
    host, port = world.server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_a_body_declared_over_the_limit_is_refused_before_it_is_sent(world: World) -> None:
    started = time.monotonic()
    answer = _raw_request(
        world,
        "POST /api/v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {500 * 1024 * 1024}\r\n",
    )  # anonymous, and not one byte of the 500 MB follows
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"application/problem+json" in answer and b"x-content-type-options: nosniff" in answer.lower()
    assert time.monotonic() - started < 5


def test_a_streamed_body_is_refused_once_it_passes_the_limit(world: World) -> None:
    chunk = b"x" * 65536
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20))  # 1.25 MiB, no length given
    answer = _raw_request(
        world,
        "POST /api/v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n",
        chunked,
    )
    assert answer.startswith(b"HTTP/1.1 413 ")


@pytest.mark.parametrize(("language", "title"), [("en", "Too much was sent"), ("es", "Se envió demasiado")])
def test_a_form_over_the_limit_is_a_413_page_in_the_users_language(world: World, language: str, title: str) -> None:
    with _client(world, "assigned", language) as client:
        response = client.post(f"/cases/{world.case_id}/edit", data={"notes": "x" * (1024 * 1024 + 1)})
    _assert_page(response, 413, f'lang="{language}"', title)
