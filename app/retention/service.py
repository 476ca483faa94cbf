"""Legal hold, and anonymising cases whose retention period ran out.

Anonymising removes what identifies people or records what they said: names (replaced by role labels),
contact details, free text, signature names and addresses, portal links and the stored PDFs. It keeps
what reports count: participants by role, sessions, commitments with their kinds, amounts, due dates and
progress totals, dates, the dashboard's tallies and summaries, and content hashes. Each case is one
transaction, marked `anonymised_at` so a second run leaves it alone, with one audit event of counts.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, col, select

from app.actor import Actor
from app.agreements.commitment_service import active_commitments, case_state, closure_of
from app.agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementVersion,
    Commitment,
    ProgressEntry,
    Review,
    Signature,
    SignatureDecline,
    VersionStatus,
    Waiver,
)
from app.audit.service import record_event
from app.conferences.instruments import load_instrument
from app.conferences.models import (
    Acknowledgement,
    Case,
    CaseClosure,
    CaseSession,
    Participant,
    Screening,
    SessionAttendee,
)
from app.db import utcnow
from app.errors import Conflict, PermissionDenied
from app.notifications.models import Notification
from app.portal.models import PortalLink, PortalSession
from app.programs.models import Program
from app.retention import rules
from app.retention.schemas import LegalHoldSet
from app.safety.models import Consent, ContactPreference, SafetyAssessment, SafetyConcern, SafetyPlan

# --- legal hold -------------------------------------------------------------------------------------


def require_program_admin(actor: Actor, case: Case) -> None:
    if not actor.is_admin or actor.program_id != case.program_id:
        raise PermissionDenied("Only an administrator of this case's program can set or clear a legal hold.")


def set_legal_hold(session: Session, *, actor: Actor, case: Case, data: LegalHoldSet) -> Case:
    """Put a case on legal hold: retention will not anonymise it until an admin clears the hold."""
    require_program_admin(actor, case)
    if case.anonymised_at is not None:
        raise Conflict("This case was anonymised under the retention policy; there is nothing left to hold.")
    if case.legal_hold_at is not None:
        raise Conflict("This case is already on legal hold.")
    case.legal_hold_at = utcnow()
    case.legal_hold_reason = data.reason
    case.legal_hold_by_id = actor.user_id
    session.add(case)
    # The reason stays on the case, not in the audit log, which can never be anonymised.
    record_event(
        session, actor=actor, action="case.legal_hold_set", entity_type="case", entity_id=case.id, case_id=case.id
    )
    return case


def clear_legal_hold(session: Session, *, actor: Actor, case: Case) -> Case:
    """Lift a case's legal hold; retention applies to it again."""
    require_program_admin(actor, case)
    if case.legal_hold_at is None:
        raise Conflict("This case is not on legal hold.")
    held_since = case.legal_hold_at
    case.legal_hold_at, case.legal_hold_reason, case.legal_hold_by_id = None, None, None
    session.add(case)
    record_event(
        session,
        actor=actor,
        action="case.legal_hold_cleared",
        entity_type="case",
        entity_id=case.id,
        case_id=case.id,
        detail={"held_since": held_since.isoformat()},
    )
    return case


# --- which cases are due ------------------------------------------------------------------------------


def _local_day(moment: datetime | None, timezone: str) -> date | None:
    return None if moment is None else moment.astimezone(ZoneInfo(timezone)).date()


def case_ended_on(session: Session, *, case: Case, program: Program, today: date) -> date | None:
    """The day the case ended (rules.ended_on), or None while it is open."""
    closure = closure_of(session, case=case)
    sealed = session.exec(
        select(AgreementVersion.sealed_at)
        .join(Agreement, col(Agreement.id) == AgreementVersion.agreement_id)
        .where(Agreement.case_id == case.id, AgreementVersion.status == VersionStatus.sealed)
        .order_by(col(AgreementVersion.number).desc())
    ).first()
    facts = rules.EndFacts(
        closed_on=_local_day(closure.closed_at if closure else None, program.timezone),
        outcome=case_state(session, case=case, today=today),
        sealed_on=_local_day(sealed, program.timezone),
        commitments=tuple(
            (c.kind, c.due_on, c.completed_on, _local_day(c.waived_at, program.timezone))  # type: ignore[misc]
            for c in active_commitments(session, case=case)
        ),
    )
    return rules.ended_on(facts)


@dataclass(frozen=True)
class DueCase:
    case_id: int
    reference: str
    program_id: int
    ended_on: date


@dataclass
class Skipped:
    """Why cases past nothing were left alone, for the command's summary."""

    open: int = 0
    within_retention: int = 0
    legal_hold: int = 0
    anonymised: int = 0


def due_cases(session: Session, *, today: date | None, program_id: int | None = None) -> tuple[list[DueCase], Skipped]:
    """Cases that ended more than their program's retention_years ago, not held, not yet anonymised.
    `today` defaults to each program's own today."""
    programs = session.exec(
        select(Program).where(col(Program.id) == program_id) if program_id is not None else select(Program)
    ).all()
    due, skipped = [], Skipped()
    for program in sorted(programs, key=lambda p: p.id or 0):
        program_today = today or utcnow().astimezone(ZoneInfo(program.timezone)).date()
        cases = session.exec(select(Case).where(Case.program_id == program.id).order_by(col(Case.id))).all()
        for case in cases:
            if case.anonymised_at is not None:
                skipped.anonymised += 1
                continue
            ended = case_ended_on(session, case=case, program=program, today=program_today)
            if ended is None:
                skipped.open += 1
            elif not rules.past_retention(ended, today=program_today, years=program.retention_years):
                skipped.within_retention += 1
            elif case.legal_hold_at is not None:
                skipped.legal_hold += 1
            else:
                due.append(DueCase(case.id, case.reference, program.id, ended))  # type: ignore[arg-type]
    return due, skipped


# --- anonymising one case --------------------------------------------------------------------------


Replacement = Callable[[Any], Any]


def _const(value: Any) -> Replacement:
    return lambda row: value


@dataclass(frozen=True)
class Scrub:
    """Fields of one table to overwrite for a case: the rows are found by `rows(case_id)`."""

    model: type[SQLModel]
    rows: Callable[[int], Any]
    fields: dict[str, Replacement]


def _versions(case_id: int) -> Any:
    return select(AgreementVersion.id).join(Agreement).where(Agreement.case_id == case_id)


def _screening_answers(row: Screening) -> dict:
    instrument = load_instrument(row.instrument_key, row.instrument_version)
    if instrument is None:
        return {}
    return {
        key: value
        for key, value in (row.answers or {}).items()
        if (question := instrument.question(key)) is not None and question.type != "text"
    }


def by_case(model: Any) -> Callable[[int], Any]:
    return lambda case_id: select(model).where(model.case_id == case_id)


def _scrubs(labels: dict[int, str]) -> list[Scrub]:
    none, empty = _const(None), _const("")
    return [
        Scrub(Case, lambda case_id: select(Case).where(Case.id == case_id), {"notes": empty}),
        Scrub(
            Participant,
            by_case(Participant),
            {"display_name": lambda p: labels.get(p.id, "Participant"), "support_needs": empty},
        ),
        Scrub(
            ContactPreference,
            lambda case_id: select(ContactPreference).where(
                col(ContactPreference.participant_id).in_(select(Participant.id).where(Participant.case_id == case_id))
            ),
            {"email": none, "phone": none, "code_word": none},
        ),
        Scrub(
            Screening,
            by_case(Screening),
            {"answers": _screening_answers, "rationale": empty, "override_reason": none},
        ),
        Scrub(Acknowledgement, by_case(Acknowledgement), {"wording": _const(rules.REMOVED)}),
        Scrub(SafetyAssessment, by_case(SafetyAssessment), {"notes": empty}),
        Scrub(SafetyPlan, by_case(SafetyPlan), {"support_person": empty, "exit_plan": empty}),
        Scrub(SafetyConcern, by_case(SafetyConcern), {"description": _const(rules.REMOVED), "review_note": none}),
        Scrub(Consent, by_case(Consent), {"witnessed_by": none, "withdrawal_reason": none}),
        Scrub(
            CaseSession,
            by_case(CaseSession),
            {"location": empty, "room": none, "video_link": none, "status_reason": none, "outcome_note": none},
        ),
        Scrub(
            SessionAttendee,
            lambda case_id: select(SessionAttendee).where(
                col(SessionAttendee.session_id).in_(select(CaseSession.id).where(CaseSession.case_id == case_id))
            ),
            {"waiting_room": none},
        ),
        Scrub(
            AgreementVersion,
            lambda case_id: select(AgreementVersion).where(col(AgreementVersion.id).in_(_versions(case_id))),
            {
                "terms": lambda v: rules.scrub_terms(v.terms or []),
                "canonical_text": _const(rules.REMOVED),
                "change_note": empty,
            },
        ),
        Scrub(
            Review,
            lambda case_id: select(Review).where(col(Review.version_id).in_(_versions(case_id))),
            {"comment": empty},
        ),
        Scrub(
            Signature,
            lambda case_id: select(Signature).where(col(Signature.version_id).in_(_versions(case_id))),
            {
                "typed_name": lambda s: labels.get(s.participant_id, rules.REMOVED),
                "ip_address": none,
                "user_agent": none,
            },
        ),
        Scrub(
            SignatureDecline,
            lambda case_id: select(SignatureDecline).where(col(SignatureDecline.version_id).in_(_versions(case_id))),
            {"reason": empty},
        ),
        Scrub(
            Commitment,
            by_case(Commitment),
            {
                "description": lambda c: rules.commitment_description(c.kind, c.sequence, c.of_count),
                "verification": empty,
            },
        ),
        Scrub(
            ProgressEntry,
            by_case(ProgressEntry),
            {"evidence_reference": empty, "evidence_note": empty, "correction_reason": none},
        ),
        Scrub(Waiver, by_case(Waiver), {"reason": empty}),
        Scrub(CaseClosure, by_case(CaseClosure), {"note": empty}),
        Scrub(
            Notification,
            by_case(Notification),
            {
                "subject": _const(rules.REMOVED),
                "body": empty,
                "attachment_filename": none,
                "attachment_content_type": none,
                "attachment_body": none,
                "last_error": none,
            },
        ),
    ]


def _deletions(case_id: int) -> list[tuple[type[SQLModel], Any]]:
    """Rows removed outright, in foreign-key order: portal sessions and links (so no link opens the
    portal again) and the stored agreement PDFs."""
    return [
        (PortalSession, col(PortalSession.case_id) == case_id),
        (PortalLink, col(PortalLink.case_id) == case_id),
        (AgreementDocument, col(AgreementDocument.version_id).in_(_versions(case_id))),
    ]


@dataclass
class CaseChanges:
    """What anonymising one case changes (or would change, in a dry run)."""

    reference: str
    ended_on: date
    fields: Counter = field(default_factory=Counter)  # "table.column" -> values cleared
    deleted: Counter = field(default_factory=Counter)  # table -> rows deleted
    documents_bytes: int = 0
    kept: dict[str, Any] = field(default_factory=dict)

    @property
    def fields_cleared(self) -> int:
        return sum(self.fields.values())

    @property
    def records_touched(self) -> int:
        return sum(self.deleted.values())


def _kept_counts(session: Session, case_id: int) -> dict[str, Any]:
    roles = Counter(session.exec(select(Participant.role).where(Participant.case_id == case_id)).all())
    return {
        "participants_by_role": {str(role): count for role, count in sorted(roles.items())},
        "sessions": len(session.exec(select(CaseSession.id).where(CaseSession.case_id == case_id)).all()),
        "commitments": len(session.exec(select(Commitment.id).where(Commitment.case_id == case_id)).all()),
        "progress_entries": len(session.exec(select(ProgressEntry.id).where(ProgressEntry.case_id == case_id)).all()),
    }


def anonymise_case(session: Session, *, due: DueCase, apply: bool) -> CaseChanges:
    """Anonymise one case (or, with apply=False, only count what would change). Flushes; the caller
    commits, one transaction per case."""
    case = session.get(Case, due.case_id)
    assert case is not None
    changes = CaseChanges(case.reference, due.ended_on)
    participants = session.exec(select(Participant.id, Participant.role).where(Participant.case_id == case.id)).all()
    labels = rules.participant_labels((pid, str(role)) for pid, role in participants)  # type: ignore[misc]
    for scrub in _scrubs(labels):
        table = scrub.model.__tablename__  # type: ignore[attr-defined]
        for row in session.exec(scrub.rows(case.id)).all():  # type: ignore[arg-type]
            for name, replace in scrub.fields.items():
                new = replace(row)
                if getattr(row, name) != new:
                    changes.fields[f"{table}.{name}"] += 1
                    if apply:
                        setattr(row, name, new)
            if apply:
                session.add(row)
    changes.documents_bytes = sum(
        session.exec(
            select(AgreementDocument.size_bytes).where(col(AgreementDocument.version_id).in_(_versions(case.id)))  # type: ignore[arg-type]
        ).all()
    )
    for model, where in _deletions(case.id):  # type: ignore[arg-type]
        count = len(session.exec(select(model).where(where)).all())
        if count:
            changes.deleted[model.__tablename__] += count  # type: ignore[attr-defined]
        if apply and count:
            session.flush()
            session.execute(delete(model).where(where))
    changes.kept = _kept_counts(session, case.id)  # type: ignore[arg-type]
    if apply:
        case.anonymised_at = utcnow()
        session.add(case)
        session.flush()
        record_event(
            session,
            actor=Actor.system("mend retention", program_id=case.program_id),
            action="case.anonymised",
            entity_type="case",
            entity_id=case.id,
            case_id=case.id,
            detail={
                "ended_on": due.ended_on.isoformat(),
                "fields_cleared": changes.fields_cleared,
                "records_deleted": dict(sorted(changes.deleted.items())),
                "kept": changes.kept,
            },
        )
    return changes


def run_retention(
    bind: Engine | Connection, *, dry_run: bool, today: date | None = None, program_id: int | None = None
) -> Iterator[CaseChanges | Skipped]:
    """Find the cases due and anonymise each in its own transaction (or only report them, in a dry run).
    Yields each case's changes as it goes, then the summary of the cases left alone."""

    def new_session() -> Session:
        return Session(bind=bind, join_transaction_mode="create_savepoint", expire_on_commit=False)

    with new_session() as session:
        due, skipped = due_cases(session, today=today, program_id=program_id)
    for item in due:
        with new_session() as session:
            # Locked and re-checked in the case's own transaction: a hold set meanwhile still wins.
            case = session.exec(select(Case).where(Case.id == item.case_id).with_for_update()).one()
            if case.legal_hold_at is not None or case.anonymised_at is not None:
                skipped.legal_hold += case.legal_hold_at is not None
                skipped.anonymised += case.anonymised_at is not None
                continue
            changes = anonymise_case(session, due=item, apply=not dry_run)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        yield changes
    yield skipped
