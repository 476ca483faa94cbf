"""Inviting people: an admin never learns whether an address has an account in another program."""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.auth.models import AuthSession, Invitation, User, UserRole
from app.db import utcnow
from app.notifications.models import Notification
from tests.factories import csrf_pair

STRONG = "quiet harbour lantern seven"


def _invite(client: TestClient, email: str, **fields: str):  # type: ignore[no-untyped-def]
    body = {"email": email, "full_name": "Nia New", "role": "facilitator"} | fields
    return client.post("/api/v1/invitations", json=body)


def _outbox(db: Session, email: str) -> list[Notification]:
    return list(db.exec(select(Notification).where(Notification.recipient_email == email)).all())


def _link(db: Session, email: str) -> str:
    [message] = _outbox(db, email)
    match = re.search(r"https?://\S+(/invite/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def _visitor(app) -> TestClient:  # type: ignore[no-untyped-def]
    """Someone opening the e-mailed link: signed in nowhere, with the CSRF cookie a first page view sets."""
    client = TestClient(app, raise_server_exceptions=False)
    binding, csrf = csrf_pair()
    client.cookies.set("mend_csrf", binding)
    client.csrf_token = csrf  # type: ignore[attr-defined]
    return client


def _accept(client: TestClient, path: str, password: str = STRONG):  # type: ignore[no-untyped-def]
    data = {"password": password, "csrf_token": client.csrf_token}  # type: ignore[attr-defined]
    return client.post(path, data=data, follow_redirects=False)


# --- the answer an admin gets ---------------------------------------------------------------


def test_an_address_with_an_account_elsewhere_gets_the_same_answer_as_a_free_one(
    db: Session, as_admin: TestClient, other_admin: User
) -> None:
    free = _invite(as_admin, "nia.new@example.org")
    taken = _invite(as_admin, other_admin.email.upper())
    assert free.status_code == taken.status_code == 202
    shape = {k: v for k, v in free.json().items() if k not in ("id", "email", "created_at", "expires_at")}
    assert {k: v for k, v in taken.json().items() if k not in ("id", "email", "created_at", "expires_at")} == shape
    assert set(free.json()) == set(taken.json())
    # Both wait in the list the same way, and the audit trail records the same event for each.
    listed = {i["email"] for i in as_admin.get("/api/v1/invitations").json()}
    assert {"nia.new@example.org", other_admin.email} <= listed
    events = [
        (e.action, e.detail) for e in db.exec(select(AuditEvent).where(AuditEvent.entity_type == "invitation")).all()
    ]
    assert events == [("user.invited", {"role": "facilitator"})] * 2


def test_only_the_mailbox_learns_the_difference(db: Session, as_admin: TestClient, other_admin: User) -> None:
    _invite(as_admin, "nia.new@example.org")
    _invite(as_admin, other_admin.email)
    assert "/invite/" in _outbox(db, "nia.new@example.org")[0].body
    [note] = _outbox(db, other_admin.email)
    assert "/invite/" not in note.body
    assert "already has a Mend account" in note.body
    assert note.subject == _outbox(db, "nia.new@example.org")[0].subject
    assert db.exec(select(User).where(User.email == other_admin.email)).one().program_id == other_admin.program_id


def test_the_invitation_page_answers_alike_for_both_addresses(app, db: Session, admin: User, other_admin: User) -> None:
    from tests.factories import signed_in_client

    client = signed_in_client(app, db, admin)
    pages = []
    for email in ("nia.new@example.org", other_admin.email):
        form = {"full_name": "Nia New", "email": email, "role": "staff", "language": "en"}
        response = client.post("/admin/invitations", data=form | {"csrf_token": client.csrf_token})  # type: ignore[attr-defined]
        assert response.status_code == 200 and response.url.path == "/admin/users", response.text[:500]
        pages.append(response.text.replace(email, "ADDRESS"))
    flash = re.compile(r'<p class="notice notice-success" role="status">.*?</p>', re.S)
    assert flash.search(pages[0]).group(0) == flash.search(pages[1]).group(0)  # type: ignore[union-attr]
    assert "Invitation sent to ADDRESS" in pages[1]


def test_an_address_already_in_the_program_is_refused_beside_the_field(
    db: Session, as_admin: TestClient, facilitator: User
) -> None:
    response = _invite(as_admin, facilitator.email.upper())
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "email" and "already has an account in your program" in error["message"]
    assert _outbox(db, facilitator.email) == []


def test_only_admins_invite(db: Session, as_facilitator: TestClient) -> None:
    assert _invite(as_facilitator, "nia.new@example.org").status_code == 403
    assert _outbox(db, "nia.new@example.org") == []


# --- the person who follows the link ------------------------------------------------------------


def test_the_link_lets_the_person_choose_a_password_and_signs_them_in(
    app, db: Session, as_admin: TestClient, admin: User
) -> None:
    _invite(as_admin, "Nia.New@Example.org", role="staff")
    path = _link(db, "nia.new@example.org")
    visitor = _visitor(app)
    page = visitor.get(path)
    assert page.status_code == 200
    assert "Harbour Restorative Program" in page.text and "nia.new@example.org" in page.text
    response = _accept(visitor, path)
    assert response.status_code == 303 and response.headers["location"] == "/monitoring"  # staff's home
    user = db.exec(select(User).where(User.email == "nia.new@example.org")).one()
    assert (user.program_id, user.role, user.full_name) == (admin.program_id, UserRole.staff, "Nia New")
    assert db.exec(select(AuthSession).where(AuthSession.user_id == user.id)).first() is not None
    assert "Welcome, Nia New" in visitor.get("/monitoring").text
    # The link works once, and the invitation leaves the admin's list.
    assert _visitor(app).get(path).status_code == 404
    assert as_admin.get("/api/v1/invitations").json() == []
    actions = [e.action for e in db.exec(select(AuditEvent).where(AuditEvent.program_id == admin.program_id)).all()]
    assert actions[-2:] == ["user.created", "user.invitation_accepted"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 12 characters"),
        ("password123456", "too common"),
        ("nia.new@example.org", "your email address"),
    ],
)
def test_a_weak_password_is_refused_beside_the_field_and_the_link_keeps_working(
    app, db: Session, as_admin: TestClient, password: str, message: str
) -> None:
    _invite(as_admin, "nia.new@example.org")
    path = _link(db, "nia.new@example.org")
    visitor = _visitor(app)
    response = _accept(visitor, path, password)
    assert response.status_code == 422
    assert 'id="field-password-error"' in response.text and message in response.text.lower()
    assert db.exec(select(User).where(User.email == "nia.new@example.org")).first() is None
    assert visitor.get(path).status_code == 200


def test_an_expired_a_cancelled_or_a_replaced_link_no_longer_works(app, db: Session, as_admin: TestClient) -> None:
    _invite(as_admin, "late@example.org")
    late = _link(db, "late@example.org")
    invitation = db.exec(select(Invitation).where(Invitation.email == "late@example.org")).one()
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.add(invitation)
    db.flush()

    cancelled_id = _invite(as_admin, "cancel@example.org").json()["id"]
    cancelled = _link(db, "cancel@example.org")
    assert as_admin.delete(f"/api/v1/invitations/{cancelled_id}").status_code == 204

    _invite(as_admin, "twice@example.org")
    _invite(as_admin, "twice@example.org")
    first, second = (re.search(r"(/invite/\S+)", m.body).group(1) for m in _outbox(db, "twice@example.org"))  # type: ignore[union-attr]

    for path in (late, cancelled, first):
        page = _visitor(app).get(path)
        assert page.status_code == 404 and "This invitation link no longer works" in page.text, path
        assert _accept(_visitor(app), path).status_code == 404
    assert _visitor(app).get(second).status_code == 200
    assert [i["email"] for i in as_admin.get("/api/v1/invitations").json()] == ["twice@example.org"]
    assert db.exec(select(User).where(User.email.in_(["late@example.org", "cancel@example.org"]))).all() == []  # type: ignore[attr-defined]


def test_an_address_taken_after_the_invitation_is_told_to_sign_in(
    app, db: Session, as_admin: TestClient, other_program
) -> None:
    from tests.factories import make_user

    _invite(as_admin, "raced@example.org")
    path = _link(db, "raced@example.org")
    make_user(db, other_program, UserRole.staff, "Raced Elsewhere", email="raced@example.org")
    response = _accept(_visitor(app), path)
    assert response.status_code == 409
    assert "already has a Mend account" in response.text
    assert db.exec(select(User).where(User.email == "raced@example.org")).one().program_id == other_program.id


def test_another_programs_admin_cannot_cancel_an_invitation(
    db: Session, as_admin: TestClient, app, other_admin: User
) -> None:
    from tests.factories import signed_in_client

    invitation_id = _invite(as_admin, "nia.new@example.org").json()["id"]
    other = signed_in_client(app, db, other_admin)
    assert other.delete(f"/api/v1/invitations/{invitation_id}").status_code == 404
    assert [i["id"] for i in as_admin.get("/api/v1/invitations").json()] == [invitation_id]


def test_the_invitation_email_is_in_the_language_the_admin_chose(db: Session, as_admin: TestClient) -> None:
    _invite(as_admin, "nia.es@example.org", language="es")
    [message] = _outbox(db, "nia.es@example.org")
    assert message.subject == "Su invitación a Mend"
    assert "Harbour Restorative Program" in message.body and "/invite/" in message.body
    assert "contraseña" in message.body
