"""Load-or-404 for agreement versions and the participants named in requests, scoped to the case.

Who reads what: administrators and the case's facilitators read every version; program staff read the
versions that were sealed (any other is 403); another program's case, or a facilitator's case they are
not assigned to, is 404 (VisibleCase). Writes go through DetailCase, which refuses staff with 403.
"""

from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.actor import Actor
from app.agreements import queries
from app.agreements.models import AgreementVersion
from app.auth.dependencies import ActorDep
from app.conferences.dependencies import DetailCase, VisibleCase
from app.conferences.models import Case, Participant
from app.db import RecordId, SessionDep
from app.errors import NotFound, PermissionDenied

STAFF_REFUSAL = "Program staff can read an agreement once it is signed and sealed."


def require_readable(actor: Actor, version: AgreementVersion) -> AgreementVersion:
    """Staff may read a version only if it was sealed."""
    if queries.reads_sealed_only(actor) and version.sealed_at is None:
        raise PermissionDenied(STAFF_REFUSAL)
    return version


def readable_version(session: Session, *, case: Case, actor: Actor, number: int) -> AgreementVersion:
    """Version `number` of the case's agreement if this actor may read it: 404 when there is none, 403 for
    staff when it was never sealed."""
    version = queries.get_version(session, case=case, number=number)
    if version is None:
        raise NotFound("No such agreement version.")
    return require_readable(actor, version)


def _readable_version(number: RecordId, case: VisibleCase, actor: ActorDep, session: SessionDep) -> AgreementVersion:
    return readable_version(session, case=case, actor=actor, number=number)


ReadableVersion = Annotated[AgreementVersion, Depends(_readable_version, scope="function")]


def _writable_version(number: RecordId, case: DetailCase, session: SessionDep) -> AgreementVersion:
    version = queries.get_version(session, case=case, number=number)
    if version is None:
        raise NotFound("No such agreement version.")
    return version


WritableVersion = Annotated[AgreementVersion, Depends(_writable_version, scope="function")]


def readable_versions(session: Session, *, case: Case, actor: Actor) -> list[AgreementVersion]:
    """The versions this actor may read, newest first; staff with nothing sealed to read get 403."""
    versions = queries.versions_of(session, case=case, actor=actor)
    if not versions and queries.reads_sealed_only(actor):
        raise PermissionDenied(STAFF_REFUSAL)
    return versions


def party_of_case(session: Session, *, case: Case, participant_id: int | None) -> Participant | None:
    """The participant named in a request, which must be of this case (another case's is 404)."""
    if participant_id is None:
        return None
    participant = queries.case_participant(session, case=case, participant_id=participant_id)
    if participant is None:
        raise NotFound("No such participant in this case.")
    return participant
