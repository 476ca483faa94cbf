"""Input and output schemas for sessions, and their translation into the scheduling service's SessionPlan.

Times travel as the program's wall-clock date, start and end ("2027-10-31", "02:30"): that is what a
facilitator types and what the participants read. The service turns them into UTC.
"""

import datetime as dt
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator

from app.conferences.models import ParticipantRole, SessionKind, SessionStatus
from app.conferences.scheduling import SessionPlan
from app.conferences.schemas import FacilitatorPublic
from app.db import RecordId
from app.i18n import N_
from app.safety.models import SessionMode
from app.schemas import InputModel, says

KIND_LABELS = {
    SessionKind.preparation: N_("Preparation meeting"),
    SessionKind.conference: N_("Conference"),
    SessionKind.follow_up: N_("Follow-up review"),
}
MODE_LABELS = {
    SessionMode.in_person: N_("In person"),
    SessionMode.video: N_("By video"),
    SessionMode.shuttle: N_("Shuttle: the parties stay in separate rooms and the facilitator moves between them"),
    SessionMode.letter: N_("Letter exchange"),
}
STATUS_LABELS = {
    SessionStatus.scheduled: N_("Scheduled"),
    SessionStatus.held: N_("Held"),
    SessionStatus.cancelled: N_("Cancelled"),
    SessionStatus.on_hold: N_("On hold"),
}


class RepeatedHour(StrEnum):
    """On the night the clocks go back, an hour happens twice: which one is meant."""

    first = "first"
    second = "second"


REPEATED_HOUR_LABELS = {
    RepeatedHour.first: N_("The first time (before the clocks go back)"),
    RepeatedHour.second: N_("The second time (after the clocks go back)"),
}


SESSION_DATE = N_("Enter the date of the session, such as 2027-03-28.")
STARTS = {
    "missing": N_("Enter the time the session starts."),
    "wrong": N_("Enter the start time on the 24-hour clock, such as 09:30."),
    "zoned": N_("Enter the start time as the program's local time, without a time zone."),
}
ENDS = {
    "missing": N_("Enter the time the session ends."),
    "wrong": N_("Enter the end time on the 24-hour clock, such as 14:00."),
    "zoned": N_("Enter the end time as the program's local time, without a time zone."),
}


def _parse_date(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(N_("Enter the date of the session."))
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(SESSION_DATE) from None
    return value


def _parse_time(value: Any, words: dict[str, str]) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(words["missing"])
        try:
            parsed = dt.time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(words["wrong"]) from None
        if parsed.tzinfo is not None:
            raise ValueError(words["zoned"])
        return parsed
    return value


def _optional_text(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _video_link(value: str | None) -> str | None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError(N_("Enter the full video link, starting with https://."))
    return value


MODE = says(N_("Choose how the session takes place: in person, by video, shuttle or letter exchange."))
ATTENDEES = says(N_("Choose who attends from the participants listed."))


class _SessionFields(InputModel):
    """What creating and rescheduling share; every field optional so a reschedule can send only changes."""

    mode: SessionMode | None = Field(default=None, json_schema_extra=MODE)
    date: dt.date | None = Field(
        default=None, description="The day, in the program's time zone.", json_schema_extra=says(SESSION_DATE)
    )
    start: dt.time | None = Field(
        default=None,
        description="Wall-clock start in the program's time zone (HH:MM).",
        json_schema_extra=says(STARTS["wrong"], missing=STARTS["missing"]),
    )
    end: dt.time | None = Field(
        default=None,
        description="Wall-clock end in the program's time zone (HH:MM).",
        json_schema_extra=says(ENDS["wrong"], missing=ENDS["missing"]),
    )
    repeated_hour: RepeatedHour | None = Field(
        default=None,
        description="Only on the night the clocks go back, when the time happens twice: which one is meant.",
        json_schema_extra=says(N_("Choose whether the time is the first or the second time the clock shows it.")),
    )
    attendee_ids: list[RecordId] | None = Field(
        default=None, max_length=50, description="Participants attending.", json_schema_extra=ATTENDEES
    )
    facilitator_ids: list[RecordId] | None = Field(
        default=None,
        max_length=20,
        description="Left out: you, if you are assigned to the case, or its facilitators.",
        json_schema_extra=says(N_("Choose the facilitators from the list.")),
    )
    location: str | None = Field(
        default=None,
        max_length=300,
        description="Address or place; needed in person.",
        json_schema_extra=says(N_("Enter a place of at most 300 characters.")),
    )
    room: str | None = Field(
        default=None,
        max_length=120,
        description="The meeting room, checked for double booking.",
        json_schema_extra=says(N_("Enter a meeting room name of at most 120 characters.")),
    )
    video_link: str | None = Field(
        default=None,
        max_length=500,
        json_schema_extra=says(N_("Enter a video link of at most 500 characters, starting with https://.")),
    )
    survivor_waiting_room: str | None = Field(
        default=None,
        max_length=120,
        json_schema_extra=says(N_("Enter the survivor's waiting room in at most 120 characters.")),
    )
    responsible_waiting_room: str | None = Field(
        default=None,
        max_length=120,
        description="The responsible party's waiting room; never shown to the survivor.",
        json_schema_extra=says(N_("Enter the responsible party's waiting room in at most 120 characters.")),
    )

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return _parse_date(value)

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> Any:
        return _parse_time(value, STARTS)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: Any) -> Any:
        return _parse_time(value, ENDS)

    @field_validator(
        "location", "room", "video_link", "survivor_waiting_room", "responsible_waiting_room", mode="before"
    )
    @classmethod
    def _text(cls, value: Any) -> Any:
        return _optional_text(value)

    @field_validator("video_link")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        return _video_link(value)


def _fold(choice: RepeatedHour | None) -> int | None:
    return None if choice is None else (0 if choice == RepeatedHour.first else 1)


class SessionCreate(_SessionFields):
    """A new session, in the program's local time."""

    kind: SessionKind = Field(
        json_schema_extra=says(N_("Choose the kind of session: a preparation meeting, the conference or a follow-up."))
    )
    mode: SessionMode = Field(default=SessionMode.in_person, json_schema_extra=MODE)  # type: ignore[assignment]
    date: dt.date = Field(  # type: ignore[assignment]
        description="The day, in the program's time zone.",
        json_schema_extra=says(SESSION_DATE, missing=N_("Enter the date of the session.")),
    )
    start: dt.time = Field(  # type: ignore[assignment]
        description="Wall-clock start in the program's time zone (HH:MM).",
        json_schema_extra=says(STARTS["wrong"], missing=STARTS["missing"]),
    )
    end: dt.time = Field(  # type: ignore[assignment]
        description="Wall-clock end in the program's time zone (HH:MM).",
        json_schema_extra=says(ENDS["wrong"], missing=ENDS["missing"]),
    )
    attendee_ids: list[RecordId] = Field(  # type: ignore[assignment]
        default_factory=list, max_length=50, json_schema_extra=ATTENDEES
    )
    already_held: bool = Field(
        default=False,
        description="It already took place: record it as held (date and times in the past, no invitations sent).",
    )
    outcome_note: str | None = Field(
        default=None,
        max_length=10_000,
        description="How it went; needed when already_held is true.",
        json_schema_extra=says(N_("Shorten the note on how it went to 10,000 characters or fewer.")),
    )

    def to_plan(self) -> SessionPlan:
        """The scheduling service's plan for this request."""
        return SessionPlan(
            kind=self.kind,
            mode=self.mode,
            day=self.date,
            start=self.start,
            end=self.end,
            attendee_ids=frozenset(self.attendee_ids),
            facilitator_ids=frozenset(self.facilitator_ids or ()),
            location=self.location or "",
            room=self.room,
            video_link=self.video_link,
            survivor_waiting_room=self.survivor_waiting_room,
            responsible_waiting_room=self.responsible_waiting_room,
            fold=_fold(self.repeated_hour),
        )


class SessionUpdate(_SessionFields):
    """Rescheduling: send only what changes; the rest stays as it is. The gate is checked again."""

    def to_plan(self, current: "CurrentSession") -> SessionPlan:
        """The plan for the session as it will be: these changes over its current values."""
        changed = self.model_fields_set
        moved = bool({"date", "start"} & changed)
        fold = _fold(self.repeated_hour)
        if fold is None and not moved and current.repeated_hour is not None:
            fold = _fold(current.repeated_hour)  # keep which of the twice-happening hours it already is

        def pick(name: str) -> Any:
            value = getattr(self, name)
            return value if name in changed and value is not None else getattr(current, name)

        def pick_text(name: str) -> Any:
            return getattr(self, name) if name in changed else getattr(current, name)

        return SessionPlan(
            kind=current.kind,
            mode=pick("mode"),
            day=pick("date"),
            start=pick("start"),
            end=pick("end"),
            attendee_ids=frozenset(pick("attendee_ids")),
            facilitator_ids=frozenset(pick("facilitator_ids")),
            location=pick_text("location") or "",
            room=pick_text("room"),
            video_link=pick_text("video_link"),
            survivor_waiting_room=pick_text("survivor_waiting_room"),
            responsible_waiting_room=pick_text("responsible_waiting_room"),
            fold=fold,
        )


class CurrentSession(BaseModel):
    """A stored session in the terms a facilitator edits it: local date and times, ids and rooms."""

    kind: SessionKind
    mode: SessionMode
    date: dt.date
    start: dt.time
    end: dt.time
    repeated_hour: RepeatedHour | None
    attendee_ids: list[int]
    facilitator_ids: list[int]
    location: str
    room: str | None
    video_link: str | None
    survivor_waiting_room: str | None
    responsible_waiting_room: str | None


def _repeated(moment: dt.datetime) -> RepeatedHour | None:
    """Which of a twice-happening hour a local time is, or None when it happens once."""
    if moment.replace(fold=0).utcoffset() == moment.replace(fold=1).utcoffset():
        return None
    return RepeatedHour.second if moment.fold else RepeatedHour.first


def current_session(row: Any, tz: str) -> CurrentSession:
    """The editable values of a stored session (a scheduling_queries.SessionRow) in the program's time."""
    s = row.case_session
    zone = ZoneInfo(tz)
    start, end = s.starts_at.astimezone(zone), s.ends_at.astimezone(zone)
    rooms = {a.role: a.attendee.waiting_room for a in row.attendees}
    return CurrentSession(
        kind=s.kind,
        mode=s.mode,
        date=start.date(),
        start=start.time().replace(tzinfo=None, fold=0),
        end=end.time().replace(tzinfo=None, fold=0),
        repeated_hour=_repeated(start),
        attendee_ids=[a.participant.id for a in row.attendees],
        facilitator_ids=[u.id for u in row.facilitators],
        location=s.location,
        room=s.room,
        video_link=s.video_link,
        survivor_waiting_room=rooms.get(ParticipantRole.survivor),
        responsible_waiting_room=rooms.get(ParticipantRole.responsible_party),
    )


CANCEL_REASON = N_("Give a reason for cancelling: the attendees are told.")
HOW_IT_WENT = N_("Write a short note on how it went.")


class SessionCancel(InputModel):
    reason: str = Field(
        min_length=1,
        max_length=2_000,
        description="Why it is cancelled; the attendees are told.",
        json_schema_extra=says(
            missing=CANCEL_REASON,
            string_too_long=N_("Shorten the reason for cancelling to 2,000 characters or fewer."),
        ),
    )

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(CANCEL_REASON)
        return value.strip()


class SessionHeld(InputModel):
    outcome_note: str = Field(
        min_length=1,
        max_length=10_000,
        description="A short note on how it went.",
        json_schema_extra=says(
            missing=HOW_IT_WENT, string_too_long=N_("Shorten the note on how it went to 10,000 characters or fewer.")
        ),
    )

    @field_validator("outcome_note")
    @classmethod
    def _note(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(HOW_IT_WENT)
        return value.strip()


class AttendeePublic(BaseModel):
    """One attendee's own times and waiting room: what their invitation says."""

    participant_id: int
    display_name: str
    role: ParticipantRole
    arrives_at: dt.datetime
    leaves_at: dt.datetime
    local_arrival: str
    local_departure: str
    waiting_room: str | None
    invitation_url: str


class SessionPublic(BaseModel):
    id: int
    case_id: int
    kind: SessionKind
    mode: SessionMode
    status: SessionStatus
    status_reason: str | None
    outcome_note: str | None
    starts_at: dt.datetime = Field(description="UTC")
    ends_at: dt.datetime = Field(description="UTC")
    timezone: str
    date: dt.date = Field(description="The day in the program's time zone.")
    start: str = Field(description="Local start, HH:MM.")
    end: str = Field(description="Local end, HH:MM.")
    location: str
    room: str | None
    video_link: str | None
    sequence: int
    attendees: list[AttendeePublic]
    facilitators: list[FacilitatorPublic]


class WeekSessionPublic(BaseModel):
    id: int
    case_id: int
    case_reference: str
    kind: SessionKind
    mode: SessionMode
    status: SessionStatus
    starts_at: dt.datetime
    ends_at: dt.datetime
    start: str
    end: str
    room: str | None
    location: str


class WeekDayPublic(BaseModel):
    date: dt.date
    sessions: list[WeekSessionPublic]


class WeekPublic(BaseModel):
    """A facilitator's sessions from Monday to Sunday in the program's time zone."""

    start: dt.date
    end: dt.date
    timezone: str
    facilitator: FacilitatorPublic
    previous_start: dt.date
    next_start: dt.date
    days: list[WeekDayPublic]
