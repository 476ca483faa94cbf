"""Sending a portal link from Mend: the facilitator's button and the API queue a new link in the outbox, to the
person's agreed channel, in their language, in words that give nothing away, after their quiet hours; and
refuse when there is no safe way to reach them. The "Copy link" box for a link shown on screen."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Case, Participant, ParticipantRole
from app.db import utcnow
from app.notifications.models import Notification
from app.notifications.worker import Defer, Send, Skip, decide
from app.portal.models import PortalLink
from app.safety.consent import give_consent, withdraw_consent
from app.safety.models import ConsentMethod, ConsentScope, ContactChannel, ContactPreference
from app.safety.schemas import ContactPreferenceUpdate
from app.safety.service import save_contact_preference
from app.security import token_digest
from tests.factories import make_participant
from tests.portal.conftest import form

ROSA_EMAIL = "rosa.private@example.org"
# Words that would tell someone reading over the person's shoulder what the message is about.
GIVEAWAYS = (
    r"justice|justicia|restorative|restaurativ\w*|traffick\w*|trata|offender|infractor|agresor|victim|v[íi]ctima"
    r"|survivor|superviviente|conference|conferencia|agreement|acuerdo|facilitat\w*|mediaci[óo]n|mediation"
    r"|case|caso|program|programa|harm|da[ñn]o|consent\w*|court|tribunal"
)


def _send_path(case: Case, participant: Participant) -> str:
    return f"/cases/{case.id}/participants/{participant.id}/portal-links/send"


def _page_path(case: Case, participant: Participant) -> str:
    return f"/cases/{case.id}/participants/{participant.id}/portal"


def _api_path(case: Case, participant: Participant) -> str:
    return f"/api/v1/cases/{case.id}/participants/{participant.id}/portal-links/send"


def _agree_to_email(db: Session, by: User, participant: Participant, **overrides: object) -> ContactPreference:
    data = {"channel": ContactChannel.email, "email": ROSA_EMAIL, "others_may_see_messages": True} | overrides
    return save_contact_preference(
        db, actor=actor_for(by), participant=participant, data=ContactPreferenceUpdate(**data)
    )


def _token(body: str) -> str:
    match = re.search(r"http\S+/portal/enter/([A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


def _nothing_sent(db: Session) -> bool:
    return db.exec(select(PortalLink)).first() is None and db.exec(select(Notification)).first() is None


# --- sending -------------------------------------------------------------------------------------


def test_sending_queues_one_discreet_email_in_their_language_with_a_working_link(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    _agree_to_email(db, facilitator, survivor)
    page = as_facilitator.get(_page_path(case, survivor)).text
    assert "Send a new link by email" in page and "in Spanish" in page

    response = as_facilitator.post(_send_path(case, survivor), data=form(as_facilitator), follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == _page_path(case, survivor)
    [message] = db.exec(select(Notification)).all()
    assert (message.kind, message.channel, message.recipient_participant_id) == ("portal_link", "email", survivor.id)
    assert message.recipient_user_id is None and message.recipient_email is None  # the worker reads her address
    assert message.due_at <= utcnow()
    [link] = db.exec(select(PortalLink)).all()
    assert link.token_hash == token_digest(_token(message.body))
    assert message.body.startswith("Hola, Rosa") and "Este es su enlace privado" in message.body
    assert message.subject == "Su enlace"
    shown = as_facilitator.get(response.headers["location"]).text
    assert "A new link is on its way to Rosa by email." in shown
    assert "By email, waiting to go" in shown and _token(message.body) not in shown


def test_the_message_names_no_program_no_process_and_nothing_about_why(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant, program
) -> None:
    responsible = make_participant(db, facilitator, case, ParticipantRole.responsible_party, display_name="Dan")
    _agree_to_email(db, facilitator, survivor)
    _agree_to_email(db, facilitator, responsible, email="dan@example.org")
    for person in (survivor, responsible):
        assert as_facilitator.post(_send_path(case, person), data=form(as_facilitator)).status_code == 200
    messages = db.exec(select(Notification).order_by(col(Notification.id))).all()
    assert [m.body.splitlines()[0] for m in messages] == ["Hola, Rosa:", "Hello Dan,"]
    for message in messages:
        words = message.body.replace(_token(message.body), "")
        assert re.findall(rf"\b({GIVEAWAYS})\b", f"{message.subject}\n{words}", flags=re.IGNORECASE) == []
        assert program.name not in message.body and case.reference not in message.body
        assert "Harbour" not in message.body


def test_the_worker_sends_it_to_the_agreed_address_under_a_neutral_subject(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    _agree_to_email(db, facilitator, survivor)
    as_facilitator.post(_send_path(case, survivor), data=form(as_facilitator))
    message = db.exec(select(Notification)).one()
    decision = decide(db, message, now=utcnow())
    assert isinstance(decision, Send)
    assert decision.to == ROSA_EMAIL and decision.subject == "Un mensaje sobre su cita"


@pytest.mark.clock("2026-11-23T22:30:00+00:00")  # 23:30 in Madrid, the program's time zone
def test_inside_their_quiet_hours_the_message_waits_until_they_end(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    _agree_to_email(db, facilitator, survivor, quiet_hours_start="22:00", quiet_hours_end="07:30")
    page = as_facilitator.get(_page_path(case, survivor)).text
    assert "It is within their quiet hours (22:00–07:30), so the message waits until 24 Nov 2026, 07:30." in page

    response = as_facilitator.post(_send_path(case, survivor), data=form(as_facilitator), follow_redirects=False)

    message = db.exec(select(Notification)).one()
    assert message.due_at == datetime(2026, 11, 24, 6, 30, tzinfo=UTC)  # 07:30 in Madrid
    flash = as_facilitator.get(response.headers["location"]).text
    assert "A new link will go to Rosa by email on 24 Nov 2026, 07:30, when their quiet hours end." in flash
    assert isinstance(decide(db, message, now=utcnow()), Defer)  # even if a worker picked it up early
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "portal.link_sent")).one()
    assert event.detail["sends_at"] == "2026-11-24T06:30:00+00:00"


def test_a_link_revoked_before_the_message_goes_is_not_sent(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    _agree_to_email(db, facilitator, survivor)
    as_facilitator.post(_send_path(case, survivor), data=form(as_facilitator))
    link = db.exec(select(PortalLink)).one()
    as_facilitator.post(
        f"/cases/{case.id}/participants/{survivor.id}/portal-links/{link.id}/revoke", data=form(as_facilitator)
    )
    message = db.exec(select(Notification)).one()
    assert decide(db, message, now=utcnow()) == Skip("the link was revoked")


def test_the_audit_event_says_who_sent_what_to_whom_without_the_link(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    _agree_to_email(db, facilitator, survivor)
    as_facilitator.post(_send_path(case, survivor), data=form(as_facilitator))
    message = db.exec(select(Notification)).one()
    token = _token(message.body)
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "portal.link_sent")).one()
    assert event.actor_id == facilitator.id and event.case_id == case.id
    assert event.detail == {
        "participant_id": survivor.id,
        "notification_id": message.id,
        "channel": "email",
        "language": "es",
        "sends_at": event.detail["sends_at"],
    }
    every_event = json.dumps([e.model_dump(mode="json") for e in db.exec(select(AuditEvent)).all()])
    assert token not in every_event and token_digest(token) not in every_event and ROSA_EMAIL not in every_event


# --- refusals ------------------------------------------------------------------------------------


def _no_preferences(db: Session, by: User, participant: Participant) -> None:
    return None


def _declined(db: Session, by: User, participant: Participant) -> None:
    save_contact_preference(
        db, actor=actor_for(by), participant=participant, data=ContactPreferenceUpdate(channel=ContactChannel.none)
    )


def _phone(db: Session, by: User, participant: Participant) -> None:
    data = ContactPreferenceUpdate(channel=ContactChannel.phone, phone="+34 600 111 222", text_ok=True)
    save_contact_preference(db, actor=actor_for(by), participant=participant, data=data)


def _withdrew_contact(db: Session, by: User, participant: Participant) -> None:
    _agree_to_email(db, by, participant)
    actor = actor_for(by)
    give_consent(
        db,
        actor=actor,
        participant=participant,
        scope=ConsentScope.contact,
        sheet_version="2026-1",
        sheet_language="es",
        method=ConsentMethod.in_person,
    )
    withdraw_consent(db, actor=actor, participant=participant, scope=ConsentScope.contact, reason=None)


def _no_address(db: Session, by: User, participant: Participant) -> None:
    pref = _agree_to_email(db, by, participant)
    pref.email = None  # an old row: the form no longer allows it
    db.add(pref)
    db.flush()


@pytest.mark.parametrize(
    ("situation", "code", "advice"),
    [
        (_no_preferences, "contact_preferences_missing", "Ask them how they want to be contacted"),
        (_declined, "contact_declined", "Send them nothing."),
        (_phone, "phone_only", "in a text message only if their contact preferences say texts are safe"),
        (_withdrew_contact, "contact_consent_withdrawn", "Send them nothing."),
        (_no_address, "email_missing", "Ask them how they want to be contacted"),
    ],
    ids=lambda value: value if isinstance(value, str) and "_" in value and " " not in value else "",
)
def test_without_a_safe_channel_there_is_no_button_the_page_says_why_and_sending_is_refused(
    as_facilitator: TestClient,
    db: Session,
    facilitator: User,
    case: Case,
    survivor: Participant,
    situation,  # type: ignore[no-untyped-def]
    code: str,
    advice: str,
) -> None:
    situation(db, facilitator, survivor)
    links_before = len(db.exec(select(PortalLink)).all())

    page = as_facilitator.get(_page_path(case, survivor)).text
    assert "Send a new link by email" not in page and "Mend cannot send Rosa a link." in page
    assert f'data-code="{code}"' in page and advice in page
    assert "Issue a new link" in page  # handing it over in person is still possible

    refused = as_facilitator.post(_send_path(case, survivor), data=form(as_facilitator))
    assert refused.status_code == 409
    api = as_facilitator.post(_api_path(case, survivor))
    assert api.status_code == 409 and api.headers["content-type"] == "application/problem+json"
    assert [c["code"] for c in api.json()["conditions"]] == [code]
    assert len(db.exec(select(PortalLink)).all()) == links_before
    assert db.exec(select(Notification).where(Notification.kind == "portal_link")).first() is None


def test_a_supporter_has_no_portal_so_nothing_is_offered_or_sent(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case
) -> None:
    supporter = make_participant(db, facilitator, case, ParticipantRole.supporter, display_name="Sam")
    _agree_to_email(db, facilitator, supporter, email="sam@example.org")
    assert "Send a link from Mend" not in as_facilitator.get(_page_path(case, supporter)).text
    assert as_facilitator.post(_send_path(case, supporter), data=form(as_facilitator)).status_code == 409
    assert _nothing_sent(db)


def test_people_outside_the_case_cannot_send_and_learn_nothing(
    as_staff: TestClient,
    as_facilitator2: TestClient,
    as_other_admin: TestClient,
    db: Session,
    facilitator: User,
    case: Case,
    survivor: Participant,
) -> None:
    _agree_to_email(db, facilitator, survivor)
    assert as_staff.post(_send_path(case, survivor), data=form(as_staff)).status_code == 403
    assert as_staff.post(_api_path(case, survivor)).status_code == 403
    for outsider in (as_facilitator2, as_other_admin):
        assert outsider.post(_send_path(case, survivor), data=form(outsider)).status_code == 404
        answer = outsider.post(_api_path(case, survivor))
        assert answer.status_code == 404 and ROSA_EMAIL not in answer.text
    assert _nothing_sent(db)


def test_sending_needs_the_forms_csrf_token(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    _agree_to_email(db, facilitator, survivor)
    del as_facilitator.headers["X-CSRF-Token"]
    assert as_facilitator.post(_send_path(case, survivor)).status_code == 403
    assert as_facilitator.post(_send_path(case, survivor), data={"csrf_token": "0" * 64}).status_code == 403
    assert as_facilitator.post(_api_path(case, survivor)).status_code == 403
    assert _nothing_sent(db)


# --- the API -------------------------------------------------------------------------------------


def test_the_api_accepts_with_202_and_never_returns_the_link(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    _agree_to_email(db, facilitator, survivor)
    response = as_facilitator.post(_api_path(case, survivor))
    assert response.status_code == 202, response.text
    body = response.json()
    message = db.exec(select(Notification)).one()
    assert body["notification_id"] == message.id and body["channel"] == "email" and body["language"] == "es"
    assert body["link"]["state"] == "waiting" and body["link"]["participant_id"] == survivor.id
    assert "url" not in body and _token(message.body) not in response.text
    assert datetime.fromisoformat(body["sends_at"]) <= utcnow() + timedelta(seconds=1)


# --- copying a link shown on screen --------------------------------------------------------------


def test_an_issued_link_stands_in_a_read_only_box_with_a_copy_button_for_scripts(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    page = as_facilitator.post(f"/cases/{case.id}/participants/{survivor.id}/portal-links", data=form(as_facilitator))
    box = re.search(r'<input type="text" id="new-link"[^>]*>', page.text)
    assert box and " readonly" in box.group(0) and 'value="http' in box.group(0)
    button = re.search(r'<button type="button"[^>]*data-copy="new-link"[^>]*>Copy link</button>', page.text)
    assert button and " hidden" in button.group(0)  # shown by the script; without it, the box is enough
    assert '<script src="/static/js/copy.js" defer></script>' in page.text
    assert 'role="status"' in page.text and as_facilitator.get("/static/js/copy.js").status_code == 200
