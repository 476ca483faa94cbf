"""Personal access tokens, the signed-in account and CSRF, through the JSON API."""

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.auth.models import PersonalAccessToken, User, UserRole
from app.conferences.models import Case
from app.db import utcnow
from app.programs.models import Program
from app.security import token_digest
from tests.factories import PASSWORD, make_case, make_user, signed_in_client


def _create_token(client: TestClient, name: str = "reporting script", **extra: int) -> dict:
    response = client.post("/api/v1/tokens", json={"name": name, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _bearer(app, token: str) -> TestClient:
    """A client that holds no cookies at all: only the token, as a script would."""
    return TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"})


def _assert_unauthenticated(response) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


# --- creating and listing tokens -----------------------------------------------------------


def test_creating_a_token_shows_the_token_once_in_the_response(as_facilitator: TestClient) -> None:
    created = _create_token(as_facilitator)
    assert created["name"] == "reporting script"
    assert created["token"].startswith("mend_pat_")
    assert len(created["token"]) > 40
    assert created["token"].startswith(created["token_prefix"])
    assert created["revoked_at"] is None


def test_listing_tokens_never_contains_the_token_itself(as_facilitator: TestClient) -> None:
    created = _create_token(as_facilitator)
    response = as_facilitator.get("/api/v1/tokens")
    assert response.status_code == 200
    assert [t["id"] for t in response.json()] == [created["id"]]
    assert "token" not in response.json()[0]
    assert created["token"] not in response.text
    assert response.json()[0]["token_prefix"] == created["token_prefix"]


def test_the_database_keeps_only_the_sha256_of_a_token(as_facilitator: TestClient, db: Session) -> None:
    created = _create_token(as_facilitator)
    record = db.get(PersonalAccessToken, created["id"])
    assert record is not None
    assert record.token_hash == token_digest(created["token"])
    assert all(created["token"] not in str(value) for value in record.model_dump().values())
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "token.created")).all()
    assert events and all(created["token"] not in str(e.detail) for e in events)


def test_token_list_shows_only_your_own_tokens(as_facilitator: TestClient, as_admin: TestClient) -> None:
    _create_token(as_admin, "admin export")
    mine = _create_token(as_facilitator, "my script")
    assert [t["name"] for t in as_facilitator.get("/api/v1/tokens").json()] == ["my script"]
    assert mine["id"] not in [t["id"] for t in as_admin.get("/api/v1/tokens").json()]


def test_a_token_needs_a_name(as_facilitator: TestClient, db: Session) -> None:
    response = as_facilitator.post("/api/v1/tokens", json={"name": ""})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["name"]
    assert db.exec(select(PersonalAccessToken)).first() is None


# --- using a token -------------------------------------------------------------------------


def test_a_token_authenticates_me_without_any_cookie(app, as_facilitator: TestClient, facilitator: User) -> None:
    token = _create_token(as_facilitator)["token"]
    client = _bearer(app, token)
    assert not client.cookies
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["id"] == facilitator.id
    assert response.json()["email"] == facilitator.email
    assert "password_hash" not in response.json()


def test_a_token_lists_the_cases_its_owner_may_see(
    app, db: Session, as_facilitator: TestClient, facilitator: User, facilitator2: User
) -> None:
    mine = make_case(db, facilitator, reference="MINE-1")
    make_case(db, facilitator2, reference="THEIRS-1")
    client = _bearer(app, _create_token(as_facilitator)["token"])
    response = client.get("/api/v1/cases")
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["items"]] == [mine.id]


def test_a_token_can_change_state_without_a_csrf_token(app, db: Session, as_facilitator: TestClient) -> None:
    client = _bearer(app, _create_token(as_facilitator)["token"])
    client.cookies.clear()
    response = client.post("/api/v1/cases", json={"harm_type": "domestic_servitude", "referral_source": "ngo"})
    assert response.status_code == 201, response.text
    assert db.get(Case, response.json()["id"]) is not None


def test_using_a_token_records_when_it_was_last_used(app, db: Session, as_facilitator: TestClient) -> None:
    created = _create_token(as_facilitator)
    assert created["last_used_at"] is None
    _bearer(app, created["token"]).get("/api/v1/me")
    assert as_facilitator.get("/api/v1/tokens").json()[0]["last_used_at"] is not None


def test_an_unknown_token_is_refused_with_401(app) -> None:
    _assert_unauthenticated(_bearer(app, "mend_pat_" + "x" * 43).get("/api/v1/me"))


def test_a_session_id_is_not_accepted_as_a_bearer_token(app, db: Session, facilitator: User) -> None:
    from app.auth.service import start_session

    session_id = start_session(db, user=facilitator)
    _assert_unauthenticated(_bearer(app, session_id).get("/api/v1/me"))


def test_an_invalid_token_is_refused_even_beside_a_valid_session_cookie(as_facilitator: TestClient) -> None:
    response = as_facilitator.get("/api/v1/me", headers={"Authorization": "Bearer mend_pat_forged"})
    _assert_unauthenticated(response)


def test_no_credentials_at_all_gets_401_problem_details(anon: TestClient) -> None:
    response = anon.get("/api/v1/me")
    _assert_unauthenticated(response)
    assert response.json()["title"] == "Sign-in required"


def test_a_write_without_credentials_gets_401_not_a_csrf_refusal(anon: TestClient, db: Session) -> None:
    response = anon.post("/api/v1/cases", json={"harm_type": "domestic_servitude", "referral_source": "ngo"})
    _assert_unauthenticated(response)
    assert db.exec(select(Case)).first() is None


# --- revoking ------------------------------------------------------------------------------


def test_a_revoked_token_stops_working_at_once(app, as_facilitator: TestClient) -> None:
    created = _create_token(as_facilitator)
    client = _bearer(app, created["token"])
    assert client.get("/api/v1/me").status_code == 200
    assert as_facilitator.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    _assert_unauthenticated(client.get("/api/v1/me"))
    _assert_unauthenticated(client.get("/api/v1/cases"))


def test_a_revoked_token_stays_listed_with_its_revocation_time(as_facilitator: TestClient) -> None:
    created = _create_token(as_facilitator)
    as_facilitator.delete(f"/api/v1/tokens/{created['id']}")
    listed = as_facilitator.get("/api/v1/tokens").json()
    assert [t["id"] for t in listed] == [created["id"]]
    assert listed[0]["revoked_at"] is not None


def test_a_token_can_revoke_itself(app, as_facilitator: TestClient) -> None:
    created = _create_token(as_facilitator)
    client = _bearer(app, created["token"])
    assert client.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    _assert_unauthenticated(client.get("/api/v1/me"))


def test_another_users_token_cannot_be_revoked(app, as_facilitator: TestClient, as_admin: TestClient) -> None:
    theirs = _create_token(as_facilitator)
    response = as_admin.delete(f"/api/v1/tokens/{theirs['id']}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert _bearer(app, theirs["token"]).get("/api/v1/me").status_code == 200


def test_another_programs_token_cannot_be_revoked(app, as_facilitator: TestClient, as_other_admin: TestClient) -> None:
    theirs = _create_token(as_facilitator)
    assert as_other_admin.delete(f"/api/v1/tokens/{theirs['id']}").status_code == 404
    assert _bearer(app, theirs["token"]).get("/api/v1/me").status_code == 200


def test_revoking_an_unknown_token_is_404(as_facilitator: TestClient) -> None:
    assert as_facilitator.delete("/api/v1/tokens/987654").status_code == 404


def test_a_disabled_users_token_stops_working(
    app, as_facilitator: TestClient, as_admin: TestClient, facilitator: User
) -> None:
    client = _bearer(app, _create_token(as_facilitator)["token"])
    assert client.get("/api/v1/me").status_code == 200
    disabled = as_admin.patch(f"/api/v1/users/{facilitator.id}", json={"is_active": False})
    assert disabled.status_code == 200
    assert disabled.json()["is_active"] is False
    _assert_unauthenticated(client.get("/api/v1/me"))


def test_disabling_a_user_revokes_their_tokens_for_good(
    app, as_facilitator: TestClient, as_admin: TestClient, facilitator: User, db: Session
) -> None:
    created = _create_token(as_facilitator)
    client = _bearer(app, created["token"])
    as_admin.patch(f"/api/v1/users/{facilitator.id}", json={"is_active": False})
    as_admin.patch(f"/api/v1/users/{facilitator.id}", json={"is_active": True})
    _assert_unauthenticated(client.get("/api/v1/me"))  # re-enabling does not bring the old credentials back
    db.expire_all()
    assert db.get(PersonalAccessToken, created["id"]).revoked_at is not None


def test_changing_ones_password_revokes_every_token(app, as_facilitator: TestClient) -> None:
    clients = [_bearer(app, _create_token(as_facilitator)["token"]) for _ in range(2)]
    changed = as_facilitator.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "password": "fresh meadow lantern"}
    )
    assert changed.status_code == 204
    for client in clients:
        _assert_unauthenticated(client.get("/api/v1/me"))


def test_a_token_works_until_the_lifetime_chosen_at_creation(app, as_facilitator: TestClient, db: Session) -> None:
    created = _create_token(as_facilitator, expires_in_days=30)
    expires_at = datetime.fromisoformat(created["expires_at"])
    assert abs(expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)
    client = _bearer(app, created["token"])
    assert client.get("/api/v1/me").status_code == 200
    record = db.get(PersonalAccessToken, created["id"])
    record.expires_at = utcnow() - timedelta(seconds=1)  # the thirtieth day has passed
    db.add(record)
    db.commit()
    _assert_unauthenticated(client.get("/api/v1/me"))


def test_a_token_without_a_chosen_lifetime_works_for_90_days(as_facilitator: TestClient) -> None:
    expires_at = datetime.fromisoformat(_create_token(as_facilitator)["expires_at"])
    assert abs(expires_at - (utcnow() + timedelta(days=90))) < timedelta(minutes=1)


@pytest.mark.parametrize("days", [0, 366, 3650])
def test_a_token_lifetime_outside_a_day_to_a_year_is_refused(as_facilitator: TestClient, days: int) -> None:
    response = as_facilitator.post("/api/v1/tokens", json={"name": "forever", "expires_in_days": days})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["expires_in_days"]


# --- CSRF on session-cookie calls ----------------------------------------------------------


def _without_csrf_header(client: TestClient) -> TestClient:
    del client.headers["X-CSRF-Token"]
    return client


def _assert_csrf_refused(response) -> None:
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "did not come from Mend" in response.json()["detail"]


def test_a_session_post_without_the_csrf_header_is_refused(as_facilitator: TestClient, db: Session) -> None:
    client = _without_csrf_header(as_facilitator)
    response = client.post("/api/v1/cases", json={"harm_type": "domestic_servitude", "referral_source": "ngo"})
    _assert_csrf_refused(response)
    assert db.exec(select(Case)).first() is None


def test_a_session_post_with_another_browsers_csrf_token_is_refused(as_facilitator: TestClient, db: Session) -> None:
    from tests.factories import csrf_pair

    response = as_facilitator.post(
        "/api/v1/cases",
        json={"harm_type": "domestic_servitude", "referral_source": "ngo"},
        headers={"X-CSRF-Token": csrf_pair("another-browser-binding-000000000000")[1]},
    )
    _assert_csrf_refused(response)
    assert db.exec(select(Case)).first() is None


def test_a_session_patch_without_the_csrf_header_is_refused(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator, notes="Original")
    response = _without_csrf_header(as_facilitator).patch(f"/api/v1/cases/{case.id}", json={"notes": "Changed"})
    _assert_csrf_refused(response)
    db.refresh(case)
    assert case.notes == "Original"


def test_a_session_delete_without_the_csrf_header_leaves_the_token_working(app, as_facilitator: TestClient) -> None:
    created = _create_token(as_facilitator)
    _assert_csrf_refused(_without_csrf_header(as_facilitator).delete(f"/api/v1/tokens/{created['id']}"))
    assert _bearer(app, created["token"]).get("/api/v1/me").status_code == 200


def test_a_session_token_creation_without_the_csrf_header_is_refused(as_facilitator: TestClient, db: Session) -> None:
    _assert_csrf_refused(_without_csrf_header(as_facilitator).post("/api/v1/tokens", json={"name": "sneaky"}))
    assert db.exec(select(PersonalAccessToken)).first() is None


def test_session_reads_need_no_csrf_header(as_facilitator: TestClient) -> None:
    client = _without_csrf_header(as_facilitator)
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/cases").status_code == 200


# --- users (admins) ------------------------------------------------------------------------


def test_admins_list_only_their_own_programs_accounts(
    as_admin: TestClient, facilitator: User, other_admin: User
) -> None:
    emails = {u["email"] for u in as_admin.get("/api/v1/users").json()}
    assert facilitator.email in emails
    assert other_admin.email not in emails


def test_an_admin_cannot_change_another_programs_account(as_admin: TestClient, db: Session, other_admin: User) -> None:
    response = as_admin.patch(f"/api/v1/users/{other_admin.id}", json={"is_active": False})
    assert response.status_code == 404
    db.refresh(other_admin)
    assert other_admin.is_active


def test_an_admin_cannot_disable_their_own_account(as_admin: TestClient, admin: User) -> None:
    response = as_admin.patch(f"/api/v1/users/{admin.id}", json={"is_active": False})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert as_admin.get("/api/v1/me").status_code == 200


# --- audit trail ---------------------------------------------------------------------------


def _actions(db: Session, request_id: str) -> list[str]:
    return [e.action for e in db.exec(select(AuditEvent).where(AuditEvent.request_id == request_id)).all()]


def test_token_creation_and_revocation_are_audited_with_the_request_id(db: Session, as_facilitator: TestClient) -> None:
    created = as_facilitator.post("/api/v1/tokens", json={"name": "script"})
    revoked = as_facilitator.delete(f"/api/v1/tokens/{created.json()['id']}")
    assert _actions(db, created.headers["X-Request-ID"]) == ["token.created"]
    assert _actions(db, revoked.headers["X-Request-ID"]) == ["token.revoked"]


def test_a_write_made_with_a_token_is_audited_as_its_owner(
    app, db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    client = _bearer(app, _create_token(as_facilitator)["token"])
    response = client.post("/api/v1/cases", json={"harm_type": "domestic_servitude", "referral_source": "ngo"})
    events = db.exec(select(AuditEvent).where(AuditEvent.request_id == response.headers["X-Request-ID"])).all()
    assert [(e.action, e.actor_id) for e in events] == [("case.opened", facilitator.id)]


def test_inviting_and_changing_accounts_is_audited_with_the_request_id(
    db: Session, as_admin: TestClient, facilitator: User
) -> None:
    invited = as_admin.post(
        "/api/v1/invitations", json={"email": "audited@example.org", "full_name": "Audited", "role": "staff"}
    )
    changed = as_admin.patch(f"/api/v1/users/{facilitator.id}", json={"role": "staff"})
    cancelled = as_admin.delete(f"/api/v1/invitations/{invited.json()['id']}")
    assert _actions(db, invited.headers["X-Request-ID"]) == ["user.invited"]
    assert _actions(db, changed.headers["X-Request-ID"]) == ["user.updated"]
    assert _actions(db, cancelled.headers["X-Request-ID"]) == ["user.invitation_cancelled"]


@pytest.mark.parametrize("chosen", ["MAXIMILIANA.PETROVNA@example.org", "maximiliana.petrovna", "Maximiliana Petrovna"])
def test_a_new_password_that_is_ones_own_email_or_name_is_refused(
    app, db: Session, program: Program, chosen: str
) -> None:
    user = make_user(db, program, UserRole.staff, "Maximiliana Petrovna", email="maximiliana.petrovna@example.org")
    client = signed_in_client(app, db, user)
    response = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "password": chosen})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "password", "message": "Choose a new password that is not your email address or your name."}
    ]
