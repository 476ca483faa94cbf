"""Scheduling through the JSON API: every gate code, every double booking, safety measures, DST, roles.

Sessions are booked 14+ days ahead in the program's time zone (Europe/Madrid). To mark a session held,
a test books it in the future and then moves its times into the past directly in the database.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import User
from app.conferences.models import CaseSession, Screening
from app.db import utcnow
from app.notifications.models import Notification
from tests.conferences.test_screening_rules import RESPONSIBLE_READY, SURVIVOR_READY

MADRID = ZoneInfo("Europe/Madrid")
PLACE = "Centro Cívico Norte, Calle Mayor 3"


def in_days(days: int) -> date:
    return (datetime.now(MADRID) + timedelta(days=days)).date()


DAY = in_days(14)


def last_sunday(month: int) -> date:
    """The next last Sunday of `month` (March: clocks go forward; October: back) at least 10 days away."""
    year = in_days(10).year
    while True:
        first_of_next = date(year + (month == 12), month % 12 + 1, 1)
        day = first_of_next - timedelta(days=1)
        day -= timedelta(days=(day.weekday() - 6) % 7)
        if day >= in_days(10):
            return day
        year += 1


def ok(response, status: int = 201):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json()


def codes(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [c["code"] for c in response.json()["conditions"]]


def utc(day: date, clock: str, *, fold: int = 0) -> datetime:
    hour, minute = map(int, clock.split(":"))
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=MADRID, fold=fold)
    return local.astimezone(UTC)


def parsed(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Built:
    id: int
    survivor: int
    responsible: int | None

    @property
    def api(self) -> str:
        return f"/api/v1/cases/{self.id}"

    @property
    def sessions(self) -> str:
        return f"/api/v1/cases/{self.id}/sessions"

    @property
    def parties(self) -> list[int]:
        return [self.survivor] + ([self.responsible] if self.responsible else [])


def consent(client: TestClient, case: Built, participant_id: int, *scopes: str) -> None:
    for scope in scopes:
        ok(
            client.post(
                f"{case.api}/participants/{participant_id}/consents",
                json={"scope": scope, "sheet_language": "en", "method": "in_person"},
            )
        )


def build_case(
    client: TestClient,
    *,
    screen: bool = True,
    acknowledge: bool = True,
    factors: tuple[str, ...] | None = ("isolation",),
    consents: tuple[str, ...] = ("conference",),
    survivor_needs_interpreter: bool = False,
) -> Built:
    """A case with a survivor and a responsible party, prepared as far as the flags say (by default: ready)."""
    case_id = ok(client.post("/api/v1/cases", json={"harm_type": "labour_trafficking", "referral_source": "court"}))[
        "id"
    ]
    base = f"/api/v1/cases/{case_id}"
    survivor = ok(
        client.post(
            f"{base}/participants",
            json={"role": "survivor", "display_name": "Rosa", "interpreter_needed": survivor_needs_interpreter},
        )
    )["id"]
    responsible = ok(client.post(f"{base}/participants", json={"role": "responsible_party", "display_name": "Dan"}))[
        "id"
    ]
    case = Built(case_id, survivor, responsible)
    if screen:
        for person, answers in ((survivor, SURVIVOR_READY), (responsible, RESPONSIBLE_READY)):
            ok(
                client.post(
                    f"{base}/participants/{person}/screenings",
                    json={"answers": answers, "rationale": "Prepared and supported."},
                )
            )
    if acknowledge:
        ok(
            client.post(
                f"{base}/participants/{responsible}/acknowledgements",
                json={
                    "wording": "I kept her passport and paid her nothing for two years.",
                    "method": "in_person",
                    "acknowledged_at": utcnow().isoformat(),
                },
            )
        )
    if factors is not None:
        ok(client.post(f"{base}/safety/assessments", json={"factors": list(factors)}))
    for person in case.parties:
        consent(client, case, person, *consents)
    return case


def preparation_case(client: TestClient) -> Built:
    """A case with only a survivor who agreed to be contacted and to prepare: enough for a preparation meeting."""
    case_id = ok(client.post("/api/v1/cases", json={"harm_type": "domestic_servitude", "referral_source": "ngo"}))["id"]
    survivor = ok(
        client.post(f"/api/v1/cases/{case_id}/participants", json={"role": "survivor", "display_name": "Ana"})
    )
    case = Built(case_id, survivor["id"], None)
    consent(client, case, case.survivor, "contact", "preparation")
    return case


def body(kind: str, attendees: list[int], *, day: date = DAY, start: str = "10:00", end: str = "11:30", **extra):  # type: ignore[no-untyped-def]
    return {
        "kind": kind,
        "mode": "in_person",
        "date": day.isoformat(),
        "start": start,
        "end": end,
        "attendee_ids": attendees,
        "location": PLACE,
    } | extra


def schedule(client: TestClient, case: Built, kind: str = "conference", attendees: list[int] | None = None, **extra):  # type: ignore[no-untyped-def]
    return client.post(case.sessions, json=body(kind, case.parties if attendees is None else attendees, **extra))


def stage(client: TestClient, case: Built) -> str:
    return ok(client.get(f"{case.api}/journey"), 200)["stage"]


def move_into_the_past(db: Session, session_id: int) -> None:
    """The session started an hour ago: what the clock would say on the day."""
    row = db.get(CaseSession, session_id)
    assert row is not None
    row.starts_at, row.ends_at = utcnow() - timedelta(hours=1), utcnow() + timedelta(minutes=30)
    db.add(row)
    db.commit()


# --- the conference gate (G1) ------------------------------------------------------------------


def test_a_ready_case_gets_its_conference_in_program_time_and_moves_to_conference_scheduled(
    as_facilitator: TestClient, facilitator: User
) -> None:
    case = build_case(as_facilitator)
    assert stage(as_facilitator, case) == "ready"
    created = ok(schedule(as_facilitator, case))
    assert created["status"] == "scheduled" and created["kind"] == "conference"
    assert parsed(created["starts_at"]) == utc(DAY, "10:00") and parsed(created["ends_at"]) == utc(DAY, "11:30")
    assert (created["date"], created["start"], created["end"], created["timezone"]) == (
        DAY.isoformat(),
        "10:00",
        "11:30",
        "Europe/Madrid",
    )
    assert [f["id"] for f in created["facilitators"]] == [facilitator.id]
    assert sorted(a["participant_id"] for a in created["attendees"]) == sorted(case.parties)
    assert stage(as_facilitator, case) == "conference_scheduled"
    listed = ok(as_facilitator.get(case.sessions), 200)
    assert [s["id"] for s in listed] == [created["id"]]


def test_a_case_with_nothing_prepared_is_refused_with_every_unmet_condition(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator, screen=False, acknowledge=False, factors=None, consents=())
    response = schedule(as_facilitator, case)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert codes(response) == [
        "screening_missing",
        "screening_missing",
        "acknowledgement_missing",
        "safety_assessment_missing",
        "consent_missing",
        "consent_missing",
    ]
    people = [(c["code"], c["participant_id"]) for c in response.json()["conditions"]]
    assert ("acknowledgement_missing", case.responsible) in people
    assert ("safety_assessment_missing", case.survivor) in people
    assert ok(as_facilitator.get(case.sessions), 200) == []


def _expire_survivor_screening(client: TestClient, db: Session, case: Built) -> None:
    for screening in db.exec(select(Screening).where(Screening.participant_id == case.survivor)).all():
        screening.completed_at = utcnow() - timedelta(days=91)
        db.add(screening)
    db.commit()


def _survivor_not_ready(client: TestClient, db: Session, case: Built) -> None:
    ok(
        client.post(
            f"{case.api}/participants/{case.survivor}/screenings",
            json={
                "answers": SURVIVOR_READY,
                "outcome": "not_yet",
                "override_reason": "She said she needs more time after the hearing.",
                "rationale": "Not yet.",
            },
        )
    )


def _withdraw_survivor(client: TestClient, db: Session, case: Built) -> None:
    ok(
        client.post(f"{case.api}/participants/{case.survivor}/consents/conference/withdraw", json={"reason": "No"}),
        200,
    )


def _urgent_concern(client: TestClient, db: Session, case: Built) -> None:
    ok(
        client.post(
            f"{case.api}/safety/concerns", json={"description": "A stranger asked for her at work.", "urgent": True}
        )
    )


def _nothing(client: TestClient, db: Session, case: Built) -> None:
    pass


# (code, how the case is built, what is then done to it, whose condition it is)
GATE_CASES: list[tuple[str, dict, Callable[[TestClient, Session, Built], None], str | None]] = [
    ("screening_missing", {"screen": False}, _nothing, "survivor"),
    ("screening_expired", {}, _expire_survivor_screening, "survivor"),
    ("not_ready", {}, _survivor_not_ready, "survivor"),
    ("acknowledgement_missing", {"acknowledge": False}, _nothing, "responsible"),
    ("safety_assessment_missing", {"factors": None}, _nothing, "survivor"),
    ("risk_critical", {"factors": ("imminent_danger",)}, _nothing, "survivor"),
    ("safety_plan_missing", {"factors": ("recent_threats", "threats_to_family")}, _nothing, "survivor"),
    ("consent_missing", {"consents": ()}, _nothing, "survivor"),
    ("consent_withdrawn", {}, _withdraw_survivor, "survivor"),
    ("interpreter_missing", {"survivor_needs_interpreter": True}, _nothing, "survivor"),
    ("case_paused", {}, _urgent_concern, None),
]


@pytest.mark.parametrize(("code", "build", "then", "whose"), GATE_CASES, ids=[g[0] for g in GATE_CASES])
def test_the_conference_is_refused_past_each_unmet_gate_condition(
    as_facilitator: TestClient,
    db: Session,
    code: str,
    build: dict,
    then: Callable[[TestClient, Session, Built], None],
    whose: str | None,
) -> None:
    case = build_case(as_facilitator, **build)
    then(as_facilitator, db, case)
    response = schedule(as_facilitator, case)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["status"] == 409 and problem["title"]
    conditions = [(c["code"], c["participant_id"]) for c in problem["conditions"]]
    expected_person = {"survivor": case.survivor, "responsible": case.responsible, None: None}[whose]
    assert (code, expected_person) in conditions
    assert all(c["message"] for c in problem["conditions"])
    assert ok(as_facilitator.get(case.sessions), 200) == []
    assert stage(as_facilitator, case) != "conference_scheduled"


def test_an_interpreter_attending_satisfies_the_interpreter_condition(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator, survivor_needs_interpreter=True)
    interpreter = ok(
        as_facilitator.post(f"{case.api}/participants", json={"role": "interpreter", "display_name": "Irene"})
    )["id"]
    consent(as_facilitator, case, interpreter, "conference")
    ok(schedule(as_facilitator, case, attendees=[*case.parties, interpreter]))


# --- preparation meetings ----------------------------------------------------------------------


def test_a_preparation_meeting_needs_only_that_persons_contact_and_preparation_consent(
    as_facilitator: TestClient,
) -> None:
    case = preparation_case(as_facilitator)
    created = ok(schedule(as_facilitator, case, "preparation", [case.survivor], mode="video", location=""))
    assert created["kind"] == "preparation"
    assert stage(as_facilitator, case) == "preparation"


def test_a_preparation_meeting_without_consent_to_be_contacted_is_refused(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator, consents=("preparation",))
    response = schedule(as_facilitator, case, "preparation", [case.responsible])  # type: ignore[list-item]
    assert response.status_code == 409
    assert [(c["code"], c["participant_id"]) for c in response.json()["conditions"]] == [
        ("consent_missing", case.responsible)
    ]


def test_a_preparation_meeting_with_both_parties_is_refused(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator, consents=("contact", "preparation"))
    response = schedule(as_facilitator, case, "preparation")
    assert response.status_code == 409
    assert codes(response) == ["preparation_one_party"]


# --- conflicts ----------------------------------------------------------------------------------


def test_a_facilitator_cannot_be_in_two_overlapping_sessions(as_facilitator: TestClient) -> None:
    first, second = preparation_case(as_facilitator), preparation_case(as_facilitator)
    ok(schedule(as_facilitator, first, "preparation", [first.survivor], start="10:00", end="11:00"))
    response = schedule(as_facilitator, second, "preparation", [second.survivor], start="10:30", end="11:30")
    assert response.status_code == 409
    assert codes(response) == ["facilitator_double_booked"]


def test_the_travel_buffer_keeps_in_person_sessions_apart(as_facilitator: TestClient) -> None:
    first, second = preparation_case(as_facilitator), preparation_case(as_facilitator)
    ok(schedule(as_facilitator, first, "preparation", [first.survivor], start="10:00", end="11:00"))
    too_close = schedule(as_facilitator, second, "preparation", [second.survivor], start="11:15", end="12:00")
    assert too_close.status_code == 409
    assert codes(too_close) == ["facilitator_double_booked"]
    assert "travel time" in too_close.json()["conditions"][0]["message"]


def test_sessions_far_enough_apart_are_both_booked(as_facilitator: TestClient) -> None:
    first, second = preparation_case(as_facilitator), preparation_case(as_facilitator)
    ok(schedule(as_facilitator, first, "preparation", [first.survivor], start="10:00", end="11:00"))
    ok(schedule(as_facilitator, second, "preparation", [second.survivor], start="11:30", end="12:00"))


def test_back_to_back_video_sessions_need_no_travel_time(as_facilitator: TestClient) -> None:
    first, second = preparation_case(as_facilitator), preparation_case(as_facilitator)
    video = {"mode": "video", "location": "", "video_link": "https://meet.example.org/prep"}
    ok(schedule(as_facilitator, first, "preparation", [first.survivor], start="10:00", end="11:00", **video))
    ok(schedule(as_facilitator, second, "preparation", [second.survivor], start="11:00", end="12:00", **video))


def test_a_cancelled_session_frees_its_time(as_facilitator: TestClient) -> None:
    first, second = preparation_case(as_facilitator), preparation_case(as_facilitator)
    booked = ok(schedule(as_facilitator, first, "preparation", [first.survivor], start="10:00", end="11:00"))
    ok(as_facilitator.post(f"{first.sessions}/{booked['id']}/cancel", json={"reason": "She is moving house."}), 200)
    ok(schedule(as_facilitator, second, "preparation", [second.survivor], start="10:00", end="11:00"))


def assign(client: TestClient, case: Built, *users: User) -> None:
    """Assign colleagues to the case, beside the facilitator who opened it."""
    current = [f["id"] for f in ok(client.get(case.api), 200)["facilitators"]]
    ok(client.patch(case.api, json={"facilitator_ids": current + [u.id for u in users]}), 200)


def test_a_room_cannot_hold_two_sessions_at_once(as_facilitator: TestClient, facilitator2: User) -> None:
    first, second = preparation_case(as_facilitator), preparation_case(as_facilitator)
    assign(as_facilitator, second, facilitator2)
    ok(schedule(as_facilitator, first, "preparation", [first.survivor], room="Sala 2"))
    response = schedule(
        as_facilitator, second, "preparation", [second.survivor], room="sala 2 ", facilitator_ids=[facilitator2.id]
    )
    assert response.status_code == 409
    assert codes(response) == ["room_double_booked"]


def test_a_participant_cannot_be_in_two_overlapping_sessions(as_facilitator: TestClient, facilitator2: User) -> None:
    case = preparation_case(as_facilitator)
    assign(as_facilitator, case, facilitator2)
    ok(schedule(as_facilitator, case, "preparation", [case.survivor], start="10:00", end="11:00"))
    response = schedule(
        as_facilitator,
        case,
        "preparation",
        [case.survivor],
        start="11:10",
        end="12:00",
        facilitator_ids=[facilitator2.id],
    )
    assert response.status_code == 409
    assert [(c["code"], c["participant_id"]) for c in response.json()["conditions"]] == [
        ("participant_double_booked", case.survivor)
    ]


def test_only_colleagues_assigned_to_the_case_can_be_added_to_a_session(
    as_facilitator: TestClient, facilitator2: User, admin: User, db: Session
) -> None:
    case = preparation_case(as_facilitator)
    queued = len(db.exec(select(Notification)).all())
    response = schedule(as_facilitator, case, "preparation", [case.survivor], facilitator_ids=[facilitator2.id])
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["facilitator_ids"]
    assert len(db.exec(select(Notification)).all()) == queued  # nobody was told about a case they cannot open
    ok(schedule(as_facilitator, case, "preparation", [case.survivor], facilitator_ids=[admin.id]))  # admins see all
    assign(as_facilitator, case, facilitator2)
    ok(
        schedule(
            as_facilitator,
            case,
            "preparation",
            [case.survivor],
            start="13:00",
            end="14:00",
            facilitator_ids=[facilitator2.id],
        )
    )


# --- safety measures ----------------------------------------------------------------------------


def _plan(client: TestClient, case: Built, **measures) -> None:  # type: ignore[no-untyped-def]
    ok(client.put(f"{case.api}/safety/plan", json=measures), 200)


def test_staggered_arrival_gives_each_party_their_own_times_and_waiting_room_in_shuttle_mode(
    as_facilitator: TestClient,
) -> None:
    case = build_case(as_facilitator)
    _plan(
        as_facilitator,
        case,
        staggered_arrival=True,
        arrival_gap_minutes=20,
        departure_gap_minutes=15,
        separate_waiting_rooms=True,
        preferred_mode="shuttle",
    )
    created = ok(
        schedule(
            as_facilitator, case, mode="shuttle", survivor_waiting_room="Sala A", responsible_waiting_room="Sala B"
        )
    )
    people = {a["participant_id"]: a for a in created["attendees"]}
    survivor, responsible = people[case.survivor], people[case.responsible]  # type: ignore[index]
    assert (survivor["local_arrival"], survivor["local_departure"], survivor["waiting_room"]) == (
        "10:00",
        "11:30",
        "Sala A",
    )
    assert (responsible["local_arrival"], responsible["local_departure"], responsible["waiting_room"]) == (
        "09:40",
        "11:45",
        "Sala B",
    )
    assert parsed(responsible["arrives_at"]) < parsed(survivor["arrives_at"])
    assert parsed(survivor["leaves_at"]) < parsed(responsible["leaves_at"])


def test_shuttle_mode_refuses_one_waiting_room_for_both_parties(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator)
    response = schedule(
        as_facilitator, case, mode="shuttle", survivor_waiting_room="Sala A", responsible_waiting_room="sala a"
    )
    assert response.status_code == 409
    assert codes(response) == ["separate_rooms_needed"]


def test_an_in_person_conference_is_refused_when_the_safety_plan_asks_for_video(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator)
    _plan(as_facilitator, case, preferred_mode="video")
    response = schedule(as_facilitator, case)
    assert response.status_code == 409
    assert codes(response) == ["mode_against_safety_plan"]


# --- time zones and daylight saving ------------------------------------------------------------


def test_a_time_that_does_not_exist_when_the_clocks_go_forward_is_refused(as_facilitator: TestClient) -> None:
    case = preparation_case(as_facilitator)
    spring = last_sunday(3)
    response = schedule(as_facilitator, case, "preparation", [case.survivor], day=spring, start="02:30", end="03:30")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["start"]
    assert "does not exist" in response.json()["errors"][0]["message"]
    later = ok(schedule(as_facilitator, case, "preparation", [case.survivor], day=spring, start="10:00", end="11:00"))
    assert parsed(later["starts_at"]) == datetime(spring.year, 3, spring.day, 8, 0, tzinfo=UTC)  # CEST, UTC+2


def test_a_time_that_happens_twice_when_the_clocks_go_back_needs_a_choice(as_facilitator: TestClient) -> None:
    case = preparation_case(as_facilitator)
    autumn = last_sunday(10)
    response = schedule(as_facilitator, case, "preparation", [case.survivor], day=autumn, start="02:30", end="03:15")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["start"]
    assert "twice" in response.json()["errors"][0]["message"]
    first = ok(
        schedule(
            as_facilitator,
            case,
            "preparation",
            [case.survivor],
            day=autumn,
            start="02:30",
            end="03:15",
            repeated_hour="first",
            mode="video",
            location="",
        )
    )
    assert parsed(first["starts_at"]) == datetime(autumn.year, 10, autumn.day, 0, 30, tzinfo=UTC)  # still CEST
    assert parsed(first["ends_at"]) == datetime(autumn.year, 10, autumn.day, 2, 15, tzinfo=UTC)  # CET by then


def test_the_second_of_the_repeated_hours_is_stored_an_hour_later(as_facilitator: TestClient) -> None:
    case = preparation_case(as_facilitator)
    autumn = last_sunday(10)
    second = ok(
        schedule(
            as_facilitator,
            case,
            "preparation",
            [case.survivor],
            day=autumn,
            start="02:30",
            end="03:30",
            repeated_hour="second",
        )
    )
    assert parsed(second["starts_at"]) == datetime(autumn.year, 10, autumn.day, 1, 30, tzinfo=UTC)
    assert second["start"] == "02:30"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": "25:00"}, "start"),
        ({"end": "half past ten"}, "end"),
        ({"date": "2027-02-30"}, "date"),
        ({"start": "12:00", "end": "11:00"}, "end"),
        ({"date": "2020-01-06"}, "start"),
        ({"mode": "carrier_pigeon"}, "mode"),
        ({"video_link": "meet.example.org"}, "video_link"),
        ({"location": ""}, "location"),
        ({"attendee_ids": []}, "attendee_ids"),
    ],
    ids=["hour", "end-text", "date", "end-before-start", "past", "mode", "link", "place", "nobody"],
)
def test_malformed_or_impossible_times_are_422_naming_the_field(
    as_facilitator: TestClient, change: dict, field: str
) -> None:
    case = preparation_case(as_facilitator)
    response = as_facilitator.post(case.sessions, json=body("preparation", [case.survivor]) | change)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


# --- rescheduling, cancelling, held ------------------------------------------------------------


def test_rescheduling_moves_the_session_and_bumps_its_sequence(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator)
    created = ok(schedule(as_facilitator, case))
    later = in_days(21)
    moved = ok(
        as_facilitator.patch(
            f"{case.sessions}/{created['id']}", json={"date": later.isoformat(), "start": "16:00", "end": "17:30"}
        ),
        200,
    )
    assert parsed(moved["starts_at"]) == utc(later, "16:00")
    assert moved["sequence"] == created["sequence"] + 1
    assert moved["location"] == PLACE and sorted(a["participant_id"] for a in moved["attendees"]) == sorted(
        case.parties
    )


def test_rescheduling_a_conference_checks_the_gate_again(as_facilitator: TestClient, db: Session) -> None:
    case = build_case(as_facilitator)
    created = ok(schedule(as_facilitator, case))
    _expire_survivor_screening(as_facilitator, db, case)
    response = as_facilitator.patch(f"{case.sessions}/{created['id']}", json={"start": "12:00", "end": "13:00"})
    assert response.status_code == 409
    assert ("screening_expired", case.survivor) in [
        (c["code"], c["participant_id"]) for c in response.json()["conditions"]
    ]
    unchanged = ok(as_facilitator.get(f"{case.sessions}/{created['id']}"), 200)
    assert (unchanged["start"], unchanged["sequence"]) == ("10:00", created["sequence"])


def test_rescheduling_into_the_missing_hour_is_422(as_facilitator: TestClient) -> None:
    case = preparation_case(as_facilitator)
    created = ok(schedule(as_facilitator, case, "preparation", [case.survivor]))
    spring = last_sunday(3)
    response = as_facilitator.patch(
        f"{case.sessions}/{created['id']}", json={"date": spring.isoformat(), "start": "02:00", "end": "03:30"}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["start"]


def test_cancelling_records_the_reason_and_the_case_is_ready_again(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator)
    created = ok(schedule(as_facilitator, case))
    url = f"{case.sessions}/{created['id']}"
    assert as_facilitator.post(f"{url}/cancel", json={"reason": "   "}).status_code == 422
    cancelled = ok(as_facilitator.post(f"{url}/cancel", json={"reason": "The survivor is unwell."}), 200)
    assert (cancelled["status"], cancelled["status_reason"]) == ("cancelled", "The survivor is unwell.")
    assert stage(as_facilitator, case) == "ready"
    again = as_facilitator.post(f"{url}/cancel", json={"reason": "Twice"})
    assert again.status_code == 409
    assert as_facilitator.patch(url, json={"start": "12:00", "end": "13:00"}).status_code == 409


def test_a_session_is_marked_held_only_after_it_started_and_the_case_moves_to_conference_held(
    as_facilitator: TestClient, db: Session
) -> None:
    case = build_case(as_facilitator)
    created = ok(schedule(as_facilitator, case))
    url = f"{case.sessions}/{created['id']}/held"
    too_early = as_facilitator.post(url, json={"outcome_note": "It went well."})
    assert too_early.status_code == 409
    assert "started" in too_early.json()["detail"]
    move_into_the_past(db, created["id"])
    assert as_facilitator.post(url, json={"outcome_note": ""}).status_code == 422
    held = ok(as_facilitator.post(url, json={"outcome_note": "Both spoke; an apology was offered."}), 200)
    assert (held["status"], held["outcome_note"]) == ("held", "Both spoke; an apology was offered.")
    assert stage(as_facilitator, case) == "conference_held"


# --- who may see and do what --------------------------------------------------------------------


def test_program_staff_are_refused_sessions(as_facilitator: TestClient, as_staff: TestClient) -> None:
    case = build_case(as_facilitator)
    created = ok(schedule(as_facilitator, case))
    assert as_staff.get(case.sessions).status_code == 403
    assert (
        as_staff.post(case.sessions, json=body("conference", case.parties, start="14:00", end="15:00")).status_code
        == 403
    )
    assert as_staff.post(f"{case.sessions}/{created['id']}/cancel", json={"reason": "x"}).status_code == 403
    assert as_staff.get("/api/v1/schedule/week").status_code == 403


def test_an_unassigned_facilitator_and_another_program_see_nothing(
    as_facilitator: TestClient, as_facilitator2: TestClient, as_other_admin: TestClient
) -> None:
    case = build_case(as_facilitator)
    created = ok(schedule(as_facilitator, case))
    for client in (as_facilitator2, as_other_admin):
        assert client.get(case.sessions).status_code == 404
        assert client.get(f"{case.sessions}/{created['id']}").status_code == 404
        assert client.post(case.sessions, json=body("conference", case.parties, start="14:00")).status_code == 404
        assert client.patch(f"{case.sessions}/{created['id']}", json={"start": "12:00"}).status_code == 404
        ics = f"{case.sessions}/{created['id']}/attendees/{case.survivor}/invitation.ics"
        assert client.get(ics).status_code == 404


def test_a_session_of_another_case_is_not_found_under_this_case(as_facilitator: TestClient) -> None:
    case, other = build_case(as_facilitator), preparation_case(as_facilitator)
    created = ok(schedule(as_facilitator, case))
    assert as_facilitator.get(f"{other.sessions}/{created['id']}").status_code == 404


def test_without_a_session_cookie_or_token_the_api_answers_401(anon: TestClient) -> None:
    assert anon.get("/api/v1/schedule/week").status_code == 401


# --- invitations --------------------------------------------------------------------------------


def test_each_attendee_downloads_their_own_invitation(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator)
    _plan(as_facilitator, case, staggered_arrival=True, arrival_gap_minutes=20, departure_gap_minutes=15)
    created = ok(
        schedule(
            as_facilitator, case, mode="shuttle", survivor_waiting_room="Sala A", responsible_waiting_room="Sala B"
        )
    )
    people = {a["participant_id"]: a for a in created["attendees"]}
    for mine, theirs in ((case.survivor, case.responsible), (case.responsible, case.survivor)):
        response = as_facilitator.get(people[mine]["invitation_url"])
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/calendar")
        assert "attachment" in response.headers["content-disposition"]
        event = icalendar.Calendar.from_ical(response.content).walk("VEVENT")[0]
        assert event.decoded("dtstart") == parsed(people[mine]["arrives_at"])
        assert event.decoded("dtend") == parsed(people[mine]["leaves_at"])
        assert str(event["uid"]) and int(event["sequence"]) == 0
        assert people[mine]["waiting_room"] in response.text
        assert people[theirs]["waiting_room"] not in response.text  # type: ignore[index]


def test_an_invitation_is_only_for_someone_who_attends(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator, consents=("contact", "preparation"))
    created = ok(schedule(as_facilitator, case, "preparation", [case.survivor]))
    response = as_facilitator.get(f"{case.sessions}/{created['id']}/attendees/{case.responsible}/invitation.ics")
    assert response.status_code == 404


# --- the week view ------------------------------------------------------------------------------


def test_the_week_lists_the_facilitators_sessions_monday_to_sunday_in_program_time(
    as_facilitator: TestClient,
) -> None:
    first, second = preparation_case(as_facilitator), preparation_case(as_facilitator)
    ok(schedule(as_facilitator, first, "preparation", [first.survivor], start="09:00", end="10:00"))
    ok(schedule(as_facilitator, second, "preparation", [second.survivor], day=DAY + timedelta(days=7)))
    week = ok(as_facilitator.get(f"/api/v1/schedule/week?start={DAY.isoformat()}"), 200)
    monday = DAY - timedelta(days=DAY.weekday())
    assert (week["start"], week["end"]) == (monday.isoformat(), (monday + timedelta(days=6)).isoformat())
    assert [d["date"] for d in week["days"]][0] == monday.isoformat() and len(week["days"]) == 7
    booked = [(d["date"], s["case_id"], s["start"]) for d in week["days"] for s in d["sessions"]]
    assert booked == [(DAY.isoformat(), first.id, "09:00")]
    assert week["next_start"] == (monday + timedelta(days=7)).isoformat()


def test_an_admin_picks_a_facilitators_week_and_a_facilitator_only_their_own(
    as_facilitator: TestClient, as_admin: TestClient, as_facilitator2: TestClient, facilitator: User
) -> None:
    case = preparation_case(as_facilitator)
    ok(schedule(as_facilitator, case, "preparation", [case.survivor]))
    url = f"/api/v1/schedule/week?start={DAY.isoformat()}&facilitator_id={facilitator.id}"
    week = ok(as_admin.get(url), 200)
    assert week["facilitator"]["id"] == facilitator.id
    assert [s["case_id"] for d in week["days"] for s in d["sessions"]] == [case.id]
    assert as_facilitator2.get(url).status_code == 403
    own = ok(as_facilitator2.get(f"/api/v1/schedule/week?start={DAY.isoformat()}"), 200)
    assert all(d["sessions"] == [] for d in own["days"])


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01"])
def test_a_week_at_the_edge_of_the_calendar_is_refused_as_malformed_not_a_server_error(
    as_facilitator: TestClient, start: str
) -> None:
    response = as_facilitator.get(f"/api/v1/schedule/week?start={start}")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["start"]
    assert as_facilitator.get(f"/schedule/week?start={start}").status_code == 422
