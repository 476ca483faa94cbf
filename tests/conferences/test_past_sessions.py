"""Recording a session that already took place: held at once, with who attended and how it went, audited,
nobody invited, and the conference only when gate G1 held on its date."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from app.audit.models import AuditEvent
from app.conferences.models import Acknowledgement, CaseSession, Screening, SessionAttendee, SessionStatus
from app.db import utcnow
from app.notifications.models import Notification
from app.safety.models import Consent, ConsentMethod, ConsentScope, SafetyAssessment
from tests.test_preparation_journey import _prepare

THREE_DAYS_AGO = (utcnow() - timedelta(days=3)).date()


def _backdate(db: Session, case_id: int, *, days: int) -> None:
    """Move every preparation record of the case `days` into the past, as if made back then."""
    when = utcnow() - timedelta(days=days)
    for model, column in (
        (Screening, Screening.completed_at),
        (Acknowledgement, Acknowledgement.acknowledged_at),
        (SafetyAssessment, SafetyAssessment.assessed_at),
        (Consent, Consent.given_at),
    ):
        db.execute(update(model).where(col(model.case_id) == case_id).values({column: when}))  # type: ignore[attr-defined]
    db.commit()


def _form(
    client: TestClient, kind: str, *attendees: int, note: str = "Everyone spoke; an apology was offered."
) -> dict:
    return {
        "csrf_token": client.csrf_token,  # type: ignore[attr-defined]
        "kind": kind,
        "already_held": "true",
        "date": THREE_DAYS_AGO.isoformat(),
        "start": "10:00",
        "end": "12:00",
        "mode": "in_person",
        "location": "Community centre",
        "attendee_ids": [str(a) for a in attendees],
        "outcome_note": note,
    }


def _count(db: Session, model) -> int:  # type: ignore[no-untyped-def]
    return db.exec(select(func.count()).select_from(model)).one()


def test_a_past_conference_is_recorded_held_with_attendees_and_note_audited_and_nobody_told(
    db: Session, as_facilitator: TestClient
) -> None:
    case_id, survivor, responsible = _prepare(as_facilitator)
    _backdate(db, case_id, days=10)
    queued = _count(db, Notification)
    response = as_facilitator.post(
        f"/cases/{case_id}/sessions",
        data=_form(as_facilitator, "conference", survivor, responsible),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    held = db.exec(select(CaseSession).where(CaseSession.case_id == case_id)).one()
    assert held.status == SessionStatus.held and held.outcome_note == "Everyone spoke; an apology was offered."
    attendees = db.exec(select(SessionAttendee.participant_id).where(SessionAttendee.session_id == held.id)).all()
    assert set(attendees) == {survivor, responsible}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "session.recorded_held")).one()
    assert str(event.entity_id) == str(held.id) and event.case_id == case_id
    assert _count(db, Notification) == queued
    page = as_facilitator.get(response.headers["location"])
    assert "recorded as held. No invitations were sent." in page.text
    journey = as_facilitator.get(f"/api/v1/cases/{case_id}/journey").json()
    assert journey["stage"] == "conference_held"


def test_a_past_conference_with_consent_given_only_after_its_date_is_refused_beside_the_date(
    db: Session, as_facilitator: TestClient
) -> None:
    case_id, survivor, responsible = _prepare(as_facilitator)  # consent recorded today, the conference was 3 days ago
    db.execute(
        update(Screening).where(col(Screening.case_id) == case_id).values(completed_at=utcnow() - timedelta(days=10))
    )
    db.execute(
        update(Acknowledgement)
        .where(col(Acknowledgement.case_id) == case_id)
        .values(acknowledged_at=utcnow() - timedelta(days=10))
    )
    db.execute(
        update(SafetyAssessment)
        .where(col(SafetyAssessment.case_id) == case_id)
        .values(assessed_at=utcnow() - timedelta(days=10))
    )
    db.commit()
    response = as_facilitator.post(
        f"/cases/{case_id}/sessions", data=_form(as_facilitator, "conference", survivor, responsible)
    )
    assert response.status_code == 409
    html = response.text
    beside_date = html[html.index('id="field-date-error"') :]
    assert beside_date.split("</p>")[0].endswith("were not all met, so it cannot be recorded as held then.")
    assert "has not consented to take part in the conference" in html
    assert 'href="#field-date"' in html  # the error summary links to the field
    assert db.exec(select(CaseSession).where(CaseSession.case_id == case_id)).first() is None


def test_a_past_preparation_meeting_is_recorded_held_without_invitations(
    db: Session, as_facilitator: TestClient
) -> None:
    case_id, survivor, _ = _prepare(as_facilitator)
    for scope in (ConsentScope.contact, ConsentScope.preparation):
        db.add(
            Consent(
                program_id=db.exec(select(Consent.program_id).where(Consent.case_id == case_id)).first(),
                case_id=case_id,
                participant_id=survivor,
                scope=scope,
                sheet_version="1",
                sheet_language="es",
                method=ConsentMethod.in_person,
                given_at=utcnow() - timedelta(days=20),
            )
        )
    db.commit()
    queued = _count(db, Notification)
    response = as_facilitator.post(
        f"/cases/{case_id}/sessions", data=_form(as_facilitator, "preparation", survivor), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    held = db.exec(select(CaseSession).where(CaseSession.case_id == case_id)).one()
    assert held.status == SessionStatus.held
    assert _count(db, Notification) == queued


def test_a_session_recorded_as_held_must_be_over(db: Session, as_facilitator: TestClient) -> None:
    case_id, survivor, responsible = _prepare(as_facilitator)
    form = _form(as_facilitator, "conference", survivor, responsible) | {
        "date": (utcnow() + timedelta(days=3)).date().isoformat()
    }
    response = as_facilitator.post(f"/cases/{case_id}/sessions", data=form)
    assert response.status_code == 422
    assert "A session recorded as held must be over" in response.text


def test_the_form_offers_to_record_a_past_session(as_facilitator: TestClient) -> None:
    case_id, _, _ = _prepare(as_facilitator)
    assert "Record a conference that already took place" in as_facilitator.get(f"/cases/{case_id}/sessions").text
    page = as_facilitator.get(f"/cases/{case_id}/sessions/new", params={"kind": "conference", "past": "true"}).text
    assert "that already took place" in page and "Record as held" in page
    assert 'name="already_held" value="true" checked' in page


def test_the_api_records_a_past_session_and_asks_for_a_note(db: Session, as_facilitator: TestClient) -> None:
    case_id, survivor, responsible = _prepare(as_facilitator)
    _backdate(db, case_id, days=10)
    body = {
        "kind": "conference",
        "already_held": True,
        "date": THREE_DAYS_AGO.isoformat(),
        "start": "10:00",
        "end": "12:00",
        "location": "Community centre",
        "attendee_ids": [survivor, responsible],
    }
    missing_note = as_facilitator.post(f"/api/v1/cases/{case_id}/sessions", json=body)
    assert missing_note.status_code == 422
    created = as_facilitator.post(f"/api/v1/cases/{case_id}/sessions", json=body | {"outcome_note": "Went well."})
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "held" and created.json()["outcome_note"] == "Went well."
