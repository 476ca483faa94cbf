"""The follow-up in the portal: the responsible party sees what they agreed to do and what was recorded; the
survivor sees progress only while they want news about it, and answers the waivers they are asked about.
Each test tries one wall: another person's commitments, the staff's evidence notes, progress without
consent, a waiver that is not theirs, the staff API, the person's language."""

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.agreements import commitment_service
from app.agreements.commitment_rules import CommitmentStatus
from app.agreements.commitment_schemas import ProgressCreate, WaiverCreate
from app.agreements.models import Commitment, ProgressKind, Waiver, WaiverStatus
from app.agreements.terms import OtherTerm, Term
from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Participant, ParticipantRole
from app.notifications.models import Notification
from app.portal import text
from app.portal.commitment_queries import HiddenReason, portal_follow_up
from app.safety.consent import give_consent, withdraw_consent
from app.safety.models import ConsentMethod, ConsentScope
from app.safety.schemas import ContactPreferenceUpdate
from app.safety.service import save_contact_preference
from tests.agreements.monitoring_support import Sealed, sealed_case, stub_pdf
from tests.agreements.test_service import Held, terms_for
from tests.factories import make_participant
from tests.portal.conftest import PortalClientFactory, form

# The fixed dates below (commitments due from 15 January 2027) were written for late November 2026.
pytestmark = pytest.mark.clock

PAGE = "/portal/commitments"
API = "/api/v1/portal/commitments"
EVIDENCE_NOTE = "Paid in cash at the office; he says he found work at the docks."
SURVIVOR_EMAIL = "rosa.private@example.org"
SURVIVORS_TASK = "Choose the charity that receives the donation"
WAIVER_REASON = "Dan lost his job; the second payment would be replaced by more service hours."


def with_survivors_task(held: Held) -> list[Term]:
    """The default terms, and one the survivor owes: the responsible party must not see it."""
    owed = held.survivor.id
    return [*terms_for(held), OtherTerm(owed_by=owed, text=SURVIVORS_TASK, due_date=date(2027, 4, 1))]  # type: ignore[arg-type]


@pytest.fixture
def sealed(db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch) -> Sealed:
    stub_pdf(monkeypatch)
    return sealed_case(db, facilitator, terms=with_survivors_task)


def first_payment(sealed: Sealed) -> Commitment:
    return next(c for c in sealed.of_kind("payment") if c.sequence == 1)


def pay(db: Session, facilitator: User, sealed: Sealed, amount: str = "150.00") -> None:
    commitment_service.record_progress(
        db,
        actor=actor_for(facilitator),
        case=sealed.case,
        commitment=first_payment(sealed),
        data=ProgressCreate(
            kind=ProgressKind.payment,
            amount=Decimal(amount),
            occurred_on=commitment_service.today_for(db, sealed.case),
            evidence_reference="Receipt 0042",
            evidence_note=EVIDENCE_NOTE,
        ),
    )


def ask_waiver(db: Session, facilitator: User, sealed: Sealed) -> Waiver:
    """The facilitator asks the survivor, in the portal, whether the second payment can be waived."""
    second = next(c for c in sealed.of_kind("payment") if c.sequence == 2)
    return commitment_service.waive(
        db, actor=actor_for(facilitator), case=sealed.case, commitment=second, data=WaiverCreate(reason=WAIVER_REASON)
    )


def tell_about_progress(db: Session, facilitator: User, survivor: Participant) -> None:
    give_consent(
        db,
        actor=actor_for(facilitator),
        participant=survivor,
        scope=ConsentScope.progress_updates,
        sheet_version="2026-1",
        sheet_language="en",
        method=ConsentMethod.in_person,
    )


def status_now(db: Session, sealed: Sealed, commitment: Commitment) -> CommitmentStatus:
    db.refresh(commitment)
    program = commitment_service.program_of(db, sealed.case)
    today = commitment_service.today_for(db, sealed.case)
    return commitment_service.status_of(commitment, today=today, due_soon_days=program.due_soon_days)


# --- the responsible party ------------------------------------------------------------------------


def test_the_responsible_party_sees_their_own_commitments_and_what_was_recorded_but_no_evidence_notes(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    save_contact_preference(
        db,
        actor=actor_for(facilitator),
        participant=sealed.held.survivor,
        data=ContactPreferenceUpdate(channel="email", email=SURVIVOR_EMAIL),
    )
    pay(db, facilitator, sealed)
    client = portal_client_for(sealed.held.responsible)

    page = client.get(PAGE)
    assert page.status_code == 200
    assert "What you agreed to do" in page.text
    assert "Payment 1 of 2: 200.00 EUR" in page.text and "40 hours of community service" in page.text
    assert "So far: €150.00 of €200.00" in page.text and "Receipt 0042" in page.text
    assert "Payment received" in page.text and "Due by 1 February 2027" in page.text
    assert "In place" in page.text  # the no-contact promise, which has no end date
    for private in (EVIDENCE_NOTE, SURVIVORS_TASK, SURVIVOR_EMAIL):
        assert private not in page.text

    body = client.get(API).json()
    assert body["visible"] is True and body["audience"] == "responsible_party" and body["state"] == "monitoring"
    owed = {c.id for c in sealed.commitments if c.owed_by_id == sealed.held.responsible.id}
    assert {c["id"] for c in body["commitments"]} == owed and len(owed) == len(sealed.commitments) - 1
    paid = next(c for c in body["commitments"] if c["id"] == first_payment(sealed).id)
    assert paid["status"] == "upcoming" and paid["status_text"] == "Not due yet"
    assert paid["done_text"] == "€150.00" and paid["amount_text"] == "€200.00"
    [entry] = paid["progress"]
    assert entry == entry | {
        "what": "Payment received",
        "amount_text": "€150.00",
        "evidence_reference": "Receipt 0042",
    }
    assert "evidence_note" not in entry and EVIDENCE_NOTE not in client.get(API).text


def test_a_corrected_entry_stays_visible_but_is_marked_as_not_counting(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    pay(db, facilitator, sealed)
    [entry] = commitment_service.entries_of(db, commitment=first_payment(sealed))
    commitment_service.correct_entry(
        db, actor=actor_for(facilitator), case=sealed.case, entry=entry, reason="Typed into the wrong case."
    )
    client = portal_client_for(sealed.held.responsible)
    assert "This was corrected. It does not count." in client.get(PAGE).text
    paid = next(c for c in client.get(API).json()["commitments"] if c["id"] == first_payment(sealed).id)
    assert [e["corrected"] for e in paid["progress"]] == [True] and paid["done_text"] == "€0.00"
    assert "Typed into the wrong case." not in client.get(PAGE).text


# --- the survivor: progress only with consent -------------------------------------------------


def test_the_survivor_sees_progress_only_while_they_consent_to_be_told_about_it(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    pay(db, facilitator, sealed)
    client = portal_client_for(sealed.held.survivor)

    page = client.get(PAGE)
    assert page.status_code == 200
    assert "You have not said yes to news about the agreement" in page.text
    assert 'href="/portal/consent#choice-progress_updates"' in page.text
    assert "Payment 1 of 2" not in page.text and "€150.00" not in page.text
    hidden = client.get(API).json()
    assert hidden["visible"] is False and hidden["reason"] == "progress_not_shared"
    assert hidden["commitments"] == [] and hidden["state"] is None

    tell_about_progress(db, facilitator, sealed.held.survivor)
    page = client.get(PAGE)
    assert "Progress on the agreement" in page.text and "You have not said yes" not in page.text
    assert "Payment 1 of 2: 200.00 EUR" in page.text and "Payment received" in page.text
    assert SURVIVORS_TASK in page.text and "You agreed to this." in page.text
    assert EVIDENCE_NOTE not in page.text and "Receipt 0042" not in page.text
    shown = client.get(API).json()
    assert shown["visible"] is True and shown["reason"] is None
    assert {c["id"] for c in shown["commitments"]} == {c.id for c in sealed.commitments}

    withdraw_consent(
        db, actor=actor_for(facilitator), participant=sealed.held.survivor, scope=ConsentScope.progress_updates
    )
    assert "Payment 1 of 2" not in client.get(PAGE).text
    again = client.get(API).json()
    assert again["visible"] is False and again["reason"] == "progress_not_shared" and again["commitments"] == []


def test_a_supporter_sees_nothing_of_the_follow_up(db: Session, facilitator: User, sealed: Sealed) -> None:
    supporter = make_participant(db, facilitator, sealed.case, ParticipantRole.supporter, display_name="Ana")
    ask_waiver(db, facilitator, sealed)
    seen = portal_follow_up(db, participant=supporter)
    assert seen.hidden == HiddenReason.not_a_party and not seen.visible
    assert seen.commitments == () and seen.waivers == () and seen.state is None


# --- waivers --------------------------------------------------------------------------------------


def test_the_survivor_agrees_to_a_waiver_and_the_commitment_is_waived_and_audited(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    waiver = ask_waiver(db, facilitator, sealed)
    client = portal_client_for(sealed.held.survivor)
    page = client.get(PAGE).text  # no progress consent: the question reaches them all the same
    assert "Your facilitator has a question" in page and WAIVER_REASON in page
    assert f'action="/portal/waivers/{waiver.id}"' in page

    response = client.post(f"/portal/waivers/{waiver.id}", data=form(client, agree="yes"), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == PAGE
    assert "This part of the agreement does not have to be done any more." in client.get(PAGE).text

    db.refresh(waiver)
    commitment = db.get(Commitment, waiver.commitment_id)
    assert waiver.status == WaiverStatus.consented and waiver.consent_method == "portal"
    assert status_now(db, sealed, commitment) == CommitmentStatus.waived  # type: ignore[arg-type]
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "commitment.waived")).one()
    assert event.actor_kind == "participant" and event.case_id == sealed.case.id
    assert event.detail["consent_method"] == "portal"
    assert "Your facilitator has a question" not in client.get(PAGE).text


def test_the_survivor_declines_a_waiver_the_commitment_stands_and_the_facilitators_are_told(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    waiver = ask_waiver(db, facilitator, sealed)
    client = portal_client_for(sealed.held.survivor)

    response = client.post(f"/api/v1/portal/waivers/{waiver.id}/answer", json={"agree": False})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "declined" and body["commitment_status"] != "waived"
    assert body["message"] == text.WAIVER_KEPT
    told = db.exec(select(Notification).where(Notification.kind == "waiver_declined")).all()
    assert [n.recipient_user_id for n in told] == [facilitator.id]
    assert status_now(db, sealed, db.get(Commitment, waiver.commitment_id)) != CommitmentStatus.waived  # type: ignore[arg-type]

    again = client.post(f"/api/v1/portal/waivers/{waiver.id}/answer", json={"agree": True})
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert [c["code"] for c in again.json()["conditions"]] == ["already_answered"]
    page = client.post(f"/portal/waivers/{waiver.id}", data=form(client, agree="yes"))
    assert page.status_code == 409 and "You already answered this question." in page.text
    db.refresh(waiver)
    assert waiver.status == WaiverStatus.declined


def test_the_responsible_party_cannot_answer_the_survivors_waiver(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    waiver = ask_waiver(db, facilitator, sealed)
    client = portal_client_for(sealed.held.responsible)
    assert "Your facilitator has a question" not in client.get(PAGE).text and client.get(API).json()["waivers"] == []
    assert client.post(f"/api/v1/portal/waivers/{waiver.id}/answer", json={"agree": True}).status_code == 404
    assert client.post(f"/portal/waivers/{waiver.id}", data=form(client, agree="yes")).status_code == 404
    db.refresh(waiver)
    assert waiver.status == WaiverStatus.asked


def test_a_waiver_of_another_case_is_not_found(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    other = sealed_case(db, facilitator)
    foreign = ask_waiver(db, facilitator, other)
    client = portal_client_for(sealed.held.survivor)
    assert client.get(API).json()["waivers"] == []
    assert client.post(f"/api/v1/portal/waivers/{foreign.id}/answer", json={"agree": True}).status_code == 404
    assert client.post(f"/portal/waivers/{foreign.id}", data=form(client, agree="yes")).status_code == 404
    db.refresh(foreign)
    assert foreign.status == WaiverStatus.asked


def test_a_malformed_answer_is_refused_on_the_page_without_an_error(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    waiver = ask_waiver(db, facilitator, sealed)
    client = portal_client_for(sealed.held.survivor)
    response = client.post(f"/portal/waivers/{waiver.id}", data=form(client, agree="perhaps"))
    assert response.status_code == 422 and "Choose yes or no." in response.text
    db.refresh(waiver)
    assert waiver.status == WaiverStatus.asked


# --- walls and wording ----------------------------------------------------------------------------


def test_a_portal_session_reaches_no_staff_commitment_endpoint(
    db: Session, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    client = portal_client_for(sealed.held.responsible)
    commitment = first_payment(sealed)
    for path in (
        "/api/v1/commitments",
        "/api/v1/monitoring/counts",
        f"/api/v1/cases/{sealed.case.id}/commitments",
        f"/api/v1/cases/{sealed.case.id}/commitments/{commitment.id}",
    ):
        assert client.get(path).status_code in (401, 403), path
    recorded = client.post(
        f"/api/v1/cases/{sealed.case.id}/commitments/{commitment.id}/progress",
        json={"kind": "payment", "amount": "200.00", "occurred_on": "2026-11-01"},
    )
    assert recorded.status_code in (401, 403)
    assert commitment_service.entries_of(db, commitment=commitment) == []


def test_without_a_portal_session_there_is_nothing(app, sealed: Sealed) -> None:  # type: ignore[no-untyped-def]
    anonymous = TestClient(app, raise_server_exceptions=False)
    assert anonymous.get(API).status_code == 401
    page = anonymous.get(PAGE, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/portal/signed-out")


def test_the_api_answer_needs_the_csrf_header(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    waiver = ask_waiver(db, facilitator, sealed)
    client = portal_client_for(sealed.held.survivor)
    del client.headers["X-CSRF-Token"]
    assert client.post(f"/api/v1/portal/waivers/{waiver.id}/answer", json={"agree": True}).status_code == 403
    db.refresh(waiver)
    assert waiver.status == WaiverStatus.asked


def test_the_home_page_links_to_the_follow_up_once_the_agreement_is_sealed(
    sealed: Sealed, portal_client_for: PortalClientFactory, as_survivor: TestClient
) -> None:
    assert 'href="/portal/commitments"' in portal_client_for(sealed.held.responsible).get("/portal").text
    assert 'href="/portal/commitments"' not in as_survivor.get("/portal").text  # a case with no agreement yet


def test_a_spanish_speaker_reads_the_follow_up_in_spanish(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    responsible = sealed.held.responsible
    responsible.preferred_language = "es"
    db.add(responsible)
    db.flush()
    pay(db, facilitator, sealed)
    client = portal_client_for(responsible)
    page = client.get(PAGE).text
    assert '<html lang="es">' in page
    assert "Lo que usted acordó hacer" in page and "Fecha límite: 1 de febrero de 2027" in page
    assert "Todavía no vence" in page and "Pago recibido" in page and "Vigente" in page
    assert '<p lang="en">Payment 1 of 2: 200.00 EUR</p>' in page  # the agreement's own words, marked as English
    assert "What you agreed to do" not in page
    body = client.get(API).json()
    assert body["message"] == "El acuerdo está en marcha. Su facilitador comprueba cómo va."
    assert {c["kind_text"] for c in body["commitments"]} >= {"Pago", "Disculpa", "Servicio comunitario"}
    hours = next(c for c in body["commitments"] if c["kind"] == "service_hours")
    assert hours["amount_text"] == "40 horas" and hours["status_text"] == "Todavía no vence"


def test_every_follow_up_word_has_a_spanish_translation() -> None:
    words = [
        *text.COMMITMENT_STATUS_WORDS.values(),
        *text.NO_CONTACT_STATUS_WORDS.values(),
        *text.COMMITMENT_KIND_WORDS.values(),
        *text.PROGRESS_WORDS.values(),
        *text.CASE_STATE_WORDS.values(),
        *text.WAIVER_REFUSALS.values(),
    ]
    spanish = text.translator("es")
    missing = [word for word in words if spanish(word) == word]
    assert missing == []
