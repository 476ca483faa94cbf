"""Screening and acknowledgement pages: rules beside the form, errors beside fields, HTMX, roles, the journey."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import User
from app.conferences import preparation
from app.conferences.models import Acknowledgement, Case, Participant, ParticipantRole, Screening
from app.db import utcnow
from tests.conferences.test_screening_rules import COERCION_QUESTION, RESPONSIBLE_READY, SURVIVOR_READY
from tests.factories import make_case, make_participant

RATIONALE = "Ready: supported, calm, and clear about the process."


@pytest.fixture
def case(db: Session, facilitator: User) -> Case:
    return make_case(db, facilitator)


@pytest.fixture
def survivor(db: Session, facilitator: User, case: Case) -> Participant:
    return make_participant(db, facilitator, case, ParticipantRole.survivor, display_name="Rosa")


@pytest.fixture
def responsible(db: Session, facilitator: User, case: Case) -> Participant:
    return make_participant(db, facilitator, case, ParticipantRole.responsible_party, display_name="Dan")


def _page(person: Participant, what: str = "screening") -> str:
    return f"/cases/{person.case_id}/participants/{person.id}/{what}"


def _form(client: TestClient, answers: dict, **fields) -> dict:  # type: ignore[no-untyped-def]
    return (
        {f"answers.{k}": v for k, v in answers.items()}
        | {"rationale": RATIONALE}
        | fields
        | {
            "csrf_token": client.csrf_token  # type: ignore[attr-defined]
        }
    )


def _screen(client: TestClient, person: Participant, answers: dict, **fields):  # type: ignore[no-untyped-def]
    return client.post(_page(person), data=_form(client, answers, **fields), follow_redirects=False)


def _acknowledge(client: TestClient, person: Participant, **fields):  # type: ignore[no-untyped-def]
    data = {
        "wording": "I took her passport and made her work to pay a debt she did not owe.",
        "method": "in_person",
        "acknowledged_at": "2026-01-15T10:30",
        "csrf_token": client.csrf_token,  # type: ignore[attr-defined]
    } | fields
    return client.post(_page(person, "acknowledgement"), data=data, follow_redirects=False)


# --- the screening page --------------------------------------------------------------------


def test_the_screening_page_shows_the_rules_beside_the_form(as_facilitator: TestClient, survivor: Participant) -> None:
    page = as_facilitator.get(_page(survivor))
    assert page.status_code == 200
    text = page.text
    assert "How the suggested outcome is worked out" in text
    assert "While the trafficker or their network is in touch" in text  # a rule's explanation
    assert "cannot be overridden" in text
    assert COERCION_QUESTION in text
    assert 'name="answers.trafficker_contact"' in text and 'type="radio"' in text
    assert "<legend>Has anyone pressured you, threatened you, or offered you something to take part?</legend>" in text
    assert "No screening yet." in text


def test_the_responsible_party_gets_their_own_instrument(as_facilitator: TestClient, responsible: Participant) -> None:
    text = as_facilitator.get(_page(responsible)).text
    assert "Readiness screening: responsible party" in text
    assert "How would you describe your part in what happened?" in text
    assert "Do you need an interpreter" in text and "What makes you want to think about taking part?" not in text


def test_a_complete_screening_redirects_to_it_with_the_rules_that_fired(
    as_facilitator: TestClient, survivor: Participant, db: Session
) -> None:
    response = _screen(as_facilitator, survivor, SURVIVOR_READY | {"debt": "yes"})
    screening = db.exec(select(Screening)).one()
    assert response.status_code == 303
    assert response.headers["location"] == f"{_page(survivor)}/{screening.id}"
    detail = as_facilitator.get(response.headers["location"]).text
    assert "Screening recorded: Not yet." in detail
    assert "A claimed debt is a means of control" in detail
    assert "Does anyone say that you still owe them money" in detail
    assert "Fran Facilitator" in detail and RATIONALE in detail


def test_missing_answers_show_beside_their_questions_and_what_was_chosen_is_kept(
    as_facilitator: TestClient, survivor: Participant, db: Session
) -> None:
    answers = {k: v for k, v in SURVIVOR_READY.items() if k not in ("coerced", "debt")}
    response = _screen(as_facilitator, survivor, answers | {"anything_else": "Prefers mornings."})
    assert response.status_code == 422
    text = response.text
    assert 'id="field-answers.coerced-error"' in text and 'id="field-answers.debt-error"' in text
    assert 'href="#field-answers.coerced"' in text
    assert 'value="in_contact"' in text
    assert 'name="answers.trafficker_contact" value="no" checked' in text
    assert "Prefers mornings." in text and RATIONALE in text
    assert db.exec(select(Screening)).first() is None


def test_ready_despite_coercion_is_refused_beside_the_outcome(
    as_facilitator: TestClient, survivor: Participant, db: Session
) -> None:
    response = _screen(
        as_facilitator, survivor, SURVIVOR_READY | {"coerced": "yes"}, outcome="ready", override_reason="She insists."
    )
    assert response.status_code == 409
    assert 'id="field-outcome-error"' in response.text
    assert "not even by override" in response.text
    assert "She insists." in response.text
    assert db.exec(select(Screening)).first() is None


def test_an_override_without_a_reason_shows_the_error_beside_the_reason(
    as_facilitator: TestClient, survivor: Participant
) -> None:
    response = _screen(as_facilitator, survivor, SURVIVOR_READY | {"support": "nobody"}, outcome="ready")
    assert response.status_code == 422
    assert 'id="field-override_reason-error"' in response.text
    assert 'name="outcome" value="ready" checked' in response.text


def test_a_missing_rationale_shows_beside_the_rationale(as_facilitator: TestClient, survivor: Participant) -> None:
    response = _screen(as_facilitator, survivor, SURVIVOR_READY, rationale=" ")
    assert response.status_code == 422
    assert 'id="field-rationale-error"' in response.text


def test_checking_the_suggestion_shows_it_without_recording_anything(
    as_facilitator: TestClient, survivor: Participant, db: Session
) -> None:
    response = _screen(
        as_facilitator, survivor, SURVIVOR_READY | {"trafficker_contact": "under_control"}, action="preview"
    )
    assert response.status_code == 200
    assert "The rules suggest: Not suitable" in response.text
    assert "cannot take part freely" in response.text
    assert 'name="answers.trafficker_contact" value="under_control" checked' in response.text
    assert db.exec(select(Screening)).first() is None


def test_an_empty_screening_names_each_unanswered_question_once_in_the_error_summary(
    as_facilitator: TestClient, survivor: Participant
) -> None:
    data = {"rationale": "", "action": "record", "csrf_token": as_facilitator.csrf_token}  # type: ignore[attr-defined]
    response = as_facilitator.post(_page(survivor), data=data)
    assert response.status_code == 422
    summary = response.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
    required = [q for q in preparation.instrument_for(survivor).questions if q.required]
    assert [field for field, _ in links] == [f"field-answers.{q.id}" for q in required] + ["field-rationale"]
    messages = [message for _, message in links]
    assert len(set(messages)) == len(messages)  # each link says which question it leads to
    assert "Answer whether they need an interpreter." in messages
    assert "Answer this question." not in response.text and "This is required." not in response.text
    assert response.text.count("Answer whether they need an interpreter.") == 2  # in the summary and beside it


def test_checking_the_suggestion_lands_on_the_suggestion_not_the_top_of_the_page(
    as_facilitator: TestClient, survivor: Participant
) -> None:
    page = as_facilitator.get(_page(survivor)).text
    button = re.search(r'<button[^>]*value="preview"[^>]*>', page)
    assert button is not None and f'formaction="{_page(survivor)}#suggested-outcome"' in button.group(0)

    answers = {k: v for k, v in SURVIVOR_READY.items() if k != "coerced"} | {"debt": "yes"}
    response = _screen(as_facilitator, survivor, answers, action="preview")
    assert response.status_code == 200
    region = re.search(
        r'<div class="notice" role="status" id="suggested-outcome"([^>]*)>(.*?)</div>', response.text, re.S
    )
    assert region is not None
    assert 'tabindex="-1"' in region.group(1) and "autofocus" in region.group(1)  # focus moves to the answer
    assert "The rules suggest: Not yet" in region.group(2) and "A claimed debt is a means of control" in region.group(2)
    assert "Some questions still need an answer" in region.group(2)
    # The unanswered question is still listed, but the summary does not take the focus from the answer.
    assert response.text.count("autofocus") == 1
    assert 'href="#field-answers.coerced"' in response.text


def test_htmx_gets_the_screening_fragment(as_facilitator: TestClient, survivor: Participant) -> None:
    response = as_facilitator.get(_page(survivor), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'name="csrf_token"' in response.text and "How the suggested outcome is worked out" in response.text
    assert response.headers["vary"] == "HX-Request"


def test_htmx_post_with_errors_returns_the_form_fragment(as_facilitator: TestClient, survivor: Participant) -> None:
    response = as_facilitator.post(_page(survivor), data=_form(as_facilitator, {}), headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "<html" not in response.text and "There is a problem" in response.text


def test_htmx_successful_post_redirects_with_hx_redirect(
    as_facilitator: TestClient, survivor: Participant, db: Session
) -> None:
    response = as_facilitator.post(
        _page(survivor), data=_form(as_facilitator, SURVIVOR_READY), headers={"HX-Request": "true"}
    )
    screening = db.exec(select(Screening)).one()
    assert response.headers["HX-Redirect"] == f"{_page(survivor)}/{screening.id}"


def test_a_form_without_the_csrf_token_is_refused(as_facilitator: TestClient, survivor: Participant) -> None:
    data = _form(as_facilitator, SURVIVOR_READY) | {"csrf_token": "forged"}
    response = as_facilitator.post(_page(survivor), data=data, headers={"X-CSRF-Token": ""})
    assert response.status_code == 403


def test_the_history_shows_each_screening_and_marks_an_expired_one(
    as_facilitator: TestClient, survivor: Participant, db: Session
) -> None:
    _screen(as_facilitator, survivor, SURVIVOR_READY | {"current_crisis": "yes"})
    screening = db.exec(select(Screening)).one()
    screening.completed_at = utcnow() - timedelta(days=120)
    db.add(screening)
    db.commit()
    text = as_facilitator.get(_page(survivor)).text
    assert "<strong>Expired</strong>" in text and "screen again" in text
    _screen(as_facilitator, survivor, SURVIVOR_READY)
    text = as_facilitator.get(_page(survivor)).text
    assert "Replaced by a later screening" in text and "Counts until" in text


def test_a_supporter_has_no_screening_page(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case
) -> None:
    supporter = make_participant(db, facilitator, case, ParticipantRole.supporter, display_name="Ana")
    assert as_facilitator.get(_page(supporter)).status_code == 409


# --- who may see the pages -----------------------------------------------------------------


def test_staff_get_403_on_every_screening_and_acknowledgement_page(
    as_staff: TestClient, as_facilitator: TestClient, survivor: Participant, responsible: Participant, db: Session
) -> None:
    _screen(as_facilitator, survivor, SURVIVOR_READY)
    screening = db.exec(select(Screening)).one()
    assert as_staff.get(_page(survivor)).status_code == 403
    assert as_staff.get(f"{_page(survivor)}/{screening.id}").status_code == 403
    assert as_staff.get(_page(responsible, "acknowledgement")).status_code == 403
    assert _screen(as_staff, survivor, SURVIVOR_READY).status_code == 403
    assert _acknowledge(as_staff, responsible).status_code == 403


def test_other_programs_and_unassigned_facilitators_get_404(
    as_other_admin: TestClient,
    as_facilitator2: TestClient,
    as_facilitator: TestClient,
    survivor: Participant,
    responsible: Participant,
    db: Session,
) -> None:
    _screen(as_facilitator, survivor, SURVIVOR_READY)
    screening = db.exec(select(Screening)).one()
    for client in (as_other_admin, as_facilitator2):
        assert client.get(_page(survivor)).status_code == 404
        assert client.get(f"{_page(survivor)}/{screening.id}").status_code == 404
        assert client.get(_page(responsible, "acknowledgement")).status_code == 404
        assert _screen(client, survivor, SURVIVOR_READY).status_code == 404


def test_an_admin_reads_any_screening_in_the_program(
    as_admin: TestClient, as_facilitator: TestClient, survivor: Participant, db: Session
) -> None:
    _screen(as_facilitator, survivor, SURVIVOR_READY | {"anything_else": "Needs a female interpreter."})
    screening = db.exec(select(Screening)).one()
    page = as_admin.get(f"{_page(survivor)}/{screening.id}")
    assert page.status_code == 200 and "Needs a female interpreter." in page.text


# --- the journey on the case page ----------------------------------------------------------


def _blocker(page: str, link: str, code: str) -> bool:
    """Whether the case page's journey panel lists this blocker, linking to where it is fixed."""
    return re.search(rf'<li data-code="{code}"><a href="{re.escape(link)}">[^<]+</a></li>', page) is not None


def test_the_case_page_blockers_link_to_the_screening_and_disappear_once_screened(
    as_facilitator: TestClient, survivor: Participant, responsible: Participant, case: Case
) -> None:
    link = _page(survivor)
    assert _blocker(as_facilitator.get(f"/cases/{case.id}").text, link, "screening_missing")
    _screen(as_facilitator, survivor, SURVIVOR_READY | {"support": "nobody"})
    page = as_facilitator.get(f"/cases/{case.id}").text
    assert not _blocker(page, link, "screening_missing")
    assert _blocker(page, link, "not_ready")
    _screen(as_facilitator, survivor, SURVIVOR_READY)
    page = as_facilitator.get(f"/cases/{case.id}").text
    assert not any(_blocker(page, link, code) for code in ("screening_missing", "screening_expired", "not_ready"))
    assert _blocker(page, _page(responsible), "screening_missing")
    journey = as_facilitator.get(f"/api/v1/cases/{case.id}/journey").json()
    assert [
        b["code"] for b in journey["blockers"] if b.get("participant_id") == survivor.id and "screening" in b["code"]
    ] == []


def test_an_expired_screening_shows_as_a_blocker_on_the_case_page(
    as_facilitator: TestClient, survivor: Participant, case: Case, db: Session
) -> None:
    _screen(as_facilitator, survivor, SURVIVOR_READY)
    screening = db.exec(select(Screening)).one()
    screening.completed_at = utcnow() - timedelta(days=91)
    db.add(screening)
    db.commit()
    assert _blocker(as_facilitator.get(f"/cases/{case.id}").text, _page(survivor), "screening_expired")


def test_the_acknowledgement_blocker_disappears_once_recorded(
    as_facilitator: TestClient, responsible: Participant, case: Case
) -> None:
    link = _page(responsible, "acknowledgement")
    assert _blocker(as_facilitator.get(f"/cases/{case.id}").text, link, "acknowledgement_missing")
    assert _acknowledge(as_facilitator, responsible).status_code == 303
    assert not _blocker(as_facilitator.get(f"/cases/{case.id}").text, link, "acknowledgement_missing")
    codes = [b["code"] for b in as_facilitator.get(f"/api/v1/cases/{case.id}/journey").json()["blockers"]]
    assert "acknowledgement_missing" not in codes


# --- the acknowledgement page --------------------------------------------------------------


def test_an_acknowledgement_is_recorded_in_the_programs_time_zone_and_listed(
    as_facilitator: TestClient, responsible: Participant, db: Session
) -> None:
    response = _acknowledge(as_facilitator, responsible, acknowledged_at="2026-01-15T10:30")
    assert response.status_code == 303
    assert response.headers["location"] == _page(responsible, "acknowledgement")
    ack = db.exec(select(Acknowledgement)).one()
    # The program is in Europe/Madrid: 10:30 there in January is 09:30 UTC.
    assert ack.acknowledged_at == datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    page = as_facilitator.get(response.headers["location"]).text
    assert "15 Jan 2026, 10:30" in page and "I took her passport" in page and "In person" in page


def test_the_acknowledgement_form_keeps_the_wording_and_refuses_a_future_date(
    as_facilitator: TestClient, responsible: Participant, db: Session
) -> None:
    future = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = _acknowledge(as_facilitator, responsible, acknowledged_at=future, wording="Keep these words.")
    assert response.status_code == 422
    assert 'id="field-acknowledged_at-error"' in response.text and "a date and time not in the future" in response.text
    assert "Keep these words." in response.text
    assert db.exec(select(Acknowledgement)).first() is None


@pytest.mark.parametrize(
    "fields, field",
    [({"wording": ""}, "wording"), ({"method": ""}, "method"), ({"acknowledged_at": "soon"}, "acknowledged_at")],
)
def test_acknowledgement_errors_show_beside_their_fields(
    as_facilitator: TestClient, responsible: Participant, fields: dict, field: str
) -> None:
    response = _acknowledge(as_facilitator, responsible, **fields)
    assert response.status_code == 422
    assert f'id="field-{field}-error"' in response.text


def test_a_survivor_has_no_acknowledgement_to_record(as_facilitator: TestClient, survivor: Participant) -> None:
    assert as_facilitator.get(_page(survivor, "acknowledgement")).status_code == 409
    assert _acknowledge(as_facilitator, survivor).status_code == 409


def test_the_acknowledgement_form_defaults_to_now_in_the_programs_time_zone(
    as_facilitator: TestClient, responsible: Participant
) -> None:
    text = as_facilitator.get(_page(responsible, "acknowledgement")).text
    assert 'type="datetime-local"' in text and "Europe/Madrid" in text
    assert "No acknowledgement recorded yet." in text


def test_the_responsible_party_screening_is_recorded_through_the_page(
    as_facilitator: TestClient, responsible: Participant, db: Session
) -> None:
    response = _screen(as_facilitator, responsible, RESPONSIBLE_READY | {"responsibility": "denies"})
    assert response.status_code == 303
    assert db.exec(select(Screening)).one().outcome == "not_suitable"
