"""Reads shaped for the safety, plan, consent and contact pages and the API; scoped by the case given."""

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from app.auth.models import User
from app.conferences.models import Case, Participant, ParticipantRole
from app.conferences.queries import case_facts
from app.conferences.rules import pause_reasons
from app.errors import Condition
from app.programs.models import Program
from app.safety.consent import SCOPE_LABELS
from app.safety.models import (
    Consent,
    ConsentScope,
    ContactPreference,
    RiskLevel,
    SafetyAssessment,
    SafetyConcern,
    SafetyPlan,
)
from app.safety.rules import FACTORS_BY_KEY, ConsentFact, compute_risk, consent_state, safety_plan_required


def user_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    """Full names of the users who assessed, reviewed or recorded something, by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.full_name for u in session.exec(select(User).where(col(User.id).in_(wanted))).all()}  # type: ignore[misc]


def participants(session: Session, *, case: Case) -> list[Participant]:
    """The case's participants, in the order they were added."""
    return list(session.exec(select(Participant).where(Participant.case_id == case.id).order_by(col(Participant.id))))


def survivors(session: Session, *, case: Case) -> list[Participant]:
    """The case's survivors (usually one): the people a safety assessment is about."""
    return [p for p in participants(session, case=case) if p.role == ParticipantRole.survivor]


def assessments(session: Session, *, case: Case) -> list[SafetyAssessment]:
    """Every assessment of the case, newest first: the first one counts, the rest are history."""
    return list(
        session.exec(
            select(SafetyAssessment)
            .where(SafetyAssessment.case_id == case.id)
            .order_by(col(SafetyAssessment.assessed_at).desc(), col(SafetyAssessment.id).desc())
        )
    )


def concerns(session: Session, *, case: Case) -> list[SafetyConcern]:
    """The case's safety concerns, newest first."""
    return list(
        session.exec(
            select(SafetyConcern)
            .where(SafetyConcern.case_id == case.id)
            .order_by(col(SafetyConcern.raised_at).desc(), col(SafetyConcern.id).desc())
        )
    )


def get_concern(session: Session, *, case: Case, concern_id: int) -> SafetyConcern | None:
    """One concern of this case, or None (also when it belongs to another case)."""
    concern = session.get(SafetyConcern, concern_id)
    return concern if concern is not None and concern.case_id == case.id else None


@dataclass(frozen=True)
class PlanVersion:
    plan: SafetyPlan
    version: int


def plan_versions(session: Session, *, case: Case) -> list[PlanVersion]:
    """Every saved version of the case's safety plan, newest first, numbered from 1."""
    rows = session.exec(
        select(SafetyPlan).where(SafetyPlan.case_id == case.id).order_by(col(SafetyPlan.created_at), col(SafetyPlan.id))
    ).all()
    return [PlanVersion(plan, number) for number, plan in reversed(list(enumerate(rows, start=1)))]


@dataclass(frozen=True)
class PlanStatus:
    risk_level: RiskLevel | None
    required: bool
    latest: PlanVersion | None
    versions: list[PlanVersion]


def plan_status(session: Session, *, case: Case) -> PlanStatus:
    """The latest plan and whether the case's current risk level requires one."""
    latest = next(iter(assessments(session, case=case)), None)
    program = session.get(Program, case.program_id)
    assert program is not None
    level = RiskLevel(latest.level) if latest is not None else None
    required = level is not None and safety_plan_required(
        level, required_at_medium=program.safety_plan_required_at_medium
    )
    versions = plan_versions(session, case=case)
    return PlanStatus(level, required, versions[0] if versions else None, versions)


@dataclass(frozen=True)
class RiskPreview:
    score: int
    level: RiskLevel
    plan_required: bool
    error: str | None = None


def risk_preview(session: Session, *, case: Case, factors: list[str], error: str | None = None) -> RiskPreview:
    """The score and level ticked factors give, and whether that level needs a safety plan in this program."""
    score, level = compute_risk(f for f in factors if f in FACTORS_BY_KEY)
    program = session.get(Program, case.program_id)
    assert program is not None
    required = safety_plan_required(level, required_at_medium=program.safety_plan_required_at_medium)
    return RiskPreview(score, level, required, error)


def case_pauses(session: Session, *, case: Case) -> list[Condition]:
    """Why the case is paused, from the same derivation the journey uses."""
    return pause_reasons(case_facts(session, case=case))


@dataclass(frozen=True)
class SafetyOverview:
    survivors: list[Participant]
    assessments: list[SafetyAssessment]
    concerns: list[SafetyConcern]
    plan: PlanStatus
    pauses: list[Condition]
    names: dict[int, str] = field(default_factory=dict)

    @property
    def latest(self) -> SafetyAssessment | None:
        return self.assessments[0] if self.assessments else None

    @property
    def participant_names(self) -> dict[int, str]:
        return {p.id: p.display_name for p in self.survivors}  # type: ignore[misc]


def safety_overview(session: Session, *, case: Case) -> SafetyOverview:
    """Everything the safety page shows: assessments, concerns, the plan's status and any pause."""
    found_assessments = assessments(session, case=case)
    found_concerns = concerns(session, case=case)
    plan = plan_status(session, case=case)
    names = user_names(
        session,
        {a.assessed_by_id for a in found_assessments}
        | {c.raised_by_id for c in found_concerns}
        | {c.reviewed_by_id for c in found_concerns}
        | {v.plan.created_by_id for v in plan.versions},
    )
    return SafetyOverview(
        survivors=survivors(session, case=case),
        assessments=found_assessments,
        concerns=found_concerns,
        plan=plan,
        pauses=case_pauses(session, case=case),
        names=names,
    )


def contact_preference(session: Session, *, participant: Participant) -> ContactPreference | None:
    """The person's safe-contact preferences, or None when nothing is recorded (then nothing is sent)."""
    return session.exec(select(ContactPreference).where(ContactPreference.participant_id == participant.id)).first()


@dataclass(frozen=True)
class ScopeState:
    scope: ConsentScope
    label: str
    state: str  # active, withdrawn or missing
    consent: Consent | None


@dataclass(frozen=True)
class ParticipantConsents:
    participant: Participant
    scopes: list[ScopeState]
    history: list[Consent]  # every row, newest first


def consent_overview(session: Session, *, case: Case) -> list[ParticipantConsents]:
    """Every participant × scope with its state (judged by the latest row), and the full history."""
    rows = session.exec(
        select(Consent).where(Consent.case_id == case.id).order_by(col(Consent.given_at), col(Consent.id))
    ).all()
    result = []
    for person in participants(session, case=case):
        own = [r for r in rows if r.participant_id == person.id]
        latest = {ConsentScope(r.scope): r for r in own}
        facts = [ConsentFact(r.participant_id, ConsentScope(r.scope), r.given_at, r.withdrawn_at) for r in own]
        scopes = [
            ScopeState(
                scope,
                SCOPE_LABELS[scope],
                consent_state(facts, participant_id=person.id, scope=scope),  # type: ignore[arg-type]
                latest.get(scope),
            )
            for scope in ConsentScope
        ]
        result.append(ParticipantConsents(person, scopes, list(reversed(own))))
    return result


def consent_names(session: Session, overview: list[ParticipantConsents]) -> dict[int, str]:
    """Names of who recorded or took each withdrawal, for the history tables."""
    return user_names(
        session,
        {r.recorded_by_id for p in overview for r in p.history}
        | {r.withdrawn_by_id for p in overview for r in p.history},
    )
