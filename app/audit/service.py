"""Append audit events to a per-program hash chain, and verify the chains."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.actor import Actor
from app.audit.models import SYSTEM_CHAIN, AuditChainHead, AuditEvent
from app.db import utcnow

GENESIS_HASH = "0" * 64


def canonical_payload(event: AuditEvent) -> bytes:
    """The event's canonical JSON: the bytes its hash covers (with the previous hash)."""
    occurred: datetime = event.occurred_at
    payload = {
        "chain_key": event.chain_key,
        "seq": event.seq,
        "program_id": event.program_id,
        "occurred_at": occurred.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "case_id": event.case_id,
        "request_id": event.request_id,
        "ip_address": event.ip_address,
        "detail": event.detail,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical_payload(event)).hexdigest()


def ensure_chain(session: Session, chain_key: int) -> None:
    """Create a chain's head row; called when its program is created."""
    if session.get(AuditChainHead, chain_key) is None:
        session.add(AuditChainHead(chain_key=chain_key, seq=0, last_hash=GENESIS_HASH))
        session.flush()


def record_event(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | str | None = None,
    case_id: int | None = None,
    program_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to its program's chain, inside the caller's transaction."""
    program_id = program_id if program_id is not None else actor.program_id
    chain_key = program_id if program_id is not None else SYSTEM_CHAIN
    head = session.exec(select(AuditChainHead).where(AuditChainHead.chain_key == chain_key).with_for_update()).one()
    event = AuditEvent(
        chain_key=chain_key,
        seq=head.seq + 1,
        program_id=program_id,
        occurred_at=utcnow(),
        actor_kind=actor.kind,
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        case_id=case_id,
        request_id=actor.request_id,
        ip_address=actor.ip_address,
        detail=json.loads(json.dumps(detail or {}, default=str)),
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = event_hash(head.last_hash, event)
    head.seq = event.seq
    head.last_hash = event.hash
    session.add(event)
    session.add(head)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    chain_key: int
    seq: int
    event_id: int | None
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    events_checked: int
    chains_checked: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify_chains(session: Session, *, chain_key: int | None = None) -> VerifyReport:
    """Walk every chain (or one) in order; report the first event that does not link."""
    heads_query = select(AuditChainHead)
    keys_query = select(AuditEvent.chain_key).distinct()
    if chain_key is not None:
        heads_query = heads_query.where(AuditChainHead.chain_key == chain_key)
        keys_query = keys_query.where(AuditEvent.chain_key == chain_key)
    heads = {head.chain_key: head for head in session.exec(heads_query).all()}
    # Chains are found from their events too, so deleting a head row does not hide its chain.
    keys = sorted(set(heads) | set(session.exec(keys_query).all()))
    checked = 0
    for key in keys:
        prev_hash, expected_seq = GENESIS_HASH, 1
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.chain_key == key)
            .order_by(col(AuditEvent.seq))
            .execution_options(yield_per=1000)
        )
        for event in events:
            checked += 1
            broken = _check_link(event, prev_hash, expected_seq)
            if broken:
                return VerifyReport(checked, len(keys), ChainBreak(key, expected_seq, event.id, broken))
            prev_hash, expected_seq = event.hash, expected_seq + 1
        head = heads.get(key)
        if head is None:
            reason = f"the chain has events up to {expected_seq - 1} but its head row is missing"
            return VerifyReport(checked, len(keys), ChainBreak(key, expected_seq, None, reason))
        if expected_seq - 1 != head.seq or prev_hash != head.last_hash:
            reason = f"the chain ends at event {expected_seq - 1} but its head records event {head.seq}"
            return VerifyReport(checked, len(keys), ChainBreak(key, expected_seq, None, reason))
    return VerifyReport(checked, len(keys), None)


def _check_link(event: AuditEvent, prev_hash: str, expected_seq: int) -> str | None:
    if event.seq != expected_seq:
        return f"event {expected_seq} is missing (found {event.seq} next)"
    if event.prev_hash != prev_hash:
        return "its previous-hash does not match the event before it"
    if event.hash != event_hash(prev_hash, event):
        return "its content does not match its hash (the row was changed)"
    return None
