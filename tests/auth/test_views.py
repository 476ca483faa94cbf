"""Sign-in, sign-out, session expiry, setup link and CSRF, through the pages."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth import service
from app.auth.models import AuthSession, User, UserRole
from app.auth.schemas import AccessTokenCreate
from app.auth.service import actor_for, issue_access_token
from app.db import utcnow
from app.security import token_digest
from tests.factories import PASSWORD, csrf_pair, make_user


def _browser(app) -> TestClient:
    """A client that behaves like a browser: it picks up the CSRF cookie from a first page view."""
    client = TestClient(app, raise_server_exceptions=False)
    client.get("/login")
    return client


def _csrf(client: TestClient) -> str:
    from app.security import csrf_token_for

    return csrf_token_for(client.cookies.get("mend_csrf"))


def _sign_in(client: TestClient, email: str, password: str = PASSWORD):
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": _csrf(client)}, follow_redirects=False
    )


def test_sign_in_sets_an_httponly_lax_session_cookie_and_lands_on_cases(app, facilitator: User) -> None:
    client = _browser(app)
    response = _sign_in(client, facilitator.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/cases"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("mend_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/cases").status_code == 200


def test_sign_in_issues_a_new_session_id_each_time(app, db: Session, facilitator: User) -> None:
    client = _browser(app)
    first = _sign_in(client, facilitator.email).cookies.get("mend_session")
    second = _sign_in(client, facilitator.email).cookies.get("mend_session")
    assert first and second and first != second


def test_wrong_password_and_unknown_email_get_the_same_answer(app, facilitator: User) -> None:
    client = _browser(app)
    wrong = _sign_in(client, facilitator.email, "not the password at all")
    unknown = _sign_in(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert service.SIGN_IN_FAILED in wrong.text and service.SIGN_IN_FAILED in unknown.text
    assert "mend_session" not in wrong.cookies


def test_repeated_failures_are_throttled_even_with_the_right_password(app, facilitator: User) -> None:
    client = _browser(app)
    for _ in range(5):
        assert _sign_in(client, facilitator.email, "wrong password here").status_code == 401
    throttled = _sign_in(client, facilitator.email)
    assert throttled.status_code == 401
    assert "Too many unsuccessful attempts" in throttled.text
    assert "mend_session" not in throttled.cookies


def test_throttling_an_unknown_email_looks_the_same_as_a_known_one(app, facilitator: User) -> None:
    client = _browser(app)
    for _ in range(5):
        _sign_in(client, "ghost@example.org", "wrong password here")
        _sign_in(client, facilitator.email, "wrong password here")
    assert "Too many unsuccessful attempts" in _sign_in(client, "ghost@example.org", "x" * 12).text
    assert "Too many unsuccessful attempts" in _sign_in(client, facilitator.email, "x" * 12).text


def test_sign_out_revokes_the_session_on_the_server(app, db: Session, facilitator: User) -> None:
    client = _browser(app)
    token = _sign_in(client, facilitator.email).cookies.get("mend_session")
    response = client.post("/logout", data={"csrf_token": _csrf(client)}, follow_redirects=False)
    assert response.status_code == 303
    record = db.exec(select(AuthSession).where(AuthSession.token_hash == token_digest(token))).one()
    assert record.revoked_at is not None
    replay = TestClient(app, raise_server_exceptions=False)
    replay.cookies.set("mend_session", token)
    assert replay.get("/cases", follow_redirects=False).headers["location"] == "/login?next=/cases"


def test_session_expires_after_30_idle_minutes(app, db: Session, facilitator: User) -> None:
    client = _browser(app)
    token = _sign_in(client, facilitator.email).cookies.get("mend_session")
    record = db.exec(select(AuthSession).where(AuthSession.token_hash == token_digest(token))).one()
    record.last_seen_at = utcnow() - timedelta(minutes=31)
    db.add(record)
    db.flush()
    assert client.get("/cases", follow_redirects=False).status_code == 303


def test_session_expires_after_12_hours_even_when_active(app, db: Session, facilitator: User) -> None:
    client = _browser(app)
    token = _sign_in(client, facilitator.email).cookies.get("mend_session")
    record = db.exec(select(AuthSession).where(AuthSession.token_hash == token_digest(token))).one()
    record.created_at = utcnow() - timedelta(hours=12, minutes=1)
    record.expires_at = utcnow() - timedelta(minutes=1)
    db.add(record)
    db.flush()
    assert client.get("/cases", follow_redirects=False).status_code == 303


def test_pages_warn_before_expiry_and_staying_signed_in_renews_the_idle_timer(
    app, db: Session, facilitator: User
) -> None:
    client = _browser(app)
    token = _sign_in(client, facilitator.email).cookies.get("mend_session")
    page = client.get("/cases")
    assert 'name="mend-session-seconds"' in page.text
    assert 'id="session-warning"' in page.text
    record = db.exec(select(AuthSession).where(AuthSession.token_hash == token_digest(token))).one()
    record.last_seen_at = utcnow() - timedelta(minutes=29)
    db.add(record)
    db.flush()
    renewed = client.post("/session/extend", headers={"X-CSRF-Token": _csrf(client)})
    assert renewed.status_code == 200
    assert renewed.json()["seconds_left"] > 29 * 60


def test_disabling_a_user_ends_their_sessions(app, db: Session, admin: User, facilitator: User) -> None:
    client = _browser(app)
    _sign_in(client, facilitator.email)
    assert client.get("/cases").status_code == 200
    admin_client = _browser(app)
    _sign_in(admin_client, admin.email)
    response = admin_client.post(
        f"/admin/users/{facilitator.id}",
        data={
            "full_name": facilitator.full_name,
            "role": "facilitator",
            "csrf_token": _csrf(admin_client),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.get("/cases", follow_redirects=False).status_code == 303
    assert _sign_in(client, facilitator.email).status_code == 401


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(app, db: Session, facilitator: User) -> None:
    client = _browser(app)
    _sign_in(client, facilitator.email)
    response = client.post("/cases", data={"harm_type": "labour_trafficking", "referral_source": "court"})
    assert response.status_code == 403
    assert "expired or did not come from Mend" in response.text
    forged = client.post(
        "/cases",
        data={
            "harm_type": "labour_trafficking",
            "referral_source": "court",
            "csrf_token": csrf_pair("another-browser-binding-000000000000")[1],
        },
    )
    assert forged.status_code == 403
    assert client.get("/api/v1/cases").json()["total"] == 0


def test_sign_in_form_itself_needs_the_csrf_token(app, facilitator: User) -> None:
    client = _browser(app)
    response = client.post("/login", data={"email": facilitator.email, "password": PASSWORD})
    assert response.status_code == 403


def test_get_requests_change_nothing(app, db: Session, facilitator: User) -> None:
    client = _browser(app)
    _sign_in(client, facilitator.email)
    assert client.get("/logout").status_code == 405
    assert client.get("/cases").status_code == 200


def test_first_admin_setup_link_works_once(app, db: Session) -> None:
    token = service.issue_setup_token(db)
    assert token is not None
    client = _browser(app)
    assert client.get(f"/setup/{token}").status_code == 200
    form = {
        "program_name": "Lakeside Program",
        "timezone": "Europe/Lisbon",
        "full_name": "Iris First",
        "email": "iris@example.org",
        "password": "quiet harbour lantern seven",
        "csrf_token": _csrf(client),
    }
    response = client.post(f"/setup/{token}", data=form, follow_redirects=False)
    assert response.status_code == 303
    admin = db.exec(select(User).where(User.email == "iris@example.org")).one()
    assert admin.role == UserRole.admin
    assert client.get("/admin/users").status_code == 200
    again = _browser(app)
    assert again.get(f"/setup/{token}").status_code == 404
    assert (
        again.post(f"/setup/{token}", data=form | {"csrf_token": _csrf(again), "email": "eve@example.org"}).status_code
        == 404
    )
    assert service.issue_setup_token(db) is None


def test_setup_form_errors_are_shown_beside_the_fields(app, db: Session) -> None:
    token = service.issue_setup_token(db)
    client = _browser(app)
    response = client.post(
        f"/setup/{token}",
        data={
            "program_name": "",
            "timezone": "Mars/Olympus",
            "full_name": "Iris",
            "email": "not-an-email",
            "password": "password1234",
            "csrf_token": _csrf(client),
        },
    )
    assert response.status_code == 422
    assert 'id="field-program_name-error"' in response.text
    assert 'id="field-timezone-error"' in response.text
    assert 'id="field-email-error"' in response.text
    assert "too common" in response.text
    assert service.setup_token_usable(db, token=token)


def test_outdated_password_hash_is_upgraded_at_sign_in(app, db: Session, program) -> None:
    from argon2 import PasswordHasher

    user = make_user(db, program, UserRole.staff, "Old Hash")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    db.add(user)
    db.flush()
    client = _browser(app)
    assert _sign_in(client, user.email).status_code == 303
    db.refresh(user)
    assert "m=19456,t=2,p=1" in user.password_hash


def test_changing_the_password_ends_other_sessions_and_needs_the_current_one(
    app, db: Session, facilitator: User
) -> None:
    laptop, phone = _browser(app), _browser(app)
    _sign_in(laptop, facilitator.email)
    _sign_in(phone, facilitator.email)
    wrong = laptop.post(
        "/account/password",
        data={"current_password": "not it at all", "password": "fresh meadow lantern", "csrf_token": _csrf(laptop)},
    )
    assert wrong.status_code == 422 and 'id="field-current_password-error"' in wrong.text
    changed = laptop.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": "fresh meadow lantern", "csrf_token": _csrf(laptop)},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert phone.get("/cases", follow_redirects=False).status_code == 303
    assert _sign_in(phone, facilitator.email, "fresh meadow lantern").status_code == 303


def test_the_tokens_page_shows_when_each_token_stops_working_and_which_have(
    as_facilitator: TestClient, db: Session, facilitator: User
) -> None:
    record, _ = issue_access_token(db, actor=actor_for(facilitator), data=AccessTokenCreate(name="old script"))
    record.expires_at = utcnow() - timedelta(days=1)
    db.add(record)
    db.commit()
    page = as_facilitator.get("/account/tokens").text
    assert "Works until" in page and "Expired" in page
    assert 'name="expires_in_days" value="90" checked' in page


def test_program_staff_land_on_monitoring_after_sign_in_and_from_the_home_address(app, staff: User) -> None:
    client = _browser(app)
    assert _sign_in(client, staff.email).headers["location"] == "/monitoring"
    assert client.get("/", follow_redirects=False).headers["location"] == "/monitoring"


def test_an_explicit_next_still_wins_over_the_staff_landing(app, staff: User) -> None:
    client = _browser(app)
    response = client.post(
        "/login",
        data={"email": staff.email, "password": PASSWORD, "csrf_token": _csrf(client), "next": "/cases"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/cases"


def test_facilitators_and_admins_keep_landing_on_cases(app, facilitator: User, admin: User) -> None:
    for user in (facilitator, admin):
        client = _browser(app)
        assert _sign_in(client, user.email).headers["location"] == "/cases"
        assert client.get("/", follow_redirects=False).headers["location"] == "/cases"
