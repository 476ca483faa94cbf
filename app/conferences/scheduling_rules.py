"""Scheduling rules: local times to UTC across DST, conflicts with travel buffers, staggered arrivals.

Pure functions over plain values; the scheduling service loads the records and calls these.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.errors import Condition


class LocalTimeError(ValueError):
    """A wall-clock time that does not exist, or exists twice, in the program's time zone."""


def local_to_utc(day: date, clock: time, tz: str, *, fold: int | None = None) -> datetime:
    """A program-local date and time as UTC.

    In the spring-forward gap the time does not exist: refused. In the autumn fall-back hour it
    exists twice: refused unless `fold` says which (0 the first, 1 the second), because
    guessing would put people in a room an hour apart.
    """
    zone = ZoneInfo(tz)
    naive = datetime.combine(day, clock)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise LocalTimeError(f"{clock:%H:%M} does not exist on {day:%d %b %Y} in {tz}: the clocks go forward.")
    if first.utcoffset() != second.utcoffset():
        if fold is None:
            raise LocalTimeError(
                f"{clock:%H:%M} happens twice on {day:%d %b %Y} in {tz} (the clocks go back): choose which one."
            )
        return (second if fold else first).astimezone(UTC)
    return first.astimezone(UTC)


def utc_to_local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


@dataclass(frozen=True)
class Booking:
    """An existing or proposed session, reduced to what a conflict depends on."""

    session_id: int | None
    starts_at: datetime
    ends_at: datetime
    facilitator_ids: frozenset[int]
    participant_ids: frozenset[int]
    room: str | None
    in_person: bool


def _overlap(a: Booking, b: Booking, buffer: timedelta) -> bool:
    return a.starts_at < b.ends_at + buffer and b.starts_at < a.ends_at + buffer


def conflicts(
    proposed: Booking, existing: Iterable[Booking], *, travel_buffer_minutes: int, tz: str = "UTC"
) -> list[Condition]:
    """Double bookings of a facilitator, a room or a participant, with a travel buffer around in-person sessions."""
    found: list[Condition] = []
    for other in existing:
        if other.session_id is not None and other.session_id == proposed.session_id:
            continue
        travel = proposed.in_person or other.in_person
        buffer = timedelta(minutes=travel_buffer_minutes if travel else 0)
        if not _overlap(proposed, other, buffer):
            continue
        start, end = utc_to_local(other.starts_at, tz), utc_to_local(other.ends_at, tz)
        when = f"{start:%d %b %H:%M}–{end:%H:%M}"
        if proposed.facilitator_ids & other.facilitator_ids:
            found.append(
                Condition(
                    "facilitator_double_booked",
                    f"A facilitator is already booked then (session {other.session_id}, {when}"
                    f"{', with travel time' if buffer else ''}).",
                )
            )
        if proposed.room and other.room and proposed.room.strip().lower() == other.room.strip().lower():
            found.append(
                Condition(
                    "room_double_booked",
                    f"The room '{proposed.room}' is already booked then (session {other.session_id}, {when}).",
                )
            )
        for participant_id in sorted(proposed.participant_ids & other.participant_ids):
            found.append(
                Condition(
                    "participant_double_booked",
                    f"A participant already has a session then (session {other.session_id}, {when}).",
                    participant_id=participant_id,
                )
            )
    return found


@dataclass(frozen=True)
class PartyTimes:
    arrives_at: datetime
    leaves_at: datetime


def staggered_times(
    starts_at: datetime, ends_at: datetime, *, arrival_gap_minutes: int, departure_gap_minutes: int
) -> tuple[PartyTimes, PartyTimes]:
    """(survivor, responsible party) times: the responsible party arrives first and leaves last.

    The survivor arrives `arrival_gap_minutes` after the responsible party and leaves
    `departure_gap_minutes` before them, so the two never cross in a corridor.
    """
    arrival, departure = timedelta(minutes=arrival_gap_minutes), timedelta(minutes=departure_gap_minutes)
    responsible = PartyTimes(arrives_at=starts_at - arrival, leaves_at=ends_at + departure)
    survivor = PartyTimes(arrives_at=starts_at, leaves_at=ends_at)
    return survivor, responsible
