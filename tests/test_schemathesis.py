"""Schemathesis over the whole JSON API: every operation of the OpenAPI schema, signed in, against a
seeded world, expecting no server error and no response that the schema does not describe.

The staff API runs as a program administrator with an access token; the portal API with the
survivor's portal session and its CSRF token. Ids in paths, queries and bodies mostly name real
records of the world (a case with participants, screenings, sessions, safety records, consents, a
sealed agreement and its draft amendment, commitments, progress, a pending waiver), so requests reach
the handlers rather than stopping at 404; the rest are schemathesis' own values, valid and invalid.
Each example runs in a savepoint that is rolled back: no write leaks into the next example, and the
outcome does not depend on the order of the operations.
"""

import os
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from app.agreements.commitment_service import today_for
from app.auth.models import User, UserRole
from app.auth.schemas import AccessTokenCreate
from app.auth.service import actor_for, issue_access_token
from app.conferences.models import Case, HarmType, ReferralSource
from app.conferences.schemas import CaseCreate
from app.conferences.service import open_case
from app.db import get_session, utcnow
from app.main import create_app
from app.portal.dependencies import PORTAL_COOKIE
from app.web import CSRF_COOKIE
from tests.agreements.test_service import hold_conference
from tests.conferences.test_screening_rules import RESPONSIBLE_READY, SURVIVOR_READY
from tests.factories import csrf_pair, make_program, make_user
from tests.portal.conftest import browser, enter

CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# MEND_FUZZ_DEEP=1 adds schemathesis' coverage phase (boundary and malformed values for every parameter)
# and more examples: many minutes more, so not in every run. Its cases are built while pytest collects.
DEEP = os.environ.get("MEND_FUZZ_DEEP") == "1"


@asynccontextmanager
async def _no_lifespan(_app: Any) -> Any:
    # The real start-up writes a set-up link to the configured database; here every write belongs
    # to the example's savepoint.
    yield


app = create_app()
app.router.lifespan_context = _no_lifespan
schema = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json",
    app,
    config=schemathesis.Config.from_dict(
        {
            "seed": 7,
            "generation": {
                "mode": "all",
                "max-examples": 60 if DEEP else 12,
                "deterministic": True,
                # The test sends the real credentials; generated ones would only ever be refused.
                "with-security-parameters": False,
            },
            "phases": {"coverage": {"enabled": DEEP}, "stateful": {"enabled": False}},
        }
    ),
)


@dataclass
class World:
    """The seeded records and the credentials of the two callers."""

    connection: Connection
    admin_token: str
    csrf_binding: str
    csrf_token: str
    portal_cookie: str = ""
    # Real values by parameter or body field name; each example picks one of them or keeps its own.
    values: dict[str, list[Any]] = field(default_factory=dict)
    session: Session | None = None


_world: World | None = None


def _example_session() -> Iterator[Session]:
    """The app's session dependency: the example's session, committing into its savepoint."""
    assert _world is not None and _world.session is not None
    session = _world.session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _seed(client: TestClient, session: Session, case: Case, admin: User) -> dict[str, list[Any]]:
    """Everything a case gathers on its way to monitoring, made through the API as the administrator."""
    base = f"/api/v1/cases/{case.id}"

    def add(role: str, name: str) -> int:
        return ok(client.post(f"{base}/participants", json={"role": role, "display_name": name}))["id"]

    survivor, responsible, supporter = add("survivor", "Rosa"), add("responsible_party", "Dan"), add("supporter", "Sam")
    screenings = [
        ok(client.post(f"{base}/participants/{p}/screenings", json={"answers": a, "rationale": "Prepared."}))["id"]
        for p, a in ((survivor, SURVIVOR_READY), (responsible, RESPONSIBLE_READY))
    ]
    acknowledgement = {"wording": "I kept her passport.", "method": "in_person", "acknowledged_at": str(utcnow())}
    ok(client.post(f"{base}/participants/{responsible}/acknowledgements", json=acknowledgement))
    ok(client.post(f"{base}/safety/assessments", json={"factors": ["isolation"]}))
    ok(client.put(f"{base}/safety/plan", json={"separate_waiting_rooms": True, "exit_plan": "Side door."}), 200)
    concern = ok(client.post(f"{base}/safety/concerns", json={"description": "A car waited outside."}))["id"]
    contact = {"channel": "phone", "phone": "+34 611 222 333", "text_ok": True}
    ok(client.put(f"{base}/participants/{survivor}/contact-preferences", json=contact), 200)
    for person in (survivor, responsible):
        for scope in ("contact", "preparation", "conference", "progress_updates"):
            consent = {"scope": scope, "sheet_language": "en", "method": "in_person"}
            ok(client.post(f"{base}/participants/{person}/consents", json=consent))
    days = [(utcnow() + timedelta(days=n)).date().isoformat() for n in (21, 22)]
    meeting = {"kind": "preparation", "mode": "in_person", "date": days[0], "start": "09:00", "end": "10:00"}
    preparation = ok(client.post(f"{base}/sessions", json=meeting | {"attendee_ids": [survivor], "location": "Hall"}))
    held = hold_conference(session, admin, case).id
    session.commit()
    terms = [
        {"kind": "apology", "owed_by": responsible, "form": "letter_through_program", "due_date": "2027-01-15"},
        {"kind": "service_hours", "owed_by": responsible, "hours": 40, "deadline": "2027-06-30", "where": "Food bank"},
        {"kind": "no_contact", "owed_by": responsible},
    ]
    sealed = ok(client.put(f"{base}/agreement/draft", json={"terms": terms, "based_on": None}), 200)
    version = f"{base}/agreement/versions/{sealed['number']}"
    ok(client.post(f"{version}/send-for-review"), 200)
    for person in (survivor, responsible):
        review = {"participant_id": person, "decision": "accepted", "text_sha256": sealed["text_sha256"]}
        ok(client.post(f"{version}/reviews", json=review))
    ok(client.post(f"{version}/send-for-signature"), 200)
    for person, name in ((survivor, "Rosa"), (responsible, "Dan"), (None, "Ada Admin")):
        signature = {"text_sha256": sealed["text_sha256"], "typed_name": name, "intent_confirmed": True}
        ok(client.post(f"{version}/signatures", json=signature | {"participant_id": person}))
    commitments = ok(client.get(f"{base}/commitments"), 200)["commitments"]
    by_kind = {c["kind"]: c["id"] for c in commitments}
    progress = {"kind": "hours", "amount": "2", "occurred_on": str(today_for(session, case))}
    entry = ok(client.post(f"{base}/commitments/{by_kind['service_hours']}/progress", json=progress))["id"]
    waiver = ok(client.post(f"{base}/commitments/{by_kind['apology']}/waiver", json={"reason": "Asked in portal."}))
    amendment = {"terms": terms[:2], "based_on": sealed["number"], "change_note": "No-contact ends with the case."}
    amended = ok(client.post(f"{base}/agreement/amendments", json=amendment))
    link = ok(client.post(f"{base}/participants/{survivor}/portal-links"))
    return {
        "case_id": [case.id],
        "participant_id": [survivor, responsible, supporter],
        "screening_id": screenings,
        "session_id": [preparation["id"], held],
        "concern_id": [concern],
        "number": [sealed["number"], amended["number"]],
        "other": [sealed["number"], amended["number"]],
        "based_on": [sealed["number"], amended["number"]],
        "text_sha256": [sealed["text_sha256"], amended["text_sha256"]],
        "commitment_id": [c["id"] for c in commitments],
        "entry_id": [entry],
        "waiver_id": [waiver["id"]],
        "link_id": [link["id"]],
        "attendee_ids": [[survivor], [survivor, responsible]],
        "date": days,
        "start": ["10:00"],
        "end": ["11:30"],
        "occurred_on": [progress["occurred_on"]],
        "version": ["2026-1"],
        "language": ["en", "es"],
        "portal_url": [link["url"]],
    }


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[World]:
    """The seeded world, kept in one transaction that is rolled back when the module ends."""
    global _world
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    program = make_program(session, "Fuzzed Program", timezone="Europe/Madrid")
    admin = make_user(session, program, UserRole.admin, "Ada Admin")
    facilitator = make_user(session, program, UserRole.facilitator, "Fran Facilitator")
    access, token = issue_access_token(session, actor=actor_for(admin), data=AccessTokenCreate(name="fuzz"))
    opened = CaseCreate(
        harm_type=HarmType.labour_trafficking,
        referral_source=ReferralSource.prosecution,
        facilitator_ids=[facilitator.id],
    )
    case = open_case(session, actor=actor_for(admin), data=opened)
    session.commit()
    _world = World(connection, token, *csrf_pair(), session=session)
    app.dependency_overrides[get_session] = _example_session
    try:
        values = _seed(TestClient(app, headers={"Authorization": f"Bearer {token}"}), session, case, admin)
        portal = browser(app)
        assert enter(portal, values.pop("portal_url")[0]).status_code == 303
        _world.portal_cookie = portal.cookies[PORTAL_COOKIE]
        _world.values = values | {
            "token_id": [access.id],
            "user_id": [admin.id, facilitator.id],
            "facilitator_id": [facilitator.id],
            "facilitator_ids": [[facilitator.id]],
        }
        session.close()
        _world.session = None
        yield _world
    finally:
        app.dependency_overrides.clear()
        _world = None
        outer.rollback()
        connection.close()


@contextmanager
def example_savepoint(world: World) -> Iterator[None]:
    """One example's writes, undone afterwards."""
    savepoint = world.connection.begin_nested()
    world.session = Session(bind=world.connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield
    finally:
        world.session.close()
        world.session = None
        savepoint.rollback()


def _real_or_generated(generated: Any) -> Any:
    """For each field the world has values for: one of them, or the generated value (a refusal to check)."""
    if _world is None or not isinstance(generated, dict):
        return st.just(generated)
    return st.fixed_dictionaries(
        {
            name: st.sampled_from([*_world.values[name], value]) if name in _world.values else st.just(value)
            for name, value in generated.items()
        }
    )


@schema.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: Any) -> Any:
    return _real_or_generated(path_parameters)


@schema.hook
def flatmap_query(context: schemathesis.HookContext, query: Any) -> Any:
    return _real_or_generated(query)


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> Any:
    return _real_or_generated(body)


@schema.parametrize()
def test_every_operation_answers_within_its_schema(case: schemathesis.Case, world: World) -> None:
    if case.path.startswith("/api/v1/portal/"):
        headers = {"X-CSRF-Token": world.csrf_token}
        cookies = {PORTAL_COOKIE: world.portal_cookie, CSRF_COOKIE: world.csrf_binding}
    else:
        headers, cookies = {"Authorization": f"Bearer {world.admin_token}"}, {}
    with example_savepoint(world):
        response = case.call(headers=headers, cookies=cookies)
        case.validate_response(response, checks=CHECKS)
