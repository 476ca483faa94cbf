"""JSON API: safety assessments, concerns, the safety plan, contact preferences and consent.

Every case route loads the case through DetailCase: program staff get 403 (they may not read
safety detail), facilitators not assigned to the case and other programs get 404.
"""

from dataclasses import asdict

from fastapi import APIRouter, Depends, status

from app.auth.dependencies import ActorDep
from app.conferences.dependencies import CaseParticipant, DetailCase
from app.db import SessionDep
from app.errors import NotFound
from app.safety import consent, queries, service
from app.safety.dependencies import CaseConcern
from app.safety.models import ConsentScope
from app.safety.queries import ParticipantConsents, PlanVersion
from app.safety.rules import RISK_FACTORS
from app.safety.schemas import (
    SHEET_LANGUAGE,
    SHEET_VERSION,
    AssessmentCreate,
    AssessmentPublic,
    ConcernCreate,
    ConcernPublic,
    ConcernReview,
    ConsentCreate,
    ConsentPublic,
    ConsentWithdraw,
    ContactPreferencePublic,
    ContactPreferenceUpdate,
    InformationSheetPublic,
    ParticipantConsentsPublic,
    RiskFactorPublic,
    SafetyPlanCreate,
    SafetyPlanPublic,
    SafetyPlanStatus,
    ScopeStatePublic,
)
from app.safety.sheets import load_sheet
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["safety"], dependencies=[Depends(verify_csrf)])


def plan_public(version: PlanVersion) -> SafetyPlanPublic:
    fields = {name: getattr(version.plan, name) for name in SafetyPlanPublic.model_fields if name != "version"}
    return SafetyPlanPublic.model_validate(fields | {"version": version.version})


def consents_public(entry: ParticipantConsents) -> ParticipantConsentsPublic:
    return ParticipantConsentsPublic(
        participant_id=entry.participant.id,  # type: ignore[arg-type]
        display_name=entry.participant.display_name,
        role=entry.participant.role,
        scopes=[
            ScopeStatePublic(
                scope=s.scope,
                label=s.label,
                state=s.state,
                consent=ConsentPublic.model_validate(s.consent) if s.consent else None,
            )
            for s in entry.scopes
        ],
        history=[ConsentPublic.model_validate(row) for row in entry.history],
    )


@router.get("/safety/risk-factors", response_model=list[RiskFactorPublic])
def list_risk_factors(actor: ActorDep) -> list[RiskFactorPublic]:
    """The risk factors of a safety assessment, each with its weight, explanation and whether it alone is critical."""
    return [RiskFactorPublic(**asdict(f)) for f in RISK_FACTORS]


@router.get("/information-sheets/{version}/{language}", response_model=InformationSheetPublic)
def read_information_sheet(version: str, language: str, actor: ActorDep) -> InformationSheetPublic:
    """One version of the information sheet in one language, as shown before consent."""
    sheet = load_sheet(version, language) if SHEET_VERSION.match(version) and SHEET_LANGUAGE.match(language) else None
    if sheet is None:
        raise NotFound("There is no information sheet of this version in this language.")
    return InformationSheetPublic(**asdict(sheet))


# --- assessments -------------------------------------------------------------------------------


@router.get("/cases/{case_id}/safety/assessments", response_model=list[AssessmentPublic])
def list_assessments(case: DetailCase, session: SessionDep, actor: ActorDep) -> list[AssessmentPublic]:
    """The survivor's safety assessments, newest first: the first one counts, the rest are history."""
    service.record_safety_read(session, actor=actor, case=case, what="safety.assessments")
    return [AssessmentPublic.model_validate(a) for a in queries.assessments(session, case=case)]


@router.post(
    "/cases/{case_id}/safety/assessments", response_model=AssessmentPublic, status_code=status.HTTP_201_CREATED
)
def assess_safety(data: AssessmentCreate, case: DetailCase, session: SessionDep, actor: ActorDep) -> AssessmentPublic:
    """Assess the survivor's safety. The level is computed from the factors; a critical level pauses the case."""
    survivor = service.survivor_to_assess(session, case=case, participant_id=data.participant_id)
    assessment = service.assess_safety(
        session, actor=actor, case=case, participant=survivor, factors=data.factors, notes=data.notes
    )
    return AssessmentPublic.model_validate(assessment)


# --- concerns ----------------------------------------------------------------------------------


@router.get("/cases/{case_id}/safety/concerns", response_model=list[ConcernPublic])
def list_concerns(case: DetailCase, session: SessionDep, actor: ActorDep) -> list[ConcernPublic]:
    """The case's safety concerns, newest first, with their reviews."""
    service.record_safety_read(session, actor=actor, case=case, what="safety.concerns")
    return [ConcernPublic.model_validate(c) for c in queries.concerns(session, case=case)]


@router.post("/cases/{case_id}/safety/concerns", response_model=ConcernPublic, status_code=status.HTTP_201_CREATED)
def raise_concern(data: ConcernCreate, case: DetailCase, session: SessionDep, actor: ActorDep) -> ConcernPublic:
    """Raise a safety concern. An urgent one pauses the case until a facilitator reviews it."""
    concern = service.raise_concern(session, actor=actor, case=case, description=data.description, urgent=data.urgent)
    return ConcernPublic.model_validate(concern)


@router.post("/cases/{case_id}/safety/concerns/{concern_id}/review", response_model=ConcernPublic)
def review_concern(data: ConcernReview, concern: CaseConcern, session: SessionDep, actor: ActorDep) -> ConcernPublic:
    """Review a concern, saying what was checked or done; this releases the pause an urgent concern caused."""
    return ConcernPublic.model_validate(service.review_concern(session, actor=actor, concern=concern, note=data.note))


# --- safety plan -------------------------------------------------------------------------------


@router.get("/cases/{case_id}/safety/plan", response_model=SafetyPlanStatus)
def read_safety_plan(case: DetailCase, session: SessionDep, actor: ActorDep) -> SafetyPlanStatus:
    """The latest safety plan, and whether the current risk level requires one."""
    service.record_safety_read(session, actor=actor, case=case, what="safety.plan")
    found = queries.plan_status(session, case=case)
    return SafetyPlanStatus(
        risk_level=found.risk_level,
        required=found.required,
        plan=plan_public(found.latest) if found.latest else None,
        versions=len(found.versions),
    )


@router.put("/cases/{case_id}/safety/plan", response_model=SafetyPlanPublic)
def save_safety_plan(
    data: SafetyPlanCreate, case: DetailCase, session: SessionDep, actor: ActorDep
) -> SafetyPlanPublic:
    """Save the safety plan as a new version; the latest version counts, earlier ones are kept."""
    service.save_safety_plan(session, actor=actor, case=case, data=data)
    return plan_public(queries.plan_versions(session, case=case)[0])


@router.get("/cases/{case_id}/safety/plan/versions", response_model=list[SafetyPlanPublic])
def list_safety_plan_versions(case: DetailCase, session: SessionDep, actor: ActorDep) -> list[SafetyPlanPublic]:
    """Every version of the safety plan, newest first."""
    service.record_safety_read(session, actor=actor, case=case, what="safety.plan")
    return [plan_public(v) for v in queries.plan_versions(session, case=case)]


# --- contact preferences -----------------------------------------------------------------------


@router.get(
    "/cases/{case_id}/participants/{participant_id}/contact-preferences", response_model=ContactPreferencePublic
)
def read_contact_preferences(
    participant: CaseParticipant, case: DetailCase, session: SessionDep, actor: ActorDep
) -> ContactPreferencePublic:
    """How, and whether, the person agreed to be contacted. Confidential."""
    service.record_safety_read(session, actor=actor, case=case, what="contact_preference")
    pref = queries.contact_preference(session, participant=participant)
    if pref is None:
        raise NotFound("No contact preferences are recorded for this person yet: nothing will be sent to them.")
    return ContactPreferencePublic.model_validate(pref)


@router.put(
    "/cases/{case_id}/participants/{participant_id}/contact-preferences", response_model=ContactPreferencePublic
)
def save_contact_preferences(
    data: ContactPreferenceUpdate, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> ContactPreferencePublic:
    """Record the person's safe-contact preferences, replacing what was recorded."""
    pref = service.save_contact_preference(session, actor=actor, participant=participant, data=data)
    return ContactPreferencePublic.model_validate(pref)


# --- consent -----------------------------------------------------------------------------------


@router.get("/cases/{case_id}/consents", response_model=list[ParticipantConsentsPublic])
def list_consents(case: DetailCase, session: SessionDep, actor: ActorDep) -> list[ParticipantConsentsPublic]:
    """Each participant's state for every consent scope (active, withdrawn, missing) and the full history."""
    service.record_safety_read(session, actor=actor, case=case, what="consent")
    return [consents_public(entry) for entry in queries.consent_overview(session, case=case)]


@router.post(
    "/cases/{case_id}/participants/{participant_id}/consents",
    response_model=ConsentPublic,
    status_code=status.HTTP_201_CREATED,
)
def give_consent(
    data: ConsentCreate, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> ConsentPublic:
    """Record a participant's consent to one scope, with the information sheet version and language they were given."""
    given = consent.give_consent(session, actor=actor, participant=participant, **data.model_dump())
    return ConsentPublic.model_validate(given)


@router.post("/cases/{case_id}/participants/{participant_id}/consents/{scope}/withdraw", response_model=ConsentPublic)
def withdraw_consent(
    scope: ConsentScope,
    participant: CaseParticipant,
    session: SessionDep,
    actor: ActorDep,
    data: ConsentWithdraw | None = None,
) -> ConsentPublic:
    """Withdraw a consent, at any time and with no penalty. Withdrawing participation pauses the case at once."""
    reason = data.reason if data else None
    withdrawn = consent.withdraw_consent(session, actor=actor, participant=participant, scope=scope, reason=reason)
    return ConsentPublic.model_validate(withdrawn)
