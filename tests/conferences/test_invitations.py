"""Personal .ics invitations and the messages a session change queues: what each person gets, and
what they must never get (another party's data), read back with the icalendar library."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar
import pytest
from sqlmodel import Session, col, select

from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.invitations import ics_for, ics_for_facilitator, session_changed
from app.conferences.models import (
    AcknowledgementMethod,
    Case,
    CaseSession,
    Participant,
    ParticipantRole,
    SessionAttendee,
    SessionFacilitator,
    SessionKind,
)
from app.conferences.preparation import record_acknowledgement, record_screening
from app.conferences.scheduling import (
    SessionPlan,
    cancel_session,
    mark_session_held,
    reschedule_session,
    schedule_session,
)
from app.db import utcnow
from app.errors import NotFound
from app.notifications.models import DeliveryStatus, Notification
from app.programs.models import Program
from app.safety.consent import give_consent
from app.safety.models import ConsentMethod, ConsentScope, SessionMode
from app.safety.schemas import ContactPreferenceUpdate, SafetyPlanCreate
from app.safety.service import assess_safety, save_contact_preference, save_safety_plan
from tests.conferences.test_screening_rules import RESPONSIBLE_READY, SURVIVOR_READY
from tests.factories import make_case, make_participant, make_user

DAY = (utcnow() + timedelta(days=14)).date()

# What the responsible party must never learn about the survivor.
SURVIVOR_NAME = "Rosalind"
SURVIVOR_EMAIL = "rosalind.private@example.org"
SURVIVOR_PHONE = "+34 600 111 222"
SURVIVOR_CODE_WORD = "bluebird"
SURVIVOR_ROOM = "Garden room"
RESPONSIBLE_ROOM = "Room 4"
EXIT_PLAN = "Leaves by the kitchen door to a waiting taxi"
SUPPORT_PERSON = "Maribel Ortega"


def ready_case(
    session: Session,
    facilitator: User,
    *,
    survivor_language: str = "en",
    survivor_discreet: bool = True,
    responsible_email: str = "dan@example.org",
    staggered: bool = True,
) -> tuple[Case, Participant, Participant]:
    """A case that passes G1, with contact preferences and (by default) a staggered safety plan."""
    actor = actor_for(facilitator)
    case = make_case(session, facilitator, notes="Referred after the trial; survivor lives at the shelter.")
    survivor = make_participant(
        session,
        facilitator,
        case,
        ParticipantRole.survivor,
        display_name=SURVIVOR_NAME,
        preferred_language=survivor_language,
        support_needs="Panic attacks in small rooms.",
    )
    responsible = make_participant(session, facilitator, case, ParticipantRole.responsible_party, display_name="Dan")
    for person, answers in ((survivor, SURVIVOR_READY), (responsible, RESPONSIBLE_READY)):
        record_screening(
            session,
            actor=actor,
            participant=person,
            answers=answers,
            outcome=None,
            override_reason=None,
            rationale="Prepared and supported.",
        )
    record_acknowledgement(
        session,
        actor=actor,
        participant=responsible,
        wording=f"I recruited {SURVIVOR_NAME} with false promises.",
        method=AcknowledgementMethod.in_person,
        acknowledged_at=utcnow() - timedelta(days=1),
    )
    assess_safety(session, actor=actor, case=case, participant=survivor, factors=["isolation"])
    if staggered:
        save_safety_plan(
            session,
            actor=actor,
            case=case,
            data=SafetyPlanCreate(
                staggered_arrival=True,
                arrival_gap_minutes=20,
                departure_gap_minutes=15,
                separate_waiting_rooms=True,
                support_person=SUPPORT_PERSON,
                security_present=True,
                exit_plan=EXIT_PLAN,
                no_contact_order=True,
            ),
        )
    for person in (survivor, responsible):
        for scope in (ConsentScope.contact, ConsentScope.preparation, ConsentScope.conference):
            give_consent(
                session,
                actor=actor,
                participant=person,
                scope=scope,
                sheet_version="2026-1",
                sheet_language="en",
                method=ConsentMethod.in_person,
            )
    save_contact_preference(
        session,
        actor=actor,
        participant=survivor,
        data=ContactPreferenceUpdate(
            channel="email",
            email=SURVIVOR_EMAIL,
            phone=SURVIVOR_PHONE,
            code_word=SURVIVOR_CODE_WORD,
            discreet=survivor_discreet,
            others_may_see_messages=survivor_discreet,
        ),
    )
    save_contact_preference(
        session,
        actor=actor,
        participant=responsible,
        data=ContactPreferenceUpdate(
            channel="email", email=responsible_email, discreet=False, others_may_see_messages=False
        ),
    )
    return case, survivor, responsible


def conference_plan(
    *people: Participant,
    day: date = DAY,
    start: time = time(10),
    end: time = time(12),
    mode: SessionMode = SessionMode.in_person,
    **extra: Any,
) -> SessionPlan:
    """A conference plan with each party's own waiting room."""
    values: dict[str, Any] = {
        "location": "Community centre, 2nd floor",
        "room": "Blue room",
        "survivor_waiting_room": SURVIVOR_ROOM,
        "responsible_waiting_room": RESPONSIBLE_ROOM,
    } | extra
    return SessionPlan(
        kind=SessionKind.conference,
        mode=mode,
        day=day,
        start=start,
        end=end,
        attendee_ids=frozenset(p.id for p in people),  # type: ignore[misc]
        **values,
    )


def parse(ics: bytes | str) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def attendance(db: Session, case_session: CaseSession, participant: Participant) -> SessionAttendee:
    return db.exec(
        select(SessionAttendee).where(
            SessionAttendee.session_id == case_session.id, SessionAttendee.participant_id == participant.id
        )
    ).one()


def queued(db: Session, case_session: CaseSession, **filters: Any) -> list[Notification]:
    query = select(Notification).where(col(Notification.dedupe_key).startswith(f"session:{case_session.id}:"))
    for name, value in filters.items():
        query = query.where(getattr(Notification, name) == value)
    return list(db.exec(query.order_by(col(Notification.id))).all())


def last_sunday(month: int) -> date:
    """The next last Sunday of `month` (the day Europe changes its clocks) at least a week away."""
    year = utcnow().year
    while True:
        day = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
        day -= timedelta(days=(day.weekday() - 6) % 7)
        if day > utcnow().date() + timedelta(days=7):
            return day
        year += 1


World = tuple[Case, Participant, Participant]


@pytest.fixture
def world(db: Session, facilitator: User) -> World:
    return ready_case(db, facilitator)


# --- the personal .ics -----------------------------------------------------------------------


def test_each_party_gets_their_own_times_and_waiting_room_under_a_staggered_plan(
    db: Session, facilitator: User, world: World
) -> None:
    case, survivor, responsible = world
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    calendar, mine = parse(ics_for(db, case_session=conference, participant=survivor))
    _, theirs = parse(ics_for(db, case_session=conference, participant=responsible))
    assert calendar["METHOD"] == "REQUEST" and mine["STATUS"] == "CONFIRMED"
    assert mine["UID"] == theirs["UID"] == conference.uid
    assert mine["SEQUENCE"] == 0
    assert mine.decoded("DTSTART") == attendance(db, conference, survivor).arrives_at == conference.starts_at
    assert mine.decoded("DTEND") == conference.ends_at
    assert theirs.decoded("DTSTART") == conference.starts_at - timedelta(minutes=20)
    assert theirs.decoded("DTEND") == conference.ends_at + timedelta(minutes=15)
    assert mine.decoded("DTSTART").utcoffset() == timedelta(0)
    assert SURVIVOR_ROOM in mine["LOCATION"] and RESPONSIBLE_ROOM not in mine["LOCATION"]
    assert RESPONSIBLE_ROOM in theirs["LOCATION"] and SURVIVOR_ROOM not in theirs["LOCATION"]
    assert "Community centre, 2nd floor" in theirs["LOCATION"]


def test_the_responsible_partys_invitation_holds_nothing_of_the_survivor(
    db: Session, facilitator: User, world: World
) -> None:
    case, survivor, responsible = world
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    ics = ics_for(db, case_session=conference, participant=responsible).decode()
    [email] = queued(db, conference, recipient_participant_id=responsible.id, kind="session_invitation")
    unfolded = ics.replace("\r\n ", "")
    for text in (unfolded, email.subject, email.body, email.attachment_body.replace("\r\n ", "")):  # type: ignore[union-attr]
        for secret in (
            SURVIVOR_NAME,
            SURVIVOR_EMAIL,
            "rosalind",
            SURVIVOR_PHONE,
            "600 111",
            SURVIVOR_CODE_WORD,
            SURVIVOR_ROOM,
            EXIT_PLAN,
            "kitchen",
            SUPPORT_PERSON,
            "security",
            "no-contact",
            "no contact",
            "panic",
            "shelter",
            "trial",
            case.reference,
        ):
            assert secret.lower() not in text.lower(), secret
    assert "Dan" in email.body and "dan@example.org" in unfolded  # their own name and address only


def test_a_discreet_invitation_never_says_what_it_is_about(db: Session, facilitator: User, world: World) -> None:
    case, survivor, responsible = world  # the survivor asked for discretion
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    _, event = parse(ics_for(db, case_session=conference, participant=survivor))
    [email] = queued(db, conference, recipient_participant_id=survivor.id, kind="session_invitation")
    assert event["SUMMARY"] == "Appointment"
    for text in (event.to_ical().decode(), email.subject, email.body):
        for word in ("restorative", "trafficking", "justice", "conference", "harbour", "offender"):
            assert word not in text.lower(), word


def test_without_discretion_the_invitation_may_name_the_conference(db: Session, facilitator: User) -> None:
    case, survivor, responsible = ready_case(db, facilitator, survivor_discreet=False)
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    _, event = parse(ics_for(db, case_session=conference, participant=survivor))
    assert event["SUMMARY"] == "Restorative justice conference"


def test_the_invitation_names_her_address_only_where_she_chose_email(db: Session, facilitator: User) -> None:
    case, survivor, responsible = ready_case(db, facilitator, survivor_discreet=False)
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    _, by_email = parse(ics_for(db, case_session=conference, participant=survivor))
    assert str(by_email["ATTENDEE"]) == f"mailto:{SURVIVOR_EMAIL}"
    save_contact_preference(
        db,
        actor=actor_for(facilitator),
        participant=survivor,
        data=ContactPreferenceUpdate(
            channel="phone", email=SURVIVOR_EMAIL, phone=SURVIVOR_PHONE, discreet=False, others_may_see_messages=False
        ),
    )
    ics = ics_for(db, case_session=conference, participant=survivor)
    assert "ATTENDEE" not in parse(ics)[1] and SURVIVOR_EMAIL.encode() not in ics


def test_a_video_session_gives_the_link_as_the_place(db: Session, facilitator: User) -> None:
    case, survivor, responsible = ready_case(db, facilitator, staggered=False)
    plan = conference_plan(
        survivor,
        responsible,
        mode=SessionMode.video,
        location="",
        room=None,
        video_link="https://meet.example.org/abc-123",
        survivor_waiting_room=None,
        responsible_waiting_room=None,
    )
    conference = schedule_session(db, actor=actor_for(facilitator), case=case, plan=plan)
    _, event = parse(ics_for(db, case_session=conference, participant=responsible))
    assert event["LOCATION"] == "Video call: https://meet.example.org/abc-123"
    assert event.decoded("DTSTART") == conference.starts_at


@pytest.mark.parametrize(("month", "utc_hour"), [(3, 8), (10, 9)], ids=["march-summer-time", "october-winter-time"])
def test_on_the_day_the_clocks_change_madrid_times_are_right_in_utc(
    db: Session, facilitator: User, program: Program, world: World, month: int, utc_hour: int
) -> None:
    assert program.timezone == "Europe/Madrid"
    case, survivor, responsible = world
    day = last_sunday(month)
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible, day=day)
    )
    _, mine = parse(ics_for(db, case_session=conference, participant=survivor))
    _, theirs = parse(ics_for(db, case_session=conference, participant=responsible))
    assert mine.decoded("DTSTART") == datetime.combine(day, time(utc_hour), UTC)
    assert mine.decoded("DTEND") == datetime.combine(day, time(utc_hour + 2), UTC)
    assert theirs.decoded("DTSTART") == datetime.combine(day, time(utc_hour - 1, 40), UTC)
    assert "10:00 to 12:00 (Europe/Madrid time)" in mine["DESCRIPTION"]
    assert "09:40 to 12:15" in theirs["DESCRIPTION"]


def test_a_session_across_the_spring_forward_hour_lasts_its_real_length(
    db: Session, facilitator: User, world: World
) -> None:
    case, survivor, responsible = world
    day = last_sunday(3)
    plan = conference_plan(survivor, responsible, day=day, start=time(1), end=time(4))  # 02:00–03:00 never happens
    conference = schedule_session(db, actor=actor_for(facilitator), case=case, plan=plan)
    _, mine = parse(ics_for(db, case_session=conference, participant=survivor))
    assert mine.decoded("DTSTART") == datetime.combine(day, time(0), UTC)  # 01:00 CET
    assert mine.decoded("DTEND") == datetime.combine(day, time(2), UTC)  # 04:00 CEST
    assert "01:00 to 04:00" in mine["DESCRIPTION"]


def test_a_spanish_speaker_gets_their_invitation_in_spanish(db: Session, facilitator: User) -> None:
    case, survivor, responsible = ready_case(db, facilitator, survivor_language="es")
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    [email] = queued(db, conference, recipient_participant_id=survivor.id, kind="session_invitation")
    _, event = parse(email.attachment_body)  # type: ignore[arg-type]
    assert email.body.startswith(f"Hola, {SURVIVOR_NAME}:")
    assert "Su sala de espera: Garden room" in email.body
    assert event["SUMMARY"] == "Cita"
    [theirs] = queued(db, conference, recipient_participant_id=responsible.id, kind="session_invitation")
    assert theirs.body.startswith("Hello Dan,")


def test_the_facilitator_sees_every_attendee_with_their_own_times(db: Session, facilitator: User, world: World) -> None:
    case, survivor, responsible = world
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    _, event = parse(ics_for_facilitator(db, case_session=conference, user=facilitator))
    assert event["UID"] == conference.uid
    assert event.decoded("DTSTART") == conference.starts_at - timedelta(minutes=20)  # the first arrival
    assert event.decoded("DTEND") == conference.ends_at + timedelta(minutes=15)  # the last departure
    description = event["DESCRIPTION"]
    assert f"{SURVIVOR_NAME} (survivor): 10:00 to 12:00, waiting room {SURVIVOR_ROOM}" in description
    assert f"Dan (responsible party): 09:40 to 12:15, waiting room {RESPONSIBLE_ROOM}" in description
    assert case.reference in event["SUMMARY"]
    assert str(event["ATTENDEE"]) == f"mailto:{facilitator.email}"


def test_there_is_no_invitation_for_someone_who_does_not_attend(db: Session, facilitator: User, world: World) -> None:
    case, survivor, responsible = world
    prep = schedule_session(
        db,
        actor=actor_for(facilitator),
        case=case,
        plan=SessionPlan(
            kind=SessionKind.preparation,
            mode=SessionMode.video,
            day=DAY,
            start=time(9),
            end=time(10),
            attendee_ids=frozenset({survivor.id}),  # type: ignore[arg-type]
            video_link="https://meet.example.org/prep",
        ),
    )
    with pytest.raises(NotFound):
        ics_for(db, case_session=prep, participant=responsible)


# --- what a change queues --------------------------------------------------------------------


def test_scheduling_queues_one_invitation_each_with_the_ics_and_reminders_before_each_arrival(
    db: Session, facilitator: User, world: World
) -> None:
    case, survivor, responsible = world
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    invitations = queued(db, conference, kind="session_invitation")
    assert sorted((n.recipient_participant_id or 0, n.recipient_user_id or 0) for n in invitations) == sorted(
        [(survivor.id, 0), (responsible.id, 0), (0, facilitator.id)]
    )
    for row in invitations:
        assert row.attachment_filename == "invitation.ics"
        assert row.attachment_content_type == "text/calendar; method=REQUEST"
        assert row.status == DeliveryStatus.pending and row.case_id == case.id
    reminders = {(n.recipient_participant_id, n.due_at) for n in queued(db, conference, kind="session_reminder")}
    survivor_arrival = attendance(db, conference, survivor).arrives_at
    responsible_arrival = attendance(db, conference, responsible).arrives_at
    assert reminders == {
        (survivor.id, survivor_arrival - timedelta(hours=48)),
        (survivor.id, survivor_arrival - timedelta(hours=4)),
        (responsible.id, responsible_arrival - timedelta(hours=48)),
        (responsible.id, responsible_arrival - timedelta(hours=4)),
    }


def test_a_reminder_lead_already_past_is_not_queued(
    db: Session, facilitator: User, program: Program, world: World
) -> None:
    case, survivor, responsible = world
    program.reminder_lead_hours = "1000, 24, nonsense"  # 1000 h before a session two weeks away has passed
    db.add(program)
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    arrival = attendance(db, conference, survivor).arrives_at
    assert [
        n.due_at for n in queued(db, conference, kind="session_reminder", recipient_participant_id=survivor.id)
    ] == [arrival - timedelta(hours=24)]


def test_rescheduling_sends_an_update_with_the_same_uid_and_supersedes_the_old_reminders(
    db: Session, facilitator: User, world: World
) -> None:
    case, survivor, responsible = world
    actor = actor_for(facilitator)
    conference = schedule_session(db, actor=actor, case=case, plan=conference_plan(survivor, responsible))
    old_reminders = queued(db, conference, kind="session_reminder")
    reschedule_session(
        db,
        actor=actor,
        case=case,
        case_session=conference,
        plan=conference_plan(survivor, responsible, day=DAY + timedelta(days=1), start=time(15), end=time(17)),
    )
    for row in old_reminders:
        db.refresh(row)
        assert (row.status, row.last_error) == (DeliveryStatus.skipped, "superseded")
    [update] = queued(db, conference, kind="session_update", recipient_participant_id=survivor.id)
    _, event = parse(update.attachment_body)  # type: ignore[arg-type]
    assert event["UID"] == conference.uid and event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == attendance(db, conference, survivor).arrives_at
    assert "15:00 to 17:00" in update.body
    fresh = queued(db, conference, kind="session_reminder", status=DeliveryStatus.pending)
    assert len(fresh) == 4 and all(":seq:1:" in n.dedupe_key for n in fresh)  # type: ignore[operator]
    assert {n.recipient_user_id for n in queued(db, conference, kind="session_update")} == {None, facilitator.id}


def test_someone_removed_from_a_session_that_goes_on_gets_a_cancellation(
    db: Session, facilitator: User, world: World
) -> None:
    case, survivor, responsible = world
    actor = actor_for(facilitator)
    supporter = make_participant(db, facilitator, case, ParticipantRole.supporter, display_name="Sam")
    for scope in (ConsentScope.contact, ConsentScope.preparation, ConsentScope.conference):
        give_consent(
            db,
            actor=actor,
            participant=supporter,
            scope=scope,
            sheet_version="2026-1",
            sheet_language="en",
            method=ConsentMethod.in_person,
        )
    conference = schedule_session(db, actor=actor, case=case, plan=conference_plan(survivor, responsible, supporter))
    reschedule_session(db, actor=actor, case=case, case_session=conference, plan=conference_plan(survivor, responsible))
    [cancellation] = queued(db, conference, kind="session_cancellation")
    assert cancellation.recipient_participant_id == supporter.id
    calendar, event = parse(cancellation.attachment_body)  # type: ignore[arg-type]
    assert calendar["METHOD"] == "CANCEL" and event["SEQUENCE"] == 1 and event["UID"] == conference.uid
    assert not queued(db, conference, kind="session_update", recipient_participant_id=supporter.id)
    assert not queued(
        db, conference, kind="session_reminder", recipient_participant_id=supporter.id, status=DeliveryStatus.pending
    )


def test_cancelling_sends_method_cancel_without_the_reason_and_no_reminder_survives(
    db: Session, facilitator: User, world: World
) -> None:
    case, survivor, responsible = world
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    reason = "Dan was seen near the survivor's shelter"
    cancel_session(db, actor=actor_for(facilitator), case_session=conference, reason=reason)
    assert not queued(db, conference, kind="session_reminder", status=DeliveryStatus.pending)
    cancellations = queued(db, conference, kind="session_cancellation")
    assert len(cancellations) == 3
    for row in cancellations:
        calendar, event = parse(row.attachment_body)  # type: ignore[arg-type]
        assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
        assert event["UID"] == conference.uid and event["SEQUENCE"] == 1
        assert row.attachment_content_type == "text/calendar; method=CANCEL"
        if row.recipient_participant_id is not None:
            assert "shelter" not in row.body and "seen near" not in event.to_ical().decode()
            assert "Your facilitator will be in touch." in row.body
        else:
            assert reason in row.body  # the facilitators keep the internal reason


def test_a_held_session_sends_nothing(db: Session, facilitator: User, world: World) -> None:
    case, survivor, responsible = world
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    before = len(queued(db, conference))
    conference.starts_at = utcnow() - timedelta(hours=1)  # as if it had started
    mark_session_held(db, actor=actor_for(facilitator), case_session=conference, outcome_note="Went well.")
    assert len(queued(db, conference)) == before


def test_the_same_change_never_queues_twice(db: Session, facilitator: User, world: World) -> None:
    case, survivor, responsible = world
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    before = [n.id for n in queued(db, conference)]
    session_changed(db, case_session=conference, change="new")
    assert [n.id for n in queued(db, conference)] == before


def test_a_disabled_facilitator_is_not_written_to(
    db: Session, facilitator: User, program: Program, world: World
) -> None:
    case, survivor, responsible = world
    conference = schedule_session(
        db, actor=actor_for(facilitator), case=case, plan=conference_plan(survivor, responsible)
    )
    gone = make_user(db, program, full_name="Ola Gone")
    db.add(SessionFacilitator(session_id=conference.id, user_id=gone.id, program_id=program.id))  # type: ignore[arg-type]
    gone.is_active = False
    db.add(gone)
    conference.sequence += 1
    session_changed(db, case_session=conference, change="updated")
    assert {n.recipient_user_id for n in queued(db, conference, kind="session_update")} == {None, facilitator.id}
