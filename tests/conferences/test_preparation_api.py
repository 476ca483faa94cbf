"""Screening and acknowledgement through the JSON API, trying to break every rule."""

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.conferences.models import Case, Participant, ParticipantRole, Screening
from app.db import utcnow
from tests.conferences.test_screening_rules import COERCION_QUESTION, RESPONSIBLE_READY, SURVIVOR_READY
from tests.factories import make_case, make_participant

RATIONALE = "Steady, supported, and clear about what the meeting can do."


@pytest.fixture
def case(db: Session, facilitator: User) -> Case:
    return make_case(db, facilitator)


@pytest.fixture
def survivor(db: Session, facilitator: User, case: Case) -> Participant:
    return make_participant(db, facilitator, case, ParticipantRole.survivor, display_name="Rosa")


@pytest.fixture
def responsible(db: Session, facilitator: User, case: Case) -> Participant:
    return make_participant(db, facilitator, case, ParticipantRole.responsible_party, display_name="Dan")


def _url(person: Participant, what: str = "screenings") -> str:
    return f"/api/v1/cases/{person.case_id}/participants/{person.id}/{what}"


def _screen(client: TestClient, person: Participant, answers: dict, **fields):  # type: ignore[no-untyped-def]
    return client.post(_url(person), json={"answers": answers, "rationale": RATIONALE} | fields)


def _acknowledge(client: TestClient, person: Participant, **fields):  # type: ignore[no-untyped-def]
    body = {
        "wording": "I kept her passport and told her she owed me for the journey.",
        "method": "written",
        "acknowledged_at": (utcnow() - timedelta(hours=3)).isoformat(),
    } | fields
    return client.post(_url(person, "acknowledgements"), json=body)


def _blockers(client: TestClient, case_id: int) -> list[tuple[str, int | None]]:
    response = client.get(f"/api/v1/cases/{case_id}/journey")
    assert response.status_code == 200
    return [(b["code"], b.get("participant_id")) for b in response.json()["blockers"]]


def _codes(client: TestClient, case_id: int) -> list[str]:
    return [code for code, _ in _blockers(client, case_id)]


def _errors(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


# --- instruments ---------------------------------------------------------------------------


def test_the_survivor_instrument_comes_with_its_questions_and_rules(as_facilitator: TestClient) -> None:
    body = as_facilitator.get("/api/v1/instruments/survivor").json()
    assert (body["key"], body["version"], body["role"]) == ("survivor", 1, "survivor")
    coerced = next(q for q in body["questions"] if q["id"] == "coerced")
    assert coerced["text"] == COERCION_QUESTION and coerced["type"] == "yes_no"
    hard = [r for r in body["rules"] if r["hard"]]
    assert hard == [
        {
            "id": "coercion_blocks_ready",
            "question": "coerced",
            "in": ["yes"],
            "outcome": "not_yet",
            "explanation": hard[0]["explanation"],
            "hard": True,
        }
    ]
    assert body["outcome_precedence"] == ["not_suitable", "not_yet", "ready"]


def test_the_responsible_party_instrument_says_denial_is_not_suitable(as_staff: TestClient) -> None:
    body = as_staff.get("/api/v1/instruments/responsible_party").json()
    denial = next(r for r in body["rules"] if r["question"] == "responsibility" and r["in"] == ["denies"])
    assert denial["outcome"] == "not_suitable"


def test_there_is_no_instrument_for_roles_that_are_not_screened(as_facilitator: TestClient) -> None:
    assert as_facilitator.get("/api/v1/instruments/supporter").status_code == 404
    assert as_facilitator.get("/api/v1/instruments/trafficker").status_code == 422


def test_instruments_need_a_signed_in_user(anon: TestClient) -> None:
    assert anon.get("/api/v1/instruments/survivor").status_code == 401


# --- recording a screening -----------------------------------------------------------------


def test_a_ready_screening_is_recorded_and_returned_with_its_answers(
    as_facilitator: TestClient, survivor: Participant, facilitator: User
) -> None:
    response = _screen(as_facilitator, survivor, SURVIVOR_READY)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["suggested_outcome"], body["outcome"], body["overridden"]) == ("ready", "ready", False)
    assert body["fired_rules"] == [] and body["answers"]["coerced"] == "no"
    assert body["screened_by"] == {"id": facilitator.id, "full_name": facilitator.full_name}
    assert (body["instrument_key"], body["instrument_version"], body["current"], body["expired"]) == (
        "survivor",
        1,
        True,
        False,
    )


def test_the_rules_suggest_the_outcome_when_none_is_chosen(as_facilitator: TestClient, survivor: Participant) -> None:
    body = _screen(as_facilitator, survivor, SURVIVOR_READY | {"trafficker_contact": "in_contact"}).json()
    assert (body["suggested_outcome"], body["outcome"]) == ("not_yet", "not_yet")
    assert [r["id"] for r in body["fired_rules"]] == ["in_contact_with_trafficker"]


@pytest.mark.parametrize("reason", [None, "", "She says nobody pushed her really."])
def test_ready_despite_coercion_is_refused_with_its_condition_code(
    as_facilitator: TestClient, survivor: Participant, db: Session, reason: str | None
) -> None:
    response = _screen(
        as_facilitator, survivor, SURVIVOR_READY | {"coerced": "yes"}, outcome="ready", override_reason=reason
    )
    assert response.status_code == 409
    assert [c["code"] for c in response.json()["conditions"]] == ["coercion_blocks_ready"]
    assert db.exec(select(Screening)).first() is None


def test_a_responsible_party_offered_something_cannot_be_made_ready_either(
    as_admin: TestClient, responsible: Participant
) -> None:
    response = _screen(
        as_admin, responsible, RESPONSIBLE_READY | {"coerced": "yes"}, outcome="ready", override_reason="Fine"
    )
    assert response.status_code == 409
    assert response.json()["conditions"][0]["code"] == "coercion_blocks_ready"


def test_an_override_without_a_reason_is_422_beside_the_reason(
    as_facilitator: TestClient, responsible: Participant
) -> None:
    response = _screen(as_facilitator, responsible, RESPONSIBLE_READY | {"amends": "no"}, outcome="ready")
    assert response.status_code == 422
    assert "override_reason" in _errors(response)


def test_an_override_with_a_reason_is_recorded_and_audited(
    as_facilitator: TestClient, responsible: Participant, db: Session
) -> None:
    response = _screen(
        as_facilitator,
        responsible,
        RESPONSIBLE_READY | {"amends": "no", "anything_else": "Wants to pay in instalments."},
        outcome="ready",
        override_reason="He refuses money only; he offered an apology and service hours.",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["overridden"] is True and body["override_reason"].startswith("He refuses money")
    events = db.exec(
        select(AuditEvent)
        .where(AuditEvent.request_id == response.headers["x-request-id"])
        .order_by(col(AuditEvent.seq))
    ).all()
    assert [e.action for e in events] == ["screening.recorded", "screening.overridden"]
    assert all("instalments" not in json.dumps(e.detail) and "apology" not in json.dumps(e.detail) for e in events)


@pytest.mark.parametrize(
    "answers, field",
    [
        ({k: v for k, v in SURVIVOR_READY.items() if k != "coerced"}, "answers.coerced"),
        (SURVIVOR_READY | {"debt": "a little"}, "answers.debt"),
        (SURVIVOR_READY | {"emotional_readiness": "9"}, "answers.emotional_readiness"),
        (SURVIVOR_READY | {"favourite_colour": "blue"}, "answers.favourite_colour"),
    ],
    ids=["missing-required", "not-an-option", "off-the-scale", "unknown-question"],
)
def test_malformed_answers_are_422_with_field_errors(
    as_facilitator: TestClient, survivor: Participant, answers: dict, field: str
) -> None:
    response = _screen(as_facilitator, survivor, answers)
    assert response.status_code == 422
    assert list(_errors(response)) == [field]


@pytest.mark.parametrize(
    "body",
    [
        {"answers": SURVIVOR_READY | {"coerced": True}, "rationale": RATIONALE},
        {"answers": SURVIVOR_READY, "rationale": ""},
        {"answers": SURVIVOR_READY, "rationale": RATIONALE, "outcome": "maybe"},
        {"answers": "ready", "rationale": RATIONALE},
        {"answers": SURVIVOR_READY | {"anything_else": "nul\x00byte"}, "rationale": RATIONALE},
    ],
    ids=["answer-not-text", "empty-rationale", "unknown-outcome", "answers-not-an-object", "nul-character"],
)
def test_a_request_that_does_not_match_the_schema_is_422(
    as_facilitator: TestClient, survivor: Participant, body: dict
) -> None:
    assert as_facilitator.post(_url(survivor), json=body).status_code == 422


def test_screening_a_supporter_is_refused(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case
) -> None:
    supporter = make_participant(db, facilitator, case, ParticipantRole.supporter, display_name="Ana")
    response = _screen(as_facilitator, supporter, SURVIVOR_READY)
    assert response.status_code == 409
    assert response.json()["conditions"][0]["code"] == "role_not_screened"


# --- who may see what ----------------------------------------------------------------------


def test_another_programs_participant_is_not_found(
    as_other_admin: TestClient, survivor: Participant, as_facilitator: TestClient
) -> None:
    screening = _screen(as_facilitator, survivor, SURVIVOR_READY).json()
    assert _screen(as_other_admin, survivor, SURVIVOR_READY).status_code == 404
    assert as_other_admin.get(_url(survivor)).status_code == 404
    assert as_other_admin.get(f"{_url(survivor)}/{screening['id']}").status_code == 404
    assert as_other_admin.get(_url(survivor, "acknowledgements")).status_code == 404


def test_an_unassigned_facilitator_gets_404(
    as_facilitator2: TestClient, as_facilitator: TestClient, survivor: Participant, responsible: Participant
) -> None:
    screening = _screen(as_facilitator, survivor, SURVIVOR_READY).json()
    assert _screen(as_facilitator2, survivor, SURVIVOR_READY).status_code == 404
    assert as_facilitator2.get(f"{_url(survivor)}/{screening['id']}").status_code == 404
    assert _acknowledge(as_facilitator2, responsible).status_code == 404


def test_staff_cannot_read_screening_answers_or_record_screenings(
    as_staff: TestClient, as_facilitator: TestClient, survivor: Participant, responsible: Participant
) -> None:
    screening = _screen(as_facilitator, survivor, SURVIVOR_READY).json()
    assert as_staff.get(f"{_url(survivor)}/{screening['id']}").status_code == 403
    assert as_staff.get(_url(survivor)).status_code == 403
    assert _screen(as_staff, survivor, SURVIVOR_READY).status_code == 403
    assert as_staff.get(_url(responsible, "acknowledgements")).status_code == 403
    assert _acknowledge(as_staff, responsible).status_code == 403


def test_a_participant_is_only_found_under_its_own_case(
    as_facilitator: TestClient, db: Session, facilitator: User, survivor: Participant
) -> None:
    other_case = make_case(db, facilitator)
    response = as_facilitator.post(
        f"/api/v1/cases/{other_case.id}/participants/{survivor.id}/screenings",
        json={"answers": SURVIVOR_READY, "rationale": RATIONALE},
    )
    assert response.status_code == 404


def test_a_screening_is_only_found_under_its_own_participant(
    as_facilitator: TestClient, survivor: Participant, responsible: Participant
) -> None:
    screening = _screen(as_facilitator, survivor, SURVIVOR_READY).json()
    assert as_facilitator.get(f"{_url(responsible)}/{screening['id']}").status_code == 404
    assert as_facilitator.get(f"{_url(survivor)}/99999999999").status_code == 422


def test_reading_a_screening_is_audited(
    as_admin: TestClient, as_facilitator: TestClient, survivor: Participant, db: Session, admin: User
) -> None:
    screening = _screen(as_facilitator, survivor, SURVIVOR_READY).json()
    response = as_admin.get(f"{_url(survivor)}/{screening['id']}")
    assert response.status_code == 200 and response.json()["answers"] == SURVIVOR_READY
    event = db.exec(select(AuditEvent).where(AuditEvent.request_id == response.headers["x-request-id"])).one()
    assert (event.action, event.actor_id, event.entity_id) == ("screening.read", admin.id, str(screening["id"]))


# --- history, validity and the journey -----------------------------------------------------


def test_re_screening_keeps_the_history_and_the_latest_counts(
    as_facilitator: TestClient, survivor: Participant, case: Case
) -> None:
    first = _screen(as_facilitator, survivor, SURVIVOR_READY | {"support": "nobody"}).json()
    assert ("not_ready", survivor.id) in _blockers(as_facilitator, case.id)
    second = _screen(as_facilitator, survivor, SURVIVOR_READY).json()
    listed = as_facilitator.get(_url(survivor)).json()
    assert [(s["id"], s["outcome"], s["current"]) for s in listed] == [
        (second["id"], "ready", True),
        (first["id"], "not_yet", False),
    ]
    assert "answers" not in listed[0]
    screening_codes = {"screening_missing", "screening_expired", "not_ready"}
    assert not any(c in screening_codes and p == survivor.id for c, p in _blockers(as_facilitator, case.id))


def test_an_expired_screening_shows_as_expired_and_blocks_the_journey(
    as_facilitator: TestClient, survivor: Participant, case: Case, db: Session
) -> None:
    created = _screen(as_facilitator, survivor, SURVIVOR_READY).json()
    screening = db.get(Screening, created["id"])
    screening.completed_at = utcnow() - timedelta(days=91)  # type: ignore[union-attr]
    db.add(screening)
    db.commit()
    [listed] = as_facilitator.get(_url(survivor)).json()
    assert listed["expired"] is True
    assert ("screening_expired", survivor.id) in _blockers(as_facilitator, case.id)


def test_screening_both_parties_and_the_acknowledgement_clear_their_blockers(
    as_facilitator: TestClient, survivor: Participant, responsible: Participant, case: Case
) -> None:
    assert _codes(as_facilitator, case.id).count("screening_missing") == 2
    assert "acknowledgement_missing" in _codes(as_facilitator, case.id)
    assert _screen(as_facilitator, survivor, SURVIVOR_READY).status_code == 201
    assert _blockers(as_facilitator, case.id).count(("screening_missing", survivor.id)) == 0
    assert _screen(as_facilitator, responsible, RESPONSIBLE_READY).status_code == 201
    assert _acknowledge(as_facilitator, responsible).status_code == 201
    codes = _codes(as_facilitator, case.id)
    assert not {"screening_missing", "screening_expired", "not_ready", "acknowledgement_missing"} & set(codes)


# --- acknowledgement -----------------------------------------------------------------------


def test_an_acknowledgement_is_recorded_and_listed(
    as_facilitator: TestClient, responsible: Participant, facilitator: User
) -> None:
    created = _acknowledge(as_facilitator, responsible, method="through_counsel")
    assert created.status_code == 201, created.text
    listed = as_facilitator.get(_url(responsible, "acknowledgements")).json()
    assert [a["id"] for a in listed] == [created.json()["id"]]
    assert listed[0]["method"] == "through_counsel"
    assert listed[0]["wording"].startswith("I kept her passport")
    assert listed[0]["recorded_by"]["id"] == facilitator.id


def test_an_acknowledgement_for_a_survivor_is_refused(as_facilitator: TestClient, survivor: Participant) -> None:
    response = _acknowledge(as_facilitator, survivor)
    assert response.status_code == 409
    assert response.json()["conditions"][0]["code"] == "not_responsible_party"
    assert as_facilitator.get(_url(survivor, "acknowledgements")).status_code == 409


def test_an_acknowledgement_in_the_future_is_refused(as_facilitator: TestClient, responsible: Participant) -> None:
    response = _acknowledge(as_facilitator, responsible, acknowledged_at=(utcnow() + timedelta(days=1)).isoformat())
    assert response.status_code == 422
    assert "acknowledged_at" in _errors(response)
    assert as_facilitator.get(_url(responsible, "acknowledgements")).json() == []


@pytest.mark.parametrize(
    "fields",
    [
        {"acknowledged_at": "2026-01-05T10:00:00"},
        {"acknowledged_at": "last week"},
        {"wording": "   "},
        {"method": "by_pigeon"},
    ],
    ids=["time-without-zone", "not-a-time", "blank-wording", "unknown-method"],
)
def test_a_malformed_acknowledgement_is_422(as_facilitator: TestClient, responsible: Participant, fields: dict) -> None:
    assert _acknowledge(as_facilitator, responsible, **fields).status_code == 422
