"""Portal fixtures: a case with a survivor and a responsible party, links, and portal-session clients."""

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Case, Participant, ParticipantRole
from app.portal import service
from tests.factories import csrf_pair, make_case, make_participant


@pytest.fixture
def case(db: Session, facilitator: User) -> Case:
    return make_case(db, facilitator, reference="HRP-7")


@pytest.fixture
def survivor(db: Session, facilitator: User, case: Case) -> Participant:
    return make_participant(
        db, facilitator, case, ParticipantRole.survivor, display_name="Rosa", preferred_language="es"
    )


@pytest.fixture
def responsible(db: Session, facilitator: User, case: Case) -> Participant:
    return make_participant(db, facilitator, case, ParticipantRole.responsible_party, display_name="Dan")


def issue_url(db: Session, by: User, participant: Participant) -> str:
    """A fresh sign-in link for the participant, as the facilitator would hand it over."""
    return service.issue_portal_link(db, actor=actor_for(by), participant=participant).url


def token_of(url: str) -> str:
    match = re.search(r"/portal/enter/([A-Za-z0-9_\-]+)$", url)
    assert match, url
    return match.group(1)


def browser(app) -> TestClient:  # type: ignore[no-untyped-def]
    """A client like a fresh browser: a CSRF cookie and its token, no session of any kind."""
    binding, csrf = csrf_pair()
    client = TestClient(app, raise_server_exceptions=False)
    client.cookies.set("mend_csrf", binding)
    client.csrf_token = csrf  # type: ignore[attr-defined]
    return client


def enter(client: TestClient, url: str):  # type: ignore[no-untyped-def]
    """Press "Open my page" on the link's page."""
    path = url[url.index("/portal/enter/") :]
    return client.post(path, data={"csrf_token": client.csrf_token}, follow_redirects=False)  # type: ignore[attr-defined]


PortalClientFactory = Callable[[Participant], TestClient]


@pytest.fixture
def portal_client_for(app, db: Session, facilitator: User) -> PortalClientFactory:  # type: ignore[no-untyped-def]
    """portal_client_for(participant): a browser signed in to the portal as that participant, with the CSRF header."""

    def make(participant: Participant) -> TestClient:
        client = browser(app)
        response = enter(client, issue_url(db, facilitator, participant))
        assert response.status_code == 303 and response.headers["location"] == "/portal", response.text
        client.headers["X-CSRF-Token"] = client.csrf_token  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def as_survivor(portal_client_for: PortalClientFactory, survivor: Participant) -> TestClient:
    return portal_client_for(survivor)


def form(client: TestClient, **fields: str) -> dict[str, str]:
    return fields | {"csrf_token": client.csrf_token}  # type: ignore[attr-defined]


def say_yes(client: TestClient, scope: str, **fields: str):  # type: ignore[no-untyped-def]
    """Press "Yes, I agree" on the scope's confirmation page (the only form that records a yes)."""
    return client.post(f"/portal/consent/{scope}", data=form(client, confirmed="yes", **fields), follow_redirects=False)
