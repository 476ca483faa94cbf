"""Commitment reminders and overdue alerts through the outbox: the program's local day, only for what
still applies, once (twice run, two sessions, two workers at once), stale ones skipped by the worker,
and the survivor's progress message only with consent and their safe-contact preferences."""

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.agreements.commitment_schemas import ClosureCreate, ProgressCreate, WaiverCreate
from app.agreements.commitment_service import close_case, record_progress, waive
from app.agreements.models import Commitment, ProgressKind
from app.agreements.reminders import (
    COMMITMENT_OVERDUE,
    COMMITMENT_REMINDER,
    OVERDUE_DIGEST,
    latest_lead,
    queue_commitment_reminders,
)
from app.auth.models import User, UserRole
from app.auth.service import actor_for
from app.conferences.models import CaseFacilitator, ClosureReason, Participant
from app.notifications.models import Notification
from app.notifications.worker import Defer, Send, Skip, decide
from app.programs.models import Program
from app.safety.consent import give_consent
from app.safety.models import ConsentMethod, ConsentScope
from app.safety.schemas import ContactPreferenceUpdate
from app.safety.service import save_contact_preference
from tests.agreements.monitoring_support import Sealed, sealed_case, stub_pdf
from tests.factories import make_program, make_user

# The fixed dates below (commitments due from 15 January 2027) were written for late November 2026.
pytestmark = pytest.mark.clock

KINDS = (COMMITMENT_REMINDER, COMMITMENT_OVERDUE, OVERDUE_DIGEST)
APOLOGY_DUE = date(2027, 1, 15)  # the default terms: apology 15 Jan, payments 1 Feb and 1 Mar, hours 30 Jun 2027


@pytest.fixture(autouse=True)
def _no_real_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_pdf(monkeypatch)


def queued(session: Session, *kinds: str) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(col(Notification.kind).in_(kinds or KINDS))
            .order_by(col(Notification.due_at), col(Notification.id))
        ).all()
    )


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def program_with_facilitator(session: Session, timezone: str, **settings: object) -> tuple[Program, User]:
    program = make_program(session, f"Program in {timezone}", timezone=timezone)
    for name, value in settings.items():
        setattr(program, name, value)
    session.add(program)
    return program, make_user(session, program, UserRole.facilitator, "Fran Reminders")


def prefer_email(session: Session, by: User, person: Participant, email: str | None, **fields: object) -> None:
    data = {"channel": "email", "email": email, "discreet": False, "others_may_see_messages": False} | fields
    save_contact_preference(session, actor=actor_for(by), participant=person, data=ContactPreferenceUpdate(**data))


def apology(sealed: Sealed) -> Commitment:
    return sealed.of_kind("apology")[0]


# --- rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(10, None), (8, None), (7, 7), (5, 7), (2, 7), (1, 1), (0, 1), (-1, None)],
)
def test_the_latest_reminder_whose_day_has_come_is_the_one_due(days_left: int, expected: int | None) -> None:
    assert latest_lead(days_left, [7, 1]) == expected


# --- reminders ----------------------------------------------------------------------------------


def test_a_reminder_is_queued_on_the_programs_local_day_not_the_utc_one(db: Session) -> None:
    """Auckland is UTC+13 in January: its 8 January (seven days before the apology) starts at 11:00 UTC on the 7th."""
    program, facilitator = program_with_facilitator(db, "Pacific/Auckland")
    sealed = sealed_case(db, facilitator)

    before = queue_commitment_reminders(db, now=at(2027, 1, 7, 10, 30))  # 23:30 on 7 January in Auckland
    assert before.reminders == 0 and queued(db) == []

    report = queue_commitment_reminders(db, now=at(2027, 1, 7, 11, 30))  # 00:30 on 8 January in Auckland
    [reminder] = queued(db)
    assert report.reminders == 1
    assert reminder.kind == COMMITMENT_REMINDER and reminder.program_id == program.id
    assert reminder.recipient_participant_id == sealed.held.responsible.id and reminder.recipient_user_id is None
    assert reminder.dedupe_key == f"commitment:{apology(sealed).id}:reminder:7:2027-01-15"
    assert reminder.due_at == at(2027, 1, 7, 20, 0)  # 09:00 in Auckland, not in the middle of the night
    assert "15 January 2027" in reminder.body


def test_a_missed_reminder_day_sends_only_the_latest_reminder_before_the_due_date(db: Session) -> None:
    """The worker was down all week: on 14 January only the one-day reminder goes, not the seven-day one too."""
    _, facilitator = program_with_facilitator(db, "America/Los_Angeles")
    sealed = sealed_case(db, facilitator)

    assert queue_commitment_reminders(db, now=at(2027, 1, 14, 20)).reminders == 1  # 12:00 on 14 January in LA
    assert [n.dedupe_key for n in queued(db)] == [f"commitment:{apology(sealed).id}:reminder:1:2027-01-15"]
    # On the due day itself nothing new; the evening of the 15th in LA is already the 16th in UTC.
    assert queue_commitment_reminders(db, now=at(2027, 1, 15, 20)).reminders == 0
    assert queue_commitment_reminders(db, now=at(2027, 1, 16, 7, 30)).reminders == 0
    assert len(queued(db, COMMITMENT_REMINDER)) == 1


def test_a_reminder_still_goes_on_the_due_day_if_none_went_before(db: Session) -> None:
    _, facilitator = program_with_facilitator(db, "Europe/Madrid")
    sealed = sealed_case(db, facilitator)
    assert queue_commitment_reminders(db, now=at(2027, 1, 15, 22, 30)).reminders == 1  # 23:30 on the 15th in Madrid
    assert [n.dedupe_key for n in queued(db)] == [f"commitment:{apology(sealed).id}:reminder:1:2027-01-15"]


def test_no_reminder_once_the_due_date_has_passed(db: Session) -> None:
    _, facilitator = program_with_facilitator(db, "Europe/Madrid")
    sealed_case(db, facilitator)
    report = queue_commitment_reminders(db, now=at(2027, 1, 15, 23, 30))  # 00:30 on the 16th in Madrid
    assert report.reminders == 0 and report.overdue_alerts == 1
    assert queued(db, COMMITMENT_REMINDER) == []


def test_no_reminder_for_a_commitment_completed_waived_replaced_or_in_a_closed_case(db: Session) -> None:
    _, facilitator = program_with_facilitator(db, "Europe/Madrid", commitment_reminder_days="60")
    actor = actor_for(facilitator)
    settled = sealed_case(db, facilitator)
    first, second = settled.of_kind("payment")
    record_progress(
        db,
        actor=actor,
        case=settled.case,
        commitment=apology(settled),
        data=ProgressCreate(kind=ProgressKind.apology_delivered, occurred_on=date(2026, 11, 2)),
    )
    waive(
        db,
        actor=actor,
        case=settled.case,
        commitment=first,
        data=WaiverCreate(reason="Hardship", consent_method="in_person", survivor_consent_confirmed=True),
    )
    second.superseded_at = at(2026, 11, 3)  # what sealing an amendment does to the commitments it replaces
    db.add(second)
    closed = sealed_case(db, facilitator)
    close_case(db, actor=actor, case=closed.case, data=ClosureCreate(reason=ClosureReason.unreachable, note="Moved."))
    control = sealed_case(db, facilitator)

    queue_commitment_reminders(db, now=at(2027, 1, 10))  # 60 days ahead covers 15 Jan, 1 Feb and 1 Mar
    reminded = {int(n.dedupe_key.split(":")[1]) for n in queued(db, COMMITMENT_REMINDER)}  # type: ignore[union-attr]
    assert reminded == {apology(control).id, *(c.id for c in control.of_kind("payment"))}


def test_the_reminder_is_in_the_persons_language_and_says_only_their_own_commitment(db: Session) -> None:
    _, facilitator = program_with_facilitator(db, "Europe/Madrid")
    sealed = sealed_case(db, facilitator)
    dan = sealed.held.responsible
    dan.preferred_language = "es"
    db.add(dan)
    prefer_email(db, facilitator, dan, "dan@example.org")
    queue_commitment_reminders(db, now=at(2027, 1, 31))  # the first payment is due tomorrow
    [reminder] = queued(db, COMMITMENT_REMINDER)
    assert reminder.subject == "Recordatorio: algo que usted acordó hacer vence el lunes 1 de febrero de 2027"
    assert "Hola, Dan:" in reminder.body and "Payment 1 of 2: 200.00 EUR" in reminder.body
    assert "Rosa" not in reminder.body and "100.00" not in reminder.body


def test_with_discretion_the_reminder_says_neither_what_nor_which_program(db: Session) -> None:
    program, facilitator = program_with_facilitator(db, "Europe/Madrid")
    sealed = sealed_case(db, facilitator)
    prefer_email(db, facilitator, sealed.held.responsible, "dan@example.org", discreet=True)
    queue_commitment_reminders(db, now=at(2027, 1, 31))
    [reminder] = queued(db, COMMITMENT_REMINDER)
    assert "1 February 2027" in reminder.body
    assert "Payment" not in reminder.body and program.name not in reminder.body


def test_running_twice_in_one_session_queues_nothing_twice(db: Session) -> None:
    program, facilitator = program_with_facilitator(db, "Europe/Madrid", commitment_reminder_days="60")
    staff = make_user(db, program, UserRole.staff, "Sky Twice")
    sealed_case(db, facilitator)
    first = queue_commitment_reminders(db, now=at(2027, 1, 20))
    count = len(queued(db))
    second = queue_commitment_reminders(db, now=at(2027, 1, 20, 18))
    assert (first.reminders, first.overdue_alerts, first.digests) == (2, 1, 1)
    assert (second.reminders, second.overdue_alerts, second.digests) == (0, 0, 0)
    assert len(queued(db)) == count
    assert [n.recipient_user_id for n in queued(db, OVERDUE_DIGEST)] == [staff.id]


# --- overdue alerts and the staff digest -----------------------------------------------------------


def test_an_overdue_alert_goes_once_to_each_active_facilitator_and_a_digest_once_a_day_to_staff(db: Session) -> None:
    program, facilitator = program_with_facilitator(db, "America/Los_Angeles", commitment_reminder_days="1")
    second = make_user(db, program, UserRole.facilitator, "Gabe Second")
    gone = make_user(db, program, UserRole.facilitator, "Ina Inactive")
    staff = make_user(db, program, UserRole.staff, "Sky Staff")
    make_user(db, program, UserRole.admin, "Ada Admin")
    sealed = sealed_case(db, facilitator)
    for user in (second, gone):
        db.add(CaseFacilitator(case_id=sealed.case.id, user_id=user.id, program_id=program.id))  # type: ignore[arg-type]
    gone.is_active = False
    db.add(gone)
    db.flush()

    # 03:00 UTC on the 16th is still the 15th in Los Angeles: due today, not overdue.
    assert queue_commitment_reminders(db, now=at(2027, 1, 16, 3)).overdue_alerts == 0
    report = queue_commitment_reminders(db, now=at(2027, 1, 16, 9))  # 01:00 on the 16th in LA
    assert (report.overdue_alerts, report.digests) == (2, 1)
    alerts = queued(db, COMMITMENT_OVERDUE)
    assert sorted(a.recipient_user_id for a in alerts) == sorted([facilitator.id, second.id])  # type: ignore[type-var]
    assert {a.subject for a in alerts} == {f"Case {sealed.case.reference}: a commitment is overdue"}
    assert alerts[0].due_at == at(2027, 1, 16, 17)  # 09:00 in Los Angeles
    [digest] = queued(db, OVERDUE_DIGEST)
    assert digest.recipient_user_id == staff.id
    assert digest.dedupe_key == f"overdue-digest:{program.id}:{staff.id}:2027-01-16"
    assert f"Case {sealed.case.reference}: Letter of apology, through the program (due Friday 15 January 2027)" in (
        digest.body
    )
    assert "Dan" not in digest.body and "Rosa" not in digest.body

    # Later that day, nothing again; the next day nothing new became overdue, so no digest either.
    again = queue_commitment_reminders(db, now=at(2027, 1, 16, 23))
    later = queue_commitment_reminders(db, now=at(2027, 1, 17, 20))
    assert (again.overdue_alerts, again.digests, later.overdue_alerts, later.digests) == (0, 0, 0, 0)

    # When the first payment becomes overdue, the next digest lists it and not the apology again.
    report = queue_commitment_reminders(db, now=at(2027, 2, 2, 20))
    assert (report.overdue_alerts, report.digests) == (2, 1)
    latest = queued(db, OVERDUE_DIGEST)[-1]
    assert "Payment 1 of 2: 200.00 EUR (due Monday 1 February 2027)" in latest.body
    assert "apology" not in latest.body
    assert len(queued(db, COMMITMENT_OVERDUE)) == 4


# --- the worker ---------------------------------------------------------------------------------


def test_the_worker_skips_a_reminder_for_a_commitment_completed_after_it_was_queued(db: Session) -> None:
    _, facilitator = program_with_facilitator(db, "Europe/Madrid")
    sealed = sealed_case(db, facilitator)
    prefer_email(db, facilitator, sealed.held.responsible, "dan@example.org")
    queue_commitment_reminders(db, now=at(2027, 1, 14))
    [reminder] = queued(db)
    assert decide(db, reminder, now=at(2027, 1, 14, 9)) == Send("dan@example.org", reminder.subject)

    record_progress(
        db,
        actor=actor_for(facilitator),
        case=sealed.case,
        commitment=apology(sealed),
        data=ProgressCreate(kind=ProgressKind.apology_delivered, occurred_on=date(2026, 11, 2)),
    )
    assert decide(db, reminder, now=at(2027, 1, 14, 9)) == Skip("the commitment was completed")


def test_the_worker_skips_reminders_and_alerts_once_the_case_is_closed(db: Session) -> None:
    _, facilitator = program_with_facilitator(db, "Europe/Madrid")
    sealed = sealed_case(db, facilitator)
    queue_commitment_reminders(db, now=at(2027, 1, 16))
    queue_commitment_reminders(db, now=at(2027, 1, 31))
    alert, reminder = queued(db, COMMITMENT_OVERDUE)[0], queued(db, COMMITMENT_REMINDER)[0]
    close_case(
        db,
        actor=actor_for(facilitator),
        case=sealed.case,
        data=ClosureCreate(reason=ClosureReason.non_compliance, note="Nothing paid."),
    )
    for row in (alert, reminder):
        assert decide(db, row, now=at(2027, 1, 31, 9)) == Skip("the case is closed")


def test_the_worker_skips_a_reminder_held_past_its_due_date(db: Session) -> None:
    _, facilitator = program_with_facilitator(db, "Europe/Madrid")
    sealed = sealed_case(db, facilitator)
    prefer_email(db, facilitator, sealed.held.responsible, "dan@example.org")
    queue_commitment_reminders(db, now=at(2027, 1, 14))
    [reminder] = queued(db)
    assert decide(db, reminder, now=at(2027, 1, 16, 9)) == Skip("the due date has passed")


# --- the survivor's progress message ------------------------------------------------------------


def _progress(db: Session, facilitator: User, sealed: Sealed) -> None:
    record_progress(
        db,
        actor=actor_for(facilitator),
        case=sealed.case,
        commitment=sealed.of_kind("payment")[0],
        data=ProgressCreate(
            kind=ProgressKind.payment, amount=50, occurred_on=date(2026, 11, 2), evidence_reference="R1"
        ),
    )


def _told(db: Session) -> list[Notification]:
    return list(db.exec(select(Notification).where(Notification.kind == "commitment_progress")).all())


def test_the_survivor_is_not_told_about_progress_without_consent(db: Session) -> None:
    _, facilitator = program_with_facilitator(db, "Europe/Madrid")
    sealed = sealed_case(db, facilitator)
    prefer_email(db, facilitator, sealed.held.survivor, "rosa@example.org")
    _progress(db, facilitator, sealed)
    assert _told(db) == []


def test_with_consent_the_survivor_is_told_and_the_worker_follows_their_contact_preferences(db: Session) -> None:
    _, facilitator = program_with_facilitator(db, "Europe/Madrid")
    sealed = sealed_case(db, facilitator)
    rosa = sealed.held.survivor
    give_consent(
        db,
        actor=actor_for(facilitator),
        participant=rosa,
        scope=ConsentScope.progress_updates,
        sheet_version="2026-1",
        sheet_language="es",
        method=ConsentMethod.in_person,
        witnessed_by=None,
    )
    prefer_email(db, facilitator, rosa, "rosa@example.org", quiet_hours_start="21:00", quiet_hours_end="08:00")
    _progress(db, facilitator, sealed)
    [message] = _told(db)
    assert message.recipient_participant_id == rosa.id

    late = at(2026, 11, 23, 22)  # 23:00 in Madrid
    decision = decide(db, message, now=late)
    assert isinstance(decision, Defer) and decision.until == at(2026, 11, 24, 7)  # 08:00 in Madrid
    assert isinstance(decide(db, message, now=at(2026, 11, 24, 9)), Send)

    prefer_email(db, facilitator, rosa, None, channel="none")  # type: ignore[arg-type]
    assert isinstance(decide(db, message, now=at(2026, 11, 24, 9)), Skip)


# --- several sessions and workers -----------------------------------------------------------------


def _seed(engine: Engine) -> None:
    """Two cases in a Madrid program with a facilitator and staff, committed for separate sessions."""
    with Session(engine, expire_on_commit=False) as setup:
        _, facilitator = program_with_facilitator(setup, "Europe/Madrid", commitment_reminder_days="60,7,1")
        make_user(setup, setup.get(Program, facilitator.program_id), UserRole.staff, "Sky Staff")  # type: ignore[arg-type]
        sealed_case(setup, facilitator)
        sealed_case(setup, facilitator)
        setup.commit()


def _round(engine: Engine, now: datetime) -> tuple[int, int, int]:
    with Session(engine) as session:
        report = queue_commitment_reminders(session, now=now)
        session.commit()
    return report.reminders, report.overdue_alerts, report.digests


def _keys(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [n.dedupe_key for n in queued(session)]  # type: ignore[misc]


def test_two_rounds_in_separate_sessions_queue_nothing_twice(scratch_engine: Engine) -> None:
    _seed(scratch_engine)
    assert _round(scratch_engine, at(2027, 1, 20)) == (4, 2, 1)  # both payments within 60 days; the apologies overdue
    assert _round(scratch_engine, at(2027, 1, 20, 15)) == (0, 0, 0)
    keys = _keys(scratch_engine)
    assert len(keys) == len(set(keys)) == 7


def test_two_workers_at_once_queue_each_reminder_exactly_once(scratch_engine: Engine) -> None:
    _seed(scratch_engine)
    barrier, results, errors = threading.Barrier(2), [], []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(_round(scratch_engine, at(2027, 1, 20)))
        except Exception as exc:  # noqa: BLE001 -- reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert tuple(map(sum, zip(*results, strict=True))) == (4, 2, 1)
    keys = _keys(scratch_engine)
    assert len(keys) == len(set(keys)) == 7


def test_the_worker_command_queues_reminders_before_it_drains(
    scratch_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mend worker --once` on 20 January 2027 (the clock is the command's own): reminders are queued and reported."""
    from app import cli

    _seed(scratch_engine)
    monkeypatch.setattr(cli, "get_engine", lambda: scratch_engine)
    monkeypatch.setattr("app.db.utcnow", lambda: at(2027, 1, 20))
    result = CliRunner().invoke(cli.app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "queued: reminders 4, overdue alerts 2, staff digests 1" in result.output
    assert len(_keys(scratch_engine)) == 7
