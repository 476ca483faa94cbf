"""Retention rules, pure of I/O: when a case ended, when its retention ran out, and the neutral labels
that replace participants' names."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from app.agreements.models import CommitmentKind
from app.conferences.models import ParticipantRole

REMOVED = "[removed]"  # what a page shows where retention removed free text that cannot be empty

ROLE_LABELS: dict[str, str] = {
    ParticipantRole.survivor: "Survivor",
    ParticipantRole.responsible_party: "Responsible party",
    ParticipantRole.supporter: "Supporter",
    ParticipantRole.community_member: "Community member",
    ParticipantRole.interpreter: "Interpreter",
}

COMMITMENT_LABELS: dict[str, str] = {
    CommitmentKind.apology: "Apology",
    CommitmentKind.payment: "Payment",
    CommitmentKind.service_hours: "Service hours",
    CommitmentKind.program_attendance: "Program attendance",
    CommitmentKind.no_contact: "No contact",
    CommitmentKind.other: "Other commitment",
}


def retention_cutoff(today: date, years: int) -> date:
    """The same day `years` years before today (28 February for 29 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def past_retention(ended_on: date, *, today: date, years: int) -> bool:
    """A case is due for anonymisation once it ended more than `years` years ago."""
    return ended_on < retention_cutoff(today, years)


@dataclass(frozen=True)
class EndFacts:
    """What decides whether, and when, a case ended: its closure date (program time), its follow-up state
    today (commitment_rules.case_outcome), the sealed date of the version in force, and each commitment
    in force as (kind, due_on, completed_on, waived_on)."""

    closed_on: date | None
    outcome: str
    sealed_on: date | None
    commitments: tuple[tuple[CommitmentKind, date | None, date | None, date | None], ...]


def ended_on(facts: EndFacts) -> date | None:
    """The day a case ended, or None while it is open.

    Closed: the day it was closed. Completed: the last day anything settled (a commitment completed or
    waived, a no-contact term's end date, or the sealing itself when only an indefinite no-contact term
    remains). A case that never reached an agreement and was never closed is open, however old: retention
    does not guess that it was abandoned; a facilitator closes it first."""
    if facts.closed_on is not None:
        return facts.closed_on
    if facts.outcome != "completed":
        return None
    days = [facts.sealed_on] if facts.sealed_on else []
    for kind, due_on, completed_on, waived_on in facts.commitments:
        if waived_on is not None:
            days.append(waived_on)
        elif kind == CommitmentKind.no_contact:
            if due_on is not None:
                days.append(due_on)
        elif completed_on is not None:
            days.append(completed_on)
    return max(days) if days else None


def participant_labels(participants: Iterable[tuple[int, str]]) -> dict[int, str]:
    """Neutral names by participant id: "Survivor", or "Responsible party 1", "Responsible party 2" where
    a role has several people (numbered in the order they were added)."""
    people = sorted(participants)
    per_role: dict[str, int] = {}
    for _, role in people:
        per_role[role] = per_role.get(role, 0) + 1
    seen: dict[str, int] = {}
    labels = {}
    for participant_id, role in people:
        seen[role] = seen.get(role, 0) + 1
        label = ROLE_LABELS.get(role, "Participant")
        labels[participant_id] = label if per_role[role] == 1 else f"{label} {seen[role]}"
    return labels


def scrub_terms(terms: list[dict]) -> list[dict]:
    """Agreement terms without their free text: kinds, who owes them (by id), amounts and dates stay."""
    cleaned = []
    for term in terms:
        term = dict(term)
        for key in ("note", "where"):
            if key in term:
                term[key] = ""
        for key in ("program_name", "text"):
            if key in term:
                term[key] = REMOVED
        cleaned.append(term)
    return cleaned


def commitment_description(kind: str, sequence: int, of_count: int) -> str:
    """A neutral description for a commitment whose agreed wording was removed."""
    label = COMMITMENT_LABELS.get(kind, "Commitment")
    return f"{label} {sequence} of {of_count}" if of_count > 1 else label
