"""Reads shaped for the case pages, the API and reports; always scoped to the actor's program."""

from dataclasses import dataclass
from datetime import timedelta
from math import ceil

from sqlalchemy import ColumnElement, exists, func, or_
from sqlmodel import Session, col, select

from app.actor import Actor
from app.agreements.models import Agreement, AgreementVersion, Commitment, CommitmentKind
from app.auth.models import User, UserRole
from app.conferences.flags import CaseFlag, Flag, derive_flags
from app.conferences.models import (
    Acknowledgement,
    Case,
    CaseClosure,
    CaseFacilitator,
    CaseSession,
    HarmType,
    Participant,
    ParticipantRole,
    Screening,
    ScreeningOutcome,
    SessionKind,
    SessionStatus,
)
from app.conferences.rules import (
    AcknowledgementFact,
    AgreementFact,
    AssessmentFact,
    CaseFacts,
    CommitmentFact,
    ConcernFact,
    Journey,
    ParticipantFact,
    ScreeningFact,
    SessionFact,
    derive_journey,
)
from app.db import utcnow
from app.programs.models import Program
from app.safety.models import Consent, ConsentScope, RiskLevel, SafetyAssessment, SafetyConcern, SafetyPlan
from app.safety.rules import ConsentFact

PAGE_SIZE = 25


def visible_cases(actor: Actor):  # type: ignore[no-untyped-def]
    """The select of cases this actor may see: their program's, and for facilitators only their own."""
    query = select(Case).where(Case.program_id == actor.program_id)
    if actor.role == UserRole.facilitator:
        query = query.where(
            exists().where(CaseFacilitator.case_id == Case.id, CaseFacilitator.user_id == actor.user_id)
        )
    return query


def get_visible_case(session: Session, *, actor: Actor, case_id: int) -> Case | None:
    return session.exec(visible_cases(actor).where(Case.id == case_id)).first()


def facts_for_cases(session: Session, *, cases: list[Case]) -> dict[int, CaseFacts]:
    """Every record the journey and gates need, for a batch of cases, in a fixed number of queries."""
    ids = [c.id for c in cases]
    if not ids:
        return {}
    program = session.get(Program, cases[0].program_id)
    assert program is not None
    participants = participants_of(session, case_ids=ids)  # type: ignore[arg-type]
    by_case: dict[int, dict[str, list]] = {i: {k: [] for k in ("s", "a", "sa", "c", "sc", "ss")} for i in ids}  # type: ignore[misc]
    for row in session.exec(select(Screening).where(col(Screening.case_id).in_(ids))).all():
        by_case[row.case_id]["s"].append(
            ScreeningFact(row.participant_id, ScreeningOutcome(row.outcome), row.completed_at)
        )
    for row in session.exec(select(Acknowledgement).where(col(Acknowledgement.case_id).in_(ids))).all():
        by_case[row.case_id]["a"].append(AcknowledgementFact(row.participant_id, row.acknowledged_at))
    for row in session.exec(select(SafetyAssessment).where(col(SafetyAssessment.case_id).in_(ids))).all():
        by_case[row.case_id]["sa"].append(AssessmentFact(row.participant_id, RiskLevel(row.level), row.assessed_at))
    for row in session.exec(select(Consent).where(col(Consent.case_id).in_(ids))).all():
        by_case[row.case_id]["c"].append(
            ConsentFact(row.participant_id, ConsentScope(row.scope), row.given_at, row.withdrawn_at)
        )
    for row in session.exec(select(SafetyConcern).where(col(SafetyConcern.case_id).in_(ids))).all():
        by_case[row.case_id]["sc"].append(
            ConcernFact(row.id, row.urgent, row.reviewed_at is not None, row.raised_at, row.reviewed_at)  # type: ignore[arg-type]
        )
    for row in session.exec(select(CaseSession).where(col(CaseSession.case_id).in_(ids))).all():
        by_case[row.case_id]["ss"].append(SessionFact(SessionKind(row.kind), SessionStatus(row.status), row.starts_at))
    plan_since = dict(
        session.exec(
            select(SafetyPlan.case_id, func.min(SafetyPlan.created_at))
            .where(col(SafetyPlan.case_id).in_(ids))
            .group_by(col(SafetyPlan.case_id))
        ).all()
    )
    agreements = _agreement_facts(session, case_ids=ids)  # type: ignore[arg-type]
    commitments: dict[int, list[CommitmentFact]] = {i: [] for i in ids}  # type: ignore[misc]
    for row in session.exec(
        select(Commitment).where(col(Commitment.case_id).in_(ids), col(Commitment.superseded_at).is_(None))
    ).all():
        commitments[row.case_id].append(
            CommitmentFact(
                CommitmentKind(row.kind), row.due_on, row.completed_on, row.breached_on, row.waived_at is not None
            )
        )
    closures = dict(
        session.exec(select(CaseClosure.case_id, CaseClosure.reason).where(col(CaseClosure.case_id).in_(ids))).all()
    )
    now = utcnow()
    return {
        case.id: CaseFacts(  # type: ignore[misc]
            case_id=case.id,  # type: ignore[arg-type]
            now=now,
            participants=tuple(
                ParticipantFact(p.id, ParticipantRole(p.role), p.display_name, p.interpreter_needed)  # type: ignore[arg-type]
                for p in participants[case.id]  # type: ignore[index]
            ),
            screenings=tuple(by_case[case.id]["s"]),  # type: ignore[index]
            acknowledgements=tuple(by_case[case.id]["a"]),  # type: ignore[index]
            assessments=tuple(by_case[case.id]["sa"]),  # type: ignore[index]
            has_safety_plan=case.id in plan_since,
            safety_plan_since=plan_since.get(case.id),
            consents=tuple(by_case[case.id]["c"]),  # type: ignore[index]
            concerns=tuple(by_case[case.id]["sc"]),  # type: ignore[index]
            sessions=tuple(by_case[case.id]["ss"]),  # type: ignore[index]
            screening_validity_days=program.screening_validity_days,
            safety_plan_required_at_medium=program.safety_plan_required_at_medium,
            agreement=agreements.get(case.id),  # type: ignore[arg-type]
            commitments=tuple(commitments[case.id]),  # type: ignore[index]
            closure_reason=closures.get(case.id),
            timezone=program.timezone,
        )
        for case in cases
    }


def _agreement_facts(session: Session, *, case_ids: list[int]) -> dict[int, AgreementFact]:
    """Each case's agreement: the status of its latest version, and whether any version was sealed."""
    latest: dict[int, tuple[int, str]] = {}
    sealed: set[int] = set()
    for case_id, number, status, sealed_at in session.exec(
        select(Agreement.case_id, AgreementVersion.number, AgreementVersion.status, AgreementVersion.sealed_at)
        .join(AgreementVersion, col(AgreementVersion.agreement_id) == Agreement.id)
        .where(col(Agreement.case_id).in_(case_ids))
    ).all():
        if case_id not in latest or number > latest[case_id][0]:
            latest[case_id] = (number, str(status))
        if sealed_at is not None:
            sealed.add(case_id)
    return {case_id: AgreementFact(status, case_id in sealed) for case_id, (_, status) in latest.items()}


def case_facts(session: Session, *, case: Case) -> CaseFacts:
    return facts_for_cases(session, cases=[case])[case.id]  # type: ignore[index]


def participants_of(session: Session, *, case_ids: list[int]) -> dict[int, list[Participant]]:
    by_case: dict[int, list[Participant]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        rows = session.exec(
            select(Participant).where(col(Participant.case_id).in_(case_ids)).order_by(col(Participant.id))
        ).all()
        for participant in rows:
            by_case[participant.case_id].append(participant)
    return by_case


def facilitators_of(session: Session, *, case_ids: list[int]) -> dict[int, list[User]]:
    by_case: dict[int, list[User]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        rows = session.exec(
            select(CaseFacilitator.case_id, User)
            .join(User, col(User.id) == CaseFacilitator.user_id)
            .where(col(CaseFacilitator.case_id).in_(case_ids))
            .order_by(col(User.full_name))
        ).all()
        for case_id, user in rows:
            by_case[case_id].append(user)
    return by_case


@dataclass(frozen=True)
class CaseRow:
    case: Case
    journey: Journey
    facilitators: list[User]
    participants: list[Participant]
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class CaseListPage:
    rows: list[CaseRow]
    total: int
    page: int
    pages: int
    page_size: int


def sees_confidential(actor: Actor) -> bool:
    """Whether flags may name confidential matters: not for program staff (case summary only)."""
    return actor.role != UserRole.staff


def _flag_prefilter(flag: CaseFlag) -> ColumnElement[bool]:
    """A necessary condition for `flag`, in SQL: it narrows the cases `derive_flags` then decides on."""
    withdrawn = exists().where(Consent.case_id == Case.id, col(Consent.withdrawn_at).is_not(None))
    open_urgent = exists().where(
        SafetyConcern.case_id == Case.id, col(SafetyConcern.urgent).is_(True), col(SafetyConcern.reviewed_at).is_(None)
    )
    critical = exists().where(SafetyAssessment.case_id == Case.id, SafetyAssessment.level == RiskLevel.critical)
    if flag == CaseFlag.changes_requested:
        return exists().where(
            Agreement.case_id == Case.id,
            AgreementVersion.agreement_id == Agreement.id,
            AgreementVersion.status == "changes_requested",
        )
    if flag == CaseFlag.consent_withdrawn:
        return withdrawn
    if flag == CaseFlag.safety_concern:
        return open_urgent
    if flag == CaseFlag.paused:
        return or_(withdrawn, open_urgent, critical)
    # Overdue is judged on the program's local date, never more than a day past the UTC one.
    return exists().where(
        Commitment.case_id == Case.id,
        col(Commitment.superseded_at).is_(None),
        col(Commitment.waived_at).is_(None),
        col(Commitment.completed_on).is_(None),
        Commitment.kind != CommitmentKind.no_contact,
        col(Commitment.due_on) <= (utcnow() + timedelta(days=1)).date(),
    )


def list_cases(
    session: Session,
    *,
    actor: Actor,
    search: str | None = None,
    harm_type: HarmType | None = None,
    facilitator_id: int | None = None,
    flag: CaseFlag | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> CaseListPage:
    """One page of the cases the actor may see, newest first, in a fixed number of queries.

    A flag filter narrows the cases in SQL, then keeps those `derive_flags` gives that flag to the
    actor (staff never match a flag they may not see)."""
    confidential = sees_confidential(actor)
    query = visible_cases(actor)
    if search:
        term = f"%{search.strip().lower()}%"
        matches = [func.lower(Case.reference).like(term)]
        if actor.role != UserRole.staff:  # staff may not search by participants' names
            matches.append(
                exists().where(Participant.case_id == Case.id, func.lower(Participant.display_name).like(term))
            )
        query = query.where(or_(*matches))
    if harm_type is not None:
        query = query.where(Case.harm_type == harm_type)
    if facilitator_id is not None:
        query = query.where(
            exists().where(CaseFacilitator.case_id == Case.id, CaseFacilitator.user_id == facilitator_id)
        )
    ordered = (col(Case.created_at).desc(), col(Case.id).desc())
    if flag is not None:
        candidates = list(session.exec(query.where(_flag_prefilter(flag)).order_by(*ordered)).all())
        facts = facts_for_cases(session, cases=candidates)
        flags = {c.id: derive_flags(facts[c.id], confidential=confidential) for c in candidates}  # type: ignore[index]
        matched = [c for c in candidates if any(f.code == flag for f in flags[c.id])]
        total = len(matched)
        pages = max(1, ceil(total / page_size))
        page = min(max(1, page), pages)
        cases = matched[(page - 1) * page_size : page * page_size]
    else:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        pages = max(1, ceil(total / page_size))
        page = min(max(1, page), pages)
        cases = list(session.exec(query.order_by(*ordered).offset((page - 1) * page_size).limit(page_size)).all())
        facts = facts_for_cases(session, cases=cases)
    ids = [c.id for c in cases]
    participants = participants_of(session, case_ids=ids)  # type: ignore[arg-type]
    facilitators = facilitators_of(session, case_ids=ids)  # type: ignore[arg-type]
    rows = [
        CaseRow(
            c,
            derive_journey(facts[c.id]),  # type: ignore[index]
            facilitators[c.id],  # type: ignore[index]
            participants[c.id],  # type: ignore[index]
            derive_flags(facts[c.id], confidential=confidential),  # type: ignore[index]
        )
        for c in cases
    ]
    return CaseListPage(rows, total, page, pages, page_size)


def case_row(session: Session, *, case: Case, confidential: bool = False) -> CaseRow:
    """The case with its journey; its flags as `confidential` readers (not staff) or as staff see them."""
    participants = participants_of(session, case_ids=[case.id])[case.id]  # type: ignore[list-item,index]
    facilitators = facilitators_of(session, case_ids=[case.id])[case.id]  # type: ignore[list-item,index]
    facts = case_facts(session, case=case)
    return CaseRow(
        case, derive_journey(facts), facilitators, participants, derive_flags(facts, confidential=confidential)
    )


def program_facilitators(session: Session, *, program_id: int) -> list[User]:
    return list(
        session.exec(
            select(User)
            .where(
                User.program_id == program_id,
                col(User.role).in_([UserRole.facilitator, UserRole.admin]),
                col(User.is_active).is_(True),
            )
            .order_by(col(User.full_name))
        ).all()
    )
