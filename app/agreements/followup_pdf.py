"""The follow-up report of a case as PDF/A-3b: the sealed agreement's version and hash, the compliance
state, and each commitment in force with its progress entries (corrections marked), evidence
references and waivers with the survivor's consent.

Built from `commitment_timeline.case_timeline` (the same record as the case page and the API) and
rendered by `pdf.html_to_pdf` (fetcher limited to app/static, DejaVu fonts). What the template sees is
a `FollowupView` built here: display names, dates, labels. No contact details, no IP addresses, no
evidence notes, no closure note, no screening or safety content, so the template cannot print them.
Rendering is synchronous and CPU-bound; the route runs in the thread pool.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import Session, col, select

from app.actor import Actor
from app.agreements.commitment_rules import STATUS_LABELS, CommitmentStatus
from app.agreements.commitment_schemas import WAIVER_CONSENT_METHODS
from app.agreements.commitment_service import program_of
from app.agreements.commitment_timeline import CaseTimeline, CommitmentRecord, EntryLine, WaiverLine, case_timeline
from app.agreements.models import CommitmentKind
from app.agreements.pdf import html_to_pdf
from app.conferences.models import CLOSURE_REASONS, Case, ClosureReason, Participant
from app.config import PROJECT_ROOT
from app.db import utcnow

TEMPLATE = "agreements/followup_pdf.html"
_env = Environment(
    loader=FileSystemLoader(PROJECT_ROOT / "templates"),
    autoescape=select_autoescape(("html",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

STATE_LABELS = {
    "no_agreement": "No sealed agreement yet",
    "monitoring": "In monitoring",
    "completed": "Completed: every commitment is completed or waived",
    "closed": "Closed",
}
CONSENT_METHOD_LABELS = WAIVER_CONSENT_METHODS | {"portal": "In the portal, by the survivor"}
WAIVER_STATUS_LABELS = {
    "asked": "Waiting for the survivor's answer",
    "consented": "Waived with the survivor's consent",
    "declined": "The survivor did not agree; the commitment stands",
}


@dataclass(frozen=True)
class EntryView:
    number: int
    occurred_on: str
    what: str
    amount: str
    evidence_reference: str
    recorded_by: str
    recorded_at: str
    marker: str  # "" when the entry counts; otherwise how it was corrected or what it corrects
    counts: bool


@dataclass(frozen=True)
class WaiverView:
    reason: str
    status: str
    consent: str  # how and when the survivor's answer was given, or that it is awaited
    requested_by: str


@dataclass(frozen=True)
class CommitmentView:
    description: str
    kind: str
    owed_by: str
    due: str
    owed: str
    done: str
    status: str
    verification: str
    entries: list[EntryView]
    waivers: list[WaiverView]


@dataclass(frozen=True)
class FollowupView:
    """Everything the report shows. Holds no contact details and no confidential notes by construction."""

    program_name: str
    timezone: str
    case_reference: str
    version_number: int | None
    text_sha256: str | None
    reported_at: str
    reported_at_utc: datetime
    state: str
    closure_reason: str | None
    counts: list[tuple[str, int]]
    total: int
    compliance_rate: str
    commitments: list[CommitmentView]


def _long_date(value) -> str:  # type: ignore[no-untyped-def]
    return f"{value.day} {value:%B %Y}"


def _local(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.day} {local:%B %Y, %H:%M} {local.tzname()}"


def _entry_view(entry: EntryLine, numbers: dict[int, int], zone: ZoneInfo) -> EntryView:
    if entry.reverses_id is not None:
        marker = f"Correction of entry {numbers.get(entry.reverses_id, '?')}: {entry.correction_reason or ''}".strip()
    elif entry.reversed_by_id is not None:
        marker = f"Corrected by entry {numbers.get(entry.reversed_by_id, '?')}; does not count"
    else:
        marker = ""
    return EntryView(
        number=numbers[entry.id],
        occurred_on=_long_date(entry.occurred_on),
        what=entry.label,
        amount=entry.amount_text,
        evidence_reference=entry.evidence_reference,
        recorded_by=entry.recorded_by,
        recorded_at=_local(entry.recorded_at, zone),
        marker=marker,
        counts=entry.counts,
    )


def _waiver_view(waiver: WaiverLine, zone: ZoneInfo) -> WaiverView:
    if waiver.consent_at is None:
        consent = "Asked in the portal; no answer yet"
    else:
        method = CONSENT_METHOD_LABELS.get(waiver.consent_method or "", waiver.consent_method or "")
        recorded = f", recorded by {waiver.consent_recorded_by}" if waiver.consent_recorded_by else ""
        consent = f"{method}, {_local(waiver.consent_at, zone)}{recorded}"
    return WaiverView(
        reason=waiver.reason,
        status=WAIVER_STATUS_LABELS.get(waiver.status, waiver.status),
        consent=consent,
        requested_by=waiver.requested_by,
    )


def _due(record: CommitmentRecord) -> str:
    row = record.row
    if row.kind == CommitmentKind.no_contact:
        return f"Standing, until {_long_date(row.due_on)}" if row.due_on else "Standing, indefinite"
    return _long_date(row.due_on) if row.due_on else "No date set"


def followup_view(session: Session, *, timeline: CaseTimeline, now: datetime | None = None) -> FollowupView:
    """What the report of this timeline shows: display names only, times in the program's time zone."""
    case = timeline.case
    program = program_of(session, case)
    zone = ZoneInfo(program.timezone)
    moment = (now or utcnow()).astimezone(UTC)
    names = {
        p.id: p.display_name for p in session.exec(select(Participant).where(col(Participant.case_id) == case.id)).all()
    }
    commitments = []
    for record in timeline.commitments:
        numbers = {entry.id: index for index, entry in enumerate(record.entries, start=1)}
        row = record.row
        commitments.append(
            CommitmentView(
                description=row.description,
                kind=row.kind_label,
                owed_by=names.get(row.owed_by_id, "The responsible party"),
                due=_due(record),
                owed=row.quantity_text,
                done=row.done_text,
                status=row.status_label,
                verification=row.verification,
                entries=[_entry_view(e, numbers, zone) for e in record.entries],
                waivers=[_waiver_view(w, zone) for w in record.waivers],
            )
        )
    counts = timeline.counts
    rate = timeline.compliance_rate
    closure = timeline.closure
    return FollowupView(
        program_name=program.name,
        timezone=program.timezone,
        case_reference=case.reference,
        version_number=timeline.version.number if timeline.version else None,
        text_sha256=timeline.version.text_sha256 if timeline.version else None,
        reported_at=_local(moment, zone),
        reported_at_utc=moment,
        state=STATE_LABELS.get(timeline.state, timeline.state),
        closure_reason=CLOSURE_REASONS[ClosureReason(closure.reason)] if closure is not None else None,
        counts=[(STATUS_LABELS[status], counts[status]) for status in CommitmentStatus],
        total=len(timeline.commitments),
        compliance_rate="Nothing due yet" if rate is None else f"{rate:.0%} completed on time of those due",
        commitments=commitments,
    )


def followup_html(view: FollowupView) -> str:
    """The report as HTML, from templates/agreements/followup_pdf.html (links resolve under app/static)."""
    return _env.get_template(TEMPLATE).render(r=view)


def render_followup_pdf(session: Session, *, actor: Actor, case: Case) -> bytes:
    """The case's follow-up report as PDF/A-3b, rendered now from the record this actor may see."""
    view = followup_view(session, timeline=case_timeline(session, actor=actor, case=case))
    return html_to_pdf(followup_html(view), created=view.reported_at_utc)


def followup_filename(case: Case) -> str:
    """A download name that is safe in a header: `followup-report-<reference>.pdf`."""
    reference = re.sub(r"[^A-Za-z0-9._-]+", "-", case.reference).strip("-.") or "case"
    return f"followup-report-{reference}.pdf"
