"""A program's own audit checkpoint: its admins download the signed head of their chain and keep it
outside Mend; given back later, it shows whether the log was cut back or rewritten since."""

import json
from typing import Any

from sqlmodel import Session

from app.actor import Actor
from app.audit.service import VerifyReport, record_event, take_checkpoint, verify_chains
from app.errors import InvalidInput, PermissionDenied
from app.i18n import N_

NOT_A_CHECKPOINT = N_("Choose a checkpoint file downloaded from this page. This file is not one.")
OTHER_PROGRAM = N_("This checkpoint is of another program's log. Choose one downloaded by your program.")


def _admin_program(actor: Actor) -> int:
    if not actor.is_admin or actor.program_id is None:
        raise PermissionDenied("Only an administrator can take or check the audit log's checkpoints.")
    return actor.program_id


def program_checkpoint(session: Session, *, actor: Actor) -> dict[str, Any]:
    """Record the download, then sign the program chain's head: the checkpoint covers its own taking."""
    program_id = _admin_program(actor)
    record_event(session, actor=actor, action="audit.checkpoint_taken", entity_type="audit", program_id=program_id)
    session.flush()
    return take_checkpoint(session, chain_key=program_id)


def parse_checkpoint(content: bytes) -> dict[str, Any]:
    """A checkpoint file's contents, or a field error saying what to choose instead."""
    try:
        checkpoint = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        checkpoint = None
    chains = checkpoint.get("chains") if isinstance(checkpoint, dict) else None
    if not isinstance(chains, dict) or not all(
        isinstance(head, dict)
        and isinstance(head.get("seq"), int)
        and isinstance(head.get("hash"), str)
        and str(key).isdigit()
        for key, head in chains.items()
    ):
        raise InvalidInput(NOT_A_CHECKPOINT, field_errors={"checkpoint": NOT_A_CHECKPOINT})
    return checkpoint  # type: ignore[return-value]


def check_program_checkpoint(session: Session, *, actor: Actor, checkpoint: dict[str, Any]) -> VerifyReport:
    """Walk the program's chain and compare it with a checkpoint of that chain (refusing any other)."""
    program_id = _admin_program(actor)
    if set(checkpoint["chains"]) != {str(program_id)}:
        raise InvalidInput(OTHER_PROGRAM, field_errors={"checkpoint": OTHER_PROGRAM})
    report = verify_chains(session, chain_key=program_id, checkpoints=[checkpoint])
    record_event(
        session,
        actor=actor,
        action="audit.checkpoint_checked",
        entity_type="audit",
        program_id=program_id,
        detail={"intact": report.ok},
    )
    return report
