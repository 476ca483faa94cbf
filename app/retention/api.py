"""JSON API: a case's legal hold (admins of its program)."""

from fastapi import APIRouter, Depends

from app.auth.dependencies import ActorDep
from app.conferences.dependencies import VisibleCase
from app.conferences.models import Case
from app.db import SessionDep
from app.retention import service
from app.retention.schemas import LegalHoldPublic, LegalHoldSet
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["retention"], dependencies=[Depends(verify_csrf)])


def legal_hold_public(case: Case) -> LegalHoldPublic:
    return LegalHoldPublic(
        case_id=case.id,  # type: ignore[arg-type]
        on_hold=case.legal_hold_at is not None,
        since=case.legal_hold_at,
        reason=case.legal_hold_reason,
        set_by_id=case.legal_hold_by_id,
        anonymised_at=case.anonymised_at,
    )


@router.put("/cases/{case_id}/legal-hold", response_model=LegalHoldPublic)
def set_legal_hold(data: LegalHoldSet, case: VisibleCase, session: SessionDep, actor: ActorDep) -> LegalHoldPublic:
    """Put the case on legal hold, with the reason (admins of its program). Retention then skips it."""
    return legal_hold_public(service.set_legal_hold(session, actor=actor, case=case, data=data))


@router.delete("/cases/{case_id}/legal-hold", response_model=LegalHoldPublic)
def clear_legal_hold(case: VisibleCase, session: SessionDep, actor: ActorDep) -> LegalHoldPublic:
    """Clear the case's legal hold (admins of its program)."""
    return legal_hold_public(service.clear_legal_hold(session, actor=actor, case=case))
