"""Pages: the monitoring dashboard and commitment list, inline progress, a case's compliance timeline.

Forms validate into the API's schemas and call the same service. A refused request rolls back what it
wrote, then shows the form again with the message beside the field (or the unmet conditions).

htmx does not swap 4xx responses, so a refused form sent by htmx comes back with 200 and the errors in
the fragment; the same form sent without JavaScript gets the page with 422 or 409.
"""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from app.actor import Actor
from app.agreements import commitment_charts, commitment_queries, commitment_service
from app.agreements.commitment_api import ReportLanguage, csv_response, followup_response
from app.agreements.commitment_dependencies import CaseCommitment, CaseProgressEntry
from app.agreements.commitment_queries import CommitmentRow
from app.agreements.commitment_rules import (
    KIND_LABELS,
    PROGRESS_FOR,
    PROGRESS_LABELS,
    STATUS_LABELS,
    CommitmentStatus,
)
from app.agreements.commitment_schemas import (
    DUE_RANGE_MESSAGE,
    WAIVER_CONSENT_METHODS,
    ClosureCreate,
    CommitmentFilter,
    CorrectionCreate,
    ProgressCreate,
    WaiverCreate,
)
from app.agreements.commitment_timeline import case_timeline
from app.agreements.models import CommitmentKind, ProgressKind
from app.auth.dependencies import ActorDep
from app.auth.models import UserRole
from app.conferences.dependencies import DetailCase, VisibleCase
from app.conferences.models import CLOSURE_REASONS, Case
from app.conferences.queries import program_facilitators
from app.conferences.schemas import PARTICIPANT_ROLE_LABELS
from app.conferences.service import CASE_WRITERS, record_case_read
from app.db import SessionDep, get_session
from app.errors import AppError, Conflict, InvalidInput, NotFound
from app.i18n import N_, Choices, Labels, current_language, month_name
from app.i18n import gettext as _
from app.web import field_errors, form_data, is_htmx, redirect, render, translated, validate_form, verify_csrf

router = APIRouter(tags=["monitoring pages"], dependencies=[Depends(verify_csrf)], include_in_schema=False)
FormDep = Annotated[FormData, Depends(form_data)]
# The CSV streams after the route returns: its reads need a session that lives until the response ends.
StreamingSession = Annotated[Session, Depends(get_session, scope="request")]

FILTER_FIELDS = ("status", "kind", "facilitator_id", "due_from", "due_to", "sort", "page")
SORT_LABELS = {
    "due_on": N_("Due date, soonest first"),
    "-due_on": N_("Due date, latest first"),
    "case": N_("Case reference, A to Z"),
    "-case": N_("Case reference, Z to A"),
    "status": N_("Status"),
    "kind": N_("Kind of commitment"),
}
DATE_MESSAGE = N_("Enter a date, for example 2026-03-31.")
# The amount a commitment takes progress in, and how the form asks for it.
AMOUNT_KINDS = frozenset({CommitmentKind.payment, CommitmentKind.service_hours, CommitmentKind.program_attendance})
STATE_LABELS = {
    "no_agreement": N_("No signed agreement yet"),
    "monitoring": N_("In monitoring"),
    "completed": N_("Completed: every commitment is met or waived"),
    "closed": N_("Closed"),
}

LABELS: dict[str, Any] = {
    "status_label": Labels(STATUS_LABELS),
    "kind_label": Labels(KIND_LABELS),
    "progress_label": Labels(PROGRESS_LABELS),
    "role_label": Labels(PARTICIPANT_ROLE_LABELS),
    "state_label": Labels(STATE_LABELS),
    "closure_label": Labels(CLOSURE_REASONS),
    "consent_method_label": Labels(WAIVER_CONSENT_METHODS | {"portal": N_("In their private page")}),
    "status_options": Choices((s.value, label) for s, label in STATUS_LABELS.items()),
    "kind_options": Choices((k.value, label) for k, label in KIND_LABELS.items()),
    "sort_options": Choices(SORT_LABELS.items()),
    "closure_options": Choices((r.value, label) for r, label in CLOSURE_REASONS.items()),
    "consent_method_options": Choices(WAIVER_CONSENT_METHODS.items()),
    "amount_kinds": {k.value for k in AMOUNT_KINDS},
}


# --- filters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The list's filters as typed (for the form), as parsed (for the query), and what was wrong."""

    f: CommitmentFilter
    values: dict[str, str]
    errors: dict[str, str]

    def query(self, *, page: int = 1) -> str:
        """The query string of these filters (the valid ones), for the pages' links and the CSV."""
        given = self.f.model_dump(mode="json", exclude_defaults=True, exclude={"case_id", "page"})
        return urlencode(given | ({"page": page} if page != 1 else {}))


def parse_filters(params: Any) -> Filters:
    """The list's query string into a `CommitmentFilter`; a field that cannot be read is left out and
    gets a message beside it, so a mistyped date never costs the whole page."""
    values = {k: str(params.get(k) or "").strip() for k in FILTER_FIELDS}
    given = {k: v for k, v in values.items() if v}
    errors: dict[str, str] = {}
    try:
        f = CommitmentFilter.model_validate(given)
    except ValidationError as exc:
        range_message = _(DUE_RANGE_MESSAGE)
        errors = {
            k: _(DATE_MESSAGE) if k in ("due_from", "due_to") and v != range_message else v
            for k, v in field_errors(exc).items()
        }
        try:
            f = CommitmentFilter.model_validate({k: v for k, v in given.items() if k not in errors})
        except ValidationError:
            f = CommitmentFilter()
    return Filters(f, values, errors)


# --- the dashboard ---------------------------------------------------------------------------------


def _figures(session: Session, actor: Actor) -> dict[str, Any]:
    """The "At a glance" figures for today (the program's date), as the figures macro takes them."""
    program = commitment_service.program_by_id(session, actor.program_id)
    today = commitment_service.today_in(program)
    counts = commitment_queries.dashboard_counts(session, actor=actor, today=today, due_soon_days=program.due_soon_days)
    rate = counts.compliance_rate
    return {"counts": counts, "compliance_percent": None if rate is None else round(rate * 100)}


def _charts(session: Session, actor: Actor, today: date) -> dict[str, Any]:
    """The compliance-over-time charts of the last 12 months, in the page's language."""
    trends = commitment_queries.trends(session, actor=actor, today=today)
    language = current_language()
    return {
        "trend_start": month_name(trends.start, language=language),
        "trend_end": month_name(trends.months[-1].month, language=language),
        "compliance_chart": commitment_charts.compliance_chart(trends, language=language),
        "money_charts": commitment_charts.money_charts(trends, language=language),
        "hours_chart": commitment_charts.hours_chart(trends, language=language),
    }


def _dashboard(request: Request, session: Session, actor: Actor, filters: Filters) -> Response:
    program = commitment_service.program_by_id(session, actor.program_id)
    today = commitment_service.today_in(program)
    days = program.due_soon_days
    result = commitment_queries.list_commitments(session, actor=actor, f=filters.f, today=today, due_soon_days=days)
    htmx = is_htmx(request)
    context = (
        LABELS
        | _figures(session, actor)
        | {
            "result": result,
            "paused_cases": commitment_queries.paused_case_ids(session, case_ids={r.case_id for r in result.rows}),
            "filters": filters,
            "sort_label": SORT_LABELS[filters.f.sort],
            "errors": filters.errors,
            "facilitator_options": [
                (u.id, u.full_name)
                for u in program_facilitators(session, program_id=program.id)  # type: ignore[arg-type]
            ],
            "own_cases_only": actor.role == UserRole.facilitator,
            "today": today,
            "htmx": htmx,
        }
    )
    listing = htmx and request.headers.get("HX-Target") == "commitment-list"
    if not listing:
        context |= _charts(session, actor, today)
    status_code = 422 if filters.errors and not htmx else 200
    response = render(
        request,
        "monitoring/dashboard.html",
        context,
        block="listing" if listing else "content",
        status_code=status_code,
    )
    if listing:  # the address bar shows the filters in use, not every empty field of the form
        query = filters.query(page=result.page)
        response.headers["HX-Push-Url"] = "/monitoring" + (f"?{query}" if query else "")
    return response


@router.get("/monitoring")
def dashboard(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    """What is due, overdue and done across the program (a facilitator's own cases), and the filtered list."""
    commitment_service.require_progress_recorder(actor)
    return _dashboard(request, session, actor, parse_filters(request.query_params))


@router.get("/monitoring/commitments.csv")
def export_csv(request: Request, session: SessionDep, rows_session: StreamingSession, actor: ActorDep) -> Response:
    """The filtered list as CSV (no confidential fields; formula-like cells neutralised), audited."""
    filters = parse_filters(request.query_params)
    if filters.errors:
        return _dashboard(request, session, actor, filters)
    return csv_response(session, rows_session, actor=actor, f=filters.f)


# --- inline progress -------------------------------------------------------------------------------


def _row(session: Session, actor: Actor, *, case: Case, commitment_id: int) -> CommitmentRow | None:
    program = commitment_service.program_of(session, case)
    rows = commitment_queries.case_rows(
        session, actor=actor, case=case, today=commitment_service.today_in(program), due_soon_days=program.due_soon_days
    )
    return next((r for r in rows if r.id == commitment_id), None)


def _safe_next(wanted: str, case: Case) -> str:
    """Where a form sent without JavaScript returns to: the list it came from, or the case's page."""
    parts = urlsplit(wanted)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.path == "/monitoring" or parts.path == f"/cases/{case.id}/commitments":
        return path
    return "/monitoring"


def _progress_fragment(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    case: Case,
    commitment_id: int,
    form: FormData | None = None,
    errors: dict[str, str] | None = None,
    refusal: AppError | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    """The row (HTMX: with the form or the message under it), or the form's own page without JavaScript."""
    row = _row(session, actor, case=case, commitment_id=commitment_id)
    if row is None:
        raise Conflict("An amendment replaced this commitment: record against the new one.")
    kind = CommitmentKind(row.kind)
    expected = PROGRESS_FOR[kind]
    values = {k: v for k, v in (form or {}).items() if k != "csrf_token"}
    if form is None:
        values = {"kind": expected.value, "occurred_on": commitment_service.today_for(session, case)}
    errors = errors or {}
    shown = {"kind", "occurred_on", "evidence_reference", "evidence_note", "notify_survivor"}
    if kind in AMOUNT_KINDS:
        shown.add("amount")
    context = LABELS | {
        "row": row,
        "paused_cases": commitment_queries.paused_case_ids(session, case_ids={case.id}),  # type: ignore[arg-type]
        "values": values,
        "errors": errors,
        "other_errors": [m for k, m in errors.items() if k not in shown],
        # The page without JavaScript opens with GOV.UK's error summary; a key it cannot link to starts with "_".
        "summary_errors": {(k if k in shown else f"_{k}"): m for k, m in errors.items()},
        "focus": f"field-p{row.id}-{next((k for k in errors if k in shown), 'kind')}",
        "refusal": refusal,
        "message": message,
        "show_form": message is None,
        "notify_checked": form is None or form.get("notify_survivor") in ("true", "on"),
        "progress_options": [(expected.value, PROGRESS_LABELS[expected]), ("note", PROGRESS_LABELS[ProgressKind.note])],
        "next_url": _safe_next(
            str(form.get("next") or "") if form is not None else request.headers.get("referer", ""), case
        ),
    }
    if is_htmx(request):
        status_code = 200
        if message is not None and _from_dashboard(request):
            context |= _figures(session, actor) | {"refresh_figures": True}
    return render(request, "monitoring/progress.html", context, block="row", status_code=status_code)


def _from_dashboard(request: Request) -> bool:
    """Whether an htmx request came from the dashboard, whose figures a saved entry changes."""
    current = request.headers.get("HX-Current-URL")
    return current is None or urlsplit(current).path == "/monitoring"


@router.get("/cases/{case_id}/commitments/{commitment_id}/progress/new")
def new_progress(
    request: Request, case: VisibleCase, commitment: CaseCommitment, session: SessionDep, actor: ActorDep
) -> Response:
    """The progress form: under the commitment's row (HTMX), or as its own page."""
    commitment_service.require_progress_recorder(actor)
    return _progress_fragment(request, session, actor, case=case, commitment_id=commitment.id)  # type: ignore[arg-type]


@router.get("/cases/{case_id}/commitments/{commitment_id}/row")
def commitment_row(
    request: Request, case: VisibleCase, commitment: CaseCommitment, session: SessionDep, actor: ActorDep
) -> Response:
    """The commitment's row alone (closing the inline form); without JavaScript, the list."""
    if not is_htmx(request):
        return RedirectResponse("/monitoring", status_code=303)
    row = _row(session, actor, case=case, commitment_id=commitment.id)  # type: ignore[arg-type]
    if row is None:
        raise NotFound("This commitment is no longer in force.")
    paused = commitment_queries.paused_case_ids(session, case_ids={case.id})  # type: ignore[arg-type]
    context = LABELS | {"row": row, "show_form": False, "paused_cases": paused}
    return render(request, "monitoring/progress.html", context, block="row")


@router.post("/cases/{case_id}/commitments/{commitment_id}/progress")
def record_progress(
    request: Request, case: VisibleCase, commitment: CaseCommitment, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    """Record a payment, hours, a session, an apology, a breach or a note, with its evidence."""
    commitment_id: int = commitment.id  # type: ignore[assignment]
    data, errors = validate_form(ProgressCreate, form, flags=("notify_survivor",))
    if data is None:
        return _progress_fragment(
            request, session, actor, case=case, commitment_id=commitment_id, form=form, errors=errors, status_code=422
        )
    try:
        commitment_service.record_progress(session, actor=actor, case=case, commitment=commitment, data=data)
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return _progress_fragment(
            request,
            session,
            actor,
            case=case,
            commitment_id=commitment_id,
            form=form,
            errors=translated(exc.field_errors),
            refusal=None if exc.field_errors else exc,
            status_code=exc.status_code,
        )
    row = _row(session, actor, case=case, commitment_id=commitment_id)
    assert row is not None
    message = _("%(progress)s recorded for case %(reference)s, %(description)s. Status now: %(status)s.") % {
        "progress": _(PROGRESS_LABELS[data.kind]),
        "reference": row.case_reference,
        "description": row.description,
        "status": _(row.status_label),
    }
    if not is_htmx(request):
        return redirect(request, _safe_next(str(form.get("next") or ""), case), flash=message)
    return _progress_fragment(request, session, actor, case=case, commitment_id=commitment_id, message=message)


# --- a case's compliance page ----------------------------------------------------------------------


def _case_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    case: Case,
    failed: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    refusal: AppError | None = None,
    status_code: int = 200,
) -> Response:
    timeline = case_timeline(session, actor=actor, case=case)
    context = LABELS | {
        "case": case,
        "timeline": timeline,
        "compliance_percent": None if timeline.compliance_rate is None else round(timeline.compliance_rate * 100),
        "can_write": actor.role in CASE_WRITERS,
        "can_record": actor.role in commitment_service.PROGRESS_RECORDERS,
        "open_statuses": {s.value for s in CommitmentStatus} - {"completed", "waived"},
        "failed": failed,
        "errors": errors or {},
        "values": values or {},
        "refusal": refusal,
    }
    return render(request, "monitoring/case.html", context, status_code=status_code)


def _refused(
    request: Request, session: Session, actor: Actor, *, case: Case, exc: AppError, failed: str, form: FormData
) -> Response:
    """Undo what the refused request wrote, then show the case's page again with why."""
    session.rollback()
    return _case_page(
        request,
        session,
        actor,
        case=case,
        failed=failed,
        errors=translated(exc.field_errors),
        values={k: v for k, v in form.items() if k != "csrf_token"},
        refusal=exc if isinstance(exc, Conflict) or not exc.field_errors else None,
        status_code=exc.status_code,
    )


def _page_url(case: Case) -> str:
    return f"/cases/{case.id}/commitments"


@router.get("/cases/{case_id}/commitments")
def case_commitments(request: Request, case: VisibleCase, session: SessionDep, actor: ActorDep) -> Response:
    """The case's compliance record: state, counts, a dated timeline, each commitment with its entries."""
    record_case_read(session, actor=actor, case=case, what="commitments")
    return _case_page(request, session, actor, case=case)


@router.get("/cases/{case_id}/commitments/report.pdf")
def followup_report(
    case: VisibleCase, session: SessionDep, actor: ActorDep, language: ReportLanguage = "en"
) -> Response:
    """The follow-up report (PDF): the sealed agreement's fingerprint, commitments, evidence, waivers."""
    return followup_response(session, actor=actor, case=case, language=language)


@router.post("/cases/{case_id}/progress/{entry_id}/correction")
def correct_entry(
    request: Request, case: VisibleCase, entry: CaseProgressEntry, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    """Reverse a wrong entry with the reason; both entries stay on the record."""
    failed = f"correct-{entry.id}"
    data, errors = validate_form(CorrectionCreate, form)
    if data is None:
        exc = InvalidInput("Check the form.", field_errors=errors)
        return _refused(request, session, actor, case=case, exc=exc, failed=failed, form=form)
    try:
        commitment_service.correct_entry(session, actor=actor, case=case, entry=entry, reason=data.reason)
    except (InvalidInput, Conflict) as exc:
        return _refused(request, session, actor, case=case, exc=exc, failed=failed, form=form)
    return redirect(request, _page_url(case), flash=_("The correction is recorded. Both entries stay on the record."))


def waiver_from_form(form: FormData) -> tuple[WaiverCreate | None, dict[str, str]]:
    """The waiver form: either the survivor agreed (how, and a confirmation), or ask them in the portal."""
    how = form.get("how")
    if how not in ("agreed", "ask"):
        errors = validate_form(WaiverCreate, form)[1]
        return None, errors | {"how": _("Choose whether the survivor already agreed, or is to be asked.")}
    data: dict[str, Any] = {"reason": form.get("reason") or ""}
    if how == "agreed":
        data |= {
            "consent_method": form.get("consent_method") or None,
            "survivor_consent_confirmed": form.get("survivor_consent_confirmed") in ("true", "on"),
        }
    try:
        return WaiverCreate.model_validate(data), {}
    except ValidationError as exc:
        return None, field_errors(exc, model=WaiverCreate)


@router.post("/cases/{case_id}/commitments/{commitment_id}/waiver")
def waive(
    request: Request, case: DetailCase, commitment: CaseCommitment, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    """Waive a commitment with a reason and the survivor's consent (recorded here, or asked in the portal)."""
    failed = f"waive-{commitment.id}"
    data, errors = waiver_from_form(form)
    if data is None:
        exc = InvalidInput("Check the form.", field_errors=errors)
        return _refused(request, session, actor, case=case, exc=exc, failed=failed, form=form)
    try:
        commitment_service.waive(session, actor=actor, case=case, commitment=commitment, data=data)
    except (InvalidInput, Conflict) as exc:
        return _refused(request, session, actor, case=case, exc=exc, failed=failed, form=form)
    flash = (
        _("The commitment is waived, with the survivor's consent on record.")
        if data.consent_method
        else _("The survivor is asked in their private page. The commitment stands until they agree.")
    )
    return redirect(request, _page_url(case), flash=flash)


@router.post("/cases/{case_id}/closure")
def close_case(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    """Close a case that will not complete, with a reason from the fixed list and a note."""
    data, errors = validate_form(ClosureCreate, form)
    if data is None:
        exc = InvalidInput("Check the form.", field_errors=errors)
        return _refused(request, session, actor, case=case, exc=exc, failed="close", form=form)
    try:
        commitment_service.close_case(session, actor=actor, case=case, data=data)
    except (InvalidInput, Conflict) as exc:
        return _refused(request, session, actor, case=case, exc=exc, failed="close", form=form)
    return redirect(
        request,
        _page_url(case),
        flash=_("Case %(reference)s is closed: %(reason)s.")
        % {"reference": case.reference, "reason": _(CLOSURE_REASONS[data.reason])},
    )
