"""Flags a facilitator needs on the case list and the case page. Pure functions over `CaseFacts`.

`derive_flags` is the only place a flag is decided: the case list, the case page, the API and the
list filters all ask it. What it returns depends on who reads it: program staff see the case
summary only (DESIGN.md, roles), so they get "paused" and "commitment overdue" without the reason
or a link into confidential pages, never the consent, safety or draft-agreement flags.
"""

from dataclasses import dataclass
from enum import StrEnum

from app.agreements.commitment_rules import CommitmentStatus, commitment_status, local_today
from app.conferences.rules import CaseFacts, pause_reasons
from app.i18n import N_
from app.safety.rules import withdrawn_participants


class CaseFlag(StrEnum):
    changes_requested = "changes_requested"
    consent_withdrawn = "consent_withdrawn"
    paused = "paused"
    safety_concern = "safety_concern"
    commitment_overdue = "commitment_overdue"


FLAG_LABELS: dict[CaseFlag, str] = {
    CaseFlag.changes_requested: N_("Changes asked for"),
    CaseFlag.consent_withdrawn: N_("Consent withdrawn"),
    CaseFlag.paused: N_("Paused"),
    CaseFlag.safety_concern: N_("Urgent safety concern"),
    CaseFlag.commitment_overdue: N_("Commitment overdue"),
}

# What staff may see of a case: its summary (paused or not) and its commitments.
STAFF_FLAGS = frozenset({CaseFlag.paused, CaseFlag.commitment_overdue})


@dataclass(frozen=True)
class Flag:
    code: CaseFlag
    label: str
    message: str
    fix_path: str | None = None
    fix_label: str | None = None


def derive_flags(facts: CaseFacts, *, confidential: bool) -> tuple[Flag, ...]:
    """The case's flags, in a fixed order. `confidential` is whether the reader may see the case's
    confidential records (facilitators of the case and admins); staff pass False."""
    if facts.closure_reason is not None:
        return ()
    base = f"/cases/{facts.case_id}"
    flags: list[Flag] = []
    if facts.agreement is not None and facts.agreement.latest_status == "changes_requested":
        flags.append(
            Flag(
                CaseFlag.changes_requested,
                FLAG_LABELS[CaseFlag.changes_requested],
                N_("Changes to the agreement were asked for: it is back in drafting."),
                f"{base}/agreement",
                N_("Open the agreement"),
            )
        )
    if withdrawn_participants(facts.consents):
        flags.append(
            Flag(
                CaseFlag.consent_withdrawn,
                FLAG_LABELS[CaseFlag.consent_withdrawn],
                N_("A participant withdrew consent."),
                f"{base}/consent",
                N_("See the consents"),
            )
        )
    pauses = pause_reasons(facts)
    if pauses:
        flags.append(
            Flag(
                CaseFlag.paused,
                FLAG_LABELS[CaseFlag.paused],
                N_("The case is paused: nothing moves forward until what paused it is resolved."),
                pauses[0].fix_path if confidential else None,
                N_("See why") if confidential else None,
            )
        )
    if any(c.urgent and not c.reviewed for c in facts.concerns):
        flags.append(
            Flag(
                CaseFlag.safety_concern,
                FLAG_LABELS[CaseFlag.safety_concern],
                N_("An urgent safety concern is waiting for a facilitator's review."),
                f"{base}/safety",
                N_("Review the concern"),
            )
        )
    today = local_today(facts.now, facts.timezone)
    if any(
        commitment_status(
            kind=c.kind,
            due_on=c.due_on,
            completed_on=c.completed_on,
            breached_on=c.breached_on,
            waived=c.waived,
            today=today,
        )
        == CommitmentStatus.overdue
        for c in facts.commitments
    ):
        flags.append(
            Flag(
                CaseFlag.commitment_overdue,
                FLAG_LABELS[CaseFlag.commitment_overdue],
                N_("A commitment is past its due date."),
                f"{base}/commitments",
                N_("See the commitments"),
            )
        )
    if not confidential:
        flags = [f for f in flags if f.code in STAFF_FLAGS]
    return tuple(flags)
