"""The hash-chained audit log: appending per program, and catching edits and deletions."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.actor import Actor
from app.audit.models import SYSTEM_CHAIN, AuditChainHead, AuditEvent
from app.audit.service import (
    DERIVED_KEY_ID,
    GENESIS_HASH,
    audit_keys,
    canonical_payload,
    event_hash,
    record_event,
    take_checkpoint,
    verify_chains,
)
from app.config import get_settings
from app.programs.models import Program

AUDIT_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]


def _chain(session: Session, chain_key: int) -> list[AuditEvent]:
    return list(
        session.exec(select(AuditEvent).where(AuditEvent.chain_key == chain_key).order_by(col(AuditEvent.seq))).all()
    )


def _record(session: Session, program: Program, n: int, label: str = "Clerk") -> list[AuditEvent]:
    actor = Actor.system(label, program_id=program.id)
    return [
        record_event(
            session, actor=actor, action="case.note_added", entity_type="case", entity_id=i, case_id=i, detail={"n": i}
        )
        for i in range(n)
    ]


def _five_event_chain(session: Session, program: Program) -> list[AuditEvent]:
    """The program's chain with five events: program.created plus four more."""
    _record(session, program, 4)
    events = _chain(session, program.id)  # type: ignore[arg-type]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    return events


def _edit_row(session: Session, event: AuditEvent, **values: Any) -> None:
    """Change a row behind the application's back, as someone with database access could."""
    session.execute(update(AUDIT_TABLE).where(AUDIT_TABLE.c.id == event.id).values(**values))
    session.expire_all()


def _delete_row(session: Session, event: AuditEvent) -> None:
    session.execute(delete(AUDIT_TABLE).where(AUDIT_TABLE.c.id == event.id))
    session.expire_all()


def test_a_programs_events_are_numbered_from_one_and_each_links_to_the_one_before(
    db: Session, program: Program
) -> None:
    _record(db, program, 3)
    events = _chain(db, program.id)  # type: ignore[arg-type]
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].action == "program.created"
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    head = db.get(AuditChainHead, program.id)
    assert head is not None and (head.seq, head.last_hash) == (4, events[-1].hash)


def test_two_programs_keep_independent_chains(db: Session, program: Program, other_program: Program) -> None:
    for _ in range(2):
        _record(db, program, 1)
        _record(db, other_program, 2)
    ours, theirs = _chain(db, program.id), _chain(db, other_program.id)  # type: ignore[arg-type]
    assert [e.seq for e in ours] == [1, 2, 3]
    assert [e.seq for e in theirs] == [1, 2, 3, 4, 5]
    assert {e.program_id for e in ours} == {program.id}
    assert {e.program_id for e in theirs} == {other_program.id}
    assert ours[0].prev_hash == theirs[0].prev_hash == GENESIS_HASH
    assert not {e.hash for e in ours} & {e.hash for e in theirs}


def test_events_without_a_program_go_to_the_system_chain(db: Session, program: Program) -> None:
    before = len(_chain(db, SYSTEM_CHAIN))
    event = record_event(db, actor=Actor.system("start-up"), action="setup.link_issued", entity_type="setup")
    assert (event.chain_key, event.seq, event.program_id) == (SYSTEM_CHAIN, before + 1, None)
    assert len(_chain(db, program.id)) == 1  # type: ignore[arg-type]


def test_verify_passes_on_an_untouched_log(db: Session, program: Program, other_program: Program) -> None:
    _record(db, program, 3)
    _record(db, other_program, 2)
    report = verify_chains(db)
    assert report.ok
    assert report.first_break is None
    assert report.events_checked >= 7
    assert report.chains_checked >= 3  # the system chain and the two programs


@pytest.mark.parametrize(
    "field, forged",
    [
        ("actor_label", "Someone Else"),
        ("actor_kind", "anonymous"),
        ("actor_id", 999_999),
        ("action", "case.deleted"),
        ("entity_type", "user"),
        ("entity_id", "999999"),
        ("case_id", 999_999),
        ("request_id", "forged-request-id"),
        ("ip_address", "203.0.113.9"),
        ("detail", {"n": 1, "forged": True}),
        ("occurred_at", datetime(2020, 1, 1, tzinfo=UTC)),
        ("prev_hash", "f" * 64),
        ("hash", "e" * 64),
    ],
)
def test_editing_one_field_of_a_row_is_reported_at_that_event(
    db: Session, program: Program, field: str, forged: Any
) -> None:
    target = _five_event_chain(db, program)[2]
    _edit_row(db, target, **{field: forged})
    report = verify_chains(db)
    assert not report.ok
    broken = report.first_break
    assert broken is not None
    assert (broken.chain_key, broken.seq, broken.event_id) == (program.id, 3, target.id)


def test_editing_a_row_is_reported_as_a_content_change(db: Session, program: Program) -> None:
    target = _five_event_chain(db, program)[1]
    _edit_row(db, target, actor_label="Someone Else")
    broken = verify_chains(db, chain_key=program.id).first_break
    assert broken is not None
    assert "changed" in broken.reason


def test_editing_a_row_shifted_by_a_second_is_caught(db: Session, program: Program) -> None:
    target = _five_event_chain(db, program)[3]
    _edit_row(db, target, occurred_at=target.occurred_at + timedelta(seconds=1))
    broken = verify_chains(db).first_break
    assert broken is not None and (broken.seq, broken.event_id) == (4, target.id)


def test_a_break_in_one_program_does_not_hide_behind_another_intact_chain(
    db: Session, program: Program, other_program: Program
) -> None:
    _record(db, program, 2)
    target = _five_event_chain(db, other_program)[1]
    _edit_row(db, target, detail={"n": 0, "forged": True})
    assert verify_chains(db, chain_key=program.id).ok
    broken = verify_chains(db).first_break
    assert broken is not None
    assert (broken.chain_key, broken.seq, broken.event_id) == (other_program.id, 2, target.id)


def test_deleting_a_middle_row_reports_the_gap_at_its_sequence(db: Session, program: Program) -> None:
    events = _five_event_chain(db, program)
    _delete_row(db, events[2])
    broken = verify_chains(db).first_break
    assert broken is not None
    assert (broken.chain_key, broken.seq) == (program.id, 3)
    assert broken.event_id == events[3].id  # the event found where event 3 should be
    assert "event 3 is missing" in broken.reason


def test_deleting_the_last_row_is_caught_by_the_chain_head(db: Session, program: Program) -> None:
    events = _five_event_chain(db, program)
    _delete_row(db, events[-1])
    broken = verify_chains(db).first_break
    assert broken is not None
    assert (broken.chain_key, broken.seq, broken.event_id) == (program.id, 5, None)
    assert "head records event 5" in broken.reason


def test_deleting_a_chains_head_row_is_reported(db: Session, program: Program) -> None:
    events = _five_event_chain(db, program)
    db.execute(delete(AuditChainHead).where(col(AuditChainHead.chain_key) == program.id))
    db.expire_all()
    for report in (verify_chains(db), verify_chains(db, chain_key=program.id)):
        broken = report.first_break
        assert broken is not None
        assert (broken.chain_key, broken.seq, broken.event_id) == (program.id, len(events) + 1, None)
        assert "head" in broken.reason


def test_the_canonical_payload_is_the_same_after_a_database_round_trip(db: Session, program: Program) -> None:
    actor = Actor(
        kind="user",
        label="Lucía Ferreira-Ñúñez",
        program_id=program.id,
        user_id=7,
        request_id="req-0123456789",
        ip_address="2001:db8::1",
    )
    event = record_event(
        db,
        actor=actor,
        action="agreement.signed",
        entity_type="agreement",
        entity_id=12,
        case_id=3,
        detail={
            "amount": 1250.75,
            "hours": 40,
            "ok": True,
            "none": None,
            "terms": ["apology", "payment"],
            "nested": {"z": 1, "a": "ünïcode ✓"},
            "when": datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        },
    )
    written = canonical_payload(event)
    db.expunge(event)
    reread = db.exec(select(AuditEvent).where(AuditEvent.id == event.id)).one()
    assert reread is not event
    assert canonical_payload(reread) == written
    assert event_hash(reread.prev_hash, reread) == reread.hash
    assert verify_chains(db, chain_key=program.id).ok


# --- the keyed chain and its checkpoints ------------------------------------------------------


def _recompute_from(session: Session, program: Program, start: AuditEvent, link) -> None:  # type: ignore[no-untyped-def]
    """Rewrite every hash from `start` to the head with `link(prev_hash, payload)`, as an attacker
    with database access would after editing a row, and wind the head to the new last hash."""
    events = _chain(session, program.id)  # type: ignore[arg-type]
    prev = next(e.hash for e in events if e.seq == start.seq - 1) if start.seq > 1 else GENESIS_HASH
    for event in events:
        if event.seq < start.seq:
            continue
        new_hash = link(prev, b"\n" + canonical_payload(event))
        _edit_row(session, event, prev_hash=prev, hash=new_hash)
        prev = new_hash
    session.execute(update(AuditChainHead).where(AuditChainHead.chain_key == program.id).values(last_hash=prev))
    session.expire_all()


@pytest.mark.parametrize(
    "link",
    [
        pytest.param(lambda prev, payload: hashlib.sha256(prev.encode() + payload).hexdigest(), id="plain-sha256"),
        pytest.param(
            lambda prev, payload: hmac.new(b"k" * 32, prev.encode() + payload, hashlib.sha256).hexdigest(),
            id="hmac-with-a-guessed-key",
        ),
    ],
)
def test_an_edited_row_with_the_chain_recomputed_without_the_key_is_caught(db: Session, program: Program, link) -> None:  # type: ignore[no-untyped-def]
    events = _five_event_chain(db, program)
    _edit_row(db, events[2], actor_label="Someone else")
    _recompute_from(db, program, _chain(db, program.id)[2], link)  # type: ignore[arg-type]
    broken = verify_chains(db, chain_key=program.id).first_break
    assert broken is not None and broken.seq == 3 and "content does not match" in broken.reason


def test_cutting_the_newest_events_and_winding_the_head_back_is_caught_by_a_checkpoint(
    db: Session, program: Program
) -> None:
    events = _five_event_chain(db, program)
    checkpoint = take_checkpoint(db)
    for event in events[3:]:
        _delete_row(db, event)
    db.execute(
        update(AuditChainHead).where(AuditChainHead.chain_key == program.id).values(seq=3, last_hash=events[2].hash)
    )
    db.expire_all()
    assert verify_chains(db, chain_key=program.id).ok  # a shorter chain still links: only a checkpoint shows it
    broken = verify_chains(db, chain_key=program.id, checkpoints=[checkpoint]).first_break
    assert broken is not None and broken.seq == 5 and "cut back" in broken.reason


def test_a_log_rewritten_after_a_checkpoint_is_caught_even_with_the_key(db: Session, program: Program) -> None:
    events = _five_event_chain(db, program)
    checkpoint = take_checkpoint(db)
    key_id, keys = audit_keys()
    _edit_row(db, events[4], actor_label="Someone else")
    _recompute_from(
        db,
        program,
        events[4],
        lambda prev, payload: hmac.new(keys[key_id], prev.encode() + payload, hashlib.sha256).hexdigest(),
    )
    assert verify_chains(db, chain_key=program.id).ok  # whoever holds the key can re-sign...
    broken = verify_chains(db, chain_key=program.id, checkpoints=[checkpoint]).first_break
    assert broken is not None and "rewritten" in broken.reason  # ...but not the checkpoint kept elsewhere


def test_a_checkpoint_that_was_altered_is_refused(db: Session, program: Program) -> None:
    _five_event_chain(db, program)
    checkpoint = take_checkpoint(db)
    checkpoint["chains"][str(program.id)]["seq"] = 3  # made to agree with a log cut back to 3 events
    broken = verify_chains(db, checkpoints=[checkpoint]).first_break
    assert broken is not None and "not signed by a configured audit key" in broken.reason


def test_after_a_key_rotation_old_events_verify_while_the_old_key_is_kept(
    db: Session, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _record(db, program, 2)
    new_key = base64.urlsafe_b64encode(b"n" * 32).decode()
    monkeypatch.setenv("MEND_AUDIT_KEYS", f"k2:{new_key}")
    monkeypatch.setenv("MEND_AUDIT_KEY_ID", "k2")
    get_settings.cache_clear()
    try:
        after = _record(db, program, 2)
        assert {e.key_id for e in before} == {DERIVED_KEY_ID} and {e.key_id for e in after} == {"k2"}
        assert verify_chains(db, chain_key=program.id).ok
        monkeypatch.setenv("MEND_SECRET_KEY", "another-secret-key-0123456789abcdefghijklmnop")  # the old key is gone
        get_settings.cache_clear()
        broken = verify_chains(db, chain_key=program.id).first_break
        assert broken is not None and broken.seq == 1 and "content does not match" in broken.reason
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
