"""One world for the tests that walk every route: a program with a case at every stage's records, its
users in each role, two portal sessions, and a client per role; and the app's routes, from its router.

`call()` makes one request inside a SAVEPOINT that is rolled back afterwards, so no call sees what
another one wrote (a sign-out, a withdrawal, a sealed amendment) and the walk is deterministic."""

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session
from starlette.routing import Mount

from app.agreements import followup_pdf
from app.agreements.commitment_service import active_commitments
from app.agreements.service import save_draft, start_amendment
from app.auth.invitations import invite
from app.auth.models import User, UserRole
from app.auth.schemas import AccessTokenCreate, InvitationCreate
from app.auth.service import actor_for, issue_access_token
from app.conferences.models import CaseSession, Participant, SessionAttendee
from app.db import get_session, utcnow
from app.portal import service as portal_service
from tests.agreements.monitoring_support import STUB_PDF, stub_pdf
from tests.agreements.test_service import held_case, sign_all, terms_for, to_signing
from tests.conferences.test_screening_rules import RESPONSIBLE_READY, SURVIVOR_READY
from tests.factories import csrf_pair, make_program, make_user, signed_in_client

ROLES = (
    "anonymous",
    "admin",
    "facilitator",
    "unassigned",
    "staff",
    "survivor",
    "responsible",
    "other_admin",
)


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, from its router: included routers expanded, the static
    files mount as a GET of one file under it."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.router.routes):
        if isinstance(route.original_route, Mount):
            found.add(("GET", route.original_route.path + "/{path}"))
            continue
        for method in route.methods or ():
            found.add((method, route.path))
    return sorted(found, key=lambda r: (r[1], r[0]))


@dataclass
class World:
    app: FastAPI
    db: Session
    connection: Connection
    params: dict[str, str]
    clients: dict[str, TestClient]
    cookies: dict[str, dict[str, str]]
    secrets: dict[str, str]
    foreign: dict[str, str]  # the ids of another case of the program (assigned to the other facilitator)

    def url(self, path: str, **overrides: str) -> str:
        values = self.params | overrides
        return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), path)

    def call(
        self,
        role: str,
        method: str,
        path: str,
        *,
        body: dict | None = None,
        scheme: str = "http",
        headers: dict[str, str] | None = None,
        **overrides: str,
    ) -> httpx.Response:
        """One request as `role`, with a minimal body for writes; everything it wrote is rolled back."""
        client = self.clients[role]
        client.cookies.clear()
        for name, value in self.cookies[role].items():
            client.cookies.set(name, value)
        kwargs: dict = {"follow_redirects": False, "headers": headers}
        if method in ("POST", "PUT", "PATCH"):
            if path.startswith("/api/"):
                kwargs["json"] = body or {}
            else:
                kwargs["data"] = (body or {}) | {"csrf_token": client.csrf_token}  # type: ignore[attr-defined]
        with self.rolled_back():
            return client.request(method, f"{scheme}://testserver{self.url(path, **overrides)}", **kwargs)

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        """Run requests inside a SAVEPOINT that is rolled back afterwards."""
        self.db.commit()
        savepoint = self.connection.begin_nested()
        try:
            yield
        finally:
            self.db.rollback()
            if savepoint.is_active:
                savepoint.rollback()
            self.db.expunge_all()


def _ok(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def build_world(engine: Engine) -> Iterator[World]:
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    with pytest.MonkeyPatch.context() as patch:
        stub_pdf(patch)
        patch.setattr(followup_pdf, "html_to_pdf", lambda html, **kwargs: STUB_PDF)
        try:
            yield _populate(db, connection)
        finally:
            db.close()
            outer.rollback()
            connection.close()


def app_on(db: Session) -> FastAPI:
    """A new app whose requests use the world's session (as tests/conftest.py's `app` does)."""
    from app.main import create_app

    app = create_app()

    def _session() -> Iterator[Session]:
        db.commit()
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    app.dependency_overrides[get_session] = _session
    return app


def _stock_case(db: Session, client: TestClient, facilitator: User, secrets: dict[str, str]) -> dict[str, str]:
    """A case with a record behind every kind of id in a route, assigned to `facilitator`; its ids by
    path parameter name. The case's confidential values are `secrets`."""
    # The case: Rosa (survivor) and Dan (responsible party), prepared, the conference held.
    held = held_case(db, facilitator)
    case, survivor, responsible = held.case, held.survivor, held.responsible
    case.reference, case.notes = secrets["reference"], secrets["case notes"]
    survivor.support_needs = secrets["support needs"]
    db.add(case)
    db.add(survivor)
    db.flush()
    base = f"/api/v1/cases/{case.id}"
    screening = _ok(
        client.post(
            f"{base}/participants/{survivor.id}/screenings",
            json={"answers": SURVIVOR_READY, "rationale": secrets["rationale"]},
        )
    )
    _ok(
        client.post(
            f"{base}/participants/{responsible.id}/screenings",
            json={"answers": RESPONSIBLE_READY, "rationale": "Prepared."},
        )
    )
    _ok(
        client.post(
            f"{base}/participants/{responsible.id}/acknowledgements",
            json={"wording": "I kept her passport.", "method": "in_person", "acknowledged_at": utcnow().isoformat()},
        )
    )
    _ok(client.post(f"{base}/safety/assessments", json={"factors": ["isolation"]}))
    concern = _ok(client.post(f"{base}/safety/concerns", json={"description": secrets["concern"]}))
    _ok(client.put(f"{base}/safety/plan", json={"separate_waiting_rooms": True}), 200)
    _ok(
        client.put(
            f"{base}/participants/{survivor.id}/contact-preferences",
            json={"channel": "phone", "phone": secrets["phone"]},
        ),
        200,
    )
    for person, language in ((survivor, "es"), (responsible, "en")):
        for scope in ("conference", "progress_updates"):
            _ok(
                client.post(
                    f"{base}/participants/{person.id}/consents",
                    json={"scope": scope, "sheet_language": language, "method": "in_person"},
                )
            )
    # A preparation meeting next week with Rosa attending.
    starts = utcnow() + timedelta(days=7)
    meeting = CaseSession(
        program_id=case.program_id,
        case_id=case.id,  # type: ignore[arg-type]
        kind="preparation",
        mode="in_person",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        location="Office",
        uid=f"matrix-{uuid.uuid4()}",
        created_by_id=facilitator.id,  # type: ignore[arg-type]
    )
    db.add(meeting)
    db.flush()
    db.add(
        SessionAttendee(
            session_id=meeting.id,  # type: ignore[arg-type]
            participant_id=survivor.id,  # type: ignore[arg-type]
            program_id=case.program_id,
            arrives_at=starts,
            leaves_at=starts + timedelta(hours=1),
        )
    )

    # The agreement: version 1 sealed, its commitments with progress and a waiver waiting for Rosa,
    # and version 2, an amendment in draft.
    actor = actor_for(facilitator)
    version = save_draft(db, actor=actor, case=case, terms=terms_for(held), based_on=None)
    to_signing(db, actor, held, version)
    sign_all(db, actor, held, version)
    commitments = active_commitments(db, case=case)
    payment = next(c for c in commitments if c.kind == "payment")
    entry = _ok(
        client.post(
            f"{base}/commitments/{payment.id}/progress",
            json={"kind": "payment", "amount": "50.00", "occurred_on": str(utcnow().date() - timedelta(days=1))},
        )
    )
    apology = next(c for c in commitments if c.kind == "apology")
    waiver = _ok(client.post(f"{base}/commitments/{apology.id}/waiver", json={"reason": "Rosa no longer wants it."}))
    draft = start_amendment(
        db, actor=actor, case=case, terms=terms_for(held, hours=30), change_note="Fewer hours.", based_on=1
    )
    survivor_link = portal_service.issue_portal_link(db, actor=actor, participant=survivor)
    unused = portal_service.issue_portal_link(db, actor=actor, participant=survivor)
    db.commit()
    return {
        "case_id": str(case.id),
        "participant_id": str(survivor.id),
        "responsible_id": str(responsible.id),
        "screening_id": str(screening["id"]),
        "session_id": str(meeting.id),
        "concern_id": str(concern["id"]),
        "number": "1",
        "other": str(draft.number),
        "commitment_id": str(payment.id),
        "entry_id": str(entry["id"]),
        "link_id": str(survivor_link.link.id),
        "token": unused.url.rsplit("/", 1)[1],
        "waiver_id": str(waiver["id"]),
    }


def _secrets(tag: str) -> dict[str, str]:
    return {
        "reference": f"MX-{tag}",
        "case notes": f"Referral note {tag}-notes",
        "concern": f"He drove past her street {tag}-concern",
        "support needs": f"Needs a quiet room {tag}-needs",
        "rationale": f"Prepared and supported {tag}-rationale",
        "phone": f"+34 600 {int(tag, 16) % 1_000_000:06d}",
    }


def _populate(db: Session, connection: Connection) -> World:
    app = app_on(db)
    tag = uuid.uuid4().hex[:6]
    program = make_program(db, f"Matrix Program {tag}", timezone="Europe/Madrid")
    other = make_program(db, f"Matrix Other {tag}", timezone="America/Chicago")
    admin = make_user(db, program, UserRole.admin, f"Ada Admin {tag}")
    facilitator = make_user(db, program, UserRole.facilitator, f"Fran Facilitator {tag}")
    unassigned = make_user(db, program, UserRole.facilitator, f"Gabe Unassigned {tag}")
    staff = make_user(db, program, UserRole.staff, f"Sky Staff {tag}")
    other_admin = make_user(db, other, UserRole.admin, f"Olu Other {tag}")
    secrets = _secrets(tag)
    stock = _stock_case(db, signed_in_client(app, db, facilitator), facilitator, secrets)
    # A second case of the program, assigned to the other facilitator: its ids must not work under the first.
    foreign = _stock_case(db, signed_in_client(app, db, unassigned), unassigned, _secrets(uuid.uuid4().hex[:6]))
    token_row, _ = issue_access_token(db, actor=actor_for(admin), data=AccessTokenCreate(name="matrix"))
    invitation = invite(
        db,
        actor=actor_for(admin),
        data=InvitationCreate(email=f"invited-{tag}@example.org", full_name="Ivy Invited", role="staff"),
    )
    db.commit()

    clients: dict[str, TestClient] = {}
    cookies: dict[str, dict[str, str]] = {}
    binding, csrf = csrf_pair()
    for role, user in (
        ("admin", admin),
        ("facilitator", facilitator),
        ("unassigned", unassigned),
        ("staff", staff),
        ("other_admin", other_admin),
    ):
        clients[role] = signed_in_client(app, db, user)
    survivor = db.get(Participant, int(stock["participant_id"]))
    responsible = db.get(Participant, int(stock["responsible_id"]))
    actor = actor_for(facilitator)
    for role, person in (("survivor", survivor), ("responsible", responsible), ("anonymous", None)):
        client = TestClient(app, raise_server_exceptions=False)
        client.cookies.set("mend_csrf", binding)
        client.headers["X-CSRF-Token"] = csrf
        client.csrf_token = csrf  # type: ignore[attr-defined]
        if person is not None:
            link = portal_service.issue_portal_link(db, actor=actor, participant=person)
            db.commit()
            path = link.url[link.url.index("/portal/enter/") :]
            entered = client.post(path, data={"csrf_token": csrf}, follow_redirects=False)
            assert entered.status_code == 303 and entered.headers["location"] == "/portal", entered.text
        clients[role] = client
    for role, client in clients.items():
        cookies[role] = dict(client.cookies.items())
    db.commit()
    params = stock | {
        "admin_email": admin.email,
        "scope": "conference",
        "token_id": str(token_row.id),
        "invitation_id": str(invitation.id),
        "user_id": str(facilitator.id),
        "role": "survivor",
        "version": "2026-1",
        "language": "en",
        "path": "css/mend.css",
    }
    return World(
        app=app,
        db=db,
        connection=connection,
        params=params,
        clients=clients,
        cookies=cookies,
        secrets=secrets,
        foreign=foreign,
    )
