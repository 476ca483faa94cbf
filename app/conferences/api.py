"""JSON API: cases, participants and the case journey."""

from fastapi import APIRouter, Depends, Query, status

from app.auth.dependencies import ActorDep
from app.auth.models import UserRole
from app.conferences import queries, service
from app.conferences.dependencies import CaseParticipant, DetailCase, VisibleCase
from app.conferences.flags import CaseFlag
from app.conferences.models import HarmType
from app.conferences.queries import CaseRow
from app.conferences.rules import Journey
from app.conferences.schemas import (
    CaseCreate,
    CaseDetail,
    CasePage,
    CaseSummary,
    CaseUpdate,
    ConditionPublic,
    FacilitatorPublic,
    FlagPublic,
    JourneyPublic,
    JourneyStepPublic,
    ParticipantCreate,
    ParticipantPublic,
    ParticipantUpdate,
)
from app.db import RecordId, SessionDep
from app.errors import Condition
from app.schemas import PlainText
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["cases"], dependencies=[Depends(verify_csrf)])


def condition_public(condition: Condition) -> ConditionPublic:
    return ConditionPublic(code=condition.code, message=condition.message, participant_id=condition.participant_id)


def journey_public(journey: Journey) -> JourneyPublic:
    return JourneyPublic(
        stage=journey.stage,
        paused=journey.paused,
        steps=[JourneyStepPublic(step=s.step, label=s.label, state=s.state) for s in journey.steps],
        blockers=[condition_public(c) for c in journey.blockers],
        pauses=[condition_public(c) for c in journey.pauses],
    )


def case_summary(row: CaseRow) -> CaseSummary:
    case = row.case
    return CaseSummary(
        id=case.id,
        reference=case.reference,
        harm_type=case.harm_type,
        referral_source=case.referral_source,  # type: ignore[arg-type]
        created_at=case.created_at,
        stage=row.journey.stage,
        paused=row.journey.paused,
        facilitators=[FacilitatorPublic(id=u.id, full_name=u.full_name) for u in row.facilitators],  # type: ignore[arg-type]
        participant_count=len(row.participants),
        legal_hold=case.legal_hold_at is not None,
        legal_hold_since=case.legal_hold_at,
        anonymised_at=case.anonymised_at,
        flags=[FlagPublic(code=f.code, label=f.label, message=f.message) for f in row.flags],
    )


def case_detail(row: CaseRow) -> CaseDetail:
    return CaseDetail(
        **case_summary(row).model_dump(),
        legal_hold_reason=row.case.legal_hold_reason,
        notes=row.case.notes,
        participants=[ParticipantPublic.model_validate(p) for p in row.participants],
        journey=journey_public(row.journey),
    )


@router.get("/cases", response_model=CasePage)
def list_cases(
    session: SessionDep,
    actor: ActorDep,
    q: PlainText | None = Query(default=None, max_length=100, description="Reference or participant name contains"),
    harm_type: HarmType | None = None,
    facilitator_id: RecordId | None = None,
    flag: CaseFlag | None = Query(default=None, description="Only cases showing this flag to you"),
    page: int = Query(default=1, ge=1, le=100_000),
    page_size: int = Query(default=25, ge=1, le=100),
) -> CasePage:
    """The cases you may see, newest first: all of the program's for admins and staff, your own for facilitators."""
    result = queries.list_cases(
        session,
        actor=actor,
        search=q,
        harm_type=harm_type,
        facilitator_id=facilitator_id,
        flag=flag,
        page=page,
        page_size=page_size,
    )
    return CasePage(
        items=[case_summary(r) for r in result.rows],
        total=result.total,
        page=result.page,
        pages=result.pages,
        page_size=result.page_size,
    )


@router.post("/cases", response_model=CaseDetail, status_code=status.HTTP_201_CREATED)
def open_case(data: CaseCreate, session: SessionDep, actor: ActorDep) -> CaseDetail:
    """Open a case (facilitators and admins). A facilitator who opens it is assigned to it."""
    case = service.open_case(session, actor=actor, data=data)
    return case_detail(queries.case_row(session, case=case, confidential=True))


@router.get("/cases/{case_id}", response_model=CaseDetail | CaseSummary)
def read_case(case: VisibleCase, session: SessionDep, actor: ActorDep) -> CaseDetail | CaseSummary:
    """One case: its full record, or for program staff its summary only."""
    service.record_case_read(session, actor=actor, case=case)
    row = queries.case_row(session, case=case, confidential=queries.sees_confidential(actor))
    return case_summary(row) if actor.role == UserRole.staff else case_detail(row)


@router.patch("/cases/{case_id}", response_model=CaseDetail)
def update_case(data: CaseUpdate, case: DetailCase, session: SessionDep, actor: ActorDep) -> CaseDetail:
    """Change a case's details or assigned facilitators."""
    service.update_case(session, actor=actor, case=case, data=data)
    return case_detail(queries.case_row(session, case=case, confidential=True))


@router.get("/cases/{case_id}/journey", response_model=JourneyPublic)
def read_journey(case: VisibleCase, session: SessionDep, actor: ActorDep) -> JourneyPublic:
    """The case's stage, each journey step's state, and the coded conditions that block the next step."""
    service.record_case_read(session, actor=actor, case=case, what="case.journey")
    return journey_public(queries.case_row(session, case=case).journey)


@router.get("/cases/{case_id}/participants", response_model=list[ParticipantPublic])
def list_participants(case: DetailCase, session: SessionDep, actor: ActorDep) -> list[ParticipantPublic]:
    """The case's participants."""
    service.record_case_read(session, actor=actor, case=case, what="case.participants")
    return [ParticipantPublic.model_validate(p) for p in queries.case_row(session, case=case).participants]


@router.post("/cases/{case_id}/participants", response_model=ParticipantPublic, status_code=status.HTTP_201_CREATED)
def add_participant(
    data: ParticipantCreate, case: DetailCase, session: SessionDep, actor: ActorDep
) -> ParticipantPublic:
    """Add a participant to the case."""
    return ParticipantPublic.model_validate(service.add_participant(session, actor=actor, case=case, data=data))


@router.get("/cases/{case_id}/participants/{participant_id}", response_model=ParticipantPublic)
def read_participant(
    participant: CaseParticipant, case: DetailCase, session: SessionDep, actor: ActorDep
) -> ParticipantPublic:
    """One participant of the case."""
    service.record_case_read(session, actor=actor, case=case, what="participant")
    return ParticipantPublic.model_validate(participant)


@router.patch("/cases/{case_id}/participants/{participant_id}", response_model=ParticipantPublic)
def update_participant(
    data: ParticipantUpdate, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> ParticipantPublic:
    """Change a participant's name, language, interpreter need or support needs."""
    return ParticipantPublic.model_validate(
        service.update_participant(session, actor=actor, participant=participant, data=data)
    )
