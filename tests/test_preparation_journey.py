"""Issue 3, end to end through the API: from referral to 'ready to schedule', and the pauses."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import User
from app.db import utcnow
from app.notifications.models import Notification
from tests.conferences.test_screening_rules import RESPONSIBLE_READY, SURVIVOR_READY


def _ok(response, status: int = 201):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json()


def _codes(client: TestClient, case_id: int) -> list[str]:
    return [b["code"] for b in _ok(client.get(f"/api/v1/cases/{case_id}/journey"), 200)["blockers"]]


def _prepare(client: TestClient) -> tuple[int, int, int]:
    case = _ok(client.post("/api/v1/cases", json={"harm_type": "labour_trafficking", "referral_source": "court"}))
    base = f"/api/v1/cases/{case['id']}"
    survivor = _ok(
        client.post(
            f"{base}/participants", json={"role": "survivor", "display_name": "Rosa", "preferred_language": "es"}
        )
    )
    responsible = _ok(client.post(f"{base}/participants", json={"role": "responsible_party", "display_name": "Dan"}))
    assert _codes(client, case["id"]) == [
        "screening_missing",
        "screening_missing",
        "acknowledgement_missing",
        "safety_assessment_missing",
        "consent_missing",
        "consent_missing",
    ]
    for person, answers in ((survivor, SURVIVOR_READY), (responsible, RESPONSIBLE_READY)):
        screening = _ok(
            client.post(
                f"{base}/participants/{person['id']}/screenings",
                json={"answers": answers, "rationale": "Prepared and supported."},
            )
        )
        assert screening["outcome"] == "ready"
    _ok(
        client.post(
            f"{base}/participants/{responsible['id']}/acknowledgements",
            json={
                "wording": "I recruited Rosa with false promises and kept her passport.",
                "method": "in_person",
                "acknowledged_at": utcnow().isoformat(),
            },
        )
    )
    assessment = _ok(client.post(f"{base}/safety/assessments", json={"factors": ["isolation"]}))
    assert assessment["level"] == "low"
    for person, language in ((survivor, "es"), (responsible, "en")):
        _ok(
            client.post(
                f"{base}/participants/{person['id']}/consents",
                json={"scope": "conference", "sheet_language": language, "method": "in_person"},
            )
        )
    return case["id"], survivor["id"], responsible["id"]


def test_a_facilitator_takes_a_case_from_referral_to_ready_to_schedule(as_facilitator: TestClient) -> None:
    case_id, _, _ = _prepare(as_facilitator)
    journey = _ok(as_facilitator.get(f"/api/v1/cases/{case_id}/journey"), 200)
    assert journey["stage"] == "ready" and journey["blockers"] == [] and not journey["paused"]
    page = as_facilitator.get(f"/cases/{case_id}")
    assert "Stage: <strong>Ready to schedule</strong>" in page.text


def test_withdrawal_pauses_a_ready_case_and_tells_the_facilitators(
    as_facilitator: TestClient, db: Session, facilitator: User
) -> None:
    case_id, survivor_id, _ = _prepare(as_facilitator)
    _ok(
        as_facilitator.post(
            f"/api/v1/cases/{case_id}/participants/{survivor_id}/consents/conference/withdraw",
            json={"reason": "Not now"},
        ),
        200,
    )
    journey = _ok(as_facilitator.get(f"/api/v1/cases/{case_id}/journey"), 200)
    assert journey["stage"] == "preparation" and journey["paused"]
    assert [p["code"] for p in journey["pauses"]] == ["consent_withdrawn"]
    assert [b["code"] for b in journey["blockers"]] == ["case_paused", "consent_withdrawn"]
    queued = db.exec(select(Notification).where(Notification.case_id == case_id)).all()
    assert [(n.kind, n.recipient_user_id) for n in queued] == [("consent_withdrawn", facilitator.id)]
    _ok(
        as_facilitator.post(
            f"/api/v1/cases/{case_id}/participants/{survivor_id}/consents",
            json={"scope": "conference", "sheet_language": "es", "method": "written"},
        )
    )
    assert _ok(as_facilitator.get(f"/api/v1/cases/{case_id}/journey"), 200)["stage"] == "ready"


def test_a_critical_assessment_pauses_a_ready_case_until_a_lower_one(as_facilitator: TestClient) -> None:
    case_id, _, _ = _prepare(as_facilitator)
    _ok(as_facilitator.post(f"/api/v1/cases/{case_id}/safety/assessments", json={"factors": ["imminent_danger"]}))
    assert _codes(as_facilitator, case_id) == ["case_paused", "risk_critical"]
    _ok(as_facilitator.post(f"/api/v1/cases/{case_id}/safety/assessments", json={"factors": []}))
    assert _codes(as_facilitator, case_id) == []


def test_an_urgent_concern_pauses_until_reviewed(as_facilitator: TestClient) -> None:
    case_id, _, _ = _prepare(as_facilitator)
    concern = _ok(
        as_facilitator.post(
            f"/api/v1/cases/{case_id}/safety/concerns",
            json={"description": "A stranger asked for Rosa at the shelter.", "urgent": True},
        )
    )
    assert _codes(as_facilitator, case_id) == ["case_paused"]
    _ok(
        as_facilitator.post(
            f"/api/v1/cases/{case_id}/safety/concerns/{concern['id']}/review",
            json={"note": "Police confirmed it was a caseworker."},
        ),
        200,
    )
    assert _codes(as_facilitator, case_id) == []
