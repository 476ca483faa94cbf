"""Load-or-404 for commitments, progress entries and waivers, always within the case in the path.

Who may do what: reading commitments and recording progress is for administrators, program staff and
the case's facilitators (VisibleCase: another program's case, or a facilitator's unassigned case, is
404); waivers and closure are for administrators and the case's facilitators (DetailCase: staff 403).
"""

from typing import Annotated

from fastapi import Depends
from sqlmodel import select

from app.agreements.commitment_service import get_commitment
from app.agreements.models import Commitment, ProgressEntry, Waiver
from app.conferences.dependencies import VisibleCase
from app.db import RecordId, SessionDep
from app.errors import NotFound


def _commitment(commitment_id: RecordId, case: VisibleCase, session: SessionDep) -> Commitment:
    commitment = get_commitment(session, case=case, commitment_id=commitment_id)
    if commitment is None:
        raise NotFound("No such commitment in this case.")
    return commitment


CaseCommitment = Annotated[Commitment, Depends(_commitment, scope="function")]


def _entry(entry_id: RecordId, case: VisibleCase, session: SessionDep) -> ProgressEntry:
    entry = session.exec(
        select(ProgressEntry).where(ProgressEntry.id == entry_id, ProgressEntry.case_id == case.id)
    ).first()
    if entry is None:
        raise NotFound("No such progress entry in this case.")
    return entry


CaseProgressEntry = Annotated[ProgressEntry, Depends(_entry, scope="function")]


def _waiver(waiver_id: RecordId, case: VisibleCase, session: SessionDep) -> Waiver:
    waiver = session.exec(select(Waiver).where(Waiver.id == waiver_id, Waiver.case_id == case.id)).first()
    if waiver is None:
        raise NotFound("No such waiver in this case.")
    return waiver


CaseWaiver = Annotated[Waiver, Depends(_waiver, scope="function")]
