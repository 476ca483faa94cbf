"""JSON API for the portal: the person's own commitments and progress, and a survivor's waiver answers.

`GET /api/v1/portal/commitments` answers 200 with the same data as the page. A survivor who has not said
yes to progress news (or said stop) is not refused: the answer is `visible: false` with the reason code
`progress_not_shared` and no commitments, because not wanting news is their choice, not an error, and the
waivers they were asked about must still reach them. Someone who is neither the survivor nor the
responsible party gets `visible: false`, reason `not_a_party`.

`POST /api/v1/portal/waivers/{waiver_id}/answer` records the survivor's answer. A waiver that is not
theirs (another person's, another case's) is 404; one already answered is a 409 problem with the
condition `already_answered` (or `case_closed`, `commitment_superseded`).
"""

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from app.agreements import commitment_service
from app.agreements.commitment_rules import CommitmentStatus
from app.agreements.commitment_schemas import WaiverAnswer
from app.agreements.models import CommitmentKind, ProgressKind, WaiverStatus
from app.db import RecordId, SessionDep
from app.portal.commitment_queries import Audience, HiddenReason, OwnCommitment, PortalFollowUp, own_waiver
from app.portal.commitment_queries import portal_follow_up as follow_up_of
from app.portal.dependencies import Portal, PortalDep, verify_portal_csrf
from app.portal.text import (
    CASE_STATE_WORDS,
    COMMITMENT_KIND_WORDS,
    HOW_TO_SEE_PROGRESS,
    NOTHING_FOR_YOU,
    PROGRESS_NOT_SHARED,
    PROGRESS_WORDS,
    WAIVER_AGREED,
    WAIVER_KEPT,
    Translate,
    amount_words,
    status_words,
    translator,
)
from app.web import verify_csrf

router = APIRouter(
    prefix="/api/v1/portal", tags=["portal"], dependencies=[Depends(verify_csrf), Depends(verify_portal_csrf)]
)


class PortalProgress(BaseModel):
    id: int
    occurred_on: date
    kind: ProgressKind
    what: str = Field(description="What was done, in the person's language.")
    amount_text: str | None
    evidence_reference: str | None = Field(description="The responsible party's own receipt or log reference.")
    corrected: bool = Field(description="A correction took this back: it does not count.")


class PortalCommitment(BaseModel):
    id: int
    kind: CommitmentKind
    kind_text: str
    description: str = Field(
        description="The agreement's own words, in the person's language where the signed text holds it."
    )
    due_on: date | None
    status: CommitmentStatus
    status_text: str
    owed_by_you: bool
    amount_text: str | None = Field(description="How much is owed: an amount, hours or sessions.")
    done_text: str | None = Field(description="How much of it is recorded so far.")
    progress: list[PortalProgress]


class PortalWaiverQuestion(BaseModel):
    id: int
    commitment_id: int
    commitment: str = Field(
        description="The commitment's description: the agreement's own words, in the person's language where "
        "the signed text holds it."
    )
    reason: str = Field(description="Why the facilitator asks.")
    asked_at: datetime
    answer_url: str


class PortalCommitments(BaseModel):
    visible: bool = Field(description="False when there is nothing this person may see; `reason` says why.")
    reason: HiddenReason | None
    message: str | None = Field(description="The reason, or the case's follow-up state, in plain words.")
    audience: Audience
    state: Literal["no_agreement", "monitoring", "completed", "closed"] | None
    today: date
    commitments: list[PortalCommitment]
    waivers: list[PortalWaiverQuestion] = Field(description="Questions waiting for the survivor's answer.")


class PortalWaiverAnswered(BaseModel):
    id: int
    commitment_id: int
    status: WaiverStatus
    commitment_status: CommitmentStatus
    message: str


def _commitment(item: OwnCommitment, language: str, _: Translate) -> PortalCommitment:
    total = amount_words(item.kind, item.quantity, item.currency, language)
    return PortalCommitment(
        id=item.id,
        kind=item.kind,
        kind_text=_(COMMITMENT_KIND_WORDS[item.kind]),
        description=item.description,
        due_on=item.due_on,
        status=item.status,
        status_text=_(status_words(item.kind, item.status)),
        owed_by_you=item.owed_by_viewer,
        amount_text=total,
        done_text=amount_words(item.kind, item.done, item.currency, language) if total else None,
        progress=[
            PortalProgress(
                id=entry.id,
                occurred_on=entry.occurred_on,
                kind=entry.kind,
                what=_(PROGRESS_WORDS[entry.kind]),
                amount_text=amount_words(item.kind, entry.amount, item.currency, language),
                evidence_reference=entry.evidence_reference,
                corrected=entry.corrected,
            )
            for entry in item.entries
        ],
    )


def commitments_public(follow: PortalFollowUp, portal: Portal) -> PortalCommitments:
    """The follow-up as the API shows it to this person, with the fixed words in their language."""
    _ = translator(portal.language)
    if follow.hidden == HiddenReason.progress_not_shared:
        message = f"{_(PROGRESS_NOT_SHARED)} {_(HOW_TO_SEE_PROGRESS)}"
    elif follow.hidden is not None:
        message = _(NOTHING_FOR_YOU)
    else:
        message = _(CASE_STATE_WORDS[follow.state]) if follow.state else None
    return PortalCommitments(
        visible=follow.visible,
        reason=follow.hidden,
        message=message,
        audience=follow.audience,
        state=follow.state,  # type: ignore[arg-type]
        today=follow.today,
        commitments=[_commitment(item, portal.language, _) for item in follow.commitments],
        waivers=[
            PortalWaiverQuestion(
                id=ask.id,
                commitment_id=ask.commitment_id,
                commitment=ask.description,
                reason=ask.reason,
                asked_at=ask.asked_at,
                answer_url=f"/api/v1/portal/waivers/{ask.id}/answer",
            )
            for ask in follow.waivers
        ],
    )


@router.get("/commitments", response_model=PortalCommitments)
def read_commitments(portal: PortalDep, session: SessionDep) -> PortalCommitments:
    """The responsible party's own commitments and progress; the survivor's view of progress (only with their
    consent to progress news, else `visible: false`, reason `progress_not_shared`); waiver questions."""
    return commitments_public(follow_up_of(session, participant=portal.participant), portal)


@router.post("/waivers/{waiver_id}/answer", response_model=PortalWaiverAnswered)
def answer_waiver(
    waiver_id: RecordId, data: WaiverAnswer, portal: PortalDep, session: SessionDep
) -> PortalWaiverAnswered:
    """The survivor agrees (the commitment is waived) or not (it stands; the facilitators are told).
    404 if the question is not theirs; 409 `already_answered` if it was answered before."""
    case, waiver = own_waiver(session, participant=portal.participant, waiver_id=waiver_id)
    waiver = commitment_service.answer_waiver(session, actor=portal.actor, case=case, waiver=waiver, agree=data.agree)
    commitment = commitment_service.get_commitment(session, case=case, commitment_id=waiver.commitment_id)
    assert commitment is not None
    program = commitment_service.program_of(session, case)
    today = commitment_service.today_for(session, case)
    return PortalWaiverAnswered(
        id=waiver.id,  # type: ignore[arg-type]
        commitment_id=waiver.commitment_id,
        status=WaiverStatus(waiver.status),
        commitment_status=commitment_service.status_of(commitment, today=today, due_soon_days=program.due_soon_days),
        message=translator(portal.language)(WAIVER_AGREED if data.agree else WAIVER_KEPT),
    )
