"""The follow-up report of a case as PDF/A-3a: the sealed agreement's version and hash, the compliance
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
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_percent
from sqlmodel import Session, col, select

from app.actor import Actor
from app.agreements.commitment_rules import (
    KIND_LABELS,
    MINUTES_PER_HOUR,
    PROGRESS_LABELS,
    STATUS_LABELS,
    CommitmentStatus,
    describe_amount,
    descriptions_in,
)
from app.agreements.commitment_schemas import WAIVER_CONSENT_METHODS
from app.agreements.commitment_service import program_of
from app.agreements.commitment_timeline import CaseTimeline, CommitmentRecord, EntryLine, WaiverLine, case_timeline
from app.agreements.models import CommitmentKind
from app.agreements.pdf import html_to_pdf, pdf_templates
from app.agreements.terms import TERMS, text_sections
from app.conferences.models import CLOSURE_REASONS, Case, ClosureReason, Participant
from app.db import utcnow
from app.i18n import N_, Translate, long_day, money, ngettext, number, translator

TEMPLATE = "agreements/followup_pdf.html"
# English is the record; a Spanish report (?language=es) translates the fixed wording, labels, dates and
# amounts, and describes each commitment as the Spanish text of the agreement does. Reasons, names and
# evidence references are shown as written.

STATE_LABELS = {
    "no_agreement": N_("No sealed agreement yet"),
    "monitoring": N_("In monitoring"),
    "completed": N_("Completed: every commitment is completed or waived"),
    "closed": N_("Closed"),
}
CONSENT_METHOD_LABELS = WAIVER_CONSENT_METHODS | {"portal": N_("In the portal, by the survivor")}
WAIVER_STATUS_LABELS = {
    "asked": N_("Waiting for the survivor's answer"),
    "consented": N_("Waived with the survivor's consent"),
    "declined": N_("The survivor did not agree; the commitment stands"),
}
RESPONSIBLE_PARTY = N_("The responsible party")
BREACH_WORDS = {True: N_("Breach reported"), False: N_("No breach reported")}
DONE_WORDS = {True: N_("done"), False: N_("not done")}


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
    language: str = "en"


def _local(moment: datetime, zone: ZoneInfo, language: str) -> str:
    local = moment.astimezone(zone)
    return f"{long_day(local.date(), language=language)}, {local:%H:%M} {local.tzname()}"


def _amount(kind: CommitmentKind, amount: int, currency: str | None, language: str) -> str:
    """An amount in the commitment's unit: as the English record writes it, or in `language`'s words and formats."""
    if language == "en":
        return describe_amount(kind, amount, currency)
    match kind:
        case CommitmentKind.payment:
            return money(amount, currency or "", language=language)
        case CommitmentKind.service_hours:
            hours = number(
                (Decimal(amount) / MINUTES_PER_HOUR).quantize(Decimal("0.01")).normalize(), language=language
            )
            plural = 1 if amount == MINUTES_PER_HOUR else 2
            return ngettext("%(hours)s hour", "%(hours)s hours", plural, language) % {"hours": hours}
        case CommitmentKind.program_attendance:
            return ngettext("%(count)s session", "%(count)s sessions", amount, language) % {"count": amount}
        case _:
            return translator(language)(DONE_WORDS[amount >= 1])


def _entry_view(
    entry: EntryLine, numbers: dict[int, int], zone: ZoneInfo, record: CommitmentRecord, language: str
) -> EntryView:
    _ = translator(language)
    if entry.reverses_id is not None:
        number_ = numbers.get(entry.reverses_id, "?")
        marker = _("Correction of entry %(number)s: %(reason)s", number=number_, reason=entry.correction_reason or "")
        marker = marker.strip()
    elif entry.reversed_by_id is not None:
        marker = _("Corrected by entry %(number)s; does not count", number=numbers.get(entry.reversed_by_id, "?"))
    else:
        marker = ""
    if language == "en":
        what, amount = entry.label, entry.amount_text
    else:
        base = _(PROGRESS_LABELS[entry.kind])
        what = _("Correction: %(what)s reversed", what=base.lower()) if entry.reverses_id else base
        shown = _amount(record.row.kind, abs(entry.amount), record.row.currency, language) if entry.amount_text else ""
        amount = "−" + shown if entry.amount < 0 and shown else shown
    return EntryView(
        number=numbers[entry.id],
        occurred_on=long_day(entry.occurred_on, language=language),
        what=what,
        amount=amount,
        evidence_reference=entry.evidence_reference,
        recorded_by=entry.recorded_by,
        recorded_at=_local(entry.recorded_at, zone, language),
        marker=marker,
        counts=entry.counts,
    )


def _waiver_view(waiver: WaiverLine, zone: ZoneInfo, _: Translate, language: str) -> WaiverView:
    if waiver.consent_at is None:
        consent = _("Asked in the portal; no answer yet")
    else:
        method = waiver.consent_method or ""
        shown = _(CONSENT_METHOD_LABELS[method]) if method in CONSENT_METHOD_LABELS else method
        when = _local(waiver.consent_at, zone, language)
        if waiver.consent_recorded_by:
            consent = _(
                "%(method)s, %(when)s, recorded by %(name)s", method=shown, when=when, name=waiver.consent_recorded_by
            )
        else:
            consent = f"{shown}, {when}"
    return WaiverView(
        reason=waiver.reason,
        status=_(WAIVER_STATUS_LABELS[waiver.status]) if waiver.status in WAIVER_STATUS_LABELS else waiver.status,
        consent=consent,
        requested_by=waiver.requested_by,
    )


def _due(record: CommitmentRecord, _: Translate, language: str) -> str:
    row = record.row
    if row.kind == CommitmentKind.no_contact:
        if row.due_on:
            return _("Standing, until %(date)s", date=long_day(row.due_on, language=language))
        return _("Standing, indefinite")
    return long_day(row.due_on, language=language) if row.due_on else _("No date set")


def _done(record: CommitmentRecord, _: Translate, language: str) -> str:
    row = record.row
    if language == "en":
        return row.done_text
    if row.kind == CommitmentKind.no_contact:
        return _(BREACH_WORDS[bool(row.breached_on)])
    return _amount(row.kind, row.done, row.currency, language)


def followup_view(
    session: Session, *, timeline: CaseTimeline, now: datetime | None = None, language: str = "en"
) -> FollowupView:
    """What the report of this timeline shows: display names only, times in the program's time zone,
    the fixed wording in `language`."""
    _ = translator(language)
    case = timeline.case
    program = program_of(session, case)
    zone = ZoneInfo(program.timezone)
    moment = (now or utcnow()).astimezone(UTC)
    names = {
        p.id: p.display_name for p in session.exec(select(Participant).where(col(Participant.case_id) == case.id)).all()
    }
    commitments = []
    # What is owed, in the reader's language when the signed text holds it (the stored rows are English).
    version = timeline.version
    described = (
        descriptions_in(TERMS.validate_python(version.terms), text_sections(version.canonical_text), language)
        if version is not None
        else {}
    )
    for record in timeline.commitments:
        numbers = {entry.id: index for index, entry in enumerate(record.entries, start=1)}
        row = record.row
        owed = "" if row.kind == CommitmentKind.no_contact else _amount(row.kind, row.quantity, row.currency, language)
        ours = version is not None and row.version_id == version.id
        description = described.get((row.term_number, row.sequence), row.description) if ours else row.description
        commitments.append(
            CommitmentView(
                description=description,
                kind=_(KIND_LABELS[row.kind]),
                owed_by=names.get(row.owed_by_id) or _(RESPONSIBLE_PARTY),
                due=_due(record, _, language),
                owed=owed,
                done=_done(record, _, language),
                status=_(STATUS_LABELS[row.status]),
                verification=_(row.verification),
                entries=[_entry_view(e, numbers, zone, record, language) for e in record.entries],
                waivers=[_waiver_view(w, zone, _, language) for w in record.waivers],
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
        reported_at=_local(moment, zone, language),
        reported_at_utc=moment,
        state=_(STATE_LABELS[timeline.state]) if timeline.state in STATE_LABELS else timeline.state,
        closure_reason=_(CLOSURE_REASONS[ClosureReason(closure.reason)]) if closure is not None else None,
        counts=[(_(STATUS_LABELS[status]), counts[status]) for status in CommitmentStatus],
        total=len(timeline.commitments),
        compliance_rate=_("Nothing due yet")
        if rate is None
        else _("%(rate)s completed on time of those due", rate=format_percent(rate, locale=language)),
        language=language,
        commitments=commitments,
    )


def followup_html(view: FollowupView) -> str:
    """The report as HTML, from templates/agreements/followup_pdf.html (links resolve under app/static)."""
    return pdf_templates.get_template(TEMPLATE).render(r=view, lang=view.language)


def render_followup_pdf(session: Session, *, actor: Actor, case: Case, language: str = "en") -> bytes:
    """The case's follow-up report as PDF/A-3a, rendered now from the record this actor may see, in `language`."""
    timeline = case_timeline(session, actor=actor, case=case)
    view = followup_view(session, timeline=timeline, language=language)
    return html_to_pdf(followup_html(view), created=view.reported_at_utc)


def followup_filename(case: Case, language: str = "en") -> str:
    """A download name that is safe in a header: `followup-report-<reference>.pdf` (`-es.pdf` in Spanish)."""
    reference = re.sub(r"[^A-Za-z0-9._-]+", "-", case.reference).strip("-.") or "case"
    return f"followup-report-{reference}{'' if language == 'en' else '-' + language}.pdf"
