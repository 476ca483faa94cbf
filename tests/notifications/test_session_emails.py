"""Session emails end to end: scheduling writes the outbox, the worker sends it to a real SMTP
server (aiosmtpd, in-process), and each recipient's message and .ics are read back."""

import socket
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.auth.models import User, UserRole
from app.auth.service import actor_for
from app.conferences.models import Case, CaseSession, Participant, SessionAttendee, SessionStatus
from app.conferences.scheduling import cancel_session, reschedule_session, schedule_session
from app.db import make_engine, utcnow
from app.notifications.models import DeliveryStatus, Notification
from app.notifications.worker import DrainReport, SmtpTransport, drain
from app.safety.consent import withdraw_consent
from app.safety.models import ConsentScope, SafetyConcern
from app.safety.rules import NEUTRAL_SUBJECT
from app.safety.service import raise_concern, review_concern
from tests.conferences.test_invitations import (
    DAY,
    RESPONSIBLE_ROOM,
    SURVIVOR_EMAIL,
    SURVIVOR_NAME,
    SURVIVOR_ROOM,
    conference_plan,
    parse,
    ready_case,
)
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_program, make_user
from tests.notifications.test_worker import Inbox
from tests.support import scratch_database

FACILITATOR_EMAIL = "fay.sessions@example.org"
RESPONSIBLE_EMAIL = "dan@example.org"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:  # a committed database the worker reads on its own
    with scratch_database(TEST_DATABASE_URL, tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def world(engine: Engine) -> dict[str, Any]:
    """A ready case in a Madrid program: a discreet survivor, a responsible party, a facilitator, all on email."""
    with Session(engine, expire_on_commit=False) as session:
        program = make_program(session, "Harbour Restorative Program", timezone="Europe/Madrid")
        facilitator = make_user(session, program, UserRole.facilitator, "Fay Sessions", email=FACILITATOR_EMAIL)
        case, survivor, responsible = ready_case(session, facilitator, responsible_email=RESPONSIBLE_EMAIL)
        session.commit()
        return {"facilitator": facilitator, "case": case, "survivor": survivor, "responsible": responsible}


def _schedule(engine: Engine, world: dict[str, Any], **plan: Any) -> CaseSession:
    with Session(engine, expire_on_commit=False) as session:
        conference = schedule_session(
            session,
            actor=actor_for(world["facilitator"]),
            case=world["case"],
            plan=conference_plan(world["survivor"], world["responsible"], **plan),
        )
        session.commit()
        return conference


def _reschedule(engine: Engine, world: dict[str, Any], conference: CaseSession, **plan: Any) -> CaseSession:
    with Session(engine, expire_on_commit=False) as session:
        moved = reschedule_session(
            session,
            actor=actor_for(world["facilitator"]),
            case=session.get(Case, world["case"].id),  # type: ignore[arg-type]
            case_session=session.get(CaseSession, conference.id),  # type: ignore[arg-type]
            plan=conference_plan(world["survivor"], world["responsible"], **plan),
        )
        session.commit()
        return moved


def _cancel(engine: Engine, world: dict[str, Any], conference: CaseSession, reason: str) -> None:
    with Session(engine) as session:
        cancel_session(
            session,
            actor=actor_for(world["facilitator"]),
            case_session=session.get(CaseSession, conference.id),  # type: ignore[arg-type]
            reason=reason,
        )
        session.commit()


def _arrival(engine: Engine, conference: CaseSession, participant: Participant) -> datetime:
    with Session(engine) as session:
        return session.exec(
            select(SessionAttendee.arrives_at).where(
                SessionAttendee.session_id == conference.id, SessionAttendee.participant_id == participant.id
            )
        ).one()


def _drain(engine: Engine, port: int, at: datetime) -> DrainReport:
    with SmtpTransport(host="127.0.0.1", port=port) as transport:
        return drain(engine, transport=transport, worker_id="w1", now=lambda: at)


def _to(handler: Inbox, address: str) -> list[Message]:
    return [m for m in handler.messages if m["To"] == address]


def _subject(message: Message) -> str:
    return " ".join(str(message["Subject"]).split())  # unfolded


def _text(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain" and not p.get_filename())
    return part.get_payload(decode=True).decode()  # type: ignore[union-attr]


def _ics(message: Message, method: str = "REQUEST"):  # type: ignore[no-untyped-def]
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert part.get_filename() == "invitation.ics"
    assert part.get_param("method") == method
    return parse(part.get_payload(decode=True))  # type: ignore[arg-type]


def _soon() -> datetime:
    return utcnow() + timedelta(minutes=1)


def test_each_recipient_receives_their_own_invitation_once(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    conference = _schedule(engine, world)
    first = _drain(engine, port, _soon())
    again = _drain(engine, port, _soon() + timedelta(minutes=5))
    assert len(first.sent) == 3 and again.sent == [] and len(handler.messages) == 3

    [survivor_mail] = _to(handler, SURVIVOR_EMAIL)
    assert _subject(survivor_mail) == NEUTRAL_SUBJECT  # they asked for discretion
    calendar, event = _ics(survivor_mail)
    assert calendar["METHOD"] == "REQUEST" and event["UID"] == conference.uid and event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == _arrival(engine, conference, world["survivor"])
    assert SURVIVOR_ROOM in event["LOCATION"] and event["SUMMARY"] == "Appointment"
    assert "restorative" not in _text(survivor_mail).lower()

    [responsible_mail] = _to(handler, RESPONSIBLE_EMAIL)
    assert _subject(responsible_mail).startswith("Invitation: restorative justice conference on ")
    calendar, event = _ics(responsible_mail)
    assert event.decoded("DTSTART") == _arrival(engine, conference, world["responsible"])
    assert event.decoded("DTSTART") < _arrival(engine, conference, world["survivor"])  # staggered
    whole = responsible_mail.as_string() + event.to_ical().decode()
    for secret in (SURVIVOR_NAME, SURVIVOR_EMAIL, SURVIVOR_ROOM):
        assert secret not in whole and secret not in _text(responsible_mail)
    assert f"Your waiting room: {RESPONSIBLE_ROOM}" in _text(responsible_mail)

    [facilitator_mail] = _to(handler, FACILITATOR_EMAIL)
    assert _subject(facilitator_mail).startswith(f"Session scheduled: case {world['case'].reference}")
    _, event = _ics(facilitator_mail)
    assert SURVIVOR_NAME in event["DESCRIPTION"] and "Dan" in event["DESCRIPTION"]


def test_an_update_keeps_the_uid_and_bumps_the_sequence(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    conference = _schedule(engine, world)
    _drain(engine, port, _soon())
    _reschedule(engine, world, conference, day=DAY + timedelta(days=1), start=time(16), end=time(18))
    report = _drain(engine, port, _soon())
    assert len(report.sent) == 3
    first, second = _to(handler, RESPONSIBLE_EMAIL)
    _, before = _ics(first)
    _, after = _ics(second)
    assert after["UID"] == before["UID"] == conference.uid
    assert (before["SEQUENCE"], after["SEQUENCE"]) == (0, 1)
    assert after.decoded("DTSTART") == _arrival(engine, conference, world["responsible"])
    assert after.decoded("DTSTART") - before.decoded("DTSTART") == timedelta(days=1, hours=6)
    assert _subject(second).startswith("Changed: ")
    assert "15:40 to 18:15" in _text(second)


def test_a_cancellation_arrives_with_method_cancel_and_no_reason(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    conference = _schedule(engine, world)
    _drain(engine, port, _soon())
    _cancel(engine, world, conference, reason="Dan's lawyer advised against it")
    assert len(_drain(engine, port, _soon()).sent) == 3
    for address in (SURVIVOR_EMAIL, RESPONSIBLE_EMAIL):
        cancellation = _to(handler, address)[-1]
        calendar, event = _ics(cancellation, method="CANCEL")
        assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
        assert event["UID"] == conference.uid and event["SEQUENCE"] == 1
        assert "lawyer" not in cancellation.as_string()
        assert "Your facilitator will be in touch." in _text(cancellation)
    assert "lawyer advised" in _text(_to(handler, FACILITATOR_EMAIL)[-1])


def test_a_withdrawal_cancels_the_persons_sessions_and_the_cancellations_arrive(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    conference = _schedule(engine, world)
    _drain(engine, port, _soon())
    handler.messages.clear()
    with Session(engine) as session:
        withdraw_consent(
            session,
            actor=actor_for(world["facilitator"]),
            participant=session.get(Participant, world["survivor"].id),  # type: ignore[arg-type]
            scope=ConsentScope.conference,
            reason="Not ready",
        )
        session.commit()
    with Session(engine) as session:
        assert session.get(CaseSession, conference.id).status == SessionStatus.cancelled  # type: ignore[union-attr]
    _drain(engine, port, _soon())
    for address in (SURVIVOR_EMAIL, RESPONSIBLE_EMAIL):
        [cancellation] = _to(handler, address)
        calendar, event = _ics(cancellation, method="CANCEL")
        assert event["UID"] == conference.uid and calendar["METHOD"] == "CANCEL"
        assert "consent" not in _text(cancellation).lower()  # the reason stays internal
    subjects = sorted(_subject(m) for m in _to(handler, FACILITATOR_EMAIL))
    assert len(subjects) == 2 and subjects[0].startswith(f"Case {world['case'].reference}: consent withdrawn")
    assert subjects[1].startswith("Session cancelled: ")


def test_reminders_go_out_once_at_their_time(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    conference = _schedule(engine, world)
    _drain(engine, port, _soon())
    handler.messages.clear()
    arrival = _arrival(engine, conference, world["responsible"])
    assert _drain(engine, port, arrival - timedelta(hours=48, minutes=1)).sent == []
    assert len(_drain(engine, port, arrival - timedelta(hours=48)).sent) == 1  # the survivor arrives 20 min later
    assert len(_drain(engine, port, arrival - timedelta(hours=47, minutes=40)).sent) == 1
    assert _drain(engine, port, arrival - timedelta(hours=5)).sent == []
    assert len(_drain(engine, port, arrival - timedelta(hours=3)).sent) == 2
    assert _drain(engine, port, arrival).sent == []
    [early, late] = _to(handler, RESPONSIBLE_EMAIL)
    assert _subject(early).startswith("Reminder: restorative justice conference") and _subject(late) == _subject(early)
    assert "09:40 to 12:15" in _text(early) and RESPONSIBLE_ROOM in _text(early)
    assert len(_to(handler, SURVIVOR_EMAIL)) == 2 and not _to(handler, FACILITATOR_EMAIL)


def test_no_reminder_for_a_cancelled_session(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    conference = _schedule(engine, world)
    _drain(engine, port, _soon())
    _cancel(engine, world, conference, reason="Venue closed")
    arrival = _arrival(engine, conference, world["responsible"])
    for at in (_soon(), arrival - timedelta(hours=48), arrival - timedelta(hours=4), arrival):
        _drain(engine, port, at)
    kinds = sorted(_subject(m).split(":")[0] for m in _to(handler, RESPONSIBLE_EMAIL))
    assert kinds == ["Cancelled", "Invitation"]
    assert len(_to(handler, SURVIVOR_EMAIL)) == 2


def test_a_moved_session_reminds_only_at_its_new_time(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    conference = _schedule(engine, world)
    old_arrival = _arrival(engine, conference, world["responsible"])
    _reschedule(engine, world, conference, day=DAY + timedelta(days=3), start=time(16), end=time(18))
    new_arrival = _arrival(engine, conference, world["responsible"])
    _drain(engine, port, _soon())
    handler.messages.clear()
    for at in (old_arrival - timedelta(hours=48), old_arrival - timedelta(hours=4), old_arrival):
        assert _drain(engine, port, at).sent == []
    assert len(_drain(engine, port, new_arrival - timedelta(hours=3)).sent) == 4  # both leads, both parties
    texts = [_text(m) for m in _to(handler, RESPONSIBLE_EMAIL)]
    assert len(texts) == 2 and all("15:40 to 18:15" in t for t in texts)


def test_no_reminder_while_the_session_is_on_hold(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    conference = _schedule(engine, world)
    _drain(engine, port, _soon())
    handler.messages.clear()
    actor = actor_for(world["facilitator"])
    with Session(engine) as session:
        case = session.get(Case, world["case"].id)
        assert case is not None
        concern = raise_concern(session, actor=actor, case=case, description="Threat by phone", urgent=True)
        session.commit()
        concern_id = concern.id
    arrival = _arrival(engine, conference, world["responsible"])
    report = _drain(engine, port, arrival - timedelta(hours=47))
    assert len(report.skipped) == 2 and not _to(handler, RESPONSIBLE_EMAIL)
    with Session(engine) as session:
        reasons = {
            n.last_error
            for n in session.exec(select(Notification).where(col(Notification.id).in_(report.skipped))).all()
        }
        assert reasons == {"the session is not on the schedule"}
        concern = session.get(SafetyConcern, concern_id)
        assert concern is not None
        review_concern(session, actor=actor, concern=concern, note="Police spoke to him.")
        session.commit()
        assert session.get(CaseSession, conference.id).status == SessionStatus.scheduled  # type: ignore[union-attr]
    assert len(_drain(engine, port, arrival - timedelta(hours=3)).sent) == 2
    [late] = _to(handler, RESPONSIBLE_EMAIL)
    assert _subject(late).startswith("Reminder: ")
    with Session(engine) as session:
        statuses = {
            n.status for n in session.exec(select(Notification).where(Notification.kind == "session_reminder")).all()
        }
        assert statuses == {DeliveryStatus.sent, DeliveryStatus.skipped}


def test_a_disabled_facilitator_gets_nothing_but_the_participants_do(engine, world, inbox) -> None:  # type: ignore[no-untyped-def]
    handler, port = inbox
    _schedule(engine, world)
    with Session(engine) as session:
        user = session.get(User, world["facilitator"].id)
        user.is_active = False  # type: ignore[union-attr]
        session.add(user)
        session.commit()
    _drain(engine, port, _soon())
    assert not _to(handler, FACILITATOR_EMAIL)
    assert len(_to(handler, SURVIVOR_EMAIL)) == 1 and len(_to(handler, RESPONSIBLE_EMAIL)) == 1
