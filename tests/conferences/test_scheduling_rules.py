"""Scheduling rules: DST edges, conflicts with travel buffers, staggered arrival."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.conferences.scheduling_rules import (
    Booking,
    LocalTimeError,
    conflicts,
    local_to_utc,
    staggered_times,
    utc_to_local,
)

MADRID = "Europe/Madrid"


@pytest.mark.parametrize(
    ("day", "clock", "tz", "expected"),
    [
        (date(2026, 1, 15), time(10, 0), MADRID, datetime(2026, 1, 15, 9, 0, tzinfo=UTC)),  # CET, +1
        (date(2026, 7, 15), time(10, 0), MADRID, datetime(2026, 7, 15, 8, 0, tzinfo=UTC)),  # CEST, +2
        (date(2026, 3, 29), time(1, 59), MADRID, datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),  # just before the gap
        (date(2026, 3, 29), time(3, 0), MADRID, datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # just after it
        (date(2026, 11, 1), time(1, 30), "America/Chicago", None),  # repeated hour: needs a choice
        (date(2026, 3, 8), time(2, 30), "America/Chicago", None),  # gap in Chicago
        (date(2026, 6, 1), time(23, 30), "UTC", datetime(2026, 6, 1, 23, 30, tzinfo=UTC)),
    ],
)
def test_local_times_become_the_right_utc_or_are_refused(day, clock, tz, expected) -> None:  # type: ignore[no-untyped-def]
    if expected is None:
        with pytest.raises(LocalTimeError):
            local_to_utc(day, clock, tz)
    else:
        assert local_to_utc(day, clock, tz) == expected


def test_a_time_in_the_spring_forward_gap_does_not_exist() -> None:
    with pytest.raises(LocalTimeError, match="does not exist"):
        local_to_utc(date(2026, 3, 29), time(2, 30), MADRID)


def test_a_time_in_the_repeated_autumn_hour_needs_a_choice_and_both_choices_work() -> None:
    with pytest.raises(LocalTimeError, match="happens twice"):
        local_to_utc(date(2026, 10, 25), time(2, 30), MADRID)
    first = local_to_utc(date(2026, 10, 25), time(2, 30), MADRID, fold=0)
    second = local_to_utc(date(2026, 10, 25), time(2, 30), MADRID, fold=1)
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert second == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert utc_to_local(second, MADRID).strftime("%H:%M") == "02:30"


def _at(hour: int, minute: int = 0, **kw) -> Booking:  # type: ignore[no-untyped-def]
    start = datetime(2026, 12, 1, hour, minute, tzinfo=UTC)
    fields = {
        "session_id": kw.pop("sid", None),
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "facilitator_ids": frozenset(kw.pop("f", {1})),
        "participant_ids": frozenset(kw.pop("p", {10})),
        "room": kw.pop("room", None),
        "in_person": kw.pop("in_person", True),
    }
    return Booking(**fields)


def _codes(proposed: Booking, *existing: Booking, buffer: int = 30) -> list[str]:
    return [c.code for c in conflicts(proposed, existing, travel_buffer_minutes=buffer)]


def test_overlapping_sessions_of_one_facilitator_conflict() -> None:
    assert _codes(_at(10, p={11}), _at(10, 30, sid=5, p={20})) == ["facilitator_double_booked"]


def test_the_travel_buffer_applies_to_in_person_sessions() -> None:
    assert _codes(_at(11, 15, p={11}), _at(10, sid=5, p={20})) == ["facilitator_double_booked"]  # 15 min gap
    assert _codes(_at(11, 30, p={11}), _at(10, sid=5, p={20})) == []  # exactly the buffer


def test_back_to_back_video_sessions_need_no_travel_time() -> None:
    video = {"in_person": False}
    assert _codes(_at(11, p={11}, **video), _at(10, sid=5, p={20}, **video)) == []


def test_a_room_cannot_hold_two_sessions() -> None:
    assert _codes(_at(10, f={1}, p={11}, room="Room A"), _at(10, sid=5, f={2}, p={20}, room="room a ")) == [
        "room_double_booked"
    ]


def test_a_participant_cannot_be_in_two_sessions_at_once() -> None:
    found = conflicts(_at(10, f={1}, p={10}), [_at(10, 30, sid=5, f={2}, p={10})], travel_buffer_minutes=0)
    assert [(c.code, c.participant_id) for c in found] == [("participant_double_booked", 10)]


def test_a_session_does_not_conflict_with_itself_when_rescheduled() -> None:
    assert _codes(_at(10, 30, sid=5), _at(10, sid=5)) == []


def test_every_clash_is_reported() -> None:
    codes = _codes(_at(10, room="Room A"), _at(10, sid=5, room="Room A"))
    assert codes == ["facilitator_double_booked", "room_double_booked", "participant_double_booked"]


def test_staggered_times_keep_the_parties_apart_in_corridors() -> None:
    start, end = datetime(2026, 12, 1, 10, tzinfo=UTC), datetime(2026, 12, 1, 12, tzinfo=UTC)
    survivor, responsible = staggered_times(start, end, arrival_gap_minutes=20, departure_gap_minutes=15)
    assert responsible.arrives_at == start - timedelta(minutes=20) < survivor.arrives_at == start
    assert survivor.leaves_at == end < responsible.leaves_at == end + timedelta(minutes=15)
