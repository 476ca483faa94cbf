"""The outbox worker against a real SMTP server (aiosmtpd, in-process) and a real database."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.auth.models import UserRole
from app.conferences.models import ParticipantRole
from app.config import get_settings
from app.db import make_engine
from app.notifications.models import DeliveryStatus, Notification
from app.notifications.worker import SmtpTransport, drain
from app.safety.models import ContactChannel, ContactPreference
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_case, make_participant, make_program, make_user
from tests.support import scratch_database


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []  # each message's envelope recipients
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        with self.lock:
            self.messages.append(message_from_bytes(envelope.original_content))
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def ids(self) -> list[str]:
        return [m["X-Mend-Notification"] for m in self.messages]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _smtp_server(*, smtputf8: bool = True) -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server; `smtputf8` says whether it offers SMTPUTF8 (RFC 6531), as aiosmtpd does by default."""
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with _smtp_server() as server:
        yield server


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:  # a committed database the worker reads on its own
    with scratch_database(TEST_DATABASE_URL, tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def world(engine: Engine):  # type: ignore[no-untyped-def]
    """A program (Madrid time) with a facilitator, a case, a survivor and their preferences."""
    with Session(engine, expire_on_commit=False) as session:
        program = make_program(session, "Outbox Program", timezone="Europe/Madrid")
        facilitator = make_user(session, program, UserRole.facilitator, "Fay Outbox", email="fay@example.org")
        case = make_case(session, facilitator)
        survivor = make_participant(session, facilitator, case, ParticipantRole.survivor)
        session.commit()
        return {"program": program, "facilitator": facilitator, "case": case, "survivor": survivor}


NOON_MADRID = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 12:00 in Madrid: every test drains at or after it


def _queue(engine: Engine, **fields) -> int:  # type: ignore[no-untyped-def]
    """Queue a message created, and due, a minute before NOON_MADRID, the instant the tests drain at."""
    queued_at = NOON_MADRID - timedelta(minutes=1)
    defaults = {
        "kind": "test",
        "subject": "Case 2026-0001: consent withdrawn",
        "body": "Body",
        "created_at": queued_at,
        "due_at": queued_at,
    }
    with Session(engine) as session:
        row = Notification(**(defaults | fields))
        session.add(row)
        session.commit()
        return row.id  # type: ignore[return-value]


def _prefs(engine: Engine, participant_id: int, program_id: int, **fields) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        session.add(ContactPreference(participant_id=participant_id, program_id=program_id, **fields))
        session.commit()


def _row(engine: Engine, notification_id: int) -> Notification:
    with Session(engine) as session:
        return session.exec(select(Notification).where(Notification.id == notification_id)).one()


def _drain(engine: Engine, port: int, *, at: datetime, worker: str = "w1"):  # type: ignore[no-untyped-def]
    with SmtpTransport(host="127.0.0.1", port=port) as transport:
        return drain(engine, transport=transport, worker_id=worker, now=lambda: at)


def test_a_due_message_to_a_facilitator_arrives_once(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    nid = _queue(engine, program_id=world["program"].id, recipient_user_id=world["facilitator"].id)
    first = _drain(engine, port, at=NOON_MADRID)
    second = _drain(engine, port, at=NOON_MADRID + timedelta(minutes=1))
    assert first.sent == [nid] and second.sent == []
    assert handler.ids() == [str(nid)]
    message = handler.messages[0]
    assert message["To"] == "fay@example.org"
    assert message["Subject"] == "Case 2026-0001: consent withdrawn"
    assert message["Message-ID"].startswith(f"<notification-{nid}.")
    assert _row(engine, nid).status == DeliveryStatus.sent


def test_an_invitation_reaches_an_address_that_has_no_account_yet(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    nid = _queue(
        engine, program_id=world["program"].id, recipient_email="new.colleague@example.org", subject="Invitation"
    )
    assert _drain(engine, port, at=NOON_MADRID).sent == [nid]
    assert handler.messages[0]["To"] == "new.colleague@example.org"
    assert _row(engine, nid).status == DeliveryStatus.sent


def test_a_message_not_yet_due_waits(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    _queue(
        engine,
        program_id=world["program"].id,
        recipient_user_id=world["facilitator"].id,
        due_at=NOON_MADRID + timedelta(hours=1),
    )
    assert _drain(engine, port, at=NOON_MADRID).sent == []
    assert handler.messages == []


def test_no_email_to_a_participant_who_asked_not_to_be_contacted(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    _prefs(engine, world["survivor"].id, world["program"].id, channel=ContactChannel.none, email="rosa@example.org")
    nid = _queue(engine, program_id=world["program"].id, recipient_participant_id=world["survivor"].id)
    report = _drain(engine, port, at=NOON_MADRID)
    assert report.skipped == [nid] and handler.messages == []
    row = _row(engine, nid)
    assert row.status == DeliveryStatus.skipped and "not to be contacted" in row.last_error


def test_no_email_to_a_participant_without_recorded_preferences(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    nid = _queue(engine, program_id=world["program"].id, recipient_participant_id=world["survivor"].id)
    assert _drain(engine, port, at=NOON_MADRID).skipped == [nid]
    assert handler.messages == []


def test_quiet_hours_delay_the_message_until_they_end(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    _prefs(
        engine,
        world["survivor"].id,
        world["program"].id,
        channel=ContactChannel.email,
        email="rosa@example.org",
        quiet_hours_start="21:00",
        quiet_hours_end="08:30",
        discreet=False,
        others_may_see_messages=False,
    )
    nid = _queue(engine, program_id=world["program"].id, recipient_participant_id=world["survivor"].id)
    late_evening = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 23:30 in Madrid
    assert _drain(engine, port, at=late_evening).deferred == [nid]
    row = _row(engine, nid)
    assert row.due_at == datetime(2026, 11, 24, 7, 30, tzinfo=UTC)  # 08:30 in Madrid
    assert row.attempts == 0 and handler.messages == []
    assert _drain(engine, port, at=row.due_at).sent == [nid]
    assert handler.messages[0]["To"] == "rosa@example.org"


def test_a_participant_who_asked_for_discretion_gets_a_neutral_subject(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    _prefs(
        engine,
        world["survivor"].id,
        world["program"].id,
        channel=ContactChannel.email,
        email="rosa@example.org",
        discreet=True,
    )
    _queue(
        engine,
        program_id=world["program"].id,
        recipient_participant_id=world["survivor"].id,
        subject="Your restorative justice conference about trafficking",
    )
    _drain(engine, port, at=NOON_MADRID)
    subject = handler.messages[0]["Subject"].lower()
    assert "restorative" not in subject and "trafficking" not in subject


def test_an_unreachable_server_means_a_retry_later_not_a_lost_message(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    nid = _queue(engine, program_id=world["program"].id, recipient_user_id=world["facilitator"].id)
    closed_port = _free_port()
    report = _drain(engine, closed_port, at=NOON_MADRID)
    row = _row(engine, nid)
    assert report.retrying == [nid]
    assert row.status == DeliveryStatus.pending and row.attempts == 1 and row.last_error
    assert row.due_at == NOON_MADRID + timedelta(minutes=1)
    assert _drain(engine, port, at=NOON_MADRID + timedelta(seconds=30)).sent == []  # backing off
    assert _drain(engine, port, at=NOON_MADRID + timedelta(minutes=1)).sent == [nid]
    assert handler.ids() == [str(nid)]


def test_after_the_last_retry_the_message_is_marked_failed(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    nid = _queue(engine, program_id=world["program"].id, recipient_user_id=world["facilitator"].id, attempts=7)
    report = _drain(engine, _free_port(), at=NOON_MADRID)
    assert report.failed == [nid]
    assert _row(engine, nid).status == DeliveryStatus.failed


def test_two_workers_draining_together_send_each_message_exactly_once(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    ids = [
        _queue(engine, program_id=world["program"].id, recipient_user_id=world["facilitator"].id, body=f"n{i}")
        for i in range(60)
    ]
    barrier = threading.Barrier(2)
    reports = {}

    def run(name: str) -> None:
        barrier.wait()
        reports[name] = _drain(engine, port, at=NOON_MADRID, worker=name)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("alpha", "beta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(handler.ids(), key=int) == [str(i) for i in ids]
    assert sorted(reports["alpha"].sent + reports["beta"].sent) == ids


def test_a_message_whose_every_attempt_ended_with_the_worker_gone_is_given_up(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    """A message that kills the worker each time would otherwise hold the outbox up by a lease every round."""
    handler, port = inbox
    crashed_at = NOON_MADRID - timedelta(hours=1)  # claims long past their lease
    last = get_settings().outbox_max_attempts
    claim = {"program_id": world["program"].id, "recipient_user_id": world["facilitator"].id, "claimed_by": "gone"}
    exhausted = _queue(engine, **claim, attempts=last, claimed_at=crashed_at)
    one_more = _queue(engine, **claim, attempts=last - 1, claimed_at=crashed_at)
    assert _drain(engine, port, at=NOON_MADRID).sent == [one_more]
    assert handler.ids() == [str(one_more)]
    given_up = _row(engine, exhausted)
    assert given_up.status == DeliveryStatus.failed and given_up.attempts == last
    assert given_up.last_error == f"the worker stopped while sending it, {last} times"


ACCENTED = "tést@example.org"  # a valid address (RFC 6531) that plain ASCII SMTP cannot carry


def _accented_survivor(engine: Engine, world) -> None:  # type: ignore[no-untyped-def]
    _prefs(
        engine,
        world["survivor"].id,
        world["program"].id,
        channel=ContactChannel.email,
        email=ACCENTED,
        discreet=False,
        others_may_see_messages=False,
    )


def test_an_address_the_server_cannot_carry_fails_alone_and_every_other_message_goes(engine, world) -> None:  # type: ignore[no-untyped-def]
    _accented_survivor(engine, world)
    staff = {"program_id": world["program"].id, "recipient_user_id": world["facilitator"].id}
    before = _queue(engine, **staff, body="before")
    accented = _queue(engine, program_id=world["program"].id, recipient_participant_id=world["survivor"].id)
    after = _queue(engine, **staff, body="after")
    with _smtp_server(smtputf8=False) as (handler, port):
        report = _drain(engine, port, at=NOON_MADRID)
        assert report.sent == [before, after] and report.failed == [accented]
        assert handler.ids() == [str(before), str(after)]
        row = _row(engine, accented)
        assert row.status == DeliveryStatus.failed and "SMTPUTF8" in row.last_error
        assert _drain(engine, port, at=NOON_MADRID + timedelta(hours=1)).sent == []  # failed for good, not retried


def test_an_address_with_accented_letters_is_sent_where_the_server_offers_smtputf8(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    _accented_survivor(engine, world)
    nid = _queue(engine, program_id=world["program"].id, recipient_participant_id=world["survivor"].id)
    assert _drain(engine, port, at=NOON_MADRID).sent == [nid]
    assert handler.recipients == [[ACCENTED]]


def test_a_message_that_cannot_be_built_fails_alone_with_its_reason(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    staff = {"program_id": world["program"].id, "recipient_user_id": world["facilitator"].id}
    broken = _queue(engine, **staff, subject="Case 2026-0001\nBcc: someone@example.com")  # a header with a newline
    fine = _queue(engine, **staff)
    report = _drain(engine, port, at=NOON_MADRID)
    assert report.sent == [fine] and report.failed == [broken]
    assert handler.ids() == [str(fine)]
    assert "linefeed" in _row(engine, broken).last_error
