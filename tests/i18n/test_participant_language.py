"""A participant's preferred language chooses their portal pages, their emails and .ics, and their copy of the
sealed agreement: a Spanish-speaking survivor gets Spanish, the English-speaking responsible party English.

The case goes from 'ready' to a sealed agreement through the real services (tests/agreements/test_pdf.py);
the PDFs are read back with pdftotext as the PDF tests do.
"""

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.agreements import storage
from app.agreements.models import AgreementDocument
from app.agreements.service import save_draft
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Case, Participant
from app.conferences.scheduling import mark_session_held, schedule_session
from app.db import utcnow
from app.notifications.models import Notification
from app.portal.agreement_service import download_own_agreement
from app.portal.service import portal_actor
from tests.agreements.test_pdf import _review_and_sign, _run, _terms
from tests.conferences.test_scheduling_service import _plan, _ready
from tests.portal.conftest import PortalClientFactory


@dataclass
class Journey:
    case: Case
    survivor: Participant
    responsible: Participant
    invitations: dict[int, Notification]
    copies: dict[str, AgreementDocument]


@pytest.fixture
def journey(db: Session, as_facilitator: TestClient, facilitator: User) -> Journey:
    case, survivor, responsible = _ready(db, as_facilitator)
    survivor.preferred_language = "es-MX"
    responsible.preferred_language = "en"
    db.add_all([survivor, responsible])
    db.flush()
    actor = actor_for(facilitator)
    conference = schedule_session(db, actor=actor, case=case, plan=_plan(survivor, responsible))
    invitations = {
        row.recipient_participant_id: row
        for row in db.exec(
            select(Notification).where(
                Notification.kind == "session_invitation", col(Notification.recipient_participant_id).is_not(None)
            )
        ).all()
    }
    conference.starts_at, conference.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
    db.add(conference)
    db.flush()
    mark_session_held(db, actor=actor, case_session=conference, outcome_note="Apology given; agreement next.")
    version = save_draft(db, actor=actor, case=case, terms=_terms(responsible), based_on=None)
    _review_and_sign(db, facilitator, case=case, version=version, survivor=survivor, responsible=responsible)
    copies = {
        document.language: document
        for document in db.exec(select(AgreementDocument).where(AgreementDocument.version_id == version.id)).all()
    }
    return Journey(case, survivor, responsible, invitations, copies)


def _text(tmp_path: Path, pdf: bytes, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    return " ".join(_run("pdftotext", path, "-").split())


def _attached_json(tmp_path: Path, pdf: bytes, name: str) -> dict:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    out = tmp_path / f"{name}.json"
    _run("pdfdetach", "-save", "1", "-o", out, path)
    return json.loads(out.read_text(encoding="utf-8"))


def test_each_participant_gets_the_invitation_and_ics_in_their_language(journey: Journey) -> None:
    spanish = journey.invitations[journey.survivor.id]
    english = journey.invitations[journey.responsible.id]
    # Without a contact preference saying otherwise, messages are discreet: they do not say what the meeting is.
    assert re.fullmatch(r"Invitación: cita el \w+ \d+ de \w+ de \d{4}", spanish.subject), spanish.subject
    assert spanish.body.startswith(f"Hola, {journey.survivor.display_name}:")
    assert "Cuándo: " in spanish.body and "When:" not in spanish.body
    assert re.fullmatch(r"Invitation: appointment on \w+ \d+ \w+ \d{4}", english.subject), english.subject
    assert english.body.startswith(f"Hello {journey.responsible.display_name},") and "Cuándo" not in english.body

    event = icalendar.Calendar.from_ical(spanish.attachment_body).walk("VEVENT")[0]
    assert event["SUMMARY"] == "Cita" and event["SUMMARY"].params["LANGUAGE"] == "es"
    assert "Sala de espera" in event["DESCRIPTION"] or "Dónde: " in event["DESCRIPTION"]
    assert "Cuándo: " in event["DESCRIPTION"] and "(hora de " in event["DESCRIPTION"]
    english_event = icalendar.Calendar.from_ical(english.attachment_body).walk("VEVENT")[0]
    assert english_event["SUMMARY"] == "Appointment" and "When: " in english_event["DESCRIPTION"]


def test_sealing_stores_the_record_copy_and_one_in_the_spanish_speakers_language(
    journey: Journey, tmp_path: Path
) -> None:
    assert set(journey.copies) == {"en", "es"}
    english = _text(tmp_path, journey.copies["en"].content, "en")
    spanish = _text(tmp_path, journey.copies["es"].content, "es")
    assert "Reparation agreement" in english and "Acuerdo de reparación" not in english
    assert "Acuerdo de reparación" in spanish and "Certificado de firmas" in spanish
    assert "Compromisos de seguimiento" in spanish and "15 de enero de 2027" in spanish
    # Each copy shows the terms in its reader's language, as the signed text (which holds both) says them;
    # the attached JSON is the same in every copy, with the text's hash.
    for sentence in ("Return the identity papers to the program office.", "Labour rights course"):
        assert sentence in english and sentence not in spanish
    for sentence in ("Devolver los documentos de identidad a la oficina del programa.", "Curso de derechos laborales"):
        assert sentence in spanish and sentence not in english
    assert _attached_json(tmp_path, journey.copies["es"].content, "es") == _attached_json(
        tmp_path, journey.copies["en"].content, "en"
    )


def test_the_portal_serves_each_participant_their_own_languages_copy(
    db: Session, journey: Journey, portal_client_for: PortalClientFactory
) -> None:
    for person, language in ((journey.survivor, "es"), (journey.responsible, "en")):
        _, _, document = download_own_agreement(db, actor=portal_actor(person), participant=person)
        assert document.language == language
        response = portal_client_for(person).get("/portal/agreement/pdf")
        assert response.status_code == 200 and response.content == journey.copies[language].content


def test_staff_can_download_each_stored_language(as_facilitator: TestClient, journey: Journey) -> None:
    base = f"/cases/{journey.case.id}/agreement/versions/1/pdf"
    assert as_facilitator.get(base).content == journey.copies["en"].content
    spanish = as_facilitator.get(f"/api/v1{base}?language=es")
    assert spanish.status_code == 200 and spanish.content == journey.copies["es"].content
    assert spanish.headers["content-disposition"].endswith('-v1-es.pdf"')
    page = as_facilitator.get(f"/cases/{journey.case.id}/agreement")
    assert f"{base}?language=es" in page.text
    assert as_facilitator.get(f"{base}?language=fr").status_code == 422


def test_the_portal_pages_speak_the_participants_language(
    journey: Journey, portal_client_for: PortalClientFactory
) -> None:
    spanish = portal_client_for(journey.survivor).get("/portal")
    english = portal_client_for(journey.responsible).get("/portal")
    assert '<html lang="es">' in spanish.text and f"Hola, {journey.survivor.display_name}." in spanish.text
    assert "Salida rápida" in spanish.text and "Quick exit" not in spanish.text
    assert '<html lang="en">' in english.text and "Quick exit" in english.text and "Salida rápida" not in english.text
    sheet = portal_client_for(journey.survivor).get("/portal/information")
    assert "Reunión para reparar el daño: lo que necesita saber" in sheet.text
    assert "Meeting to repair harm" in portal_client_for(journey.responsible).get("/portal/information").text
    agreement = portal_client_for(journey.survivor).get("/portal/agreement")
    assert "Firmado por todos" in agreement.text and "Descargar el acuerdo firmado (PDF)" in agreement.text


def test_a_record_copy_is_served_when_no_copy_was_stored_in_the_persons_language(db: Session, journey: Journey) -> None:
    db.delete(journey.copies["es"])
    db.flush()
    _, own_version, document = download_own_agreement(
        db, actor=portal_actor(journey.survivor), participant=journey.survivor
    )
    assert document.language == storage.RECORD_LANGUAGE == "en"
    assert storage.stored_languages(db, version=own_version) == ["en"]
