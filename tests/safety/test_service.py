"""Safety and consent services on a real database: G3 pauses, G2 withdrawal, history, notifications, audit."""

import pytest
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Case, Participant, ParticipantRole
from app.conferences.queries import case_facts
from app.conferences.rules import derive_journey
from app.errors import Conflict, InvalidInput, PermissionDenied
from app.notifications.models import Notification
from app.programs.models import Program
from app.safety import service
from app.safety.consent import give_consent, withdraw_consent
from app.safety.models import (
    Consent,
    ConsentMethod,
    ConsentScope,
    ContactChannel,
    RiskLevel,
    SafetyAssessment,
    SafetyConcern,
)
from app.safety.schemas import ContactPreferenceUpdate, SafetyPlanCreate
from tests.factories import make_case, make_participant


@pytest.fixture
def case(db: Session, facilitator: User, facilitator2: User) -> Case:
    """A case with two assigned facilitators (facilitator2 assigned here) and a survivor."""
    case = make_case(db, facilitator, facilitator_ids=[facilitator2.id])
    make_participant(db, facilitator, case, ParticipantRole.survivor, display_name="Rosa")
    return case


def _survivor(db: Session, case: Case) -> Participant:
    return service.survivor_to_assess(db, case=case, participant_id=None)


def _codes(db: Session, case: Case) -> tuple[set[str], set[str]]:
    journey = derive_journey(case_facts(db, case=case))
    return {c.code for c in journey.pauses}, {c.code for c in journey.blockers}


def _notified(db: Session, case: Case, kind: str) -> list[int | None]:
    rows = db.exec(select(Notification).where(Notification.case_id == case.id, Notification.kind == kind)).all()
    return sorted(r.recipient_user_id for r in rows)  # type: ignore[type-var]


# --- G3: critical risk -----------------------------------------------------------------------


def test_a_critical_assessment_pauses_the_case_and_notifies_each_assigned_facilitator(
    db: Session, case: Case, facilitator: User, facilitator2: User
) -> None:
    assessment = service.assess_safety(
        db, actor=actor_for(facilitator), case=case, participant=_survivor(db, case), factors=["trafficker_contact"]
    )
    pauses, blockers = _codes(db, case)
    assert assessment.level == RiskLevel.critical
    assert "risk_critical" in pauses
    assert {"case_paused", "risk_critical"} <= blockers
    assert _notified(db, case, "safety_risk_critical") == sorted([facilitator.id, facilitator2.id])


def test_a_lower_re_assessment_lifts_the_pause_and_keeps_the_critical_one_in_history(
    db: Session, case: Case, facilitator: User
) -> None:
    actor, survivor = actor_for(facilitator), _survivor(db, case)
    service.assess_safety(db, actor=actor, case=case, participant=survivor, factors=["imminent_danger"])
    service.assess_safety(db, actor=actor, case=case, participant=survivor, factors=["isolation"])
    pauses, blockers = _codes(db, case)
    assert "risk_critical" not in pauses and "case_paused" not in blockers
    levels = db.exec(select(SafetyAssessment.level).where(SafetyAssessment.case_id == case.id)).all()
    assert sorted(levels) == ["critical", "low"]


def test_a_non_critical_assessment_notifies_nobody(db: Session, case: Case, facilitator: User) -> None:
    service.assess_safety(
        db, actor=actor_for(facilitator), case=case, participant=_survivor(db, case), factors=["recent_threats"]
    )
    assert db.exec(select(Notification).where(Notification.case_id == case.id)).first() is None
    assert _codes(db, case)[0] == set()


def test_only_the_survivor_is_assessed(db: Session, case: Case, facilitator: User) -> None:
    responsible = make_participant(db, facilitator, case, ParticipantRole.responsible_party)
    with pytest.raises(InvalidInput) as refused:
        service.assess_safety(db, actor=actor_for(facilitator), case=case, participant=responsible, factors=[])
    assert "participant_id" in refused.value.field_errors


def test_assessing_a_case_without_a_survivor_is_a_conflict_naming_what_is_missing(
    db: Session, facilitator: User
) -> None:
    bare = make_case(db, facilitator)
    with pytest.raises(Conflict) as refused:
        service.survivor_to_assess(db, case=bare, participant_id=None)
    assert [c.code for c in refused.value.conditions] == ["survivor_missing"]


def test_staff_cannot_assess_safety(db: Session, case: Case, staff: User) -> None:
    with pytest.raises(PermissionDenied):
        service.assess_safety(db, actor=actor_for(staff), case=case, participant=_survivor(db, case), factors=[])


def test_the_audit_event_of_an_assessment_holds_the_level_but_not_the_notes_or_factors(
    db: Session, case: Case, facilitator: User
) -> None:
    service.assess_safety(
        db,
        actor=actor_for(facilitator),
        case=case,
        participant=_survivor(db, case),
        factors=["location_known"],
        notes="Lives at the shelter on Calle Mayor",
    )
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "safety.assessed")).one()
    assert event.detail["level"] == "medium"
    assert "Calle Mayor" not in str(event.detail) and "location_known" not in str(event.detail)


# --- G3: concerns ----------------------------------------------------------------------------


def test_an_urgent_concern_pauses_the_case_until_a_facilitator_reviews_it(
    db: Session, case: Case, facilitator: User, facilitator2: User
) -> None:
    concern = service.raise_concern(
        db, actor=actor_for(facilitator), case=case, description="Seen outside the shelter", urgent=True
    )
    pauses, blockers = _codes(db, case)
    assert "safety_concern_open" in pauses and "case_paused" in blockers
    assert _notified(db, case, "safety_concern_urgent") == sorted([facilitator.id, facilitator2.id])

    service.review_concern(db, actor=actor_for(facilitator2), concern=concern, note="Police informed; moved.")
    pauses, blockers = _codes(db, case)
    assert "safety_concern_open" not in pauses and "case_paused" not in blockers
    reviewed = db.get(SafetyConcern, concern.id)
    assert reviewed.reviewed_by_id == facilitator2.id and reviewed.review_note == "Police informed; moved."  # type: ignore[union-attr]


def test_a_concern_that_is_not_urgent_neither_pauses_nor_notifies(db: Session, case: Case, facilitator: User) -> None:
    service.raise_concern(db, actor=actor_for(facilitator), case=case, description="Seemed anxious", urgent=False)
    assert _codes(db, case)[0] == set()
    assert db.exec(select(Notification).where(Notification.case_id == case.id)).first() is None


def test_one_review_does_not_release_another_urgent_concern(db: Session, case: Case, facilitator: User) -> None:
    actor = actor_for(facilitator)
    first = service.raise_concern(db, actor=actor, case=case, description="One", urgent=True)
    service.raise_concern(db, actor=actor, case=case, description="Two", urgent=True)
    service.review_concern(db, actor=actor, concern=first, note="Handled")
    assert "safety_concern_open" in _codes(db, case)[0]


def test_a_concern_cannot_be_reviewed_twice(db: Session, case: Case, facilitator: User) -> None:
    actor = actor_for(facilitator)
    concern = service.raise_concern(db, actor=actor, case=case, description="One", urgent=True)
    service.review_concern(db, actor=actor, concern=concern, note="Handled")
    with pytest.raises(Conflict):
        service.review_concern(db, actor=actor, concern=concern, note="Again")


def test_staff_cannot_review_a_concern(db: Session, case: Case, facilitator: User, staff: User) -> None:
    concern = service.raise_concern(db, actor=actor_for(facilitator), case=case, description="One", urgent=True)
    with pytest.raises(PermissionDenied):
        service.review_concern(db, actor=actor_for(staff), concern=concern, note="Looked")


# --- safety plan -----------------------------------------------------------------------------


def test_a_safety_plan_clears_the_plan_blocker_at_high_risk(db: Session, case: Case, facilitator: User) -> None:
    actor = actor_for(facilitator)
    service.assess_safety(
        db, actor=actor, case=case, participant=_survivor(db, case), factors=["debt_bondage", "weapon_or_violence"]
    )
    assert "safety_plan_missing" in _codes(db, case)[1]
    service.save_safety_plan(db, actor=actor, case=case, data=SafetyPlanCreate(separate_waiting_rooms=True))
    assert "safety_plan_missing" not in _codes(db, case)[1]


def test_at_medium_risk_a_plan_is_needed_only_when_the_program_says_so(
    db: Session, case: Case, facilitator: User, program: Program
) -> None:
    service.assess_safety(
        db, actor=actor_for(facilitator), case=case, participant=_survivor(db, case), factors=["debt_bondage"]
    )
    assert "safety_plan_missing" not in _codes(db, case)[1]
    program.safety_plan_required_at_medium = True
    db.add(program)
    db.flush()
    assert "safety_plan_missing" in _codes(db, case)[1]


def test_each_save_of_the_plan_is_a_new_version(db: Session, case: Case, facilitator: User) -> None:
    from app.safety.queries import plan_versions

    actor = actor_for(facilitator)
    service.save_safety_plan(db, actor=actor, case=case, data=SafetyPlanCreate(support_person="Ana"))
    service.save_safety_plan(db, actor=actor, case=case, data=SafetyPlanCreate(support_person="Bea"))
    versions = plan_versions(db, case=case)
    assert [(v.version, v.plan.support_person) for v in versions] == [(2, "Bea"), (1, "Ana")]


# --- contact preferences ---------------------------------------------------------------------


def test_contact_details_never_reach_the_audit_log(db: Session, case: Case, facilitator: User) -> None:
    survivor = _survivor(db, case)
    data = ContactPreferenceUpdate(
        channel=ContactChannel.phone,
        phone="+34 611 222 333",
        email="rosa.hidden@example.org",
        code_word="sunflower",
        quiet_hours_start="21:00",
        quiet_hours_end="08:00",
    )
    service.save_contact_preference(db, actor=actor_for(facilitator), participant=survivor, data=data)
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "contact_preference.saved")).one()
    text = str(event.detail)
    for secret in ("611 222 333", "rosa.hidden", "sunflower", "21:00"):
        assert secret not in text
    assert "phone" in event.detail["changed"]


def test_saving_contact_preferences_again_replaces_them(db: Session, case: Case, facilitator: User) -> None:
    from app.safety.queries import contact_preference

    survivor, actor = _survivor(db, case), actor_for(facilitator)
    service.save_contact_preference(
        db, actor=actor, participant=survivor, data=ContactPreferenceUpdate(channel="email", email="a@example.org")
    )
    service.save_contact_preference(db, actor=actor, participant=survivor, data=ContactPreferenceUpdate(channel="none"))
    pref = contact_preference(db, participant=survivor)
    assert pref is not None and pref.channel == "none"


# --- G2: withdrawal --------------------------------------------------------------------------


def _give(db: Session, user: User, participant: Participant, scope: ConsentScope = ConsentScope.conference) -> Consent:
    return give_consent(
        db,
        actor=actor_for(user),
        participant=participant,
        scope=scope,
        sheet_version="2026-1",
        sheet_language="es",
        method=ConsentMethod.in_person,
        witnessed_by="Interpreter Luis",
    )


@pytest.mark.parametrize("scope", [ConsentScope.contact, ConsentScope.preparation, ConsentScope.conference])
def test_withdrawing_participation_pauses_the_case_notifies_and_deletes_nothing(
    db: Session, case: Case, facilitator: User, facilitator2: User, scope: ConsentScope
) -> None:
    survivor = _survivor(db, case)
    given = _give(db, facilitator, survivor, scope)
    withdraw_consent(db, actor=actor_for(facilitator), participant=survivor, scope=scope, reason="Needs time")
    pauses, blockers = _codes(db, case)
    assert "consent_withdrawn" in pauses and "case_paused" in blockers
    assert _notified(db, case, "consent_withdrawn") == sorted([facilitator.id, facilitator2.id])
    row = db.get(Consent, given.id)
    assert row is not None and row.withdrawn_at is not None and row.withdrawal_reason == "Needs time"
    assert row.withdrawn_by_id == facilitator.id and row.withdrawn_via == "facilitator"


def test_withdrawing_a_consent_that_is_not_participation_does_not_pause(
    db: Session, case: Case, facilitator: User
) -> None:
    survivor = _survivor(db, case)
    _give(db, facilitator, survivor, ConsentScope.progress_updates)
    withdraw_consent(db, actor=actor_for(facilitator), participant=survivor, scope=ConsentScope.progress_updates)
    assert _codes(db, case)[0] == set()
    assert db.exec(select(Notification).where(Notification.case_id == case.id)).first() is None


def test_consenting_again_lifts_the_pause_and_keeps_the_withdrawn_row(
    db: Session, case: Case, facilitator: User
) -> None:
    survivor = _survivor(db, case)
    _give(db, facilitator, survivor)
    withdraw_consent(db, actor=actor_for(facilitator), participant=survivor, scope=ConsentScope.conference)
    _give(db, facilitator, survivor)
    pauses, blockers = _codes(db, case)
    assert "consent_withdrawn" not in pauses and "case_paused" not in blockers
    rows = db.exec(select(Consent).where(Consent.participant_id == survivor.id)).all()
    assert len(rows) == 2 and sum(r.withdrawn_at is not None for r in rows) == 1


def test_withdrawing_what_was_never_given_is_a_conflict(db: Session, case: Case, facilitator: User) -> None:
    with pytest.raises(Conflict):
        withdraw_consent(db, actor=actor_for(facilitator), participant=_survivor(db, case), scope=ConsentScope.contact)


def test_giving_consent_twice_is_a_conflict(db: Session, case: Case, facilitator: User) -> None:
    survivor = _survivor(db, case)
    _give(db, facilitator, survivor)
    with pytest.raises(Conflict):
        _give(db, facilitator, survivor)


@pytest.mark.parametrize(
    ("version", "language", "field"),
    [("1999-9", "en", "sheet_version"), ("2026-1", "fr", "sheet_language"), ("../../x", "en", "sheet_version")],
)
def test_consent_must_name_an_information_sheet_that_exists(
    db: Session, case: Case, facilitator: User, version: str, language: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        give_consent(
            db,
            actor=actor_for(facilitator),
            participant=_survivor(db, case),
            scope=ConsentScope.contact,
            sheet_version=version,
            sheet_language=language,
            method=ConsentMethod.written,
        )
    assert field in refused.value.field_errors


def test_a_facilitator_cannot_record_consent_as_given_in_the_portal(db: Session, case: Case, facilitator: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        give_consent(
            db,
            actor=actor_for(facilitator),
            participant=_survivor(db, case),
            scope=ConsentScope.contact,
            sheet_version="2026-1",
            sheet_language="en",
            method=ConsentMethod.portal,
        )
    assert "method" in refused.value.field_errors


def test_staff_cannot_record_or_withdraw_consent(db: Session, case: Case, facilitator: User, staff: User) -> None:
    survivor = _survivor(db, case)
    with pytest.raises(PermissionDenied):
        _give(db, staff, survivor)
    _give(db, facilitator, survivor)
    with pytest.raises(PermissionDenied):
        withdraw_consent(db, actor=actor_for(staff), participant=survivor, scope=ConsentScope.conference)
