"""The case journey: which step a case is at and what blocks the next one. Pure functions.

The stage is derived from the case's records, never stored. Every page, the API and the
tests ask `derive_journey`; later capabilities extend `CaseFacts` and the conditions here.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from app.conferences.models import ParticipantRole
from app.errors import Condition


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


STEP_LABELS: dict[Step, str] = {
    Step.referral: "Referral",
    Step.preparation: "Preparation",
    Step.ready: "Ready to schedule",
    Step.conference_scheduled: "Conference scheduled",
    Step.conference_held: "Conference held",
    Step.agreement_drafted: "Agreement drafted",
    Step.survivor_review: "Survivor review",
    Step.signing: "Signing",
    Step.signed: "Signed",
    Step.monitoring: "Monitoring",
    Step.completed: "Completed",
}

JOURNEY: tuple[Step, ...] = tuple(Step)


class StepState(StrEnum):
    done = "done"
    current = "current"
    blocked = "blocked"
    not_started = "not_started"


@dataclass(frozen=True)
class ParticipantFact:
    id: int
    role: ParticipantRole
    display_name: str
    interpreter_needed: bool


@dataclass(frozen=True)
class CaseFacts:
    """What the journey is derived from: the case's own records, already loaded."""

    case_id: int
    participants: tuple[ParticipantFact, ...] = ()


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

    @property
    def next_step(self) -> Step | None:
        index = JOURNEY.index(self.stage)
        return JOURNEY[index + 1] if index + 1 < len(JOURNEY) else None


def readiness_conditions(facts: CaseFacts) -> list[Condition]:
    """What stands between preparation and a case that is ready to schedule."""
    conditions: list[Condition] = []
    base = f"/cases/{facts.case_id}"
    roles = {p.role for p in facts.participants}
    if ParticipantRole.survivor not in roles:
        conditions.append(
            Condition("survivor_missing", "Add the survivor as a participant.", f"{base}/participants/new")
        )
    if ParticipantRole.responsible_party not in roles:
        conditions.append(
            Condition(
                "responsible_party_missing", "Add the responsible party as a participant.", f"{base}/participants/new"
            )
        )
    for role, who in (
        (ParticipantRole.survivor, "the survivor"),
        (ParticipantRole.responsible_party, "the responsible party"),
    ):
        if role in roles:
            # Readiness screening is recorded in the preparation step; none exists yet.
            conditions.append(Condition("screening_missing", f"Record a readiness screening for {who}."))
    return conditions


def derive_journey(facts: CaseFacts) -> Journey:
    """The case's stage, each step's state and what blocks the next step."""
    blockers = tuple(readiness_conditions(facts))
    stage = Step.preparation if blockers else Step.ready
    current = JOURNEY.index(stage)
    steps = []
    for index, step in enumerate(JOURNEY):
        if index < current:
            state = StepState.done
        elif index == current:
            state = StepState.current
        elif index == current + 1 and blockers:
            state = StepState.blocked
        else:
            state = StepState.not_started
        steps.append(JourneyStep(step, STEP_LABELS[step], state))
    return Journey(stage=stage, steps=tuple(steps), blockers=blockers)
