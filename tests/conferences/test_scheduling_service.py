"""The scheduling service: gates, safety measures, and the G2/G3 hooks that cancel or hold sessions."""

from datetime import date, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Case, CaseSession, Participant, SessionAttendee, SessionKind, SessionStatus
from app.conferences.queries import case_row
from app.conferences.rules import Step
from app.conferences.scheduling import SessionPlan, mark_session_held, schedule_session
from app.db import utcnow
from app.errors import Conflict
from app.safety.models import SessionMode
from tests.test_preparation_journey import _ok, _prepare

DAY = (utcnow() + timedelta(days=14)).date()


def _ready(db: Session, client: TestClient) -> tuple[Case, Participant, Participant]:
    case_id, survivor_id, responsible_id = _prepare(client)
    return db.get(Case, case_id), db.get(Participant, survivor_id), db.get(Participant, responsible_id)  # type: ignore[return-value]


def _plan(
    *people: Participant,
    kind: SessionKind = SessionKind.conference,
    day: date = DAY,
    start: time = time(10),
    end: time = time(12),
    mode: SessionMode = SessionMode.in_person,
    **extra,
) -> SessionPlan:  # type: ignore[no-untyped-def]
    return SessionPlan(
        kind=kind,
        mode=mode,
        day=day,
        start=start,
        end=end,
        attendee_ids=frozenset(p.id for p in people),
        location="Community centre, 2nd floor",
        **extra,
    )


def _status(db: Session, case_session: CaseSession) -> SessionStatus:
    db.refresh(case_session)
    return SessionStatus(case_session.status)


def test_a_ready_case_gets_its_conference_and_moves_to_conference_scheduled(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case, survivor, responsible = _ready(db, as_facilitator)
    conference = schedule_session(db, actor=actor_for(facilitator), case=case, plan=_plan(survivor, responsible))
    attendees = db.exec(select(SessionAttendee).where(SessionAttendee.session_id == conference.id)).all()
    assert {a.participant_id for a in attendees} == {survivor.id, responsible.id}
    assert case_row(db, case=case).journey.stage == Step.conference_scheduled


def test_the_conference_is_refused_with_every_unmet_condition_listed(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case, survivor, responsible = _ready(db, as_facilitator)
    _ok(
        as_facilitator.post(
            f"/api/v1/cases/{case.id}/participants/{survivor.id}/consents/conference/withdraw", json={}
        ),
        200,
    )
    with pytest.raises(Conflict) as refused:
        schedule_session(db, actor=actor_for(facilitator), case=case, plan=_plan(survivor, responsible))
    assert [c.code for c in refused.value.conditions] == ["case_paused", "consent_withdrawn"]
    assert db.exec(select(CaseSession)).first() is None


def test_withdrawal_cancels_the_persons_upcoming_sessions_with_the_reason(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case, survivor, responsible = _ready(db, as_facilitator)
    actor = actor_for(facilitator)
    for person in (survivor, responsible):
        for scope in ("contact", "preparation"):
            _ok(
                as_facilitator.post(
                    f"/api/v1/cases/{case.id}/participants/{person.id}/consents",
                    json={"scope": scope, "sheet_language": "en", "method": "in_person"},
                )
            )
    conference = schedule_session(db, actor=actor, case=case, plan=_plan(survivor, responsible))
    survivor_prep = schedule_session(
        db,
        actor=actor,
        case=case,
        plan=_plan(survivor, kind=SessionKind.preparation, day=DAY - timedelta(days=2), mode=SessionMode.video),
    )
    responsible_prep = schedule_session(
        db,
        actor=actor,
        case=case,
        plan=_plan(responsible, kind=SessionKind.preparation, day=DAY - timedelta(days=3), mode=SessionMode.video),
    )
    _ok(
        as_facilitator.post(
            f"/api/v1/cases/{case.id}/participants/{survivor.id}/consents/preparation/withdraw",
            json={"reason": "Needs time"},
        ),
        200,
    )
    assert _status(db, conference) == SessionStatus.cancelled
    assert _status(db, survivor_prep) == SessionStatus.cancelled
    assert "Consent withdrawn" in conference.status_reason
    assert _status(db, responsible_prep) == SessionStatus.scheduled


def test_a_critical_assessment_holds_sessions_and_a_lower_one_releases_them(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case, survivor, responsible = _ready(db, as_facilitator)
    conference = schedule_session(db, actor=actor_for(facilitator), case=case, plan=_plan(survivor, responsible))
    _ok(as_facilitator.post(f"/api/v1/cases/{case.id}/safety/assessments", json={"factors": ["imminent_danger"]}))
    assert _status(db, conference) == SessionStatus.on_hold
    _ok(as_facilitator.post(f"/api/v1/cases/{case.id}/safety/assessments", json={"factors": []}))
    assert _status(db, conference) == SessionStatus.scheduled


def test_an_urgent_concern_holds_sessions_until_a_facilitator_reviews_it(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case, survivor, responsible = _ready(db, as_facilitator)
    conference = schedule_session(db, actor=actor_for(facilitator), case=case, plan=_plan(survivor, responsible))
    concern = _ok(
        as_facilitator.post(
            f"/api/v1/cases/{case.id}/safety/concerns", json={"description": "Threat by phone", "urgent": True}
        )
    )
    assert _status(db, conference) == SessionStatus.on_hold
    _ok(
        as_facilitator.post(
            f"/api/v1/cases/{case.id}/safety/concerns/{concern['id']}/review",
            json={"note": "Reported to police; plan updated."},
        ),
        200,
    )
    assert _status(db, conference) == SessionStatus.scheduled


def test_a_preparation_meeting_needs_the_attendees_contact_and_preparation_consent(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case, survivor, _ = _ready(db, as_facilitator)
    plan = _plan(survivor, kind=SessionKind.preparation, mode=SessionMode.video)
    with pytest.raises(Conflict) as refused:
        schedule_session(db, actor=actor_for(facilitator), case=case, plan=plan)
    assert [c.code for c in refused.value.conditions] == ["consent_missing", "consent_missing"]
    for scope in ("contact", "preparation"):
        _ok(
            as_facilitator.post(
                f"/api/v1/cases/{case.id}/participants/{survivor.id}/consents",
                json={"scope": scope, "sheet_language": "es", "method": "written"},
            )
        )
    assert schedule_session(db, actor=actor_for(facilitator), case=case, plan=plan).id


def test_the_safety_plan_staggers_arrival_and_shuttle_mode_needs_separate_rooms(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case, survivor, responsible = _ready(db, as_facilitator)
    _ok(
        as_facilitator.put(
            f"/api/v1/cases/{case.id}/safety/plan",
            json={
                "staggered_arrival": True,
                "arrival_gap_minutes": 20,
                "departure_gap_minutes": 15,
                "separate_waiting_rooms": True,
                "preferred_mode": "in_person",
                "exit_plan": "Side door",
            },
        ),
        200,
    )
    actor = actor_for(facilitator)
    with pytest.raises(Conflict) as refused:
        schedule_session(
            db,
            actor=actor,
            case=case,
            plan=_plan(survivor, responsible, survivor_waiting_room="Room 1", responsible_waiting_room="room 1"),
        )
    assert [c.code for c in refused.value.conditions] == ["separate_rooms_needed"]
    conference = schedule_session(
        db,
        actor=actor,
        case=case,
        plan=_plan(survivor, responsible, survivor_waiting_room="Garden room", responsible_waiting_room="Room 4"),
    )
    rows = {
        a.participant_id: a
        for a in db.exec(select(SessionAttendee).where(SessionAttendee.session_id == conference.id)).all()
    }
    assert rows[responsible.id].arrives_at == conference.starts_at - timedelta(minutes=20)
    assert rows[survivor.id].arrives_at == conference.starts_at
    assert rows[survivor.id].leaves_at < rows[responsible.id].leaves_at
    assert rows[survivor.id].waiting_room == "Garden room" and rows[responsible.id].waiting_room == "Room 4"


def test_a_conference_is_marked_held_only_once_it_has_started(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case, survivor, responsible = _ready(db, as_facilitator)
    actor = actor_for(facilitator)
    conference = schedule_session(db, actor=actor, case=case, plan=_plan(survivor, responsible))
    with pytest.raises(Conflict):
        mark_session_held(db, actor=actor, case_session=conference, outcome_note="Went well")
    conference.starts_at = utcnow() - timedelta(hours=2)
    conference.ends_at = utcnow() - timedelta(minutes=5)
    db.add(conference)
    db.flush()
    mark_session_held(db, actor=actor, case_session=conference, outcome_note="Apology given; agreement next.")
    assert case_row(db, case=case).journey.stage == Step.conference_held
