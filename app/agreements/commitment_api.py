"""JSON API under /api/v1: dashboard counts, the commitment list and CSV, progress, corrections,
waivers, case closure and the follow-up report.

Who may do what: administrators, program staff and the case's facilitators read commitments and record
progress (another program's case, or a facilitator's unassigned case, is 404, and lists and counts
leave them out); waivers and closure are for administrators and the case's facilitators (staff 403).
"Today" is always the program's local date.

A rule that refuses is 422 with the field's message when the input breaks it (more than is owed, a date
in the future, an unknown closure reason), and 409 with its `conditions` codes when the record's state
does: case_closed, commitment_superseded, already_corrected, is_correction, already_settled,
waiver_pending, survivor_missing, survivor_consent_missing, case_completed, sessions_scheduled.
"""

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from sqlmodel import Session

from app.actor import Actor
from app.agreements import commitment_csv, commitment_queries, commitment_service
from app.agreements.commitment_dependencies import CaseCommitment, CaseProgressEntry
from app.agreements.commitment_queries import CommitmentRow
from app.agreements.commitment_schemas import (
    CaseCompliance,
    ClosureCreate,
    CommitmentDetail,
    CommitmentFilter,
    CommitmentPage,
    CommitmentPublic,
    CorrectionCreate,
    DashboardCounts,
    MoneyInMonth,
    MonitoringTrends,
    MonthTrend,
    ProgressCreate,
    ProgressPublic,
    WaiverCreate,
    WaiverPublic,
)
from app.agreements.commitment_timeline import CaseTimeline, CommitmentRecord, EntryLine, WaiverLine, case_timeline
from app.agreements.commitment_trends import Trends
from app.agreements.models import WaiverStatus
from app.audit.service import record_event
from app.auth.dependencies import ActorDep
from app.auth.models import User
from app.conferences.dependencies import DetailCase, VisibleCase
from app.conferences.models import CLOSURE_REASONS, Case, CaseClosure, ClosureReason
from app.conferences.service import record_case_read
from app.db import SessionDep, get_session
from app.errors import NotFound
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["monitoring"], dependencies=[Depends(verify_csrf)])
CASE = "/cases/{case_id}"
ONE = CASE + "/commitments/{commitment_id}"

Filters = Annotated[CommitmentFilter, Query()]
# The CSV's rows are read while the response streams, after the request's own session (which holds
# the audit event) has committed: a second session, closed once the last row is sent.
StreamSession = Annotated[Session, Depends(get_session, scope="request")]


class ClosurePublic(BaseModel):
    case_id: int
    state: Literal["closed"] = "closed"
    reason: ClosureReason
    reason_label: str
    note: str
    closed_by: str
    closed_at: datetime


# --- conversions ----------------------------------------------------------------------------------


def commitment_public(row: CommitmentRow) -> CommitmentPublic:
    """A commitment as the list shows it, its status computed for the program's today."""
    return CommitmentPublic(
        id=row.id,
        case_id=row.case_id,
        case_reference=row.case_reference,
        version_number=row.version_number,
        term_number=row.term_number,
        sequence=row.sequence,
        of_count=row.of_count,
        kind=row.kind,
        description=row.description,
        owed_by_id=row.owed_by_id,
        owed_by_role=row.owed_by_role,
        due_on=row.due_on,
        quantity=row.quantity,
        unit=row.unit,
        currency=row.currency,
        quantity_text=row.quantity_text,
        done=row.done,
        done_text=row.done_text,
        verification=row.verification,
        status=row.status,
        completed_on=row.completed_on,
        breached_on=row.breached_on,
        waived_at=row.waived_at,  # type: ignore[arg-type]
    )


def progress_public(line: EntryLine) -> ProgressPublic:
    """A progress entry, or the correction that reverses one (negative amount, with its reason)."""
    return ProgressPublic(
        id=line.id,
        commitment_id=line.commitment_id,
        kind=line.kind,
        amount=line.amount,
        amount_text=line.amount_text,
        occurred_on=line.occurred_on,
        evidence_reference=line.evidence_reference,
        evidence_note=line.evidence_note,
        reverses_id=line.reverses_id,
        reversed_by_id=line.reversed_by_id,
        correction_reason=line.correction_reason,
        recorded_by=line.recorded_by,
        recorded_at=line.recorded_at,
    )


def waiver_public(line: WaiverLine) -> WaiverPublic:
    """A waiver with how the survivor's consent was given (or that it is still asked for)."""
    return WaiverPublic(
        id=line.id,
        commitment_id=line.commitment_id,
        reason=line.reason,
        status=WaiverStatus(line.status),
        consent_method=line.consent_method,
        consent_at=line.consent_at,
        consent_recorded_by=line.consent_recorded_by,
        requested_by=line.requested_by,
        created_at=line.created_at,
    )


def commitment_detail(record: CommitmentRecord) -> CommitmentDetail:
    return CommitmentDetail(
        **commitment_public(record.row).model_dump(),
        progress=[progress_public(e) for e in record.entries],
        waivers=[waiver_public(w) for w in record.waivers],
    )


def case_compliance(timeline: CaseTimeline) -> CaseCompliance:
    closure = timeline.closure
    return CaseCompliance(
        case_id=timeline.case.id,  # type: ignore[arg-type]
        case_reference=timeline.case.reference,
        state=timeline.state,  # type: ignore[arg-type]
        closure_reason=closure.reason if closure else None,
        closure_note=closure.note if closure else None,
        counts=timeline.counts,
        compliance_rate=timeline.compliance_rate,
        commitments=[commitment_detail(r) for r in timeline.commitments],
    )


def closure_public(session: Session, closure: CaseClosure) -> ClosurePublic:
    closed_by = session.get(User, closure.closed_by_id)
    return ClosurePublic(
        case_id=closure.case_id,
        reason=closure.reason,
        reason_label=CLOSURE_REASONS[ClosureReason(closure.reason)],
        note=closure.note,
        closed_by=closed_by.full_name if closed_by else "A former user",
        closed_at=closure.closed_at,
    )


def _record(session: Session, actor: Actor, case: Case, commitment_id: int) -> CommitmentRecord:
    """The commitment with its entries and waivers, from the case's compliance record."""
    timeline = case_timeline(session, actor=actor, case=case)
    for record in timeline.commitments:
        if record.row.id == commitment_id:
            return record
    raise NotFound("This commitment is no longer in force: an amendment replaced it.")


def _entry(session: Session, actor: Actor, case: Case, commitment_id: int, entry_id: int) -> ProgressPublic:
    record = _record(session, actor, case, commitment_id)
    return progress_public(next(e for e in record.entries if e.id == entry_id))


def _program_today(session: Session, actor: Actor) -> tuple[date, int]:
    program = commitment_service.program_by_id(session, actor.program_id)
    return commitment_service.today_in(program), program.due_soon_days


# --- the dashboard and the list -------------------------------------------------------------------


@router.get("/monitoring/counts", response_model=DashboardCounts)
def read_counts(session: SessionDep, actor: ActorDep) -> DashboardCounts:
    """The program's figures for today (its local date): overdue, due soon, completed this month, the
    compliance rate, cases in monitoring and completed. A facilitator's cover their own cases."""
    today, window = _program_today(session, actor)
    counts = commitment_queries.dashboard_counts(session, actor=actor, today=today, due_soon_days=window)
    return DashboardCounts(
        overdue=counts.overdue,
        due_soon=counts.due_soon,
        completed_this_month=counts.completed_this_month,
        compliance_rate=counts.compliance_rate,
        due_so_far=counts.due_so_far,
        completed_on_time=counts.completed_on_time,
        cases_in_monitoring=counts.cases_in_monitoring,
        cases_completed=counts.cases_completed,
        today=counts.today,
        due_soon_days=counts.due_soon_days,
    )


@router.get("/monitoring/trends", response_model=MonitoringTrends)
def read_trends(session: SessionDep, actor: ActorDep) -> MonitoringTrends:
    """Compliance over the last 12 months (calendar months of the program's time zone): for each month,
    the commitments due whose due date has passed and how many were completed on or before it (the
    compliance rate), and money and service minutes due against received. A facilitator's cover their
    own cases. The same figures as the dashboard's charts."""
    today, _window = _program_today(session, actor)
    return trends_public(commitment_queries.trends(session, actor=actor, today=today))


def trends_public(trends: Trends) -> MonitoringTrends:
    return MonitoringTrends(
        today=trends.today,
        months=[
            MonthTrend(
                month=m.month.strftime("%Y-%m"),
                due=m.due_count,
                completed_on_time=m.on_time_count,
                compliance_rate=m.compliance_rate,
                money=[
                    MoneyInMonth(currency=c, due=m.money_due.get(c, 0), received=m.money_received.get(c, 0))
                    for c in trends.currencies
                ],
                service_minutes_due=m.minutes_due,
                service_minutes_worked=m.minutes_worked,
            )
            for m in trends.months
        ],
    )


@router.get("/commitments", response_model=CommitmentPage)
def list_commitments(f: Filters, session: SessionDep, actor: ActorDep) -> CommitmentPage:
    """The commitments in force you may see, filtered, sorted and paginated (25 a page); status is
    computed for the program's today. An unknown status, kind or sort is 422."""
    today, window = _program_today(session, actor)
    result = commitment_queries.list_commitments(session, actor=actor, f=f, today=today, due_soon_days=window)
    return CommitmentPage(
        items=[commitment_public(r) for r in result.rows], page=result.page, pages=result.pages, total=result.total
    )


@router.get(
    "/commitments.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "Every row of the filtered list, streamed."}},
)
def export_commitments(f: Filters, session: SessionDep, rows_session: StreamSession, actor: ActorDep) -> Response:
    """The filtered list (every page) as CSV. It holds no names of participants, notes or evidence, and
    a cell that a spreadsheet would run as a formula is prefixed with an apostrophe. Audited."""
    return csv_response(session, rows_session, actor=actor, f=f)


def csv_response(session: Session, rows_session: Session, *, actor: Actor, f: CommitmentFilter) -> Response:
    """The filtered list as a streamed CSV download (pages and API alike), its export audited with the
    filters. The rows are read through `rows_session`, which stays open while the body streams."""
    commitment_service.require_progress_recorder(actor)
    today, window = _program_today(session, actor)
    record_event(
        session,
        actor=actor,
        action="commitments.exported",
        entity_type="program",
        entity_id=actor.program_id,
        detail={"filters": f.model_dump(mode="json", exclude_defaults=True, exclude={"page"})},
    )
    rows = commitment_queries.iter_commitments(rows_session, actor=actor, f=f, today=today, due_soon_days=window)
    return StreamingResponse(
        commitment_csv.csv_lines(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="commitments-{today.isoformat()}.csv"',
            "Cache-Control": "no-store",
        },
    )


# --- one case -------------------------------------------------------------------------------------


@router.get(CASE + "/commitments", response_model=CaseCompliance)
def read_case_compliance(case: VisibleCase, session: SessionDep, actor: ActorDep) -> CaseCompliance:
    """The case's compliance record: its state (no_agreement, monitoring, completed, closed), each
    commitment in force with its progress (corrections included) and waivers, and the counts."""
    timeline = case_timeline(session, actor=actor, case=case)
    record_case_read(session, actor=actor, case=case, what="commitments")
    return case_compliance(timeline)


ReportLanguage = Annotated[
    Literal["en", "es"], Query(description="The report's fixed wording, dates and amounts in English or Spanish.")
]


@router.get(
    CASE + "/commitments/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The follow-up report, rendered now."}},
)
def download_followup_report(
    case: VisibleCase, session: SessionDep, actor: ActorDep, language: ReportLanguage = "en"
) -> Response:
    """The follow-up report: the sealed agreement's reference and hash, each commitment with its status,
    progress and evidence references, waivers with their consent, and the case's compliance state."""
    return followup_response(session, actor=actor, case=case, language=language)


def followup_response(session: Session, *, actor: Actor, case: Case, language: str = "en") -> Response:
    """The follow-up report PDF as a download (pages and API alike); its reading is audited."""
    from app.agreements.followup_pdf import followup_filename, render_followup_pdf

    content = render_followup_pdf(session, actor=actor, case=case, language=language)
    record_case_read(session, actor=actor, case=case, what="commitments.report")
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{followup_filename(case, language)}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(ONE, response_model=CommitmentDetail)
def read_commitment(
    case: VisibleCase, commitment: CaseCommitment, session: SessionDep, actor: ActorDep
) -> CommitmentDetail:
    """One commitment with its progress entries and waivers. 404 once an amendment replaced it."""
    record = _record(session, actor, case, commitment.id)  # type: ignore[arg-type]
    record_case_read(session, actor=actor, case=case, what="commitments")
    return commitment_detail(record)


@router.post(ONE + "/progress", response_model=ProgressPublic, status_code=status.HTTP_201_CREATED)
def record_progress(
    data: ProgressCreate, case: VisibleCase, commitment: CaseCommitment, session: SessionDep, actor: ActorDep
) -> ProgressPublic:
    """Record progress with its evidence. Partial progress adds up; more than is owed (overpayment) and a
    date after the program's today are 422 with the message; a closed case is 409 case_closed."""
    entry = commitment_service.record_progress(session, actor=actor, case=case, commitment=commitment, data=data)
    return _entry(session, actor, case, commitment.id, entry.id)  # type: ignore[arg-type]


@router.post(
    CASE + "/progress/{entry_id}/correction", response_model=ProgressPublic, status_code=status.HTTP_201_CREATED
)
def correct_progress(
    data: CorrectionCreate, case: VisibleCase, entry: CaseProgressEntry, session: SessionDep, actor: ActorDep
) -> ProgressPublic:
    """Reverse a wrong entry with a new entry and the reason; both stay. Returns the reversal.
    409 already_corrected for an entry reversed before, is_correction for a reversal itself."""
    reversal = commitment_service.correct_entry(session, actor=actor, case=case, entry=entry, reason=data.reason)
    return _entry(session, actor, case, entry.commitment_id, reversal.id)  # type: ignore[arg-type]


@router.post(ONE + "/waiver", response_model=WaiverPublic, status_code=status.HTTP_201_CREATED)
def waive_commitment(
    data: WaiverCreate, case: DetailCase, commitment: CaseCommitment, session: SessionDep, actor: ActorDep
) -> WaiverPublic:
    """Waive a commitment, with the reason. With `consent_method` and `survivor_consent_confirmed`, the
    survivor's consent given to you is recorded and the waiver takes effect (status consented); without
    `consent_method`, the survivor is asked in the portal (status asked) and nothing is waived until
    they agree. 409 survivor_consent_missing when the consent is not confirmed; staff 403."""
    waiver = commitment_service.waive(session, actor=actor, case=case, commitment=commitment, data=data)
    record = _record(session, actor, case, commitment.id)  # type: ignore[arg-type]
    return waiver_public(next(w for w in record.waivers if w.id == waiver.id))


@router.post(CASE + "/closure", response_model=ClosurePublic, status_code=status.HTTP_201_CREATED)
def close_case(data: ClosureCreate, case: DetailCase, session: SessionDep, actor: ActorDep) -> ClosurePublic:
    """Close a case that will not complete, with a reason from the fixed list and a note. 409 case_closed
    when already closed, case_completed when every commitment is met, sessions_scheduled while sessions
    are upcoming; an unknown reason is 422; staff 403."""
    closure = commitment_service.close_case(session, actor=actor, case=case, data=data)
    return closure_public(session, closure)
