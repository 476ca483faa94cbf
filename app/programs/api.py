"""JSON API: the signed-in user's program."""

from fastapi import APIRouter, Depends

from app.auth.dependencies import ActorDep, AdminDep
from app.auth.service import get_program
from app.db import SessionDep
from app.programs.schemas import ProgramPublic, ProgramUpdate
from app.programs.service import update_program
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["program"], dependencies=[Depends(verify_csrf)])


@router.get("/program", response_model=ProgramPublic)
def read_program(session: SessionDep, actor: ActorDep) -> ProgramPublic:
    """Your program and its settings."""
    return ProgramPublic.model_validate(get_program(session, actor.program_id))  # type: ignore[arg-type]


@router.patch("/program", response_model=ProgramPublic)
def change_program(data: ProgramUpdate, session: SessionDep, actor: AdminDep) -> ProgramPublic:
    """Change your program's settings (admins)."""
    program = get_program(session, actor.program_id)  # type: ignore[arg-type]
    return ProgramPublic.model_validate(update_program(session, actor=actor, program=program, data=data))
