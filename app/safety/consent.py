"""Informed consent: giving and withdrawing it, per participant and scope (G2). Deletes nothing."""

import re

from sqlmodel import Session, col, select

from app.actor import Actor
from app.audit.service import record_event
from app.conferences.models import Case, Participant
from app.conferences.scheduling import cancel_sessions_of_participant
from app.conferences.service import require_case_writer
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import N_
from app.notifications.service import notify_case_facilitators
from app.safety.models import Consent, ConsentMethod, ConsentScope
from app.safety.rules import PARTICIPATION_SCOPES
from app.safety.sheets import available_languages, load_sheet

_SHEET_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-]{0,19}")

SCOPE_LABELS = {
    ConsentScope.contact: N_("Being contacted by the program"),
    ConsentScope.preparation: N_("Taking part in preparation meetings"),
    ConsentScope.conference: N_("Taking part in the conference"),
    ConsentScope.share_information: N_("Sharing specific information with the other party"),
    ConsentScope.support_person: N_("Having a support person present"),
    ConsentScope.progress_updates: N_("Being told about progress on commitments"),
}


def latest_consents(session: Session, *, participant: Participant) -> dict[ConsentScope, Consent]:
    """The participant's latest consent row per scope (active or withdrawn)."""
    rows = session.exec(
        select(Consent).where(Consent.participant_id == participant.id).order_by(col(Consent.given_at), col(Consent.id))
    ).all()
    return {ConsentScope(row.scope): row for row in rows}


def _require_consent_recorder(actor: Actor, participant: Participant) -> None:
    """The person themselves in the portal, or a facilitator or administrator; nobody else."""
    if actor.kind == "participant":
        if actor.participant_id != participant.id:
            raise NotFound("No such participant.")
        return
    require_case_writer(actor)


def give_consent(
    session: Session,
    *,
    actor: Actor,
    participant: Participant,
    scope: ConsentScope,
    sheet_version: str,
    sheet_language: str,
    method: ConsentMethod,
    witnessed_by: str | None = None,
) -> Consent:
    """Record consent to one scope, with the information sheet shown. Giving it again after withdrawing adds a row."""
    _require_consent_recorder(actor, participant)
    # The version and language name a file: refuse anything that could reach outside the sheets folder.
    if not _SHEET_NAME.fullmatch(sheet_version) or not available_languages(sheet_version):
        message = f"There is no information sheet version {sheet_version}."
        raise InvalidInput(message, field_errors={"sheet_version": message})
    if not _SHEET_NAME.fullmatch(sheet_language) or load_sheet(sheet_version, sheet_language) is None:
        message = f"The information sheet {sheet_version} is not available in this language ({sheet_language})."
        raise InvalidInput(message, field_errors={"sheet_language": message})
    if actor.kind == "participant" and method != ConsentMethod.portal:
        raise InvalidInput("Consent given in the portal is recorded as given in the portal.")
    if actor.kind != "participant" and method == ConsentMethod.portal:
        message = N_("Choose how the person gave you their consent: in person or in writing.")
        raise InvalidInput(message, field_errors={"method": message})
    current = latest_consents(session, participant=participant).get(scope)
    if current is not None and current.withdrawn_at is None:
        raise Conflict(f"{participant.display_name} has already consented to this.")
    consent = Consent(
        program_id=participant.program_id,
        case_id=participant.case_id,
        participant_id=participant.id,  # type: ignore[arg-type]
        scope=scope,
        sheet_version=sheet_version,
        sheet_language=sheet_language,
        method=method,
        witnessed_by=(witnessed_by or "").strip() or None,
        recorded_by_id=actor.user_id,
        given_at=utcnow(),
    )
    session.add(consent)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="consent.given",
        entity_type="consent",
        entity_id=consent.id,
        case_id=participant.case_id,
        program_id=participant.program_id,
        detail={
            "participant_id": participant.id,
            "scope": str(scope),
            "method": str(method),
            "sheet": f"{sheet_version}/{sheet_language}",
        },
    )
    return consent


def withdraw_consent(
    session: Session, *, actor: Actor, participant: Participant, scope: ConsentScope, reason: str | None = None
) -> Consent:
    """Withdraw consent at any time, with no penalty. Withdrawing participation pauses the case at once (G2)."""
    _require_consent_recorder(actor, participant)
    current = latest_consents(session, participant=participant).get(scope)
    if current is None or current.withdrawn_at is not None:
        raise Conflict(f"There is no active consent to withdraw for {SCOPE_LABELS[scope].lower()}.")
    current.withdrawn_at = utcnow()
    current.withdrawn_via = "portal" if actor.kind == "participant" else "facilitator"
    current.withdrawn_by_id = actor.user_id
    current.withdrawal_reason = (reason or "").strip() or None
    session.add(current)
    record_event(
        session,
        actor=actor,
        action="consent.withdrawn",
        entity_type="consent",
        entity_id=current.id,
        case_id=participant.case_id,
        program_id=participant.program_id,
        detail={"participant_id": participant.id, "scope": str(scope), "via": current.withdrawn_via},
    )
    if scope in PARTICIPATION_SCOPES:
        _on_participation_withdrawn(session, actor=actor, participant=participant, scope=scope)
    return current


def _on_participation_withdrawn(
    session: Session, *, actor: Actor, participant: Participant, scope: ConsentScope
) -> None:
    """The case is now paused (derived from this withdrawal): cancel the person's upcoming sessions
    with the reason, and tell the facilitators."""
    cancel_sessions_of_participant(
        session,
        actor=actor,
        participant=participant,
        reason=f"Consent withdrawn ({SCOPE_LABELS[scope].lower()}).",
    )
    case = session.get(Case, participant.case_id)
    assert case is not None
    notify_case_facilitators(
        session,
        case=case,
        kind="consent_withdrawn",
        subject=f"Case {case.reference}: consent withdrawn, case paused",
        body=(
            f"{participant.display_name} withdrew consent ({SCOPE_LABELS[scope].lower()}). The case is paused. "
            "Nothing has been deleted. Contact the person only through the channel they agreed to."
        ),
    )
