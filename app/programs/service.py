"""Creating programs and changing their settings."""

from sqlmodel import Session

from app.actor import Actor
from app.audit.service import ensure_chain, record_event
from app.errors import PermissionDenied
from app.programs.models import Program
from app.programs.schemas import ProgramCreate, ProgramUpdate


def create_program(session: Session, *, actor: Actor, data: ProgramCreate) -> Program:
    """Create a program (a tenant) and start its audit chain."""
    program = Program(name=data.name.strip(), timezone=data.timezone)
    session.add(program)
    session.flush()
    assert program.id is not None
    ensure_chain(session, program.id)
    record_event(
        session,
        actor=actor,
        action="program.created",
        entity_type="program",
        entity_id=program.id,
        program_id=program.id,
        detail={"name": program.name, "timezone": program.timezone},
    )
    return program


def update_program(session: Session, *, actor: Actor, program: Program, data: ProgramUpdate) -> Program:
    """Change a program's settings; admins only."""
    if not actor.is_admin or actor.program_id != program.id:
        raise PermissionDenied("Only an administrator of this program can change its settings.")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        setattr(program, name, value)
    session.add(program)
    record_event(
        session,
        actor=actor,
        action="program.updated",
        entity_type="program",
        entity_id=program.id,
        detail={"changed": changes},
    )
    return program
