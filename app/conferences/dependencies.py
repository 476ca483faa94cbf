"""Load-or-404 for cases and participants, scoped to the actor's program and assignment."""

from typing import Annotated

from fastapi import Depends

from app.actor import Actor
from app.auth.dependencies import ActorDep
from app.auth.models import UserRole
from app.conferences import queries
from app.conferences.models import Case, Participant
from app.db import RecordId, SessionDep
from app.errors import NotFound, PermissionDenied


def _visible_case(case_id: RecordId, actor: ActorDep, session: SessionDep) -> Case:
    case = queries.get_visible_case(session, actor=actor, case_id=case_id)
    if case is None:
        raise NotFound("No such case.")
    return case


VisibleCase = Annotated[Case, Depends(_visible_case, scope="function")]


def _case_detail_reader(case: VisibleCase, actor: ActorDep) -> Case:
    """Full case records (notes, participants) are for admins and the case's facilitators."""
    if actor.role == UserRole.staff:
        raise PermissionDenied("Program staff can read the case summary only.")
    return case


DetailCase = Annotated[Case, Depends(_case_detail_reader, scope="function")]


def _participant(participant_id: RecordId, case: DetailCase, session: SessionDep) -> Participant:
    participant = session.get(Participant, participant_id)
    if participant is None or participant.case_id != case.id:
        raise NotFound("No such participant.")
    return participant


CaseParticipant = Annotated[Participant, Depends(_participant, scope="function")]

__all__ = ["Actor", "CaseParticipant", "DetailCase", "VisibleCase"]
