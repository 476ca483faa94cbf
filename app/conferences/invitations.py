"""Messages about sessions: invitations with a personal .ics, updates, cancellations and reminders.

Everything is queued in the outbox (app.notifications) inside the caller's transaction; the worker
sends it and applies the person's safe-contact preferences. What each person receives is built
only from their own attendance: their own times, their own waiting room, their own language, and
never another party's name, contact details, safety plan or anything said in confidence.
Facilitators receive the full picture of the session.

Rows belonging to a session carry a dedupe key ``session:<id>:seq:<sequence>:...``, so the same
change never queues twice, a later change can supersede what is still pending, and the worker can
tell which session a reminder is about (``stale_reminder``).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.auth.models import User
from app.conferences.models import (
    Case,
    CaseSession,
    Participant,
    ParticipantRole,
    SessionAttendee,
    SessionFacilitator,
    SessionStatus,
)
from app.config import PROJECT_ROOT, get_settings
from app.db import utcnow
from app.errors import NotFound
from app.i18n import install as install_i18n
from app.i18n import language_for, use_language, weekday_date
from app.notifications.models import DeliveryStatus, Notification
from app.programs.models import Program
from app.safety.models import ContactChannel, ContactPreference, SessionMode
from app.safety.rules import needs_discretion

SESSION_INVITATION = "session_invitation"
SESSION_UPDATE = "session_update"
SESSION_CANCELLATION = "session_cancellation"
SESSION_REMINDER = "session_reminder"

# change -> (outbox kind, participant template); "held" sends nothing: the session has taken place.
_CHANGES = {
    "new": (SESSION_INVITATION, "session_invitation"),
    "updated": (SESSION_UPDATE, "session_update"),
    "cancelled": (SESSION_CANCELLATION, "session_cancellation"),
}

ATTACHMENT_FILENAME = "invitation.ics"
_KEY = re.compile(r"^session:(\d+):seq:(\d+):")
_SUBJECT_MAX = 200  # Notification.subject

# One template per message, rendered in the recipient's language (app/i18n.py): a participant's
# preferred language, English for staff users.
_email = install_i18n(
    Environment(
        loader=FileSystemLoader(Path(PROJECT_ROOT) / "templates" / "email"),
        autoescape=False,  # noqa: S701 -- plain-text email and iCalendar, never HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)

# --- the pieces each message is made of ------------------------------------------------------


@dataclass(frozen=True)
class _Rendered:
    subject: str
    body: str


def render_email(name: str, language: str, context: dict[str, Any]) -> _Rendered:
    """A template's `subject` (set at its top) and its body, both as plain text, in `language`."""
    with use_language(language):
        module = _email.get_template(f"{name}.txt").make_module(context | {"lang": language_for(language)})
    subject = " ".join(str(getattr(module, "subject", "")).split())[:_SUBJECT_MAX]
    return _Rendered(subject=subject, body=str(module).strip() + "\n")


def email_language(participant: Participant) -> str:
    """The language of a participant's messages: their preferred one where Mend has it, else English."""
    return language_for(participant.preferred_language)


def email_day(moment: date, language: str) -> str:
    """A day as messages write it, weekday first: Monday 7 December 2026, lunes 7 de diciembre de 2026."""
    return weekday_date(moment, language=language)


def _span(arrives_at: datetime, leaves_at: datetime, tz: str, language: str) -> dict[str, Any]:
    """Local day and clock times of one span, for the templates."""
    zone = ZoneInfo(tz)
    start, end = arrives_at.astimezone(zone), leaves_at.astimezone(zone)
    return {
        "day": email_day(start, language),
        "arrives": f"{start:%H:%M}",
        "leaves": f"{end:%H:%M}",
        "leaves_day": email_day(end, language) if end.date() != start.date() else None,
        "tz": tz,
    }


def _preference(session: Session, participant_id: int) -> ContactPreference | None:
    return session.exec(select(ContactPreference).where(ContactPreference.participant_id == participant_id)).first()


def _attendance(session: Session, *, case_session: CaseSession, participant: Participant) -> SessionAttendee:
    attendee = session.exec(
        select(SessionAttendee).where(
            SessionAttendee.session_id == case_session.id, SessionAttendee.participant_id == participant.id
        )
    ).first()
    if attendee is None:
        raise NotFound("This person does not attend this session.")
    return attendee


def _participant_context(
    session: Session,
    *,
    case_session: CaseSession,
    participant: Participant,
    attendee: SessionAttendee,
    program: Program,
    language: str,
) -> dict[str, Any]:
    """Everything a participant's message may say: only their own attendance."""
    discreet = needs_discretion(_preference(session, participant.id))  # type: ignore[arg-type]
    mode = SessionMode(case_session.mode)
    in_person = mode in (SessionMode.in_person, SessionMode.shuttle)
    return {
        "discreet": discreet,
        "name": participant.display_name,
        "kind": str(case_session.kind),
        "mode": str(mode),
        "location": case_session.location if in_person else "",
        # In shuttle mode each party stays in their own room; the facilitators' base room is not theirs to know.
        "room": case_session.room if mode == SessionMode.in_person else None,
        "waiting_room": attendee.waiting_room if in_person else None,
        "video_link": case_session.video_link if mode == SessionMode.video else None,
        # The program's name may say what this is about, so it is left out when discretion is needed.
        "program": None if discreet else program.name,
        **_span(attendee.arrives_at, attendee.leaves_at, program.timezone, language),
    }


def _words(language: str) -> Any:
    return _email.get_template("_words.txt").make_module({"lang": language})


def _organizer() -> icalendar.vCalAddress:
    name, address = parseaddr(get_settings().mail_from)
    organizer = icalendar.vCalAddress(f"mailto:{address or 'no-reply@mend.invalid'}")
    organizer.params["CN"] = name or "Mend"
    return organizer


def _calendar(
    case_session: CaseSession,
    *,
    method: str | None,
    dtstart: datetime,
    dtend: datetime,
    summary: str,
    location: str,
    description: str,
    attendee: tuple[str, str] | None,
    language: str = "en",
) -> bytes:
    cancelled = case_session.status == SessionStatus.cancelled
    method = method or ("CANCEL" if cancelled else "REQUEST")
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Mend//Sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", case_session.uid)
    event.add("sequence", case_session.sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", dtstart)
    event.add("dtend", dtend)
    event.add("summary", summary, parameters={"LANGUAGE": language})
    if location:
        event.add("location", location, parameters={"LANGUAGE": language})
    event.add("description", description, parameters={"LANGUAGE": language})
    status = {"CANCEL": "CANCELLED"}.get(method) or (
        "TENTATIVE" if case_session.status == SessionStatus.on_hold else "CONFIRMED"
    )
    event.add("status", status)
    event.add("organizer", _organizer())
    if attendee is not None:
        name, email = attendee
        address = icalendar.vCalAddress(f"mailto:{email}")
        address.params["CN"] = name
        address.params["RSVP"] = "FALSE"
        event.add("attendee", address)
    calendar.add_component(event)
    return calendar.to_ical()


def _program(session: Session, case_session: CaseSession) -> Program:
    program = session.get(Program, case_session.program_id)
    assert program is not None
    return program


# --- .ics files ------------------------------------------------------------------------------


def ics_for(
    session: Session, *, case_session: CaseSession, participant: Participant, method: str | None = None
) -> bytes:
    """This attendee's own calendar invitation: their arrival and departure, their waiting room, nothing of anyone else.

    METHOD is CANCEL for a cancelled session and REQUEST otherwise, unless `method` says (a person
    removed from a session that goes on gets a CANCEL). Raises NotFound if the person does not attend.
    """
    program = _program(session, case_session)
    attendee = _attendance(session, case_session=case_session, participant=participant)
    language = email_language(participant)
    context = _participant_context(
        session,
        case_session=case_session,
        participant=participant,
        attendee=attendee,
        program=program,
        language=language,
    )
    pref = _preference(session, participant.id)  # type: ignore[arg-type]
    with use_language(language):
        words = _words(language)
        summary = " ".join(str(words.summary(context["kind"], context["discreet"])).split())
        location = " ".join(str(words.place(context)).split())
        description = _email.get_template("_details.txt").render(context | {"lang": language}).strip()
    return _calendar(
        case_session,
        method=method,
        dtstart=attendee.arrives_at,
        dtend=attendee.leaves_at,
        summary=summary,
        location=location,
        description=description,
        # Their address only where e-mail is the channel they agreed to: one kept on file for
        # another reason never travels in a file that may be forwarded or synced.
        attendee=(participant.display_name, pref.email)
        if pref is not None and pref.channel == ContactChannel.email and pref.email
        else None,
        language=language,
    )


def _facilitator_context(session: Session, *, case_session: CaseSession, program: Program) -> dict[str, Any]:
    """The full picture for facilitators: every attendee's own times and waiting room."""
    case = session.get(Case, case_session.case_id)
    assert case is not None
    rows = session.exec(
        select(SessionAttendee, Participant)
        .join(Participant, col(Participant.id) == SessionAttendee.participant_id)
        .where(SessionAttendee.session_id == case_session.id)
        .order_by(col(SessionAttendee.arrives_at), col(Participant.id))
    ).all()
    attendees = [
        {
            "name": participant.display_name,
            "role": ParticipantRole(participant.role).replace("_", " "),
            "waiting_room": attendee.waiting_room,
            **_span(attendee.arrives_at, attendee.leaves_at, program.timezone, "en"),
        }
        for attendee, participant in rows
    ]
    first = min([case_session.starts_at, *(a.arrives_at for a, _ in rows)])
    last = max([case_session.ends_at, *(a.leaves_at for a, _ in rows)])
    return {
        "reference": case.reference,
        "kind": str(case_session.kind),
        "mode": str(case_session.mode),
        "status": str(case_session.status),
        "reason": case_session.status_reason,
        "location": case_session.location,
        "room": case_session.room,
        "video_link": case_session.video_link,
        "attendees": attendees,
        "first": first,
        "last": last,
        **_span(case_session.starts_at, case_session.ends_at, program.timezone, "en"),
    }


def ics_for_facilitator(
    session: Session, *, case_session: CaseSession, user: User | None = None, method: str | None = None
) -> bytes:
    """A facilitator's calendar invitation: from the first arrival to the last departure, every attendee's times."""
    program = _program(session, case_session)
    context = _facilitator_context(session, case_session=case_session, program=program)
    location = ", ".join(
        part for part in (case_session.location, case_session.room, case_session.video_link or "") if part
    )
    return _calendar(
        case_session,
        method=method,
        dtstart=context["first"],
        dtend=context["last"],
        summary=f"{str(case_session.kind).replace('_', '-').capitalize()} session, case {context['reference']}",
        location=location,
        description=_email.get_template("_facilitator_details.txt").render(context | {"lang": "en"}).strip(),
        attendee=(user.full_name, user.email) if user is not None else None,
    )


# --- queueing --------------------------------------------------------------------------------


def _key(case_session: CaseSession, suffix: str) -> str:
    return f"session:{case_session.id}:seq:{case_session.sequence}:{suffix}"


def _content_type(method: str) -> str:
    return f"text/calendar; method={method}"


def _supersede(session: Session, *, case_session: CaseSession, participant_ids: set[int] | None) -> None:
    """Mark still-pending reminders of older sequences skipped, so a moved session never reminds of
    its old time and a cancelled one reminds of nothing. Invitations, updates and cancellations all
    go out, in order: each tells the truth at its SEQUENCE, and calendars keep the latest."""
    pending = session.exec(
        select(Notification).where(
            col(Notification.dedupe_key).startswith(f"session:{case_session.id}:seq:"),
            Notification.status == DeliveryStatus.pending,
            Notification.kind == SESSION_REMINDER,
        )
    ).all()
    stale = [
        row.id
        for row in pending
        if (parsed := _parse_key(row.dedupe_key)) is not None
        and parsed[1] < case_session.sequence
        and (participant_ids is None or row.recipient_participant_id in participant_ids)
    ]
    if stale:
        session.execute(
            update(Notification)
            .where(col(Notification.id).in_(stale), Notification.status == DeliveryStatus.pending)
            .values(status=DeliveryStatus.skipped, last_error="superseded")
        )


def _lead_hours(setting: str) -> list[float]:
    """The lead times in a setting such as "48,4", in hours, largest first; anything else is ignored."""
    leads = set()
    for part in (setting or "").split(","):
        try:
            value = float(part.strip())
        except ValueError:
            continue
        if 0 < value <= 24 * 60:
            leads.add(value)
    return sorted(leads, reverse=True)


def _participant_rows(
    session: Session,
    *,
    case_session: CaseSession,
    change: str,
    participant: Participant,
    attendee: SessionAttendee,
    program: Program,
) -> list[Notification]:
    kind, template = _CHANGES[change]
    language = email_language(participant)
    context = _participant_context(
        session,
        case_session=case_session,
        participant=participant,
        attendee=attendee,
        program=program,
        language=language,
    )
    method = "CANCEL" if change == "cancelled" else "REQUEST"
    message = render_email(template, language, context)
    rows = [
        Notification(
            program_id=case_session.program_id,
            case_id=case_session.case_id,
            kind=kind,
            dedupe_key=_key(case_session, f"p{participant.id}"),
            recipient_participant_id=participant.id,
            subject=message.subject,
            body=message.body,
            attachment_filename=ATTACHMENT_FILENAME,
            attachment_content_type=_content_type(method),
            attachment_body=ics_for(
                session, case_session=case_session, participant=participant, method=method
            ).decode(),
        )
    ]
    if change == "cancelled":
        return rows
    now = utcnow()
    for lead in _lead_hours(program.reminder_lead_hours):
        due_at = attendee.arrives_at - timedelta(hours=lead)
        if due_at <= now:
            continue
        reminder = render_email("session_reminder", language, context)
        rows.append(
            Notification(
                program_id=case_session.program_id,
                case_id=case_session.case_id,
                kind=SESSION_REMINDER,
                dedupe_key=_key(case_session, f"reminder:{lead:g}h:p{participant.id}"),
                recipient_participant_id=participant.id,
                subject=reminder.subject,
                body=reminder.body,
                due_at=due_at,
            )
        )
    return rows


def _facilitator_rows(
    session: Session, *, case_session: CaseSession, change: str, program: Program
) -> list[Notification]:
    kind, _ = _CHANGES[change]
    users = session.exec(
        select(User)
        .join(SessionFacilitator, col(SessionFacilitator.user_id) == User.id)
        .where(SessionFacilitator.session_id == case_session.id, col(User.is_active).is_(True))
        .order_by(col(User.id))
    ).all()
    if not users:
        return []
    context = _facilitator_context(session, case_session=case_session, program=program) | {"change": change}
    message = render_email("facilitator_session", "en", context)
    method = "CANCEL" if change == "cancelled" else "REQUEST"
    return [
        Notification(
            program_id=case_session.program_id,
            case_id=case_session.case_id,
            kind=kind,
            dedupe_key=_key(case_session, f"u{user.id}"),
            recipient_user_id=user.id,
            subject=message.subject,
            body=message.body,
            attachment_filename=ATTACHMENT_FILENAME,
            attachment_content_type=_content_type(method),
            attachment_body=ics_for_facilitator(session, case_session=case_session, user=user, method=method).decode(),
        )
        for user in users
    ]


def _queue(session: Session, rows: list[Notification]) -> None:
    """Add the rows whose dedupe key is not queued yet: the same change never queues twice."""
    keys = [row.dedupe_key for row in rows]
    if not keys:
        return
    existing = set(session.exec(select(Notification.dedupe_key).where(col(Notification.dedupe_key).in_(keys))).all())
    session.add_all([row for row in rows if row.dedupe_key not in existing])
    session.flush()


def session_changed(
    session: Session, *, case_session: CaseSession, change: str, only: Iterable[int] | None = None
) -> None:
    """Queue the messages a change to a session causes (new, updated, cancelled, held).

    Each attendee gets their own message with their own .ics (and reminders before a new or moved
    session), each of the session's facilitators gets the full picture. `only` limits the change to
    those participants (people removed from a session that goes on), and then facilitators are not
    written to. Still-pending reminders of older sequences are superseded. A held session sends nothing.
    """
    if change == "held":
        return
    if change not in _CHANGES:
        raise ValueError(f"unknown session change: {change}")
    wanted = set(only) if only is not None else None
    _supersede(session, case_session=case_session, participant_ids=wanted)
    program = _program(session, case_session)
    rows: list[Notification] = []
    attendance = session.exec(
        select(SessionAttendee, Participant)
        .join(Participant, col(Participant.id) == SessionAttendee.participant_id)
        .where(SessionAttendee.session_id == case_session.id)
        .order_by(col(Participant.id))
    ).all()
    for attendee, participant in attendance:
        if wanted is not None and participant.id not in wanted:
            continue
        rows += _participant_rows(
            session,
            case_session=case_session,
            change=change,
            participant=participant,
            attendee=attendee,
            program=program,
        )
    if wanted is None:
        rows += _facilitator_rows(session, case_session=case_session, change=change, program=program)
    _queue(session, rows)


# --- for the worker --------------------------------------------------------------------------


def _parse_key(key: str | None) -> tuple[int, int] | None:
    match = _KEY.match(key or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def stale_reminder(session: Session, notification: Notification) -> str | None:
    """Why a queued session reminder must not go out now (its session is off the schedule, on
    hold, or was changed since), or None when it may go."""
    if notification.kind != SESSION_REMINDER:
        return None
    parsed = _parse_key(notification.dedupe_key)
    if parsed is None:
        return None
    session_id, sequence = parsed
    case_session = session.get(CaseSession, session_id)
    if case_session is None or case_session.status != SessionStatus.scheduled:
        return "the session is not on the schedule"
    if case_session.sequence != sequence:
        return "superseded"
    return None
