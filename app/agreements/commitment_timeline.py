"""A case's compliance record: its commitments in force with their progress entries (corrections
included), waivers, closure and state. One builder for the case page, the API and the follow-up report,
in a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from app.actor import Actor
from app.agreements.commitment_queries import CommitmentRow, case_rows
from app.agreements.commitment_rules import (
    PROGRESS_LABELS,
    CommitmentStatus,
    ComplianceFact,
    case_outcome,
    compliance_rate,
    describe_amount,
)
from app.agreements.commitment_service import closure_of, program_of, today_for
from app.agreements.models import AgreementVersion, CommitmentKind, ProgressEntry, ProgressKind, Waiver
from app.auth.models import User
from app.conferences.models import Case, CaseClosure


@dataclass(frozen=True)
class EntryLine:
    id: int
    commitment_id: int
    kind: ProgressKind
    amount: int
    amount_text: str  # "" for a note or a breach
    occurred_on: date
    evidence_reference: str
    evidence_note: str
    reverses_id: int | None
    reversed_by_id: int | None
    correction_reason: str | None
    recorded_by: str
    recorded_at: datetime

    @property
    def label(self) -> str:
        base = PROGRESS_LABELS[self.kind]
        return f"Correction: {base.lower()} reversed" if self.reverses_id else base

    @property
    def counts(self) -> bool:
        """Whether this entry still counts (neither a correction nor corrected)."""
        return self.reverses_id is None and self.reversed_by_id is None


@dataclass(frozen=True)
class WaiverLine:
    id: int
    commitment_id: int
    reason: str
    status: str
    consent_method: str | None
    consent_at: datetime | None
    consent_recorded_by: str | None
    requested_by: str
    created_at: datetime


@dataclass
class CommitmentRecord:
    row: CommitmentRow
    entries: list[EntryLine] = field(default_factory=list)
    waivers: list[WaiverLine] = field(default_factory=list)


@dataclass(frozen=True)
class CaseTimeline:
    case: Case
    state: str  # no_agreement, monitoring, completed, closed
    today: date
    due_soon_days: int
    version: AgreementVersion | None  # the sealed version in force
    closure: CaseClosure | None
    commitments: list[CommitmentRecord]

    @property
    def counts(self) -> dict[CommitmentStatus, int]:
        counts = dict.fromkeys(CommitmentStatus, 0)
        for record in self.commitments:
            counts[record.row.status] += 1
        return counts

    @property
    def compliance_rate(self) -> float | None:
        return compliance_rate(
            (
                ComplianceFact(r.row.kind, r.row.due_on, r.row.completed_on, r.row.waived_at is not None)
                for r in self.commitments
            ),
            today=self.today,
        )

    @property
    def events(self) -> list[tuple[date, str, CommitmentRecord, EntryLine | WaiverLine | None]]:
        """Everything in date order: due dates, progress, corrections and waivers (the timeline)."""
        items: list[tuple[date, str, CommitmentRecord, EntryLine | WaiverLine | None]] = []
        for record in self.commitments:
            if record.row.due_on and record.row.kind != CommitmentKind.no_contact:
                items.append((record.row.due_on, "due", record, None))
            items += [(e.occurred_on, "progress", record, e) for e in record.entries]
            items += [((w.consent_at or w.created_at).date(), "waiver", record, w) for w in record.waivers]
        return sorted(items, key=lambda item: (item[0], item[1] != "due"))


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {u.id: u.full_name for u in session.exec(select(User).where(col(User.id).in_(ids))).all()}  # type: ignore[misc]


def case_timeline(session: Session, *, actor: Actor, case: Case) -> CaseTimeline:
    """The case's compliance record as this actor may see it (scoped like every commitment query)."""
    program = program_of(session, case)
    today = today_for(session, case)
    rows = case_rows(session, actor=actor, case=case, today=today, due_soon_days=program.due_soon_days)
    ids = [r.id for r in rows]
    entries = (
        session.exec(
            select(ProgressEntry)
            .where(col(ProgressEntry.commitment_id).in_(ids))
            .order_by(col(ProgressEntry.occurred_on), col(ProgressEntry.id))
        ).all()
        if ids
        else []
    )
    waivers = (
        session.exec(select(Waiver).where(col(Waiver.commitment_id).in_(ids)).order_by(col(Waiver.id))).all()
        if ids
        else []
    )
    names = _names(
        session,
        {e.recorded_by_id for e in entries}
        | {w.requested_by_id for w in waivers}
        | {w.consent_recorded_by_id for w in waivers if w.consent_recorded_by_id},
    )
    reversed_by = {e.reverses_id: e.id for e in entries if e.reverses_id is not None}
    records = {r.id: CommitmentRecord(r) for r in rows}
    for e in entries:
        row = records[e.commitment_id].row
        shown = (
            ""
            if e.kind in (ProgressKind.note, ProgressKind.breach_reported)
            else describe_amount(row.kind, abs(e.amount), row.currency)
        )
        records[e.commitment_id].entries.append(
            EntryLine(
                id=e.id,  # type: ignore[arg-type]
                commitment_id=e.commitment_id,
                kind=ProgressKind(e.kind),
                amount=e.amount,
                amount_text=("−" + shown if e.amount < 0 and shown else shown),
                occurred_on=e.occurred_on,
                evidence_reference=e.evidence_reference,
                evidence_note=e.evidence_note,
                reverses_id=e.reverses_id,
                reversed_by_id=reversed_by.get(e.id),
                correction_reason=e.correction_reason,
                recorded_by=names.get(e.recorded_by_id, "A former user"),
                recorded_at=e.recorded_at,
            )
        )
    for w in waivers:
        records[w.commitment_id].waivers.append(
            WaiverLine(
                id=w.id,  # type: ignore[arg-type]
                commitment_id=w.commitment_id,
                reason=w.reason,
                status=str(w.status),
                consent_method=w.consent_method,
                consent_at=w.consent_at,
                consent_recorded_by=names.get(w.consent_recorded_by_id) if w.consent_recorded_by_id else None,
                requested_by=names.get(w.requested_by_id, "A former user"),
                created_at=w.created_at,
            )
        )
    closure = closure_of(session, case=case)
    state = case_outcome(closed=closure is not None, commitments=((r.kind, r.due_on, r.status) for r in rows))
    version = session.get(AgreementVersion, rows[0].version_id) if rows else None
    return CaseTimeline(
        case=case,
        state=state,
        today=today,
        due_soon_days=program.due_soon_days,
        version=version,
        closure=closure,
        commitments=list(records.values()),
    )
