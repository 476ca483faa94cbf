"""Append audit events to a per-program hash chain, and verify the chains.

Each event's hash is an HMAC-SHA256, under a key held outside the database, of the previous hash and
the event's canonical JSON. Someone who can write to the database but does not hold the key cannot
edit a row and recompute the chain after it. Deleting the newest events and winding the chain head
back leaves a shorter chain that still links: checkpoints, the signed heads of every chain written
outside the database (`mend audit checkpoint`), catch that when verify is given them.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlmodel import Session, col, select

from app.actor import Actor
from app.audit.models import SYSTEM_CHAIN, AuditChainHead, AuditEvent
from app.config import get_settings
from app.db import utcnow

GENESIS_HASH = "0" * 64
DERIVED_KEY_ID = "s1"


class AuditKeyError(ValueError):
    """An audit key is missing or malformed in the settings."""


@lru_cache(maxsize=4)
def _parse_keys(secret_key: str, configured: str | None, current: str | None) -> tuple[str, dict[str, bytes]]:
    keys = {DERIVED_KEY_ID: hmac.new(secret_key.encode(), b"mend audit chain v1", hashlib.sha256).digest()}
    for entry in (configured or "").split(","):
        if not entry.strip():
            continue
        key_id, _, value = entry.strip().partition(":")
        try:
            key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except ValueError:
            key = b""
        if not key_id or len(key) < 32:
            raise AuditKeyError(f"MEND_AUDIT_KEYS: entry {key_id or '?'!r} needs a key id and a key of 32+ bytes.")
        keys[key_id] = key
    current = current or DERIVED_KEY_ID
    if current not in keys:
        raise AuditKeyError(f"MEND_AUDIT_KEY_ID names {current!r}, which MEND_AUDIT_KEYS does not hold.")
    return current, keys


def audit_keys() -> tuple[str, dict[str, bytes]]:
    """The key id that signs new events, and every key that verifies them, by id."""
    settings = get_settings()
    assert settings.secret_key is not None  # the settings refuse to start without one
    return _parse_keys(
        settings.secret_key.get_secret_value(),
        settings.audit_keys.get_secret_value() if settings.audit_keys else None,
        settings.audit_key_id,
    )


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
    """The event's link: HMAC-SHA256 under its key of the previous hash and its canonical JSON."""
    key = audit_keys()[1].get(event.key_id)
    if key is None:
        raise AuditKeyError(f"the audit key {event.key_id!r} is not configured")
    return hmac.new(key, prev_hash.encode() + b"\n" + canonical_payload(event), hashlib.sha256).hexdigest()


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
        key_id=audit_keys()[0],
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
    checkpoints_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify_chains(
    session: Session, *, chain_key: int | None = None, checkpoints: Sequence[dict[str, Any]] = ()
) -> VerifyReport:
    """Walk every chain (or one) in order; report the first event that does not link, then the first
    checkpoint the log no longer agrees with (events it recorded that are gone or different)."""
    report = _walk_chains(session, chain_key=chain_key)
    if not report.ok:
        return report
    for checkpoint in checkpoints:
        broken = _against_checkpoint(session, checkpoint, chain_key=chain_key)
        if broken:
            return VerifyReport(report.events_checked, report.chains_checked, broken, len(checkpoints))
    return VerifyReport(report.events_checked, report.chains_checked, None, len(checkpoints))


def take_checkpoint(session: Session, *, chain_key: int | None = None) -> dict[str, Any]:
    """The head of every chain (or of one program's) now, signed with the current audit key. Keep it
    outside the database (a file, another system's log): verify given it catches a log cut back or
    rewritten since."""
    key_id, keys = audit_keys()
    query = select(AuditChainHead).order_by(col(AuditChainHead.chain_key))
    if chain_key is not None:
        query = query.where(AuditChainHead.chain_key == chain_key)
    heads = session.exec(query).all()
    body: dict[str, Any] = {
        "taken_at": utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "key_id": key_id,
        "chains": {str(h.chain_key): {"seq": h.seq, "hash": h.last_hash} for h in heads},
    }
    return body | {"mac": _checkpoint_mac(keys[key_id], body)}


def _checkpoint_mac(key: bytes, checkpoint: dict[str, Any]) -> str:
    signed = {name: value for name, value in checkpoint.items() if name != "mac"}
    return hmac.new(key, json.dumps(signed, sort_keys=True, separators=(",", ":")).encode(), hashlib.sha256).hexdigest()


def _against_checkpoint(session: Session, checkpoint: dict[str, Any], *, chain_key: int | None) -> ChainBreak | None:
    taken_at = checkpoint.get("taken_at", "?")
    key = audit_keys()[1].get(str(checkpoint.get("key_id")))
    mac = checkpoint.get("mac")
    if key is None or not isinstance(mac, str) or not hmac.compare_digest(mac, _checkpoint_mac(key, checkpoint)):
        reason = (
            f"the checkpoint taken at {taken_at} is not signed by a configured audit key (altered, or its key is gone)"
        )
        return ChainBreak(chain_key or SYSTEM_CHAIN, 0, None, reason)
    for key_text, head in sorted(checkpoint.get("chains", {}).items()):
        chain, seq = int(key_text), int(head["seq"])
        if seq == 0 or (chain_key is not None and chain != chain_key):
            continue
        event = session.exec(select(AuditEvent).where(AuditEvent.chain_key == chain, AuditEvent.seq == seq)).first()
        if event is None:
            reason = f"event {seq}, recorded by the checkpoint taken at {taken_at}, is gone: the log was cut back"
            return ChainBreak(chain, seq, None, reason)
        if event.hash != head["hash"]:
            reason = f"event {seq} differs from the checkpoint taken at {taken_at}: the log was rewritten"
            return ChainBreak(chain, seq, event.id, reason)
    return None


def _walk_chains(session: Session, *, chain_key: int | None) -> VerifyReport:
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
    if event.key_id not in audit_keys()[1]:
        return f"it is signed with the audit key {event.key_id!r}, which is not configured"
    if not hmac.compare_digest(event.hash, event_hash(prev_hash, event)):
        return "its content does not match its hash (the row was changed)"
    return None
