"""Monitoring (G6): commitments created at sealing, progress with evidence, corrections, waivers with the
survivor's consent, case completion and closure.

Every write is audited, checks the rules in `commitment_rules`, and keeps the commitment's progress
summary (total, completion date, first breach) equal to its entries, in the same transaction.
"""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.actor import Actor
from app.agreements.commitment_rules import (
    MINUTES_PER_HOUR,
    PROGRESS_FOR,
    PROGRESS_LABELS,
    CommitmentStatus,
    EntryFact,
    case_openness,
    case_outcome,
    commitment_status,
    commitments_from_terms,
    local_today,
    progress_conditions,
    summarise,
)
from app.agreements.commitment_schemas import ClosureCreate, ProgressCreate, WaiverCreate
from app.agreements.models import (
    AgreementVersion,
    Commitment,
    CommitmentKind,
    DueTally,
    FollowupSummary,
    ProgressEntry,
    ProgressKind,
    Waiver,
    WaiverStatus,
)
from app.agreements.terms import Term
from app.audit.service import record_event
from app.auth.models import UserRole
from app.conferences.models import (
    CLOSURE_REASONS,
    Case,
    CaseClosure,
    CaseSession,
    Participant,
    ParticipantRole,
    SessionStatus,
)
from app.conferences.service import require_case_writer
from app.db import utcnow
from app.errors import Condition, Conflict, InvalidInput, NotFound, PermissionDenied
from app.i18n import N_
from app.notifications.models import Notification
from app.notifications.service import notify_case_facilitators
from app.programs.models import Program
from app.safety.models import Consent, ConsentScope

PROGRESS_RECORDERS = frozenset({UserRole.admin, UserRole.facilitator, UserRole.staff})


def require_progress_recorder(actor: Actor) -> None:
    if actor.kind != "user" or actor.role not in PROGRESS_RECORDERS:
        raise PermissionDenied("Only program staff, facilitators and administrators record progress.")


def program_by_id(session: Session, program_id: int | None) -> Program:
    program = session.get(Program, program_id)
    assert program is not None
    return program


def program_of(session: Session, case: Case) -> Program:
    return program_by_id(session, case.program_id)


def today_in(program: Program) -> date:
    """Today where the program is: the date every status and count is computed for."""
    return local_today(utcnow(), program.timezone)


def today_for(session: Session, case: Case) -> date:
    return today_in(program_of(session, case))


DESCRIPTION_LENGTH = 300  # Commitment.description; another task's full text stays in the agreement


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# --- sealing ----------------------------------------------------------------------------------------


def create_commitments(
    session: Session, *, actor: Actor, case: Case, version: AgreementVersion, terms: list[Term]
) -> list[Commitment]:
    """Called while sealing, in its transaction: the version's commitments; a sealed amendment's
    commitments replace those of the version it amends (which stay, with their progress, for the record)."""
    now = utcnow()
    if version.amends_version_id is not None:
        for old in session.exec(
            select(Commitment).where(
                Commitment.version_id == version.amends_version_id, col(Commitment.superseded_at).is_(None)
            )
        ).all():
            before = _tally(old)
            old.superseded_at = now
            session.add(old)
            _add_to_tally(session, commitment=old, before=before)
    rows = [
        Commitment(
            program_id=case.program_id,
            case_id=case.id,  # type: ignore[arg-type]
            agreement_id=version.agreement_id,
            version_id=version.id,  # type: ignore[arg-type]
            term_number=spec.term_number,
            sequence=spec.sequence,
            of_count=spec.of_count,
            kind=spec.kind,
            owed_by_id=spec.owed_by_id,
            description=_shorten(spec.description, DESCRIPTION_LENGTH),
            due_on=spec.due_on,
            quantity=spec.quantity,
            currency=spec.currency,
            verification=spec.verification,
        )
        for spec in commitments_from_terms(terms)
    ]
    session.add_all(rows)
    for row in rows:
        _add_to_tally(session, commitment=row, before=(0, 0, 0))
    refresh_followup(session, case_id=case.id, program_id=case.program_id)  # type: ignore[arg-type]
    record_event(
        session,
        actor=actor,
        action="commitments.created",
        entity_type="agreement_version",
        entity_id=version.id,
        case_id=case.id,
        detail={"count": len(rows), "amends": version.amends_version_id},
    )
    return rows


# --- reading ----------------------------------------------------------------------------------------


def active_commitments(session: Session, *, case: Case) -> list[Commitment]:
    """The commitments in force: those of the sealed version (not of one an amendment replaced)."""
    return list(
        session.exec(
            select(Commitment)
            .where(Commitment.case_id == case.id, col(Commitment.superseded_at).is_(None))
            .order_by(col(Commitment.due_on).is_(None), col(Commitment.due_on), col(Commitment.id))
        ).all()
    )


def status_of(commitment: Commitment, *, today: date, due_soon_days: int) -> CommitmentStatus:
    return commitment_status(
        kind=CommitmentKind(commitment.kind),
        due_on=commitment.due_on,
        completed_on=commitment.completed_on,
        breached_on=commitment.breached_on,
        waived=commitment.waived_at is not None,
        today=today,
        due_soon_days=due_soon_days,
    )


def closure_of(session: Session, *, case: Case) -> CaseClosure | None:
    return session.exec(select(CaseClosure).where(CaseClosure.case_id == case.id)).first()


def case_state(session: Session, *, case: Case, today: date | None = None) -> str:
    """no_agreement, monitoring, completed or closed: derived from the closure and the commitments."""
    program = program_of(session, case)
    today = today or today_in(program)
    return case_outcome(
        closed=closure_of(session, case=case) is not None,
        commitments=(
            (CommitmentKind(c.kind), c.due_on, status_of(c, today=today, due_soon_days=program.due_soon_days))
            for c in active_commitments(session, case=case)
        ),
    )


def get_commitment(session: Session, *, case: Case, commitment_id: int) -> Commitment | None:
    commitment = session.get(Commitment, commitment_id)
    if commitment is None or commitment.case_id != case.id:
        return None
    return commitment


def entries_of(session: Session, *, commitment: Commitment) -> list[ProgressEntry]:
    return list(
        session.exec(
            select(ProgressEntry)
            .where(ProgressEntry.commitment_id == commitment.id)
            .order_by(col(ProgressEntry.occurred_on), col(ProgressEntry.id))
        ).all()
    )


# --- progress ---------------------------------------------------------------------------------------


def to_units(kind: CommitmentKind, entry_kind: ProgressKind, amount: Decimal | None) -> int:
    """A natural amount (12.50 money, 2.5 hours, 1 session) in the commitment's stored unit."""
    if entry_kind in (ProgressKind.note, ProgressKind.breach_reported):
        return 0
    if entry_kind in (ProgressKind.apology_delivered, ProgressKind.done):
        return 1
    if amount is None:
        message = N_("Enter the amount done, for example 50 or 12.50.")
        raise InvalidInput(message, field_errors={"amount": message})
    match kind:
        case CommitmentKind.payment:
            cents = amount * 100
            if cents != cents.to_integral_value():
                message = N_("Enter the amount in whole cents, for example 12.50.")
                raise InvalidInput(message, field_errors={"amount": message})
            return int(cents)
        case CommitmentKind.service_hours:
            minutes = amount * MINUTES_PER_HOUR
            if minutes != minutes.to_integral_value():
                message = N_("Enter the hours in whole minutes, for example 1.5 or 2.25.")
                raise InvalidInput(message, field_errors={"amount": message})
            return int(minutes)
        case _:
            if amount != amount.to_integral_value():
                message = N_("Enter a whole number of sessions, for example 1.")
                raise InvalidInput(message, field_errors={"amount": message})
            return int(amount)


def refresh_followup(session: Session, *, case_id: int, program_id: int) -> FollowupSummary:
    """Rewrite the case's follow-up summary from its commitments in force (the dashboard counts cases
    from it). Called by every change to a commitment, in the same transaction."""
    session.flush()
    rows = session.exec(
        select(
            Commitment.kind, Commitment.due_on, Commitment.completed_on, Commitment.breached_on, Commitment.waived_at
        ).where(Commitment.case_id == case_id, col(Commitment.superseded_at).is_(None))
    ).all()
    openness = case_openness((CommitmentKind(k), d, c, b, w is not None) for k, d, c, b, w in rows)
    summary = session.get(FollowupSummary, case_id) or FollowupSummary(case_id=case_id, program_id=program_id)
    summary.open_tasks = openness.open_tasks
    summary.standing_until = openness.standing_until
    summary.updated_at = utcnow()
    session.add(summary)
    session.flush()
    return summary


def _tally(commitment: Commitment) -> tuple[int, int, int]:
    """What one commitment adds to its due day's tally: (due, completed on time, not completed)."""
    if (
        commitment.superseded_at is not None
        or commitment.waived_at is not None
        or commitment.kind == CommitmentKind.no_contact
        or commitment.due_on is None
    ):
        return (0, 0, 0)
    done = commitment.completed_on
    return (1, int(done is not None and done <= commitment.due_on), int(done is None))


def _add_to_tally(session: Session, *, commitment: Commitment, before: tuple[int, int, int]) -> None:
    """Apply the change in this commitment's contribution to its due day, as one atomic upsert."""
    after = _tally(commitment)
    delta = tuple(a - b for a, b in zip(after, before, strict=True))
    if commitment.due_on is None or delta == (0, 0, 0):
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = DueTally.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(
        program_id=commitment.program_id, due_on=commitment.due_on, due=delta[0], on_time=delta[1], open=delta[2]
    )
    session.exec(  # type: ignore[call-overload]
        statement.on_conflict_do_update(
            index_elements=["program_id", "due_on"],
            set_={
                "due": table.c.due + statement.excluded.due,
                "on_time": table.c.on_time + statement.excluded.on_time,
                "open": table.c.open + statement.excluded.open,
            },
        )
    )


def rebuild_followup_summaries(session: Session, *, program_id: int) -> int:
    """Rewrite every follow-up summary and due-day tally of a program from its commitments (for bulk
    loads and repair); the same rules as `commitment_rules.case_openness` and `_tally`. Returns the
    number of cases written."""
    c = Commitment
    waived = col(c.waived_at).is_not(None)
    no_contact = c.kind == CommitmentKind.no_contact.value
    open_task = sa.case(
        (waived, 0),
        (sa.and_(no_contact, col(c.breached_on).is_not(None)), 1),
        (sa.and_(sa.not_(no_contact), col(c.completed_on).is_(None)), 1),
        else_=0,
    )
    standing = sa.case((sa.and_(sa.not_(waived), no_contact, col(c.breached_on).is_(None)), c.due_on), else_=None)
    session.exec(sa.delete(FollowupSummary).where(FollowupSummary.program_id == program_id))  # type: ignore[call-overload]
    source = (
        select(c.case_id, c.program_id, sa.func.sum(open_task), sa.func.max(standing), sa.literal(utcnow()))
        .where(c.program_id == program_id, col(c.superseded_at).is_(None))
        .group_by(c.case_id, c.program_id)
    )
    result = session.exec(  # type: ignore[call-overload]
        sa.insert(FollowupSummary).from_select(
            ["case_id", "program_id", "open_tasks", "standing_until", "updated_at"], source
        )
    )
    written = result.rowcount
    session.exec(sa.delete(DueTally).where(DueTally.program_id == program_id))  # type: ignore[call-overload]
    counted = (
        select(
            c.program_id,
            c.due_on,
            sa.func.count(),
            sa.func.count().filter(col(c.completed_on) <= col(c.due_on)),
            sa.func.count().filter(col(c.completed_on).is_(None)),
        )
        .where(
            c.program_id == program_id,
            col(c.superseded_at).is_(None),
            col(c.waived_at).is_(None),
            c.kind != CommitmentKind.no_contact.value,
            col(c.due_on).is_not(None),
        )
        .group_by(c.program_id, c.due_on)
    )
    session.exec(  # type: ignore[call-overload]
        sa.insert(DueTally).from_select(["program_id", "due_on", "due", "on_time", "open"], counted)
    )
    return written


def _refresh(session: Session, *, commitment: Commitment) -> None:
    """Rewrite the commitment's progress summary from its entries."""
    session.flush()
    facts = [
        EntryFact(e.id, ProgressKind(e.kind), e.amount, e.occurred_on, e.reverses_id)  # type: ignore[arg-type]
        for e in entries_of(session, commitment=commitment)
    ]
    summary = summarise(kind=CommitmentKind(commitment.kind), quantity=commitment.quantity, entries=facts)
    before = _tally(commitment)
    commitment.progress_total = summary.total
    commitment.completed_on = summary.completed_on
    commitment.breached_on = summary.breached_on
    session.add(commitment)
    _add_to_tally(session, commitment=commitment, before=before)
    refresh_followup(session, case_id=commitment.case_id, program_id=commitment.program_id)


def lock_case(session: Session, *, case: Case) -> None:
    """Serialise the monitoring writes of one case (PostgreSQL: a row lock on the case until commit;
    SQLite already has one writer at a time). Each write then reads its commitment, the totals and the
    case summary as the previous write left them, so two payments at once cannot both pass the
    overpayment check or leave a total that misses one of them."""
    session.exec(select(Case.id).where(Case.id == case.id).with_for_update()).one()


def _require_open(session: Session, *, case: Case, commitment: Commitment) -> None:
    lock_case(session, case=case)
    session.refresh(commitment)
    problems = []
    if closure_of(session, case=case) is not None:
        problems.append(Condition("case_closed", N_("This case is closed: nothing more is recorded against it.")))
    if commitment.superseded_at is not None:
        problems.append(
            Condition("commitment_superseded", N_("An amendment replaced this commitment: record against the new one."))
        )
    if problems:
        raise Conflict(problems[0].message, conditions=problems)


def _survivor(session: Session, *, case: Case) -> Participant | None:
    return session.exec(
        select(Participant)
        .where(Participant.case_id == case.id, Participant.role == ParticipantRole.survivor)
        .order_by(col(Participant.id))
    ).first()


def told_about_progress(session: Session, *, participant: Participant) -> bool:
    """Whether the person's latest consent to be told about progress is active."""
    latest = session.exec(
        select(Consent)
        .where(Consent.participant_id == participant.id, Consent.scope == ConsentScope.progress_updates)
        .order_by(col(Consent.given_at).desc(), col(Consent.id).desc())
    ).first()
    return latest is not None and latest.withdrawn_at is None


def _tell_survivor(session: Session, *, case: Case, commitment: Commitment, entry: ProgressEntry) -> None:
    """The optional progress message: only with the survivor's consent; the worker applies their
    safe-contact preferences (channel, quiet hours, a neutral subject)."""
    survivor = _survivor(session, case=case)
    if survivor is None or not told_about_progress(session, participant=survivor):
        return
    what = PROGRESS_LABELS[ProgressKind(entry.kind)].lower()
    session.add(
        Notification(
            program_id=case.program_id,
            case_id=case.id,
            kind="commitment_progress",
            recipient_participant_id=survivor.id,
            subject="News about your agreement",
            body=(
                f'There is news about your agreement: {what} for "{commitment.description}".\n\n'
                "Your facilitator can tell you more, or you can see it in your private page.\n"
            ),
        )
    )


def record_progress(
    session: Session, *, actor: Actor, case: Case, commitment: Commitment, data: ProgressCreate
) -> ProgressEntry:
    """Record what was done, with its evidence. Partial progress adds up; more than is owed is refused."""
    require_progress_recorder(actor)
    _require_open(session, case=case, commitment=commitment)
    kind = CommitmentKind(commitment.kind)
    units = to_units(kind, data.kind, data.amount) if data.kind == PROGRESS_FOR[kind] else 0
    problems = progress_conditions(
        commitment_kind=kind,
        quantity=commitment.quantity,
        done=commitment.progress_total,
        entry_kind=data.kind,
        amount=units,
        occurred_on=data.occurred_on,
        today=today_for(session, case),
        unit=commitment.currency or "",
    )
    if problems:
        field = {"future_date": "occurred_on", "wrong_progress_kind": "kind"}.get(problems[0].code, "amount")
        raise InvalidInput(problems[0].message, field_errors={field: problems[0].message})
    if data.kind == ProgressKind.note and not data.evidence_note.strip():
        message = N_("Write the note in the evidence note.")
        raise InvalidInput(message, field_errors={"evidence_note": message})
    was_settled = case_state(session, case=case) == "completed"
    entry = ProgressEntry(
        program_id=case.program_id,
        case_id=case.id,  # type: ignore[arg-type]
        commitment_id=commitment.id,  # type: ignore[arg-type]
        kind=data.kind,
        amount=units,
        occurred_on=data.occurred_on,
        evidence_reference=data.evidence_reference.strip(),
        evidence_note=data.evidence_note.strip(),
        recorded_by_id=actor.user_id,  # type: ignore[arg-type]
    )
    session.add(entry)
    _refresh(session, commitment=commitment)
    record_event(
        session,
        actor=actor,
        action="commitment.progress_recorded",
        entity_type="commitment",
        entity_id=commitment.id,
        case_id=case.id,
        detail={"entry": entry.id, "kind": data.kind.value, "amount": units, "occurred_on": str(data.occurred_on)},
    )
    if data.kind == ProgressKind.breach_reported:
        notify_case_facilitators(
            session,
            case=case,
            kind="no_contact_breach",
            subject=f"Case {case.reference}: a no-contact breach was reported",
            body="A breach of the no-contact commitment was recorded. Check on the survivor's safety first.",
        )
    elif data.kind != ProgressKind.note and data.notify_survivor:
        _tell_survivor(session, case=case, commitment=commitment, entry=entry)
    _note_completion(session, actor=actor, case=case, was_completed=was_settled)
    return entry


def correct_entry(session: Session, *, actor: Actor, case: Case, entry: ProgressEntry, reason: str) -> ProgressEntry:
    """Reverse an entry: a new entry that cancels it, with the reason. Both stay visible."""
    require_progress_recorder(actor)
    commitment = session.get(Commitment, entry.commitment_id)
    assert commitment is not None
    _require_open(session, case=case, commitment=commitment)
    if not reason.strip():
        message = N_("Say why the entry was wrong.")
        raise InvalidInput(message, field_errors={"reason": message})
    if entry.reverses_id is not None:
        raise Conflict(
            "A correction cannot itself be reversed: record the entry again instead.",
            conditions=[Condition("is_correction", N_("This entry is a correction; record the right entry anew."))],
        )
    if session.exec(select(ProgressEntry.id).where(ProgressEntry.reverses_id == entry.id)).first() is not None:
        raise Conflict(
            "This entry was already corrected.",
            conditions=[Condition("already_corrected", N_("This entry was already corrected."))],
        )
    was_settled = case_state(session, case=case) == "completed"
    reversal = ProgressEntry(
        program_id=entry.program_id,
        case_id=entry.case_id,
        commitment_id=entry.commitment_id,
        kind=entry.kind,
        amount=-entry.amount,
        occurred_on=entry.occurred_on,
        evidence_reference=entry.evidence_reference,
        evidence_note="",
        reverses_id=entry.id,
        correction_reason=reason.strip(),
        recorded_by_id=actor.user_id,  # type: ignore[arg-type]
    )
    session.add(reversal)
    _refresh(session, commitment=commitment)
    record_event(
        session,
        actor=actor,
        action="commitment.progress_corrected",
        entity_type="commitment",
        entity_id=commitment.id,
        case_id=case.id,
        detail={"entry": entry.id, "reversal": reversal.id},
    )
    if was_settled and case_state(session, case=case) != "completed":
        record_event(
            session,
            actor=actor,
            action="case.reopened_for_monitoring",
            entity_type="case",
            entity_id=case.id,
            case_id=case.id,
            detail={"because": "correction", "entry": entry.id},
        )
    return reversal


def _note_completion(session: Session, *, actor: Actor, case: Case, was_completed: bool) -> None:
    """When the last commitment settles, the case completes by itself: audit it and tell the facilitators."""
    if was_completed or case_state(session, case=case) != "completed":
        return
    record_event(session, actor=actor, action="case.completed", entity_type="case", entity_id=case.id, case_id=case.id)
    notify_case_facilitators(
        session,
        case=case,
        kind="case_completed",
        subject=f"Case {case.reference}: every commitment is met",
        body="Every commitment of the agreement is completed or waived. The case is complete.",
    )


# --- waivers ----------------------------------------------------------------------------------------


def _pending_waiver(session: Session, *, commitment: Commitment) -> Waiver | None:
    return session.exec(
        select(Waiver).where(Waiver.commitment_id == commitment.id, Waiver.status == WaiverStatus.asked)
    ).first()


def waive(session: Session, *, actor: Actor, case: Case, commitment: Commitment, data: WaiverCreate) -> Waiver:
    """Waive a commitment, with a reason and the survivor's consent: recorded here by the facilitator
    (with how it was given), or asked for in the portal (the waiver then waits for the answer)."""
    require_case_writer(actor)
    _require_open(session, case=case, commitment=commitment)
    if not data.reason.strip():
        message = N_("Say why the commitment is waived.")
        raise InvalidInput(message, field_errors={"reason": message})
    _require_unsettled(session, case=case, commitment=commitment)
    if _pending_waiver(session, commitment=commitment) is not None:
        raise Conflict(
            "The survivor has already been asked about waiving this commitment.",
            conditions=[Condition("waiver_pending", N_("Wait for the survivor's answer in the portal."))],
        )
    survivor = _survivor(session, case=case)
    if survivor is None:
        raise Conflict(
            "A waiver needs the survivor's consent, and this case has no survivor.",
            conditions=[Condition("survivor_missing", N_("Add the survivor to the case."))],
        )
    if data.consent_method is not None and not data.survivor_consent_confirmed:
        message = N_("Confirm that the survivor agreed to waive exactly this commitment.")
        raise Conflict(
            "A waiver needs the survivor's consent on record.",
            conditions=[Condition("survivor_consent_missing", message, participant_id=survivor.id)],
        )
    if data.survivor_consent_confirmed and data.consent_method is None:
        message = N_("Choose how the survivor gave their consent.")
        raise InvalidInput(message, field_errors={"consent_method": message})
    waiver = Waiver(
        program_id=case.program_id,
        case_id=case.id,  # type: ignore[arg-type]
        commitment_id=commitment.id,  # type: ignore[arg-type]
        reason=data.reason.strip(),
        status=WaiverStatus.asked,
        survivor_id=survivor.id,  # type: ignore[arg-type]
        requested_by_id=actor.user_id,  # type: ignore[arg-type]
    )
    session.add(waiver)
    session.flush()
    if data.consent_method is None:
        record_event(
            session,
            actor=actor,
            action="commitment.waiver_asked",
            entity_type="commitment",
            entity_id=commitment.id,
            case_id=case.id,
            detail={"waiver": waiver.id},
        )
        return waiver
    return _grant(session, actor=actor, case=case, commitment=commitment, waiver=waiver, method=data.consent_method)


def _require_unsettled(session: Session, *, case: Case, commitment: Commitment) -> None:
    """Only a commitment still owed is waived: one completed (or already waived) keeps that status."""
    status = status_of(
        commitment, today=today_for(session, case), due_soon_days=program_of(session, case).due_soon_days
    )
    if status in (CommitmentStatus.completed, CommitmentStatus.waived):
        raise Conflict(
            f"This commitment is already {status.value}.",
            conditions=[Condition("already_settled", f"This commitment is already {status.value}.")],
        )


def _grant(
    session: Session, *, actor: Actor, case: Case, commitment: Commitment, waiver: Waiver, method: str
) -> Waiver:
    was_completed = case_state(session, case=case) == "completed"
    now = utcnow()
    waiver.status = WaiverStatus.consented
    waiver.consent_method = method
    waiver.consent_at = now
    waiver.consent_recorded_by_id = actor.user_id
    before = _tally(commitment)
    commitment.waived_at = now
    session.add_all([waiver, commitment])
    _add_to_tally(session, commitment=commitment, before=before)
    refresh_followup(session, case_id=commitment.case_id, program_id=commitment.program_id)
    record_event(
        session,
        actor=actor,
        action="commitment.waived",
        entity_type="commitment",
        entity_id=commitment.id,
        case_id=case.id,
        detail={"waiver": waiver.id, "consent_method": method},
    )
    _note_completion(session, actor=actor, case=case, was_completed=was_completed)
    return waiver


def answer_waiver(session: Session, *, actor: Actor, case: Case, waiver: Waiver, agree: bool) -> Waiver:
    """The survivor's answer in the portal to a waiver they were asked about."""
    if actor.kind != "participant" or actor.participant_id != waiver.survivor_id or actor.case_id != case.id:
        raise NotFound("No such request.")
    commitment = session.get(Commitment, waiver.commitment_id)
    assert commitment is not None
    _require_open(session, case=case, commitment=commitment)
    session.refresh(waiver)  # after the lock: a second answer sent at the same moment sees the first
    if waiver.status != WaiverStatus.asked:
        raise Conflict(
            "You have already answered this.",
            conditions=[Condition("already_answered", N_("This request was already answered."))],
        )
    if agree:
        # The commitment may have been met since the survivor was asked: then there is nothing to waive.
        _require_unsettled(session, case=case, commitment=commitment)
        return _grant(session, actor=actor, case=case, commitment=commitment, waiver=waiver, method="portal")
    waiver.status = WaiverStatus.declined
    waiver.consent_at = utcnow()
    waiver.consent_method = "portal"
    session.add(waiver)
    record_event(
        session,
        actor=actor,
        action="commitment.waiver_declined",
        entity_type="commitment",
        entity_id=commitment.id,
        case_id=case.id,
        detail={"waiver": waiver.id},
    )
    notify_case_facilitators(
        session,
        case=case,
        kind="waiver_declined",
        subject=f"Case {case.reference}: the survivor did not agree to a waiver",
        body=f'The survivor did not agree to waive "{commitment.description}". The commitment stands.',
    )
    return waiver


def waivers_of(session: Session, *, case: Case) -> list[Waiver]:
    return list(session.exec(select(Waiver).where(Waiver.case_id == case.id).order_by(col(Waiver.id))).all())


# --- closure ----------------------------------------------------------------------------------------


def close_case(session: Session, *, actor: Actor, case: Case, data: ClosureCreate) -> CaseClosure:
    """Close a case that will not complete, with a reason from the fixed list and a note."""
    require_case_writer(actor)
    if not data.note.strip():
        message = N_("Explain the closure in a note.")
        raise InvalidInput(message, field_errors={"note": message})
    lock_case(session, case=case)
    problems = []
    if closure_of(session, case=case) is not None:
        problems.append(Condition("case_closed", N_("This case is already closed.")))
    elif case_state(session, case=case) == "completed":
        problems.append(Condition("case_completed", N_("This case is complete: every commitment is met.")))
    upcoming = session.exec(
        select(CaseSession.id).where(
            CaseSession.case_id == case.id,
            col(CaseSession.status).in_([SessionStatus.scheduled, SessionStatus.on_hold]),
            CaseSession.starts_at > utcnow(),
        )
    ).first()
    if upcoming is not None:
        problems.append(
            Condition(
                "sessions_scheduled",
                N_("Cancel the upcoming sessions first, so that everyone invited is told."),
                f"/cases/{case.id}/sessions",
            )
        )
    if problems:
        raise Conflict("This case cannot be closed.", conditions=problems)
    closure = CaseClosure(
        program_id=case.program_id,
        case_id=case.id,  # type: ignore[arg-type]
        reason=data.reason,
        note=data.note.strip(),
        closed_by_id=actor.user_id,  # type: ignore[arg-type]
    )
    session.add(closure)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="case.closed",
        entity_type="case",
        entity_id=case.id,
        case_id=case.id,
        detail={"reason": data.reason.value, "label": CLOSURE_REASONS[data.reason]},
    )
    return closure
