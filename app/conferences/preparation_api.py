"""JSON API: readiness screening instruments, screenings and acknowledgements of the basic facts."""

from fastapi import APIRouter, Depends, status

from app.auth.dependencies import ActorDep
from app.conferences import preparation
from app.conferences.dependencies import CaseParticipant
from app.conferences.instruments import current_instrument
from app.conferences.models import ParticipantRole
from app.conferences.preparation import AcknowledgementRow, ScreeningRow, ScreeningView
from app.conferences.preparation_schemas import (
    AcknowledgementCreate,
    AcknowledgementPublic,
    InstrumentPublic,
    ScreeningCreate,
    ScreeningDetail,
    ScreeningPublic,
    instrument_public,
    rule_public,
)
from app.conferences.schemas import FacilitatorPublic
from app.db import RecordId, SessionDep
from app.errors import NotFound
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["preparation"], dependencies=[Depends(verify_csrf)])
SCREENINGS = "/cases/{case_id}/participants/{participant_id}/screenings"
ACKNOWLEDGEMENTS = "/cases/{case_id}/participants/{participant_id}/acknowledgements"


def _person(user) -> FacilitatorPublic:  # type: ignore[no-untyped-def]
    return FacilitatorPublic(id=user.id, full_name=user.full_name) if user else FacilitatorPublic(id=0, full_name="")


def screening_public(row: ScreeningRow) -> ScreeningPublic:
    s = row.screening
    return ScreeningPublic(
        id=s.id,  # type: ignore[arg-type]
        case_id=s.case_id,
        participant_id=s.participant_id,
        instrument_key=s.instrument_key,
        instrument_version=s.instrument_version,
        suggested_outcome=s.suggested_outcome,
        outcome=s.outcome,
        overridden=row.overridden,
        override_reason=s.override_reason,
        rationale=s.rationale,
        screened_by=_person(row.screened_by),
        completed_at=s.completed_at,
        valid_until=row.validity.valid_until,
        expired=row.validity.expired,
        current=row.current,
    )


def screening_detail(view: ScreeningView) -> ScreeningDetail:
    return ScreeningDetail(
        **screening_public(view.row).model_dump(),
        answers=dict(view.row.screening.answers or {}),
        fired_rules=[rule_public(r) for r in view.fired],
    )


def acknowledgement_public(row: AcknowledgementRow) -> AcknowledgementPublic:
    a = row.acknowledgement
    return AcknowledgementPublic(
        id=a.id,  # type: ignore[arg-type]
        case_id=a.case_id,
        participant_id=a.participant_id,
        wording=a.wording,
        method=a.method,
        acknowledged_at=a.acknowledged_at,
        recorded_by=_person(row.recorded_by),
        recorded_at=a.recorded_at,
    )


@router.get("/instruments/{role}", response_model=InstrumentPublic)
def read_instrument(role: ParticipantRole, actor: ActorDep) -> InstrumentPublic:
    """The current screening instrument for a role, with the rules that suggest the outcome."""
    instrument = current_instrument(role)
    if instrument is None:
        raise NotFound("Only survivors and responsible parties are screened; there is no instrument for this role.")
    return instrument_public(instrument)


NOT_SCREENED = {409: {"description": "Only the survivor and the responsible party are screened (role_not_screened)."}}


@router.get(SCREENINGS, response_model=list[ScreeningPublic], responses=NOT_SCREENED)
def list_screenings(participant: CaseParticipant, session: SessionDep, actor: ActorDep) -> list[ScreeningPublic]:
    """The participant's screenings, newest first, without their answers."""
    return [screening_public(r) for r in preparation.list_screenings(session, actor=actor, participant=participant)]


@router.post(SCREENINGS, response_model=ScreeningDetail, status_code=status.HTTP_201_CREATED)
def record_screening(
    data: ScreeningCreate, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> ScreeningDetail:
    """Record a screening. Choosing an outcome other than the suggested one needs `override_reason`;
    "ready" is refused (409) when a hard rule fired, such as `coercion_blocks_ready`."""
    screening = preparation.record_screening(
        session,
        actor=actor,
        participant=participant,
        answers=data.answers,
        outcome=data.outcome,
        override_reason=data.override_reason,
        rationale=data.rationale,
    )
    return screening_detail(preparation.screening_view(session, participant=participant, screening_id=screening.id))  # type: ignore[arg-type]


@router.get(SCREENINGS + "/{screening_id}", response_model=ScreeningDetail)
def read_screening(
    screening_id: RecordId, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> ScreeningDetail:
    """One screening with its answers and the rules they fired. Confidential: the read is audited."""
    return screening_detail(
        preparation.read_screening(session, actor=actor, participant=participant, screening_id=screening_id)
    )


@router.get(
    ACKNOWLEDGEMENTS,
    response_model=list[AcknowledgementPublic],
    responses={409: {"description": "Only the responsible party acknowledges the facts (not_responsible_party)."}},
)
def list_acknowledgements(
    participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> list[AcknowledgementPublic]:
    """The responsible party's acknowledgements of the basic facts, newest first."""
    rows = preparation.list_acknowledgements(session, actor=actor, participant=participant)
    return [acknowledgement_public(r) for r in rows]


@router.post(ACKNOWLEDGEMENTS, response_model=AcknowledgementPublic, status_code=status.HTTP_201_CREATED)
def record_acknowledgement(
    data: AcknowledgementCreate, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> AcknowledgementPublic:
    """Record the responsible party's acknowledgement of the basic facts: wording, method and when."""
    ack = preparation.record_acknowledgement(session, actor=actor, participant=participant, **data.model_dump())
    return acknowledgement_public(preparation.acknowledgement_row(session, acknowledgement=ack))
