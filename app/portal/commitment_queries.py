"""Reads for the portal's follow-up page and API: what a portal person may see of the agreement's commitments.

- The responsible party sees their OWN commitments in force (owed by them), each with its status today
  (the program's local date and due-soon window) and what was recorded: the date, what it was, the
  amount and the evidence reference. Never the staff's evidence notes, correction reasons or who recorded it.
- The survivor sees the case's commitments and progress only while their latest consent to be told
  about progress is active (`commitment_service.told_about_progress`); withdrawing it hides them again.
  Evidence references are not shown to them (data minimisation: a receipt number is not news).
  The waivers they were asked about are theirs to see and answer whatever that consent says: a question
  put to them is not news about progress.
- Anyone else (a supporter, an interpreter): nothing.

Nothing here reads contact details, and everything is limited to the person's own case.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from app.agreements import commitment_service
from app.agreements.commitment_rules import CommitmentStatus, descriptions_in
from app.agreements.models import (
    AgreementVersion,
    Commitment,
    CommitmentKind,
    ProgressEntry,
    ProgressKind,
    Waiver,
    WaiverStatus,
)
from app.agreements.terms import TERMS, text_sections
from app.conferences.models import Case, Participant, ParticipantRole
from app.errors import NotFound
from app.i18n import language_for


class Audience(StrEnum):
    """Whose view of the follow-up this is."""

    responsible_party = "responsible_party"
    survivor = "survivor"
    nobody = "nobody"


class HiddenReason(StrEnum):
    """Why a portal person sees no commitments: a stable code for the API and the page."""

    progress_not_shared = "progress_not_shared"  # the survivor has not said yes (or said stop) to progress news
    not_a_party = "not_a_party"  # not the survivor or the responsible party


@dataclass(frozen=True)
class OwnEntry:
    """One thing recorded towards a commitment, as the portal shows it."""

    id: int
    kind: ProgressKind
    amount: int  # in the commitment's unit
    occurred_on: date
    evidence_reference: str | None  # the responsible party's own receipts only
    corrected: bool  # a correction took it back: still shown, but it does not count


@dataclass(frozen=True)
class OwnCommitment:
    """A commitment in force, with its status today and what was recorded towards it."""

    id: int
    kind: CommitmentKind
    description: str  # the agreement's words, in the person's language when its signed text holds it
    due_on: date | None
    quantity: int
    done: int
    currency: str | None
    status: CommitmentStatus
    owed_by_viewer: bool
    entries: tuple[OwnEntry, ...]
    description_language: str = "en"


@dataclass(frozen=True)
class AskedWaiver:
    """A waiver a facilitator asked the survivor about, waiting for their answer."""

    id: int
    commitment_id: int
    description: str  # the agreement's words, in the person's language when its signed text holds it
    kind: CommitmentKind
    reason: str  # the facilitator's own words, as they wrote them
    asked_at: datetime
    description_language: str = "en"


@dataclass(frozen=True)
class PortalFollowUp:
    """Everything the follow-up page and API show one portal person."""

    audience: Audience
    hidden: HiddenReason | None
    state: str | None  # no_agreement, monitoring, completed or closed; None when hidden
    today: date
    commitments: tuple[OwnCommitment, ...]
    waivers: tuple[AskedWaiver, ...]

    @property
    def visible(self) -> bool:
        return self.hidden is None


def audience_of(participant: Participant) -> Audience:
    match participant.role:
        case ParticipantRole.responsible_party:
            return Audience.responsible_party
        case ParticipantRole.survivor:
            return Audience.survivor
        case _:
            return Audience.nobody


def _entries(session: Session, *, commitment_ids: list[int], with_reference: bool) -> dict[int, list[OwnEntry]]:
    """What was recorded, per commitment, oldest first, in one query. Notes are staff words and are left out;
    a correction shows as the entry it took back being marked, not as a line of its own."""
    if not commitment_ids:
        return {}
    rows = session.exec(
        select(ProgressEntry)
        .where(col(ProgressEntry.commitment_id).in_(commitment_ids))
        .order_by(col(ProgressEntry.occurred_on), col(ProgressEntry.id))
    ).all()
    taken_back = {row.reverses_id for row in rows if row.reverses_id is not None}
    found: dict[int, list[OwnEntry]] = {}
    for row in rows:
        if row.reverses_id is not None or row.kind == ProgressKind.note:
            continue
        found.setdefault(row.commitment_id, []).append(
            OwnEntry(
                id=row.id,  # type: ignore[arg-type]
                kind=ProgressKind(row.kind),
                amount=row.amount,
                occurred_on=row.occurred_on,
                evidence_reference=(row.evidence_reference or None) if with_reference else None,
                corrected=row.id in taken_back,
            )
        )
    return found


def _described(session: Session, *, rows: list[Commitment], language: str) -> dict[int, str]:
    """Each commitment's description in `language`, by id, where its sealed version's text holds that
    language (the stored descriptions are the English record's)."""
    found: dict[int, str] = {}
    for version_id in {c.version_id for c in rows}:
        version = session.get(AgreementVersion, version_id)
        if version is None:
            continue
        terms = TERMS.validate_python(version.terms)
        words = descriptions_in(terms, text_sections(version.canonical_text), language)
        for c in rows:
            if c.version_id == version_id and (c.term_number, c.sequence) in words:
                found[c.id] = words[(c.term_number, c.sequence)]  # type: ignore[index]
    return found


def _commitments(
    session: Session, *, case: Case, participant: Participant, today: date, own_only: bool
) -> tuple[OwnCommitment, ...]:
    program = commitment_service.program_of(session, case)
    rows = [
        c
        for c in commitment_service.active_commitments(session, case=case)
        if not own_only or c.owed_by_id == participant.id
    ]
    entries = _entries(session, commitment_ids=[c.id for c in rows], with_reference=own_only)  # type: ignore[misc]
    language = language_for(participant.preferred_language)
    described = _described(session, rows=rows, language=language)
    return tuple(
        OwnCommitment(
            id=c.id,  # type: ignore[arg-type]
            kind=CommitmentKind(c.kind),
            description=described.get(c.id, c.description),  # type: ignore[arg-type]
            description_language=language if c.id in described else "en",
            due_on=c.due_on,
            quantity=c.quantity,
            done=c.progress_total,
            currency=c.currency,
            status=commitment_service.status_of(c, today=today, due_soon_days=program.due_soon_days),
            owed_by_viewer=c.owed_by_id == participant.id,
            entries=tuple(entries.get(c.id, ())),  # type: ignore[arg-type]
        )
        for c in rows
    )


def asked_waivers(session: Session, *, case: Case, participant: Participant) -> tuple[AskedWaiver, ...]:
    """The waivers waiting for this survivor's answer, on commitments still in force of an open case."""
    if participant.role != ParticipantRole.survivor or commitment_service.closure_of(session, case=case) is not None:
        return ()
    rows = session.exec(
        select(Waiver, Commitment)
        .join(Commitment, col(Commitment.id) == Waiver.commitment_id)
        .where(
            Waiver.case_id == case.id,
            Waiver.program_id == case.program_id,
            Waiver.survivor_id == participant.id,
            Waiver.status == WaiverStatus.asked,
            col(Commitment.superseded_at).is_(None),
        )
        .order_by(col(Waiver.created_at), col(Waiver.id))
    ).all()
    language = language_for(participant.preferred_language)
    described = _described(session, rows=[commitment for _waiver, commitment in rows], language=language)
    return tuple(
        AskedWaiver(
            id=waiver.id,  # type: ignore[arg-type]
            commitment_id=commitment.id,  # type: ignore[arg-type]
            description=described.get(commitment.id, commitment.description),  # type: ignore[arg-type]
            kind=CommitmentKind(commitment.kind),
            reason=waiver.reason,
            asked_at=waiver.created_at,
            description_language=language if commitment.id in described else "en",
        )
        for waiver, commitment in rows
    )


def portal_follow_up(session: Session, *, participant: Participant) -> PortalFollowUp:
    """The follow-up as this portal person may see it (see the module docstring for who sees what)."""
    case = session.get(Case, participant.case_id)
    if case is None or case.program_id != participant.program_id:
        raise NotFound("No such case.")
    today = commitment_service.today_for(session, case)
    audience = audience_of(participant)
    waivers = asked_waivers(session, case=case, participant=participant)
    if audience == Audience.nobody:
        return PortalFollowUp(audience, HiddenReason.not_a_party, None, today, (), ())
    if audience == Audience.survivor and not commitment_service.told_about_progress(session, participant=participant):
        return PortalFollowUp(audience, HiddenReason.progress_not_shared, None, today, (), waivers)
    own_only = audience == Audience.responsible_party
    commitments = _commitments(session, case=case, participant=participant, today=today, own_only=own_only)
    state = commitment_service.case_state(session, case=case, today=today)
    return PortalFollowUp(audience, None, state, today, commitments, waivers)


def own_waiver(session: Session, *, participant: Participant, waiver_id: int) -> tuple[Case, Waiver]:
    """A waiver this survivor was asked about, with its case; any other (another case, another person) is 404."""
    waiver = session.get(Waiver, waiver_id)
    case = session.get(Case, participant.case_id)
    if (
        waiver is None
        or case is None
        or participant.role != ParticipantRole.survivor
        or waiver.case_id != case.id
        or waiver.program_id != participant.program_id
        or waiver.survivor_id != participant.id
    ):
        raise NotFound("No such question.")
    return case, waiver
