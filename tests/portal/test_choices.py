"""Your choices never rush: saying yes goes through a page that says what it means and how to take it back,
yes and stop look alike, and after stopping the page says truthfully what stops and what stays in force."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.conferences.models import Participant
from app.safety.models import Consent, ConsentMethod
from tests.agreements.monitoring_support import Sealed, sealed_case, stub_pdf
from tests.portal.conftest import PortalClientFactory, form, say_yes


def _main(html: str) -> str:
    found = re.search(r"<main.*</main>", html, re.S)
    assert found, html
    return found.group(0)


def _stop(client: TestClient, scope: str) -> str:
    response = client.post(f"/portal/consent/{scope}/withdraw", data=form(client, reason=""), follow_redirects=False)
    assert response.status_code == 303, response.text
    return _main(client.get(response.headers["location"]).text)


def test_a_tap_on_yes_only_opens_a_page_that_asks_first_and_records_nothing(
    portal_client_for: PortalClientFactory, db: Session, responsible: Participant
) -> None:
    client = portal_client_for(responsible)
    choices = client.get("/portal/consent").text
    assert choices.count("I want to say yes") == 6
    assert 'action="/portal/consent/conference"' not in choices  # no form on this page records a yes
    # A post that did not come from the confirmation page (an old page, a double tap) is sent there.
    response = client.post("/portal/consent/conference", data=form(client), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/portal/consent/conference"
    assert db.exec(select(Consent)).first() is None
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "consent.given")).first() is None


def test_the_confirmation_page_says_what_yes_means_and_how_to_take_it_back(
    portal_client_for: PortalClientFactory, responsible: Participant
) -> None:
    page = _main(portal_client_for(responsible).get("/portal/consent/conference").text)
    assert "Do you want to say yes?" in page and "You are about to say yes to: Taking part in the meeting." in page
    assert "You and the other person meet and talk, with a facilitator." in page
    assert "You can stop at any time. Go to Your choices and press I want to stop." in page
    assert "There is no penalty for stopping." in page
    assert 'name="confirmed" value="yes"' in page and 'name="csrf_token"' in page


def test_yes_on_the_confirmation_page_records_consent_given_in_the_portal_and_audits_it(
    portal_client_for: PortalClientFactory, db: Session, responsible: Participant
) -> None:
    client = portal_client_for(responsible)
    response = say_yes(client, "conference", sheet_version="2026-1", sheet_language="en")
    assert response.status_code == 303 and response.headers["location"] == "/portal/consent"
    consent = db.exec(select(Consent)).one()
    assert (consent.participant_id, consent.scope, consent.method) == (
        responsible.id,
        "conference",
        ConsentMethod.portal,
    )
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "consent.given")).one()
    assert event.detail["participant_id"] == responsible.id and event.detail["method"] == "portal"
    after = client.get("/portal/consent").text
    assert "You said yes." in after and "You said yes on " in after and "I want to stop" in after
    # Once given, the confirmation page does not ask again.
    again = client.get("/portal/consent/conference", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/portal/consent"


def test_a_yes_without_the_csrf_token_is_refused_even_from_the_confirmation_page(
    as_survivor: TestClient, db: Session
) -> None:
    response = as_survivor.post(
        "/portal/consent/contact", data={"confirmed": "yes"}, headers={"X-CSRF-Token": ""}, follow_redirects=False
    )
    assert response.status_code == 403
    assert db.exec(select(Consent)).first() is None


def test_saying_yes_and_stopping_look_alike_and_neither_is_red(
    portal_client_for: PortalClientFactory, responsible: Participant
) -> None:
    client = portal_client_for(responsible)
    say_yes(client, "contact")
    choices = _main(client.get("/portal/consent").text)
    yes = re.search(r'<a class="([^"]+)" href="/portal/consent/conference">', choices)
    stop = re.search(r'<a class="([^"]+)" href="/portal/consent/contact/withdraw">', choices)
    assert yes and stop and yes.group(1) == stop.group(1)
    confirm_yes = _main(client.get("/portal/consent/conference").text)
    confirm_stop = _main(client.get("/portal/consent/contact/withdraw").text)
    yes_button = re.search(r'<button type="submit" class="([^"]+)">Yes, I agree', confirm_yes)
    stop_button = re.search(r'<button type="submit" class="([^"]+)">Yes, stop', confirm_stop)
    assert yes_button and stop_button and yes_button.group(1) == stop_button.group(1)
    for page in (choices, confirm_yes, confirm_stop):
        assert "danger" not in page


def test_stopping_before_an_agreement_is_signed_says_the_process_pauses_and_nothing_is_deleted(
    portal_client_for: PortalClientFactory, responsible: Participant
) -> None:
    client = portal_client_for(responsible)
    say_yes(client, "conference")
    before = _main(client.get("/portal/consent/conference/withdraw").text)
    assert "What stops" in before and "The process is paused." in before
    stopped = _main(_stop(client, "conference"))
    assert "The process is paused. No meeting will be planned without your OK." in stopped
    assert "Nothing is deleted." in stopped
    assert "agreement" not in stopped.lower()


@pytest.fixture
def sealed(db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch) -> Sealed:
    stub_pdf(monkeypatch)
    return sealed_case(db, facilitator)


def test_stopping_after_the_agreement_is_signed_says_what_is_owed_to_her_stays_in_force(
    portal_client_for: PortalClientFactory, sealed: Sealed
) -> None:
    client = portal_client_for(sealed.held.survivor)
    say_yes(client, "conference")
    before = _main(client.get("/portal/consent/conference/withdraw").text)
    assert "What stays" in before and "The agreement that was signed still counts." in before
    stopped = _stop(client, "conference")
    assert "The process is paused." in stopped
    assert "The agreement that was signed still counts." in stopped
    assert "What the agreement promises you is still owed to you." in stopped
    assert "Payments to you still have to be made." in stopped
    assert "You still have to do what you agreed to" not in stopped  # she owes nothing under these terms
    assert "nothing will happen" not in stopped.lower()


def test_stopping_after_the_agreement_is_signed_tells_the_responsible_party_his_promises_stand(
    portal_client_for: PortalClientFactory, sealed: Sealed
) -> None:
    client = portal_client_for(sealed.held.responsible)
    say_yes(client, "conference")
    stopped = _stop(client, "conference")
    assert "The agreement that was signed still counts." in stopped
    assert "You still have to do what you agreed to in it." in stopped
    assert "still owed to you" not in stopped and "Payments to you" not in stopped


def test_stopping_sharing_says_what_was_shared_cannot_be_taken_back(as_survivor: TestClient) -> None:
    say_yes(as_survivor, "share_information")
    stopped = _stop(as_survivor, "share_information")
    assert "Su facilitador no contará nada más de lo que usted dijo." in stopped
    assert "Lo que ya se contó no se puede deshacer." in stopped
    assert "pausa" not in stopped
