"""Load-or-404 for safety records, scoped to a case the actor may read in detail."""

from typing import Annotated

from fastapi import Depends

from app.conferences.dependencies import DetailCase
from app.db import RecordId, SessionDep
from app.errors import NotFound
from app.safety import queries
from app.safety.models import SafetyConcern


def _concern(concern_id: RecordId, case: DetailCase, session: SessionDep) -> SafetyConcern:
    concern = queries.get_concern(session, case=case, concern_id=concern_id)
    if concern is None:
        raise NotFound("No such safety concern.")
    return concern


CaseConcern = Annotated[SafetyConcern, Depends(_concern, scope="function")]
