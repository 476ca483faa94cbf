"""Input and output schemas for commitments, progress, waivers and case closure (pages and API alike)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from app.agreements.commitment_rules import CommitmentStatus
from app.agreements.models import CommitmentKind, ProgressKind, WaiverStatus
from app.conferences.models import ClosureReason
from app.db import RecordId
from app.i18n import N_
from app.schemas import InputModel, says

# How a survivor's consent to a waiver reached the facilitator (the portal records its own).
WaiverConsentMethod = Literal["in_person", "written", "phone", "video"]
WAIVER_CONSENT_METHODS: dict[str, str] = {
    "in_person": N_("In person"),
    "written": N_("In writing"),
    "phone": N_("By phone"),
    "video": N_("By video call"),
}


class ProgressCreate(InputModel):
    """Progress towards one commitment. `amount` is in natural units: money (12.50), hours (2.5) or
    sessions (1); an apology, another task done, a breach or a note take none."""

    kind: ProgressKind = Field(json_schema_extra=says(N_("Choose what happened.")))
    amount: Decimal | None = Field(
        default=None,
        ge=0,
        le=Decimal("1000000000"),
        max_digits=14,
        decimal_places=2,
        json_schema_extra=says(N_("Enter the amount done as a number of at most 2 decimals, for example 50 or 12.50.")),
    )
    occurred_on: date = Field(
        description="When it happened (the program's local date); not in the future.",
        json_schema_extra=says(N_("Enter the date it happened, for example 2026-03-31.")),
    )
    evidence_reference: str = Field(
        default="",
        max_length=200,
        description="A receipt number, a log sheet, …",
        json_schema_extra=says(N_("Enter an evidence reference of at most 200 characters.")),
    )
    evidence_note: str = Field(
        default="",
        max_length=2_000,
        json_schema_extra=says(N_("Shorten the evidence note to 2,000 characters or fewer.")),
    )
    notify_survivor: bool = Field(
        default=True,
        description="Tell the survivor, if they asked to be told about progress (their contact preferences apply).",
    )


class CorrectionCreate(InputModel):
    reason: str = Field(
        min_length=1,
        max_length=2_000,
        description="Why the entry was wrong.",
        json_schema_extra=says(
            missing=N_("Say why the entry was wrong."),
            string_too_long=N_("Shorten the reason for the correction to 2,000 characters or fewer."),
        ),
    )


class WaiverCreate(InputModel):
    """Waive a commitment. With `consent_method`, the facilitator records the survivor's consent given to
    them; without it, the survivor is asked in the portal and the waiver waits for their answer."""

    reason: str = Field(
        min_length=1,
        max_length=2_000,
        json_schema_extra=says(
            missing=N_("Say why the commitment is waived."),
            string_too_long=N_("Shorten the reason for the waiver to 2,000 characters or fewer."),
        ),
    )
    consent_method: WaiverConsentMethod | None = Field(
        default=None, json_schema_extra=says(N_("Choose how the survivor gave their consent."))
    )
    survivor_consent_confirmed: bool = Field(
        default=False, description="The survivor agreed to waive exactly this commitment."
    )


class WaiverAnswer(InputModel):
    agree: bool


class ClosureCreate(InputModel):
    reason: ClosureReason = Field(json_schema_extra=says(N_("Choose why the case is closed.")))
    note: str = Field(
        min_length=1,
        max_length=2_000,
        json_schema_extra=says(
            missing=N_("Explain the closure in a note."),
            string_too_long=N_("Shorten the note on the closure to 2,000 characters or fewer."),
        ),
    )


DUE_RANGE_MESSAGE = N_("The 'Due until' date must be the same as or after the 'Due from' date.")


class CommitmentFilter(InputModel):
    """The commitment list's filters, sort and page (query string of the page, the API and the CSV)."""

    status: CommitmentStatus | None = None
    kind: CommitmentKind | None = None
    facilitator_id: RecordId | None = None
    case_id: RecordId | None = None
    due_from: date | None = None
    due_to: date | None = None
    sort: Literal["due_on", "-due_on", "case", "-case", "status", "kind"] = "due_on"
    page: int = Field(default=1, ge=1, le=100_000)

    @field_validator("due_to")
    @classmethod
    def _range_runs_forwards(cls, value: date | None, info: ValidationInfo) -> date | None:
        """A range that ends before it starts is a mistake to point out, not a question whose answer is 0."""
        start = info.data.get("due_from")
        if value is not None and start is not None and value < start:
            raise ValueError(DUE_RANGE_MESSAGE)
        return value


class ProgressPublic(BaseModel):
    id: int
    commitment_id: int
    kind: ProgressKind
    amount: int = Field(description="In the commitment's unit: cents, minutes, sessions or 1; negative on a reversal.")
    amount_text: str
    occurred_on: date
    evidence_reference: str
    evidence_note: str
    reverses_id: int | None
    reversed_by_id: int | None
    correction_reason: str | None
    recorded_by: str
    recorded_at: datetime


class WaiverPublic(BaseModel):
    id: int
    commitment_id: int
    reason: str
    status: WaiverStatus
    consent_method: str | None
    consent_at: datetime | None
    consent_recorded_by: str | None
    requested_by: str
    created_at: datetime


class CommitmentPublic(BaseModel):
    id: int
    case_id: int
    case_reference: str
    version_number: int
    term_number: int
    sequence: int
    of_count: int
    kind: CommitmentKind
    description: str
    owed_by_id: int
    owed_by_role: str
    due_on: date | None
    quantity: int = Field(description="In the unit: cents (payment), minutes (service hours), sessions, or 1.")
    unit: str
    currency: str | None
    quantity_text: str
    done: int
    done_text: str
    verification: str
    status: CommitmentStatus
    completed_on: date | None
    breached_on: date | None
    waived_at: datetime | None


class CommitmentDetail(CommitmentPublic):
    progress: list[ProgressPublic]
    waivers: list[WaiverPublic]


class CommitmentPage(BaseModel):
    items: list[CommitmentPublic]
    page: int
    pages: int
    total: int


class DashboardCounts(BaseModel):
    overdue: int
    due_soon: int = Field(description="Due in the program's window (default the next 14 days), today included.")
    completed_this_month: int
    compliance_rate: float | None = Field(description="Completed on time / due so far; null when nothing is due.")
    due_so_far: int
    completed_on_time: int
    cases_in_monitoring: int
    cases_completed: int
    today: date
    due_soon_days: int


class MoneyInMonth(BaseModel):
    currency: str
    due: int = Field(description="Cents of the payments due in the month (waived ones left out).")
    received: int = Field(description="Cents recorded as received with a date in the month (corrections subtract).")


class MonthTrend(BaseModel):
    month: str = Field(description="The calendar month in the program's time zone, YYYY-MM.", examples=["2026-03"])
    due: int = Field(description="Commitments due in the month whose due date has passed (not waived, not no-contact).")
    completed_on_time: int = Field(description="Of those, completed on or before their due date.")
    compliance_rate: float | None = Field(description="completed_on_time / due; null when nothing was due.")
    money: list[MoneyInMonth]
    service_minutes_due: int
    service_minutes_worked: int


class MonitoringTrends(BaseModel):
    """Compliance over the last 12 months: the figures the dashboard's charts draw."""

    today: date = Field(description="The program's local date.")
    months: list[MonthTrend] = Field(description="Oldest first; the current month last.")


class CaseCompliance(BaseModel):
    case_id: int
    case_reference: str
    state: Literal["no_agreement", "monitoring", "completed", "closed"]
    closure_reason: ClosureReason | None
    closure_note: str | None
    counts: dict[CommitmentStatus, int]
    compliance_rate: float | None
    commitments: list[CommitmentDetail]
