"""Safety, contact preferences and consent through the JSON API, trying to break each rule."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.conferences.models import Case, Participant, ParticipantRole
from app.notifications.models import Notification
from app.safety.models import Consent, SafetyAssessment, SafetyPlan
from tests.factories import make_case, make_participant

CONSENT = {"scope": "conference", "sheet_version": "2026-1", "sheet_language": "es", "method": "in_person"}
CONTACT = {
    "channel": "phone",
    "phone": "+34 611 222 333",
    "text_ok": True,
    "quiet_hours_start": "22:00",
    "quiet_hours_end": "07:00",
    "code_word": "sunflower",
    "others_may_see_messages": True,
    "discreet": True,
}


@pytest.fixture
def case(db: Session, facilitator: User) -> Case:
    return make_case(db, facilitator)


@pytest.fixture
def survivor(db: Session, facilitator: User, case: Case) -> Participant:
    return make_participant(db, facilitator, case, ParticipantRole.survivor, display_name="Rosa")


def _journey(client: TestClient, case: Case) -> tuple[set[str], str]:
    body = client.get(f"/api/v1/cases/{case.id}/journey").json()
    return {b["code"] for b in body["blockers"]}, body["stage"]


def _consent_url(case: Case, participant: Participant) -> str:
    return f"/api/v1/cases/{case.id}/participants/{participant.id}/consents"


# --- risk factors and assessments ------------------------------------------------------------


def test_the_risk_factor_list_gives_weights_explanations_and_critical_flags(as_facilitator: TestClient) -> None:
    factors = as_facilitator.get("/api/v1/safety/risk-factors").json()
    by_key = {f["key"]: f for f in factors}
    assert by_key["trafficker_contact"]["critical"] is True and by_key["trafficker_contact"]["weight"] == 5
    assert all(f["explanation"] for f in factors)


def test_an_assessment_computes_its_level_from_the_factors_not_from_the_request(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(
        f"/api/v1/cases/{case.id}/safety/assessments",
        json={"factors": ["debt_bondage", "weapon_or_violence"], "level": "low", "score": 0, "notes": "Calm"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["level"], body["score"], body["participant_id"]) == ("high", 6, survivor.id)
    assert "safety_plan_missing" in _journey(as_facilitator, case)[0]


def test_a_critical_assessment_pauses_the_case_as_the_journey_shows(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant, facilitator: User
) -> None:
    response = as_facilitator.post(f"/api/v1/cases/{case.id}/safety/assessments", json={"factors": ["imminent_danger"]})
    assert response.json()["level"] == "critical"
    codes, stage = _journey(as_facilitator, case)
    assert {"case_paused", "risk_critical"} <= codes and stage == "preparation"
    notes = db.exec(select(Notification).where(Notification.kind == "safety_risk_critical")).all()
    assert [n.recipient_user_id for n in notes] == [facilitator.id]


def test_an_unknown_risk_factor_is_malformed(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(
        f"/api/v1/cases/{case.id}/safety/assessments", json={"factors": ["recent_threats", "bad_luck"]}
    )
    assert response.status_code == 422
    assert db.exec(select(SafetyAssessment)).first() is None


def test_assessing_the_responsible_party_is_refused(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    responsible = make_participant(db, facilitator, case, ParticipantRole.responsible_party)
    response = as_facilitator.post(
        f"/api/v1/cases/{case.id}/safety/assessments", json={"participant_id": responsible.id, "factors": []}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["participant_id"]


def test_assessing_a_case_without_a_survivor_is_a_409_with_its_condition(
    as_facilitator: TestClient, case: Case
) -> None:
    response = as_facilitator.post(f"/api/v1/cases/{case.id}/safety/assessments", json={"factors": []})
    assert response.status_code == 409
    assert [c["code"] for c in response.json()["conditions"]] == ["survivor_missing"]


def test_re_assessment_keeps_history_newest_first(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    url = f"/api/v1/cases/{case.id}/safety/assessments"
    as_facilitator.post(url, json={"factors": ["trafficker_contact"]})
    as_facilitator.post(url, json={"factors": []})
    levels = [a["level"] for a in as_facilitator.get(url).json()]
    assert levels == ["low", "critical"]
    assert "case_paused" not in _journey(as_facilitator, case)[0]


# --- concerns --------------------------------------------------------------------------------


def test_an_urgent_concern_pauses_until_reviewed_through_the_api(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    raised = as_facilitator.post(
        f"/api/v1/cases/{case.id}/safety/concerns", json={"description": "A car waited outside", "urgent": True}
    )
    assert raised.status_code == 201
    assert "case_paused" in _journey(as_facilitator, case)[0]
    concern_id = raised.json()["id"]
    url = f"/api/v1/cases/{case.id}/safety/concerns/{concern_id}/review"
    assert as_facilitator.post(url, json={"note": "   "}).status_code == 422
    reviewed = as_facilitator.post(url, json={"note": "Checked with police"})
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_at"]
    assert "case_paused" not in _journey(as_facilitator, case)[0]
    again = as_facilitator.post(url, json={"note": "Again"})
    assert again.status_code == 409


def test_a_concern_of_another_case_cannot_be_reviewed_through_this_one(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case
) -> None:
    other = make_case(db, facilitator)
    raised = as_facilitator.post(
        f"/api/v1/cases/{other.id}/safety/concerns", json={"description": "x", "urgent": True}
    ).json()
    response = as_facilitator.post(
        f"/api/v1/cases/{case.id}/safety/concerns/{raised['id']}/review", json={"note": "sneaky"}
    )
    assert response.status_code == 404


def test_an_empty_concern_is_malformed(as_facilitator: TestClient, case: Case) -> None:
    assert as_facilitator.post(f"/api/v1/cases/{case.id}/safety/concerns", json={"description": ""}).status_code == 422


# --- safety plan -----------------------------------------------------------------------------


def test_the_plan_status_says_when_a_plan_is_required_and_each_save_is_a_version(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    as_facilitator.post(
        f"/api/v1/cases/{case.id}/safety/assessments", json={"factors": ["recent_threats", "dependency"]}
    )
    url = f"/api/v1/cases/{case.id}/safety/plan"
    before = as_facilitator.get(url).json()
    assert before == {"risk_level": "high", "required": True, "plan": None, "versions": 0}
    first = as_facilitator.put(
        url,
        json={
            "staggered_arrival": True,
            "arrival_gap_minutes": 15,
            "departure_gap_minutes": 20,
            "support_person": "Ana",
        },
    )
    assert first.status_code == 200 and first.json()["version"] == 1
    second = as_facilitator.put(url, json={"preferred_mode": "shuttle", "security_present": True})
    assert second.json()["version"] == 2
    after = as_facilitator.get(url).json()
    assert after["versions"] == 2 and after["plan"]["preferred_mode"] == "shuttle"
    assert [v["version"] for v in as_facilitator.get(f"{url}/versions").json()] == [2, 1]
    assert "safety_plan_missing" not in _journey(as_facilitator, case)[0]


@pytest.mark.parametrize(
    "body",
    [
        {"staggered_arrival": True},  # staggered but no minutes
        {"arrival_gap_minutes": -5},
        {"arrival_gap_minutes": 10_000},
        {"preferred_mode": "carrier_pigeon"},
        {"support_person": "x" * 121},
    ],
)
def test_a_plan_that_makes_no_sense_is_malformed(
    as_facilitator: TestClient, db: Session, case: Case, body: dict
) -> None:
    assert as_facilitator.put(f"/api/v1/cases/{case.id}/safety/plan", json=body).status_code == 422
    assert db.exec(select(SafetyPlan)).first() is None


def test_the_program_setting_makes_a_plan_required_at_medium(
    as_admin: TestClient, as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    as_facilitator.post(f"/api/v1/cases/{case.id}/safety/assessments", json={"factors": ["debt_bondage"]})
    assert "safety_plan_missing" not in _journey(as_facilitator, case)[0]
    changed = as_admin.patch("/api/v1/program", json={"safety_plan_required_at_medium": True})
    assert changed.status_code == 200 and changed.json()["safety_plan_required_at_medium"] is True
    assert "safety_plan_missing" in _journey(as_facilitator, case)[0]


def test_a_facilitator_cannot_change_the_plan_requirement_setting(as_facilitator: TestClient) -> None:
    assert as_facilitator.patch("/api/v1/program", json={"safety_plan_required_at_medium": True}).status_code == 403


# --- contact preferences ---------------------------------------------------------------------


def test_contact_preferences_are_saved_read_back_and_kept_out_of_the_audit_log(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    url = f"/api/v1/cases/{case.id}/participants/{survivor.id}/contact-preferences"
    assert as_facilitator.get(url).status_code == 404  # nothing recorded yet: nothing is sent
    saved = as_facilitator.put(url, json=CONTACT)
    assert saved.status_code == 200, saved.text
    body = as_facilitator.get(url).json()
    assert (body["phone"], body["code_word"], body["quiet_hours_end"]) == ("+34 611 222 333", "sunflower", "07:00")
    details = " ".join(str(e.detail) for e in db.exec(select(AuditEvent).where(AuditEvent.case_id == case.id)).all())
    assert "611 222 333" not in details and "sunflower" not in details
    reads = db.exec(select(AuditEvent).where(AuditEvent.action == "contact_preference.read")).all()
    assert len(reads) == 1  # the first read found nothing and was refused, so it read nothing


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "email", "email": None}, "email"),
        ({"channel": "phone", "phone": None}, "phone"),
        ({"phone": "call me maybe"}, "phone"),
        ({"email": "not-an-email", "channel": "email"}, "email"),
        ({"quiet_hours_start": "25:00"}, "quiet_hours_start"),
        ({"quiet_hours_end": "7pm"}, "quiet_hours_end"),
        ({"quiet_hours_end": None}, "quiet_hours_end"),
        ({"quiet_hours_start": "07:00", "quiet_hours_end": "07:00"}, "quiet_hours_end"),
        ({"channel": "pigeon"}, "channel"),
    ],
)
def test_contact_preferences_that_cannot_be_followed_are_refused(
    as_facilitator: TestClient, case: Case, survivor: Participant, changes: dict, field: str
) -> None:
    url = f"/api/v1/cases/{case.id}/participants/{survivor.id}/contact-preferences"
    response = as_facilitator.put(url, json=CONTACT | changes)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}


# --- consent ---------------------------------------------------------------------------------


def test_consent_is_given_listed_and_withdrawn_with_history_kept(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant, facilitator: User
) -> None:
    given = as_facilitator.post(_consent_url(case, survivor), json=CONSENT | {"witnessed_by": "Luis (interpreter)"})
    assert given.status_code == 201, given.text
    withdrawn = as_facilitator.post(f"{_consent_url(case, survivor)}/conference/withdraw", json={"reason": "Not now"})
    assert withdrawn.status_code == 200
    assert withdrawn.json()["withdrawn_at"] and withdrawn.json()["withdrawal_reason"] == "Not now"
    assert {"case_paused", "consent_withdrawn"} <= _journey(as_facilitator, case)[0]
    assert db.exec(select(Notification).where(Notification.kind == "consent_withdrawn")).one().recipient_user_id == (
        facilitator.id
    )
    again = as_facilitator.post(_consent_url(case, survivor), json=CONSENT)
    assert again.status_code == 201
    assert "case_paused" not in _journey(as_facilitator, case)[0]
    listing = as_facilitator.get(f"/api/v1/cases/{case.id}/consents").json()
    rosa = next(p for p in listing if p["participant_id"] == survivor.id)
    states = {s["scope"]: s["state"] for s in rosa["scopes"]}
    assert states["conference"] == "active" and states["contact"] == "missing"
    assert len(rosa["history"]) == 2 and rosa["history"][1]["witnessed_by"] == "Luis (interpreter)"
    assert len(db.exec(select(Consent)).all()) == 2


def test_withdrawal_needs_no_reason_and_no_body(as_facilitator: TestClient, case: Case, survivor: Participant) -> None:
    as_facilitator.post(_consent_url(case, survivor), json=CONSENT | {"scope": "contact"})
    assert as_facilitator.post(f"{_consent_url(case, survivor)}/contact/withdraw").status_code == 200


def test_withdrawing_what_was_not_given_is_a_conflict(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(f"{_consent_url(case, survivor)}/preparation/withdraw", json={})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_withdrawing_twice_is_a_conflict(as_facilitator: TestClient, case: Case, survivor: Participant) -> None:
    as_facilitator.post(_consent_url(case, survivor), json=CONSENT)
    assert as_facilitator.post(f"{_consent_url(case, survivor)}/conference/withdraw", json={}).status_code == 200
    assert as_facilitator.post(f"{_consent_url(case, survivor)}/conference/withdraw", json={}).status_code == 409


def test_giving_the_same_consent_twice_is_a_conflict(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    as_facilitator.post(_consent_url(case, survivor), json=CONSENT)
    assert as_facilitator.post(_consent_url(case, survivor), json=CONSENT).status_code == 409
    assert len(db.exec(select(Consent)).all()) == 1


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"sheet_version": "1999-1"}, 422, "sheet_version"),
        ({"sheet_version": "../../../etc"}, 422, "sheet_version"),
        ({"sheet_language": "fr"}, 422, "sheet_language"),
        ({"sheet_language": "../x"}, 422, "sheet_language"),
        ({"method": "portal"}, 422, "method"),
        ({"method": "telepathy"}, 422, "method"),
        ({"scope": "everything"}, 422, "scope"),
    ],
)
def test_consent_with_an_unknown_sheet_or_method_is_refused(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant, changes: dict, status: int, field: str
) -> None:
    response = as_facilitator.post(_consent_url(case, survivor), json=CONSENT | changes)
    assert response.status_code == status
    assert field in {e["field"] for e in response.json()["errors"]}
    assert db.exec(select(Consent)).first() is None


def test_an_unknown_scope_in_the_withdraw_address_is_malformed(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    assert as_facilitator.post(f"{_consent_url(case, survivor)}/everything/withdraw").status_code == 422


def test_a_participant_of_another_case_is_not_found(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case
) -> None:
    other = make_case(db, facilitator)
    stranger = make_participant(db, facilitator, other)
    assert as_facilitator.post(_consent_url(case, stranger), json=CONSENT).status_code == 404


def test_an_information_sheet_is_readable_and_an_unknown_one_is_not_found(as_facilitator: TestClient) -> None:
    sheet = as_facilitator.get("/api/v1/information-sheets/2026-1/es").json()
    assert sheet["language"] == "es" and len(sheet["paragraphs"]) >= 8
    assert as_facilitator.get("/api/v1/information-sheets/2026-1/xx").status_code == 404
    assert as_facilitator.get("/api/v1/information-sheets/..%2F..%2Fx/en").status_code == 404


# --- who may read and write ------------------------------------------------------------------


def _detail_urls(case: Case, participant: Participant) -> list[str]:
    base = f"/api/v1/cases/{case.id}"
    return [
        f"{base}/safety/assessments",
        f"{base}/safety/concerns",
        f"{base}/safety/plan",
        f"{base}/safety/plan/versions",
        f"{base}/consents",
        f"{base}/participants/{participant.id}/contact-preferences",
    ]


def _write_calls(case: Case, participant: Participant) -> list[tuple[str, str, dict]]:
    base = f"/api/v1/cases/{case.id}"
    return [
        ("post", f"{base}/safety/assessments", {"factors": []}),
        ("post", f"{base}/safety/concerns", {"description": "x", "urgent": True}),
        ("put", f"{base}/safety/plan", {}),
        ("put", f"{base}/participants/{participant.id}/contact-preferences", {"channel": "none"}),
        ("post", f"{base}/participants/{participant.id}/consents", CONSENT),
        ("post", f"{base}/participants/{participant.id}/consents/conference/withdraw", {}),
    ]


def test_staff_may_not_read_safety_detail_consent_or_contact_details(
    as_staff: TestClient, as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    as_facilitator.put(f"/api/v1/cases/{case.id}/participants/{survivor.id}/contact-preferences", json=CONTACT)
    for url in _detail_urls(case, survivor):
        response = as_staff.get(url)
        assert response.status_code == 403, url
        assert "611 222 333" not in response.text and "sunflower" not in response.text
    for method, url, body in _write_calls(case, survivor):
        assert getattr(as_staff, method)(url, json=body).status_code == 403, url


def test_an_unassigned_facilitator_and_another_program_get_404(
    as_facilitator2: TestClient, as_other_admin: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    for client in (as_facilitator2, as_other_admin):
        for url in _detail_urls(case, survivor):
            assert client.get(url).status_code == 404, url
        for method, url, body in _write_calls(case, survivor):
            assert getattr(client, method)(url, json=body).status_code == 404, url
    assert db.exec(select(SafetyAssessment)).first() is None and db.exec(select(Consent)).first() is None


def test_an_admin_of_the_program_may_do_safety_work_on_any_case(
    as_admin: TestClient, case: Case, survivor: Participant
) -> None:
    response = as_admin.post(f"/api/v1/cases/{case.id}/safety/assessments", json={"factors": ["isolation"]})
    assert response.status_code == 201


def test_reading_safety_detail_is_audited(as_facilitator: TestClient, db: Session, case: Case) -> None:
    as_facilitator.get(f"/api/v1/cases/{case.id}/safety/assessments")
    as_facilitator.get(f"/api/v1/cases/{case.id}/consents")
    actions = set(db.exec(select(AuditEvent.action).where(AuditEvent.case_id == case.id)).all())
    assert {"safety.assessments.read", "consent.read"} <= actions
