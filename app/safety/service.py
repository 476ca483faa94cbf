"""Safety workflows: assessments, concerns (G3), safety plans and safe-contact preferences.

A case is never marked paused here: the pause is derived from the records these functions
write (app.conferences.rules.pause_reasons). What happens *because* of a pause, telling the
facilitators and holding upcoming sessions, happens here, after the guards.
"""

from sqlmodel import Session, col, func, select

from app.actor import Actor
from app.audit.service import record_event
from app.conferences.models import Case, Participant, ParticipantRole
from app.conferences.scheduling import hold_upcoming_sessions, release_held_sessions
from app.conferences.service import require_case_writer
from app.db import utcnow
from app.errors import Condition, Conflict, InvalidInput, NotFound
from app.i18n import N_
from app.notifications.service import notify_case_facilitators
from app.safety.models import ContactPreference, RiskLevel, SafetyAssessment, SafetyConcern, SafetyPlan
from app.safety.rules import UnknownRiskFactor, compute_risk
from app.safety.schemas import ContactPreferenceUpdate, SafetyPlanCreate


def survivor_to_assess(session: Session, *, case: Case, participant_id: int | None) -> Participant:
    """The survivor an assessment is about: the one named, or the case's only survivor."""
    survivors = session.exec(
        select(Participant)
        .where(Participant.case_id == case.id, Participant.role == ParticipantRole.survivor)
        .order_by(col(Participant.id))
    ).all()
    if not survivors:
        raise Conflict(
            "Add the survivor as a participant before assessing their safety.",
            conditions=[
                Condition(
                    "survivor_missing", N_("Add the survivor as a participant."), f"/cases/{case.id}/participants/new"
                )
            ],
        )
    if participant_id is None:
        if len(survivors) > 1:
            message = N_("Choose which survivor this assessment is about.")
            raise InvalidInput(message, field_errors={"participant_id": message})
        return survivors[0]
    chosen = next((p for p in survivors if p.id == participant_id), None)
    if chosen is None:
        message = N_("Choose a survivor of this case: only the survivor's safety is assessed here.")
        raise InvalidInput(message, field_errors={"participant_id": message})
    return chosen


def assess_safety(
    session: Session, *, actor: Actor, case: Case, participant: Participant, factors: list[str], notes: str = ""
) -> SafetyAssessment:
    """Record an assessment of the survivor's safety; the latest counts. A critical level pauses the case (G3)."""
    require_case_writer(actor)
    if participant.case_id != case.id:
        raise NotFound("No such participant.")
    if participant.role != ParticipantRole.survivor:
        message = N_("Only the survivor's safety is assessed here.")
        raise InvalidInput(message, field_errors={"participant_id": message})
    try:
        score, level = compute_risk(factors)
    except UnknownRiskFactor as exc:
        message = N_("Choose the risk factors that apply from the list.")
        raise InvalidInput(message, field_errors={"factors": message}) from exc
    assessment = SafetyAssessment(
        program_id=case.program_id,
        case_id=case.id,  # type: ignore[arg-type]
        participant_id=participant.id,  # type: ignore[arg-type]
        factors=sorted(set(factors)),
        score=score,
        level=level,
        notes=notes.strip(),
        assessed_by_id=actor.user_id,  # type: ignore[arg-type]
        assessed_at=utcnow(),
    )
    session.add(assessment)
    session.flush()
    # The factors and notes are confidential safety detail: the audit log records only the outcome.
    record_event(
        session,
        actor=actor,
        action="safety.assessed",
        entity_type="safety_assessment",
        entity_id=assessment.id,
        case_id=case.id,
        detail={"participant_id": participant.id, "level": str(level), "score": score},
    )
    if level == RiskLevel.critical:
        _on_safety_pause(
            session,
            case=case,
            kind="safety_risk_critical",
            subject=f"Case {case.reference}: critical safety risk, case paused",
            body=(
                f"The latest safety assessment of {participant.display_name} is critical. The case is paused and "
                "upcoming sessions are on hold until a new assessment lowers the risk. Follow the emergency safety "
                "protocol, and open the case in Mend for details."
            ),
        )
    else:
        release_held_sessions(session, actor=actor, case=case)
    return assessment


def raise_concern(
    session: Session, *, actor: Actor, case: Case, description: str, urgent: bool = False
) -> SafetyConcern:
    """Record a safety concern between assessments. An urgent one pauses the case until it is reviewed (G3)."""
    require_case_writer(actor)
    concern = SafetyConcern(
        program_id=case.program_id,
        case_id=case.id,  # type: ignore[arg-type]
        description=description.strip(),
        urgent=urgent,
        raised_by_id=actor.user_id,  # type: ignore[arg-type]
        raised_at=utcnow(),
    )
    session.add(concern)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="safety.concern_raised",
        entity_type="safety_concern",
        entity_id=concern.id,
        case_id=case.id,
        detail={"urgent": urgent},
    )
    if urgent:
        _on_safety_pause(
            session,
            case=case,
            kind="safety_concern_urgent",
            subject=f"Case {case.reference}: urgent safety concern, case paused",
            body=(
                "An urgent safety concern was raised. The case is paused and upcoming sessions are on hold until "
                "a facilitator reviews the concern. Open the case in Mend for details."
            ),
        )
    return concern


def review_concern(session: Session, *, actor: Actor, concern: SafetyConcern, note: str) -> SafetyConcern:
    """A facilitator's review of a concern; reviewing an urgent one releases the pause it caused."""
    require_case_writer(actor)
    if concern.reviewed_at is not None:
        raise Conflict("This concern has already been reviewed.")
    concern.reviewed_at = utcnow()
    concern.reviewed_by_id = actor.user_id
    concern.review_note = note.strip()
    session.add(concern)
    record_event(
        session,
        actor=actor,
        action="safety.concern_reviewed",
        entity_type="safety_concern",
        entity_id=concern.id,
        case_id=concern.case_id,
        detail={"urgent": concern.urgent},
    )
    case = session.get(Case, concern.case_id)
    assert case is not None
    release_held_sessions(session, actor=actor, case=case)
    return concern


def save_safety_plan(session: Session, *, actor: Actor, case: Case, data: SafetyPlanCreate) -> SafetyPlan:
    """Save the safety plan as a new version; the latest version counts and earlier ones are kept."""
    require_case_writer(actor)
    plan = SafetyPlan(
        program_id=case.program_id,
        case_id=case.id,  # type: ignore[arg-type]
        created_by_id=actor.user_id,  # type: ignore[arg-type]
        created_at=utcnow(),
        **data.model_dump(),
    )
    session.add(plan)
    session.flush()
    version = session.exec(select(func.count()).select_from(SafetyPlan).where(SafetyPlan.case_id == case.id)).one()
    record_event(
        session,
        actor=actor,
        action="safety.plan_saved",
        entity_type="safety_plan",
        entity_id=plan.id,
        case_id=case.id,
        detail={"version": version},
    )
    return plan


def save_contact_preference(
    session: Session, *, actor: Actor, participant: Participant, data: ContactPreferenceUpdate
) -> ContactPreference:
    """Record how, and whether, the person agreed to be contacted; replaces what was recorded."""
    require_case_writer(actor)
    pref = session.exec(select(ContactPreference).where(ContactPreference.participant_id == participant.id)).first()
    values = data.model_dump()
    before = {name: getattr(pref, name) for name in values} if pref is not None else {}
    if pref is None:
        pref = ContactPreference(program_id=participant.program_id, participant_id=participant.id)  # type: ignore[arg-type]
    for name, value in values.items():
        setattr(pref, name, value)
    pref.updated_by_id = actor.user_id
    pref.updated_at = utcnow()
    session.add(pref)
    session.flush()
    # Contact details can lead someone to the person: the audit log names the fields, never their values.
    record_event(
        session,
        actor=actor,
        action="contact_preference.saved",
        entity_type="contact_preference",
        entity_id=pref.id,
        case_id=participant.case_id,
        detail={
            "participant_id": participant.id,
            "changed": sorted(name for name in values if before.get(name) != getattr(pref, name)),
        },
    )
    return pref


def record_safety_read(session: Session, *, actor: Actor, case: Case, what: str) -> None:
    """Reads of safety detail, consent records and contact details are audited, not only changes."""
    record_event(session, actor=actor, action=f"{what}.read", entity_type="case", entity_id=case.id, case_id=case.id)


def _on_safety_pause(session: Session, *, case: Case, kind: str, subject: str, body: str) -> None:
    """The case is now paused (derived from the record just written): hold its sessions, tell its facilitators."""
    hold_upcoming_sessions(session, case=case, reason="Safety pause: waiting for a facilitator's review.")
    notify_case_facilitators(session, case=case, kind=kind, subject=subject, body=body)
