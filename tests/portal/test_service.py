"""Portal services: links that are random, hashed, single use, short-lived and revocable; portal
sessions limited to one participant; consent given and withdrawn by the person themselves."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Case, Participant, ParticipantRole
from app.conferences.queries import case_facts
from app.conferences.rules import derive_journey
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.notifications.models import Notification
from app.portal import service
from app.portal.models import PortalLink, PortalSession
from app.portal.schemas import PortalConsentGive, PortalConsentWithdraw
from app.programs.models import Program
from app.safety.models import Consent, ConsentMethod, ConsentScope
from app.security import token_digest
from tests.factories import make_case, make_participant
from tests.portal.conftest import token_of


def _open(db: Session, url: str, *, replacing: str | None = None) -> service.PortalEntry:
    return service.open_portal_link(
        db, token=token_of(url), request_id="req-test-1", ip_address="203.0.113.9", replacing=replacing
    )


def _issue(db: Session, by: User, participant: Participant) -> service.IssuedLink:
    return service.issue_portal_link(db, actor=actor_for(by), participant=participant)


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _actor(db: Session, entry: service.PortalEntry):  # type: ignore[no-untyped-def]
    assert entry.participant is not None
    return service.portal_actor(entry.participant)


# --- issuing ---------------------------------------------------------------------------------


def test_a_link_is_stored_as_the_digest_of_its_random_token_never_the_token(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    first, second = _issue(db, facilitator, survivor), _issue(db, facilitator, survivor)
    token = token_of(first.url)
    assert len(token) >= 40 and token != token_of(second.url)
    assert first.link.token_hash == token_digest(token)
    stored = db.exec(select(PortalLink.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)


def test_a_link_expires_after_the_programs_portal_link_hours(
    db: Session, facilitator: User, survivor: Participant, program: Program
) -> None:
    assert _issue(db, facilitator, survivor).link.expires_at - utcnow() > timedelta(hours=71, minutes=59)
    program.portal_link_hours = 24
    db.add(program)
    link = _issue(db, facilitator, survivor).link
    assert timedelta(hours=23, minutes=59) < link.expires_at - link.issued_at <= timedelta(hours=24)


@pytest.mark.parametrize(
    "role", [ParticipantRole.supporter, ParticipantRole.community_member, ParticipantRole.interpreter]
)
def test_only_survivors_and_responsible_parties_get_a_link(
    db: Session, facilitator: User, case: Case, role: ParticipantRole
) -> None:
    other = make_participant(db, facilitator, case, role, display_name="Sam")
    with pytest.raises(Conflict):
        _issue(db, facilitator, other)
    assert db.exec(select(PortalLink)).first() is None


def test_staff_cannot_issue_or_revoke_links(db: Session, staff: User, facilitator: User, survivor: Participant) -> None:
    link = _issue(db, facilitator, survivor).link
    with pytest.raises(PermissionDenied):
        _issue(db, staff, survivor)
    with pytest.raises(PermissionDenied):
        service.revoke_portal_link(db, actor=actor_for(staff), participant=survivor, link_id=link.id)  # type: ignore[arg-type]


def test_an_admin_of_another_program_cannot_issue_a_link(db: Session, other_admin: User, survivor: Participant) -> None:
    with pytest.raises(NotFound):
        _issue(db, other_admin, survivor)


def test_a_portal_session_cannot_issue_a_link(db: Session, facilitator: User, survivor: Participant) -> None:
    with pytest.raises(NotFound):
        service.issue_portal_link(db, actor=service.portal_actor(survivor), participant=survivor)


def test_issuing_a_link_is_audited_without_the_token(db: Session, facilitator: User, survivor: Participant) -> None:
    issued = _issue(db, facilitator, survivor)
    [event] = _events(db, "portal_link.issued")
    assert event.entity_id == str(issued.link.id) and event.actor_id == facilitator.id
    assert event.case_id == survivor.case_id and event.detail["participant_id"] == survivor.id
    assert token_of(issued.url) not in str(event.detail)


# --- opening ---------------------------------------------------------------------------------


def test_opening_a_link_marks_it_used_and_starts_a_hashed_session_for_that_participant(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    issued = _issue(db, facilitator, survivor)
    entry = _open(db, issued.url)
    assert entry.session_token and entry.participant is not None and entry.participant.id == survivor.id
    db.refresh(issued.link)
    assert issued.link.used_at is not None
    portal_session = db.exec(select(PortalSession)).one()
    assert portal_session.token_hash == token_digest(entry.session_token)
    assert (portal_session.participant_id, portal_session.case_id) == (survivor.id, survivor.case_id)
    assert portal_session.expires_at - portal_session.created_at == timedelta(hours=12)
    [event] = _events(db, "portal_link.used")
    assert (
        event.actor_kind == "participant"
        and event.actor_label == "Survivor (portal)"
        and event.ip_address == "203.0.113.9"
    )


def test_a_link_works_only_once(db: Session, facilitator: User, survivor: Participant) -> None:
    issued = _issue(db, facilitator, survivor)
    assert _open(db, issued.url).session_token
    assert _open(db, issued.url) == service.PortalEntry(None, None)
    assert len(db.exec(select(PortalSession)).all()) == 1
    assert [e.detail["reason"] for e in _events(db, "portal_link.refused")] == ["already_used"]


def test_an_expired_link_is_refused(db: Session, facilitator: User, survivor: Participant) -> None:
    issued = _issue(db, facilitator, survivor)
    issued.link.expires_at = utcnow() - timedelta(seconds=1)
    db.add(issued.link)
    assert _open(db, issued.url).session_token is None
    db.refresh(issued.link)
    assert issued.link.used_at is None
    assert db.exec(select(PortalSession)).first() is None
    assert [e.detail["reason"] for e in _events(db, "portal_link.refused")] == ["expired"]


def test_a_revoked_link_is_refused(db: Session, facilitator: User, survivor: Participant) -> None:
    issued = _issue(db, facilitator, survivor)
    service.revoke_portal_link(db, actor=actor_for(facilitator), participant=survivor, link_id=issued.link.id)  # type: ignore[arg-type]
    assert _open(db, issued.url).session_token is None
    assert db.exec(select(PortalSession)).first() is None
    assert [e.detail["reason"] for e in _events(db, "portal_link.refused")] == ["revoked"]


def test_an_unknown_token_opens_nothing_and_writes_nothing(db: Session) -> None:
    before = len(db.exec(select(AuditEvent)).all())
    entry = service.open_portal_link(db, token="x" * 43, request_id=None, ip_address=None)
    assert entry.session_token is None
    assert len(db.exec(select(AuditEvent)).all()) == before


def test_opening_a_new_link_ends_the_session_the_browser_already_had(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    first = _open(db, _issue(db, facilitator, survivor).url)
    second = _open(db, _issue(db, facilitator, survivor).url, replacing=first.session_token)
    assert service.resolve_portal_session(db, token=first.session_token) is None  # type: ignore[arg-type]
    assert service.resolve_portal_session(db, token=second.session_token) is not None  # type: ignore[arg-type]


# --- the portal session -----------------------------------------------------------------------


def test_a_portal_session_ends_after_30_idle_minutes(db: Session, facilitator: User, survivor: Participant) -> None:
    entry = _open(db, _issue(db, facilitator, survivor).url)
    portal_session = db.exec(select(PortalSession)).one()
    portal_session.last_seen_at = utcnow() - timedelta(minutes=29)
    db.add(portal_session)
    assert service.resolve_portal_session(db, token=entry.session_token) is not None  # type: ignore[arg-type]
    portal_session.last_seen_at = utcnow() - timedelta(minutes=30, seconds=1)
    db.add(portal_session)
    assert service.resolve_portal_session(db, token=entry.session_token) is None  # type: ignore[arg-type]


def test_a_portal_session_ends_after_12_hours_however_active(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    entry = _open(db, _issue(db, facilitator, survivor).url)
    portal_session = db.exec(select(PortalSession)).one()
    portal_session.expires_at = utcnow() - timedelta(seconds=1)
    db.add(portal_session)
    assert service.resolve_portal_session(db, token=entry.session_token) is None  # type: ignore[arg-type]


def test_revoking_a_used_link_ends_the_portal_session_it_opened(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    issued = _issue(db, facilitator, survivor)
    entry = _open(db, issued.url)
    service.revoke_portal_link(db, actor=actor_for(facilitator), participant=survivor, link_id=issued.link.id)  # type: ignore[arg-type]
    assert service.resolve_portal_session(db, token=entry.session_token) is None  # type: ignore[arg-type]
    [event] = _events(db, "portal_link.revoked")
    assert event.detail == {"participant_id": survivor.id, "was_used": True}


def test_a_link_cannot_be_revoked_twice_or_through_another_participant(
    db: Session, facilitator: User, survivor: Participant, responsible: Participant
) -> None:
    link = _issue(db, facilitator, survivor).link
    with pytest.raises(NotFound):
        service.revoke_portal_link(db, actor=actor_for(facilitator), participant=responsible, link_id=link.id)  # type: ignore[arg-type]
    service.revoke_portal_link(db, actor=actor_for(facilitator), participant=survivor, link_id=link.id)  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        service.revoke_portal_link(db, actor=actor_for(facilitator), participant=survivor, link_id=link.id)  # type: ignore[arg-type]
    assert len(_events(db, "portal_link.revoked")) == 1


def test_signing_out_ends_the_session_and_is_audited(db: Session, facilitator: User, survivor: Participant) -> None:
    entry = _open(db, _issue(db, facilitator, survivor).url)
    service.end_portal_session(db, actor=_actor(db, entry), token=entry.session_token)  # type: ignore[arg-type]
    assert service.resolve_portal_session(db, token=entry.session_token) is None  # type: ignore[arg-type]
    assert len(_events(db, "portal.signed_out")) == 1


# --- consent in the portal --------------------------------------------------------------------


def test_consent_given_in_the_portal_records_the_method_and_the_sheet_in_the_persons_language(
    db: Session, facilitator: User, survivor: Participant
) -> None:
    actor = _actor(db, _open(db, _issue(db, facilitator, survivor).url))
    with pytest.raises(InvalidInput) as unconfirmed:  # a yes is never one tap: it needs its confirmation
        service.give_portal_consent(
            db, actor=actor, participant=survivor, scope=ConsentScope.conference, data=PortalConsentGive()
        )
    assert unconfirmed.value.field_errors == {"confirmed": "Read what this means, then confirm to say yes."}
    assert db.exec(select(Consent)).first() is None
    consent = service.give_portal_consent(
        db, actor=actor, participant=survivor, scope=ConsentScope.conference, data=PortalConsentGive(confirmed=True)
    )
    assert (consent.method, consent.sheet_language, consent.recorded_by_id) == (ConsentMethod.portal, "es", None)
    [event] = _events(db, "consent.given")
    assert event.actor_kind == "participant" and event.actor_label == "Survivor (portal)"


def test_a_portal_actor_cannot_give_or_withdraw_consent_for_another_participant(
    db: Session, facilitator: User, survivor: Participant, responsible: Participant
) -> None:
    actor = _actor(db, _open(db, _issue(db, facilitator, survivor).url))
    with pytest.raises(NotFound):
        service.give_portal_consent(
            db, actor=actor, participant=responsible, scope=ConsentScope.contact, data=PortalConsentGive()
        )
    with pytest.raises(NotFound):
        service.withdraw_portal_consent(
            db, actor=actor, participant=responsible, scope=ConsentScope.contact, data=PortalConsentWithdraw()
        )
    assert db.exec(select(Consent)).first() is None


@pytest.mark.parametrize("field", ["participant_id", "case_id"])
def test_an_id_of_someone_else_in_the_portal_input_is_not_found(
    db: Session, facilitator: User, survivor: Participant, responsible: Participant, field: str
) -> None:
    other_case = make_case(db, facilitator, reference="HRP-8")
    foreign = {"participant_id": responsible.id, "case_id": other_case.id}[field]
    actor = _actor(db, _open(db, _issue(db, facilitator, survivor).url))
    with pytest.raises(NotFound):
        service.give_portal_consent(
            db,
            actor=actor,
            participant=survivor,
            scope=ConsentScope.contact,
            data=PortalConsentGive(**{field: foreign}),
        )
    assert db.exec(select(Consent)).first() is None


def test_withdrawing_participation_in_the_portal_pauses_the_case_and_tells_the_facilitators(
    db: Session, facilitator: User, facilitator2: User, case: Case, survivor: Participant, responsible: Participant
) -> None:
    actor = _actor(db, _open(db, _issue(db, facilitator, survivor).url))
    service.give_portal_consent(
        db, actor=actor, participant=survivor, scope=ConsentScope.conference, data=PortalConsentGive(confirmed=True)
    )
    service.withdraw_portal_consent(
        db,
        actor=actor,
        participant=survivor,
        scope=ConsentScope.conference,
        data=PortalConsentWithdraw(reason="Not now"),
    )
    consent = db.exec(select(Consent)).one()
    assert consent.withdrawn_via == "portal" and consent.withdrawal_reason == "Not now"
    journey = derive_journey(case_facts(db, case=case))
    assert "consent_withdrawn" in [p.code for p in journey.pauses]
    assert "case_paused" in [b.code for b in journey.blockers]
    notes = db.exec(select(Notification).where(Notification.case_id == case.id)).all()
    assert [n.recipient_user_id for n in notes] == [facilitator.id]
