"""The portal home and GET /api/v1/portal/me say the same thing at each stage: where the person is, what
happens next, and the one thing to do (app/portal/rules.portal_guidance). Each test moves a real case
through the journey with the services and reads both, as the survivor and as the responsible party."""

import html
import re
from datetime import date, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.agreements.models import AgreementVersion
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Case, Participant, SessionKind
from app.conferences.scheduling import SessionPlan, schedule_session
from app.db import utcnow
from app.i18n import weekday_date
from app.safety.consent import give_consent
from app.safety.models import ConsentMethod, ConsentScope, SessionMode
from tests.agreements.monitoring_support import Sealed, sealed_case, stub_pdf
from tests.portal.conftest import PortalClientFactory, form
from tests.portal.test_agreement import Desk, accept, first_terms, hold_conference, sign

ME = "/api/v1/portal/me"
PRIMARY = re.compile(r'<a class="button portal-big-button portal-primary" href="([^"]+)">([^<]+)</a>')


def home_and_me(client: TestClient) -> tuple[str, dict]:
    """The home page's guidance and the API's, checked to agree word for word; the API's answer is returned."""
    page = client.get("/portal")
    me = client.get(ME)
    assert page.status_code == 200 and me.status_code == 200, (page.text, me.text)
    body, text = me.json(), html.unescape(page.text)
    assert body["status"] in text and body["next"] in text
    buttons = PRIMARY.findall(text)
    if body["primary_action"] is None:
        assert buttons == []
    else:
        assert buttons == [(body["primary_action"]["href"], body["primary_action"]["label"])]
    for other in body["other_actions"]:
        assert f'href="{other["href"]}">{other["label"]}</a>' in text
    assert text.count("<h1") == 1
    return text, body


def _consent(db: Session, facilitator: User, person: Participant, *scopes: ConsentScope) -> None:
    for scope in scopes:
        give_consent(
            db,
            actor=actor_for(facilitator),
            participant=person,
            scope=scope,
            sheet_version="2026-1",
            sheet_language="en",
            method=ConsentMethod.in_person,
        )


def _preparation_meeting(
    db: Session, facilitator: User, case: Case, person: Participant, day: date, place: str
) -> None:
    _consent(db, facilitator, person, ConsentScope.contact, ConsentScope.preparation)
    plan = SessionPlan(
        kind=SessionKind.preparation,
        mode=SessionMode.in_person,
        day=day,
        start=time(10),
        end=time(11),
        attendee_ids=frozenset({person.id}),  # type: ignore[arg-type]
        location=place,
    )
    schedule_session(db, actor=actor_for(facilitator), case=case, plan=plan)
    db.commit()


# --- before the meeting ------------------------------------------------------------------------------


def test_before_consent_both_say_read_the_sheet_in_her_language(as_survivor: TestClient) -> None:
    _, me = home_and_me(as_survivor)
    assert me["stage"] == "consent_asked"
    assert me["status"] == "Su facilitador está preparando todo. No se programará nada sin su permiso."
    assert me["primary_action"] == {"href": "/portal/information", "label": "Lea la hoja de información"}


def test_each_person_sees_only_their_own_meeting_time_and_place(
    db: Session,
    facilitator: User,
    case: Case,
    survivor: Participant,
    responsible: Participant,
    portal_client_for: PortalClientFactory,
) -> None:
    day = (utcnow() + timedelta(days=10)).date()
    _preparation_meeting(db, facilitator, case, survivor, day, "Harbour Street office")
    _preparation_meeting(db, facilitator, case, responsible, day + timedelta(days=1), "Probation office, Room 4")

    rosa_page, rosa = home_and_me(portal_client_for(survivor))
    assert rosa["stage"] == "meeting_scheduled"
    assert rosa["status"] == (
        f"Su próxima reunión es el {weekday_date(day, language='es')} a las 10:00. El lugar es: Harbour Street office."
    )
    assert "Probation office" not in rosa_page and "Probation office" not in str(rosa)

    dan_page, dan = home_and_me(portal_client_for(responsible))
    when = weekday_date(day + timedelta(days=1), language="en")
    assert dan["status"] == f"Your next meeting is on {when} at 10:00. The place is: Probation office, Room 4."
    assert dan["next"] == "You meet your facilitator on your own. If you cannot come, tell your facilitator."
    assert "Harbour Street" not in dan_page and "Harbour Street" not in str(dan)


def test_when_the_other_party_stops_the_survivor_reads_neutral_words(
    db: Session, facilitator: User, responsible: Participant, as_survivor: TestClient, portal_client_for
) -> None:  # type: ignore[no-untyped-def]
    dan = portal_client_for(responsible)
    dan.post("/portal/consent/conference", data=form(dan, confirmed="yes"))
    dan.post("/portal/consent/conference/withdraw", data=form(dan))

    rosa_page, rosa = home_and_me(as_survivor)
    assert rosa["stage"] == "paused"
    assert rosa["status"] == "El proceso está en espera por ahora. Usted no tiene que hacer nada."
    assert "Dan" not in rosa_page and "parar" not in rosa["status"]
    _, own = home_and_me(dan)
    assert (own["stage"], own["primary_action"]["label"]) == ("withdrawn", "See and change your choices")
    assert own["status"] == "You said stop. The process is paused. Nothing will be planned without your OK."


# --- the agreement -----------------------------------------------------------------------------------


@pytest.fixture
def desk(db: Session, facilitator: User, case: Case, survivor: Participant, responsible: Participant) -> Desk:
    hold_conference(db, facilitator, case, survivor, responsible)
    db.commit()
    return Desk(db, facilitator, case, responsible)


def test_after_the_conference_then_review_then_changes_asked(
    desk: Desk, as_survivor: TestClient, portal_client_for: PortalClientFactory, responsible: Participant
) -> None:
    _, me = home_and_me(as_survivor)
    assert (me["stage"], me["status"]) == ("conference_held", "La reunión terminó. Gracias por participar.")

    version = desk.send_for_review(first_terms(responsible))
    _, me = home_and_me(as_survivor)
    assert me["stage"] == "review"
    assert me["primary_action"] == {"href": "/portal/agreement", "label": "Lea el acuerdo"}

    as_survivor.post(
        "/portal/agreement/review",
        data=form(
            as_survivor, decision="changes_requested", text_sha256=version.text_sha256, comment="Add no contact."
        ),
    )
    _, me = home_and_me(as_survivor)
    assert (me["stage"], me["status"]) == ("changes_asked", "Usted pidió cambios en el acuerdo. Gracias.")
    _, dan = home_and_me(portal_client_for(responsible))  # her request is hers to tell, not his page's
    assert (dan["stage"], dan["status"]) == ("drafting", "Your facilitator is working on the agreement.")


def test_signing_then_waiting_for_the_others(
    desk: Desk, as_survivor: TestClient, portal_client_for: PortalClientFactory, responsible: Participant
) -> None:
    as_responsible = portal_client_for(responsible)
    desk.send_for_review(first_terms(responsible))
    version = desk.latest()
    accept(as_survivor, version)
    _, me = home_and_me(as_survivor)
    assert (me["stage"], me["status"]) == ("reviewed", "Usted aceptó el acuerdo. Gracias.")
    accept(as_responsible, version)
    signing: AgreementVersion = desk.send_for_signature()

    _, dan = home_and_me(as_responsible)
    assert dan["stage"] == "ready_to_sign" and dan["status"] == "The agreement is ready for you to sign."
    assert dan["primary_action"] == {"href": "/portal/agreement", "label": "Sign the agreement"}
    assert sign(as_responsible, signing, "Dan Novak").status_code == 201
    page, dan = home_and_me(as_responsible)
    assert dan["stage"] == "waiting_for_signatures"
    assert dan["next"] == "Next: the others sign it too. Then you can download your copy here."
    assert "Sign the agreement" not in page


# --- after signing -----------------------------------------------------------------------------------


@pytest.fixture
def sealed(db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch) -> Sealed:
    stub_pdf(monkeypatch)
    return sealed_case(db, facilitator)


@pytest.mark.clock
def test_monitoring_the_responsible_party_sees_what_is_due_next(
    sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    _, dan = home_and_me(portal_client_for(sealed.held.responsible))
    assert dan["stage"] == "monitoring"
    assert dan["status"] == "The agreement is in place. Your facilitator checks how it is going."
    assert dan["next"] == "The next thing you agreed to do is due by Friday 15 January 2027."
    assert dan["primary_action"] == {"href": "/portal/commitments", "label": "See what is due next"}


@pytest.mark.clock
def test_monitoring_the_survivor_sees_progress_only_if_she_opted_in(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    rosa = portal_client_for(sealed.held.survivor)
    _, me = home_and_me(rosa)
    assert me["next"] == "If you want news about how it is going, you can say yes on the page Your choices."
    assert me["primary_action"] == {"href": "/portal/agreement/pdf", "label": "Download your signed copy"}
    _consent(db, facilitator, sealed.held.survivor, ConsentScope.progress_updates)
    db.commit()
    _, me = home_and_me(rosa)
    assert me["primary_action"] == {"href": "/portal/commitments", "label": "See how the agreement is going"}


@pytest.mark.clock
def test_stopping_after_signing_says_what_still_stands(
    db: Session, facilitator: User, sealed: Sealed, portal_client_for: PortalClientFactory
) -> None:
    _consent(db, facilitator, sealed.held.responsible, ConsentScope.conference)
    db.commit()
    dan = portal_client_for(sealed.held.responsible)
    assert dan.post("/api/v1/portal/consents/conference/withdraw").status_code == 200
    page, me = home_and_me(dan)
    assert me["stage"] == "withdrawn"
    assert me["status"] == "You said stop. Your meetings are cancelled. But the signed agreement still stands."
    assert me["next"] == "You still need to do what you agreed, like payments. Your facilitator will contact you."
    assert me["primary_action"]["label"] == "See what is due next"
    assert "Nothing will happen" not in page
