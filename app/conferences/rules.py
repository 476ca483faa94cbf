"""The case journey: which step a case is at and what blocks the next one. Pure functions.

The stage is derived from the case's records, never stored. Every page, the API and the
tests ask `derive_journey`; later capabilities extend `CaseFacts` and the conditions here.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from app.agreements.commitment_rules import case_openness, local_today
from app.agreements.models import CommitmentKind
from app.conferences.models import ParticipantRole, ScreeningOutcome, SessionKind, SessionStatus
from app.errors import Condition
from app.i18n import N_
from app.safety.models import ConsentScope, RiskLevel
from app.safety.rules import ConsentFact, consent_state, safety_plan_required, withdrawn_participants


class Step(StrEnum):
    referral = "referral"
    preparation = "preparation"
    ready = "ready"
    conference_scheduled = "conference_scheduled"
    conference_held = "conference_held"
    agreement_drafted = "agreement_drafted"
    survivor_review = "survivor_review"
    signing = "signing"
    signed = "signed"
    monitoring = "monitoring"
    completed = "completed"
    closed = "closed"  # off the main line: closed before completing (not suitable, withdrawn, unresolved)


STEP_LABELS: dict[Step, str] = {
    Step.referral: N_("Referral"),
    Step.preparation: N_("Preparation"),
    Step.ready: N_("Ready to schedule"),
    Step.conference_scheduled: N_("Conference scheduled"),
    Step.conference_held: N_("Conference held"),
    Step.agreement_drafted: N_("Agreement drafted"),
    Step.survivor_review: N_("Survivor review"),
    Step.signing: N_("Signing"),
    Step.signed: N_("Signed"),
    Step.monitoring: N_("Monitoring"),
    Step.completed: N_("Completed"),
    Step.closed: N_("Closed"),
}

JOURNEY: tuple[Step, ...] = tuple(step for step in Step if step != Step.closed)


class StepState(StrEnum):
    done = "done"
    current = "current"
    blocked = "blocked"
    not_started = "not_started"
    stopped = "stopped"  # a closed case stopped at this step


@dataclass(frozen=True)
class ParticipantFact:
    id: int
    role: ParticipantRole
    display_name: str
    interpreter_needed: bool


@dataclass(frozen=True)
class ScreeningFact:
    participant_id: int
    outcome: ScreeningOutcome
    completed_at: datetime


@dataclass(frozen=True)
class AcknowledgementFact:
    participant_id: int
    acknowledged_at: datetime


@dataclass(frozen=True)
class AssessmentFact:
    participant_id: int
    level: RiskLevel
    assessed_at: datetime


@dataclass(frozen=True)
class ConcernFact:
    id: int
    urgent: bool
    reviewed: bool
    raised_at: datetime | None = None
    reviewed_at: datetime | None = None


@dataclass(frozen=True)
class SessionFact:
    kind: SessionKind
    status: SessionStatus
    starts_at: datetime


@dataclass(frozen=True)
class AgreementFact:
    """The case's agreement: its latest version's status, and whether a version was ever sealed."""

    latest_status: str
    ever_sealed: bool


@dataclass(frozen=True)
class CommitmentFact:
    kind: CommitmentKind
    due_on: date | None
    completed_on: date | None
    breached_on: date | None
    waived: bool


@dataclass(frozen=True)
class CaseFacts:
    """What the journey and the gates are derived from: the case's own records, already loaded."""

    case_id: int
    now: datetime
    participants: tuple[ParticipantFact, ...] = ()
    screenings: tuple[ScreeningFact, ...] = ()
    acknowledgements: tuple[AcknowledgementFact, ...] = ()
    assessments: tuple[AssessmentFact, ...] = ()
    has_safety_plan: bool = False
    safety_plan_since: datetime | None = None  # when the first safety plan was made
    consents: tuple[ConsentFact, ...] = ()
    concerns: tuple[ConcernFact, ...] = ()
    sessions: tuple[SessionFact, ...] = ()
    screening_validity_days: int = 90
    safety_plan_required_at_medium: bool = False
    agreement: AgreementFact | None = None
    commitments: tuple[CommitmentFact, ...] = ()  # those in force (of the sealed version)
    closure_reason: str | None = None
    timezone: str = "UTC"

    def with_role(self, role: ParticipantRole) -> list[ParticipantFact]:
        return [p for p in self.participants if p.role == role]

    def latest_screening(self, participant_id: int) -> ScreeningFact | None:
        own = [s for s in self.screenings if s.participant_id == participant_id]
        return max(own, key=lambda s: s.completed_at) if own else None

    def latest_assessment(self, participant_id: int) -> AssessmentFact | None:
        own = [a for a in self.assessments if a.participant_id == participant_id]
        return max(own, key=lambda a: a.assessed_at) if own else None


def facts_as_of(facts: CaseFacts, at: datetime) -> CaseFacts:
    """The case's facts as they stood at `at`, for judging a session recorded after it took place:
    records made later are left out, and a later withdrawal or review had not happened yet."""

    def before(moment: datetime | None) -> bool:
        return moment is not None and moment <= at

    return replace(
        facts,
        now=at,
        screenings=tuple(s for s in facts.screenings if before(s.completed_at)),
        acknowledgements=tuple(a for a in facts.acknowledgements if before(a.acknowledged_at)),
        assessments=tuple(a for a in facts.assessments if before(a.assessed_at)),
        has_safety_plan=before(facts.safety_plan_since),
        consents=tuple(
            replace(c, withdrawn_at=c.withdrawn_at if before(c.withdrawn_at) else None)
            for c in facts.consents
            if before(c.given_at)
        ),
        concerns=tuple(
            replace(c, reviewed=before(c.reviewed_at))
            for c in facts.concerns
            if c.raised_at is None or before(c.raised_at)
        ),
        sessions=tuple(s for s in facts.sessions if before(s.starts_at)),
        agreement=None,
        commitments=(),
        closure_reason=None,
    )


@dataclass(frozen=True)
class JourneyStep:
    step: Step
    label: str
    state: StepState


@dataclass(frozen=True)
class Journey:
    stage: Step
    steps: tuple[JourneyStep, ...]
    blockers: tuple[Condition, ...] = field(default=())
    pauses: tuple[Condition, ...] = field(default=())
    reached: Step | None = None  # for a closed case: the last stage it reached before closing
    closure_reason: str | None = None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.stage != Step.closed

    @property
    def next_step(self) -> Step | None:
        if self.stage == Step.closed:
            return None
        index = JOURNEY.index(self.stage)
        return JOURNEY[index + 1] if index + 1 < len(JOURNEY) else None


# Conditions name people by their role, never by name: program staff read them too.
ROLE_WORDS = {
    ParticipantRole.survivor: "the survivor",
    ParticipantRole.responsible_party: "the responsible party",
    ParticipantRole.supporter: "a supporter",
    ParticipantRole.community_member: "a community member",
    ParticipantRole.interpreter: "the interpreter",
}


def _who(person: ParticipantFact) -> str:
    return ROLE_WORDS[person.role]


def pause_reasons(facts: CaseFacts) -> list[Condition]:
    """Why the case is paused (G2, G3); empty when it is not. Derived, never typed in."""
    base = f"/cases/{facts.case_id}"
    people = {p.id: p for p in facts.participants}
    reasons = [
        Condition(
            "consent_withdrawn",
            f"{_who(people[pid]).capitalize() if pid in people else 'A participant'} withdrew consent to take part.",
            f"{base}/consent",
            pid,
        )
        for pid in sorted(withdrawn_participants(facts.consents))
    ]
    for survivor in facts.with_role(ParticipantRole.survivor):
        latest = facts.latest_assessment(survivor.id)
        if latest is not None and latest.level == RiskLevel.critical:
            reasons.append(
                Condition(
                    "risk_critical",
                    N_("The latest safety assessment of the survivor is critical."),
                    f"{base}/safety",
                    survivor.id,
                )
            )
    for concern in facts.concerns:
        if concern.urgent and not concern.reviewed:
            reasons.append(
                Condition(
                    "safety_concern_open",
                    N_("An urgent safety concern is waiting for a facilitator's review."),
                    f"{base}/safety",
                )
            )
    return reasons


def _screening_conditions(facts: CaseFacts, person: ParticipantFact) -> list[Condition]:
    fix, who = f"/cases/{facts.case_id}/participants/{person.id}/screening", _who(person)
    latest = facts.latest_screening(person.id)
    if latest is None:
        return [Condition("screening_missing", f"Record a readiness screening for {who}.", fix, person.id)]
    if facts.now - latest.completed_at > timedelta(days=facts.screening_validity_days):
        message = f"The readiness screening of {who} is older than {facts.screening_validity_days} days; screen again."
        return [Condition("screening_expired", message, fix, person.id)]
    if latest.outcome != ScreeningOutcome.ready:
        message = f"The latest screening found {who} not ready ({latest.outcome.replace('_', ' ')})."
        return [Condition("not_ready", message, fix, person.id)]
    return []


def _safety_conditions(facts: CaseFacts, person: ParticipantFact) -> list[Condition]:
    base = f"/cases/{facts.case_id}"
    latest = facts.latest_assessment(person.id)
    if latest is None:
        return [
            Condition("safety_assessment_missing", N_("Assess the survivor's safety."), f"{base}/safety", person.id)
        ]
    if latest.level == RiskLevel.critical:
        message = "The survivor's safety risk is critical: no conference until a new assessment lowers it."
        return [Condition("risk_critical", message, f"{base}/safety", person.id)]
    needs_plan = safety_plan_required(latest.level, required_at_medium=facts.safety_plan_required_at_medium)
    if needs_plan and not facts.has_safety_plan:
        message = f"The survivor's risk level is {latest.level}: make a safety plan."
        return [Condition("safety_plan_missing", message, f"{base}/safety/plan", person.id)]
    return []


def _consent_condition(facts: CaseFacts, person: ParticipantFact) -> list[Condition]:
    state = consent_state(facts.consents, participant_id=person.id, scope=ConsentScope.conference)
    fix, who = f"/cases/{facts.case_id}/consent", _who(person).capitalize()
    if state == "missing":
        return [
            Condition("consent_missing", f"{who} has not consented to take part in the conference.", fix, person.id)
        ]
    if state == "withdrawn":
        return [
            Condition("consent_withdrawn", f"{who} withdrew consent to take part in the conference.", fix, person.id)
        ]
    return []


def preparation_conditions(facts: CaseFacts, attendee_ids: Iterable[int]) -> list[Condition]:
    """What a preparation meeting or follow-up needs: each attendee's consent to be contacted and to
    prepare, an interpreter where one is needed, and no safety pause (G3)."""
    base = f"/cases/{facts.case_id}"
    wanted = set(attendee_ids)
    attendees = [p for p in facts.participants if p.id in wanted]
    conditions = [
        Condition("case_paused", f"The case is paused: {reason.message}", reason.fix_path)
        for reason in pause_reasons(facts)
        if reason.code in ("risk_critical", "safety_concern_open")
    ]
    for person in attendees:
        for scope, words in ((ConsentScope.contact, "being contacted"), (ConsentScope.preparation, "preparation")):
            state = consent_state(facts.consents, participant_id=person.id, scope=scope)
            if state != "active":
                code = "consent_missing" if state == "missing" else "consent_withdrawn"
                verb = "has not consented to" if state == "missing" else "withdrew consent to"
                message = f"{_who(person).capitalize()} {verb} {words}."
                conditions.append(Condition(code, message, f"{base}/consent", person.id))
    has_interpreter = any(p.role == ParticipantRole.interpreter for p in attendees)
    for person in attendees:
        if person.interpreter_needed and not has_interpreter:
            message = f"{_who(person).capitalize()} needs an interpreter: add one to the session."
            conditions.append(Condition("interpreter_missing", message, f"{base}/participants/new", person.id))
    return conditions


def conference_conditions(facts: CaseFacts, attendee_ids: Iterable[int] | None = None) -> list[Condition]:
    """G1: every unmet condition for scheduling the conference, each with a stable code.

    `attendee_ids` defaults to every participant of the case. Messages name roles, not people.
    """
    base = f"/cases/{facts.case_id}"
    conditions: list[Condition] = []
    paused = pause_reasons(facts)
    if paused:
        message = "The case is paused: " + " ".join(c.message for c in paused)
        conditions.append(Condition("case_paused", message, paused[0].fix_path))
    survivors = facts.with_role(ParticipantRole.survivor)
    responsible = facts.with_role(ParticipantRole.responsible_party)
    if not survivors:
        conditions.append(
            Condition("survivor_missing", N_("Add the survivor as a participant."), f"{base}/participants/new")
        )
    if not responsible:
        message = "Add the responsible party as a participant."
        conditions.append(Condition("responsible_party_missing", message, f"{base}/participants/new"))
    for person in survivors:
        conditions += _screening_conditions(facts, person)
    for person in responsible:
        conditions += _screening_conditions(facts, person)
        if not any(a.participant_id == person.id for a in facts.acknowledgements):
            message = "Record the responsible party's acknowledgement of the basic facts."
            fix = f"{base}/participants/{person.id}/acknowledgement"
            conditions.append(Condition("acknowledgement_missing", message, fix, person.id))
    for person in survivors:
        conditions += _safety_conditions(facts, person)
    wanted = set(attendee_ids) if attendee_ids is not None else {p.id for p in facts.participants}
    attendees = [p for p in facts.participants if p.id in wanted]
    for person in attendees:
        conditions += _consent_condition(facts, person)
    has_interpreter = any(p.role == ParticipantRole.interpreter for p in attendees)
    for person in attendees:
        if person.interpreter_needed and not has_interpreter:
            message = f"{_who(person).capitalize()} needs an interpreter: add one to the case."
            conditions.append(Condition("interpreter_missing", message, f"{base}/participants/new", person.id))
    return conditions


def _scheduling_stage(facts: CaseFacts) -> Step | None:
    """Past preparation, the stage follows the conference sessions."""
    conferences = [x for x in facts.sessions if x.kind == SessionKind.conference]
    if any(x.status == SessionStatus.held for x in conferences):
        return Step.conference_held
    if any(x.status in (SessionStatus.scheduled, SessionStatus.on_hold) for x in conferences):
        return Step.conference_scheduled
    return None


_AGREEMENT_STAGES = {
    "draft": Step.agreement_drafted,
    "changes_requested": Step.agreement_drafted,
    "superseded": Step.agreement_drafted,
    "in_review": Step.survivor_review,
    "accepted": Step.survivor_review,
    "signing": Step.signing,
    "sealed": Step.signed,
}


def _agreement_stage(facts: CaseFacts) -> Step | None:
    """After the conference, the stage follows the agreement; once sealed, its commitments (G6)."""
    if facts.agreement is None:
        return None
    if facts.agreement.ever_sealed:
        if not facts.commitments:
            return Step.signed
        today = local_today(facts.now, facts.timezone)
        openness = case_openness((c.kind, c.due_on, c.completed_on, c.breached_on, c.waived) for c in facts.commitments)
        settled = not openness.unsettled_on(today)
        return Step.completed if settled else Step.monitoring
    return _AGREEMENT_STAGES.get(facts.agreement.latest_status, Step.agreement_drafted)


def derive_journey(facts: CaseFacts) -> Journey:
    """The case's stage, each step's state, what blocks the next step, and why it is paused.
    A closed case's stage is `closed`; its steps show how far it got."""
    pauses = tuple(pause_reasons(facts))
    stage = _agreement_stage(facts) or _scheduling_stage(facts)
    if stage is None:
        blockers = tuple(conference_conditions(facts))
        stage = Step.preparation if blockers else Step.ready
    else:
        blockers = ()
    if facts.closure_reason is not None:
        blockers = ()
    current = JOURNEY.index(stage)
    steps = []
    for index, step in enumerate(JOURNEY):
        if index < current:
            state = StepState.done
        elif index == current and facts.closure_reason is not None:
            state = StepState.stopped
        elif index == current:
            state = StepState.current
        elif index == current + 1 and blockers:
            state = StepState.blocked
        else:
            state = StepState.not_started
        steps.append(JourneyStep(step, STEP_LABELS[step], state))
    if facts.closure_reason is not None:
        return Journey(
            stage=Step.closed,
            steps=tuple(steps),
            pauses=pauses,
            reached=stage,
            closure_reason=facts.closure_reason,
        )
    return Journey(stage=stage, steps=tuple(steps), blockers=blockers, pauses=pauses)
