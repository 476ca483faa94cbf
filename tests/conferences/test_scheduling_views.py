"""Scheduling pages: the sessions of a case, the form with its gate checklist and refusals, the session
page with its actions, and the week view (HTMX fragment and full page)."""

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import User
from app.conferences.models import CaseSession
from app.db import utcnow
from tests.conferences.test_scheduling_api import (
    DAY,
    PLACE,
    Built,
    _expire_survivor_screening,
    _plan,
    build_case,
    consent,
    last_sunday,
    move_into_the_past,
    ok,
    parsed,
    preparation_case,
    schedule,
    stage,
)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.text)


def form(case: Built, kind: str = "conference", attendees: list[int] | None = None, **fields) -> dict:  # type: ignore[no-untyped-def]
    return {
        "kind": kind,
        "date": DAY.isoformat(),
        "start": "10:00",
        "end": "11:30",
        "mode": "in_person",
        "attendee_ids": case.parties if attendees is None else attendees,
        "location": PLACE,
        "room": "",
        "video_link": "",
        "survivor_waiting_room": "",
        "responsible_waiting_room": "",
        "repeated_hour": "",
    } | fields


def pages(case: Built) -> str:
    return f"/cases/{case.id}/sessions"


def test_the_sessions_page_lists_upcoming_and_past_sessions_with_status_and_reason(
    as_facilitator: TestClient, db: Session
) -> None:
    case = build_case(as_facilitator, consents=("contact", "preparation", "conference"))
    kept = ok(schedule(as_facilitator, case, "preparation", [case.survivor], start="09:00", end="10:00"))
    dropped = ok(schedule(as_facilitator, case, "preparation", [case.responsible], start="12:00", end="13:00"))  # type: ignore[list-item]
    ok(as_facilitator.post(f"{case.sessions}/{dropped['id']}/cancel", json={"reason": "He is in hospital."}), 200)
    earlier = ok(schedule(as_facilitator, case, "preparation", [case.survivor], start="16:00", end="17:00"))
    row = db.get(CaseSession, earlier["id"])
    assert row is not None
    row.starts_at, row.ends_at = utcnow() - timedelta(days=2, hours=1), utcnow() - timedelta(days=2)
    db.add(row)
    db.commit()
    page = as_facilitator.get(pages(case))
    assert page.status_code == 200
    body = text(page)
    upcoming, past = body.split('id="past-title"')
    assert f'href="/cases/{case.id}/sessions/{kept["id"]}"' in upcoming
    assert "Cancelled" in upcoming and "He is in hospital." in upcoming
    assert f'href="/cases/{case.id}/sessions/{earlier["id"]}"' in past
    assert f'href="/cases/{case.id}/sessions/{earlier["id"]}"' not in upcoming
    for kind in ("preparation", "conference", "follow_up"):
        assert f'href="/cases/{case.id}/sessions/new?kind={kind}"' in body


def test_the_conference_form_shows_what_gate_g1_still_asks_for_with_links(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator, acknowledge=False, consents=())
    page = as_facilitator.get(f"{pages(case)}/new?kind=conference")
    assert page.status_code == 200
    body = text(page)
    assert "Before the conference" in body
    assert f'<a href="/cases/{case.id}/participants/{case.responsible}/acknowledgement">' in body
    assert body.count(f'<a href="/cases/{case.id}/consent">') == 2
    assert 'data-code="acknowledgement_missing"' in body and 'data-code="consent_missing"' in body
    assert "<code>" not in body and "_missing<" not in body  # the page says the sentence, not the code
    assert f'name="csrf_token" value="{as_facilitator.csrf_token}"' in body  # type: ignore[attr-defined]


def test_a_ready_case_shows_every_conference_condition_met(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator)
    body = text(as_facilitator.get(f"{pages(case)}/new?kind=conference"))
    assert "Every condition for the conference is met" in body
    for person in case.parties:
        assert re.search(rf'value="{person}"\s+checked', body)  # a conference invites both parties by default


def test_a_refused_conference_lists_every_unmet_condition_and_keeps_what_was_typed(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator, acknowledge=False, consents=())
    typed = form(case, location="Sala Azul, Calle Luna 8", room="Sala 3", start="16:15", end="17:45")
    response = as_facilitator.post(pages(case), data=typed)
    assert response.status_code == 409
    body = text(response)
    assert "This session cannot be scheduled yet" in body and "Nothing was saved." in body
    refusal = body.split('id="refused-title"')[1].split("</div>")[0]
    assert refusal.count("<li data-code=") == 3
    assert f'href="/cases/{case.id}/participants/{case.responsible}/acknowledgement"' in refusal
    assert refusal.count(f'href="/cases/{case.id}/consent"') == 2
    assert 'value="Sala Azul, Calle Luna 8"' in body and 'value="Sala 3"' in body
    assert 'value="16:15"' in body and 'value="17:45"' in body and f'value="{DAY.isoformat()}"' in body
    assert ok(as_facilitator.get(case.sessions), 200) == []


def test_a_preparation_meeting_refused_for_consent_links_to_the_consent_page(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator, consents=("contact",))
    response = as_facilitator.post(pages(case), data=form(case, "preparation", [case.survivor]))
    assert response.status_code == 409
    body = text(response)
    assert "The survivor has not consented to preparation." in body
    assert f'href="/cases/{case.id}/consent"' in body


def test_a_double_booking_is_refused_on_the_page_with_the_clash(as_facilitator: TestClient) -> None:
    first, second = preparation_case(as_facilitator), preparation_case(as_facilitator)
    ok(schedule(as_facilitator, first, "preparation", [first.survivor]))
    response = as_facilitator.post(pages(second), data=form(second, "preparation", [second.survivor], start="11:00"))
    assert response.status_code == 409
    assert "A facilitator is already booked then" in text(response)
    assert 'data-code="facilitator_double_booked"' in response.text


def test_scheduling_from_the_form_shows_each_attendees_own_times_and_waiting_room(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator)
    _plan(as_facilitator, case, staggered_arrival=True, arrival_gap_minutes=20, departure_gap_minutes=15)
    sent = form(case, mode="shuttle", survivor_waiting_room="Sala A", responsible_waiting_room="Sala B")
    response = as_facilitator.post(pages(case), data=sent, follow_redirects=False)
    assert response.status_code == 303
    detail = as_facilitator.get(response.headers["location"])
    assert detail.status_code == 200
    body = text(detail)
    assert "Conference scheduled." in body
    rows = {
        name: re.sub(r"\s+", " ", row)
        for name, row in re.findall(r'<th scope="row">(Rosa|Dan)</th>(.*?)</tr>', body, flags=re.S)
    }
    assert "<td>10:00</td> <td>11:30</td> <td>Sala A</td>" in rows["Rosa"]
    assert "<td>09:40</td> <td>11:45</td> <td>Sala B</td>" in rows["Dan"]
    session_id = int(response.headers["location"].rsplit("/", 1)[1])
    for person in case.parties:
        assert f"/api/v1/cases/{case.id}/sessions/{session_id}/attendees/{person}/invitation.ics" in body
    assert stage(as_facilitator, case) == "conference_scheduled"


def test_a_time_that_does_not_exist_is_shown_beside_the_start_field(as_facilitator: TestClient) -> None:
    case = preparation_case(as_facilitator)
    sent = form(case, "preparation", [case.survivor], date=last_sunday(3).isoformat(), start="02:30", end="03:30")
    response = as_facilitator.post(pages(case), data=sent)
    assert response.status_code == 422
    assert 'id="field-start-error"' in response.text
    assert "does not exist" in text(response)
    assert 'href="#field-start"' in response.text


def test_malformed_input_from_the_form_is_shown_beside_its_fields(as_facilitator: TestClient) -> None:
    case = preparation_case(as_facilitator)
    response = as_facilitator.post(pages(case), data=form(case, "preparation", [case.survivor], date="", end="9am"))
    assert response.status_code == 422
    assert "Enter the date of the session." in response.text
    assert 'id="field-end-error"' in response.text


def test_the_form_takes_the_second_of_the_repeated_autumn_hours(as_facilitator: TestClient) -> None:
    case = preparation_case(as_facilitator)
    autumn = last_sunday(10)
    sent = form(
        case,
        "preparation",
        [case.survivor],
        date=autumn.isoformat(),
        start="02:30",
        end="03:30",
        repeated_hour="second",
    )
    response = as_facilitator.post(pages(case), data=sent, follow_redirects=False)
    assert response.status_code == 303, text(response)
    stored = ok(as_facilitator.get(case.sessions), 200)[0]
    assert parsed(stored["starts_at"]).hour == 1  # 02:30 CET is 01:30 UTC


def test_rescheduling_from_the_form_is_prefilled_and_checks_the_gate_again(
    as_facilitator: TestClient, db: Session
) -> None:
    case = build_case(as_facilitator)
    created = ok(schedule(as_facilitator, case, room="Sala 4"))
    url = f"{pages(case)}/{created['id']}/edit"
    edit = text(as_facilitator.get(url))
    assert 'value="10:00"' in edit and 'value="11:30"' in edit and 'value="Sala 4"' in edit and PLACE in edit
    _expire_survivor_screening(as_facilitator, db, case)
    refused = as_facilitator.post(url, data=form(case, start="12:00", end="13:00", room="Sala 4"))
    assert refused.status_code == 409
    assert 'data-code="screening_expired"' in refused.text and "cannot be changed yet" in refused.text


def test_rescheduling_from_the_form_moves_the_session(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator)
    created = ok(schedule(as_facilitator, case))
    url = f"{pages(case)}/{created['id']}/edit"
    moved = as_facilitator.post(url, data=form(case, start="15:00", end="16:00"), follow_redirects=False)
    assert moved.status_code == 303
    assert "rescheduled" in text(as_facilitator.get(moved.headers["location"]))
    assert ok(as_facilitator.get(f"{case.sessions}/{created['id']}"), 200)["start"] == "15:00"


def test_cancelling_needs_a_reason_and_records_it(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator)
    created = ok(schedule(as_facilitator, case))
    url = f"{pages(case)}/{created['id']}"
    empty = as_facilitator.post(f"{url}/cancel", data={"reason": " "})
    assert empty.status_code == 422
    assert 'id="field-reason-error"' in empty.text
    done = as_facilitator.post(f"{url}/cancel", data={"reason": "The interpreter is ill."}, follow_redirects=False)
    assert done.status_code == 303
    body = text(as_facilitator.get(url))
    assert "Cancelled" in body and "The interpreter is ill." in body
    assert "Cancel this session" not in body and "Reschedule or change" not in body


def test_a_session_can_be_marked_held_only_once_it_has_started(as_facilitator: TestClient, db: Session) -> None:
    case = build_case(as_facilitator)
    created = ok(schedule(as_facilitator, case))
    url = f"{pages(case)}/{created['id']}"
    before = text(as_facilitator.get(url))
    assert "Mark as held" not in before and "once it has started" in before
    early = as_facilitator.post(f"{url}/held", data={"outcome_note": "Fine."})
    assert early.status_code == 409 and "only once it has started" in text(early)
    move_into_the_past(db, created["id"])
    assert "Mark as held" in text(as_facilitator.get(url))
    done = as_facilitator.post(f"{url}/held", data={"outcome_note": "An apology was offered."}, follow_redirects=False)
    assert done.status_code == 303
    assert "An apology was offered." in text(as_facilitator.get(url))
    assert "Stage: <strong>Conference held</strong>" in as_facilitator.get(f"/cases/{case.id}").text


def test_the_week_view_is_a_full_page_or_an_htmx_fragment_with_links_that_work_without_javascript(
    as_facilitator: TestClient,
) -> None:
    case = preparation_case(as_facilitator)
    created = ok(schedule(as_facilitator, case, "preparation", [case.survivor], start="09:15", end="10:00"))
    monday = DAY - timedelta(days=DAY.weekday())
    full = as_facilitator.get(f"/schedule/week?start={DAY.isoformat()}")
    assert full.status_code == 200 and "<html" in full.text and full.headers["vary"] == "HX-Request"
    body = text(full)
    assert f"My week: {monday:%d %b} to {monday + timedelta(days=6):%d %b %Y}" in body
    day_section = body.split(f'id="day-{DAY.isoformat()}"')[1].split("</section>")[0]
    assert f'href="/cases/{case.id}/sessions/{created["id"]}"' in day_section and "09:15–10:00" in day_section
    for target in (monday - timedelta(days=7), monday + timedelta(days=7)):
        link = f"/schedule/week?start={target.isoformat()}"
        assert f'href="{link}" hx-get="{link}"' in body
    fragment = as_facilitator.get(
        f"/schedule/week?start={(monday + timedelta(days=7)).isoformat()}", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text and "<h1>My week" in fragment.text
    assert f'href="/cases/{case.id}/sessions/{created["id"]}"' not in fragment.text


def test_an_admin_picks_whose_week_to_see(
    as_facilitator: TestClient, as_admin: TestClient, facilitator: User, as_facilitator2: TestClient
) -> None:
    case = preparation_case(as_facilitator)
    created = ok(schedule(as_facilitator, case, "preparation", [case.survivor]))
    own = text(as_admin.get(f"/schedule/week?start={DAY.isoformat()}"))
    assert "My week" in own and 'id="field-facilitator"' in own
    theirs = text(as_admin.get(f"/schedule/week?start={DAY.isoformat()}&facilitator={facilitator.id}"))
    assert "Week of Fran Facilitator" in theirs
    assert f'href="/cases/{case.id}/sessions/{created["id"]}"' in theirs
    assert f"&facilitator={facilitator.id}" in theirs  # week links keep the chosen facilitator
    refused = as_facilitator2.get(f"/schedule/week?facilitator={facilitator.id}")
    assert refused.status_code == 403


def test_staff_get_403_and_outsiders_404_on_the_scheduling_pages(
    as_facilitator: TestClient, as_staff: TestClient, as_facilitator2: TestClient, as_other_admin: TestClient
) -> None:
    case = build_case(as_facilitator)
    created = ok(schedule(as_facilitator, case))
    urls = [pages(case), f"{pages(case)}/new?kind=conference", f"{pages(case)}/{created['id']}"]
    for url in urls:
        assert as_staff.get(url).status_code == 403
        assert as_facilitator2.get(url).status_code == 404
        assert as_other_admin.get(url).status_code == 404
    assert as_staff.get("/schedule/week").status_code == 403
    assert as_staff.post(pages(case), data=form(case)).status_code == 403
    assert as_facilitator2.post(f"{pages(case)}/{created['id']}/cancel", data={"reason": "x"}).status_code == 404


def test_a_form_without_its_csrf_token_is_refused(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator)
    del as_facilitator.headers["X-CSRF-Token"]
    response = as_facilitator.post(pages(case), data=form(case))
    assert response.status_code == 403
    assert ok(as_facilitator.get(case.sessions), 200) == []


def test_the_case_page_links_to_sessions_and_the_menu_to_my_week(
    as_facilitator: TestClient, as_staff: TestClient
) -> None:
    case = preparation_case(as_facilitator)
    page = as_facilitator.get(f"/cases/{case.id}")
    assert f'href="/cases/{case.id}/sessions"' in page.text
    assert 'href="/schedule/week"' in page.text
    assert 'href="/schedule/week"' not in as_staff.get("/cases").text


def test_consent_given_again_lets_a_refused_preparation_meeting_through(as_facilitator: TestClient) -> None:
    case = build_case(as_facilitator, consents=("contact",))
    sent = form(case, "preparation", [case.survivor])
    assert as_facilitator.post(pages(case), data=sent).status_code == 409
    consent(as_facilitator, case, case.survivor, "preparation")
    assert as_facilitator.post(pages(case), data=sent, follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("code", "build", "fix"),
    [
        ("risk_critical", {"factors": ("imminent_danger",)}, "/safety"),
        ("safety_plan_missing", {"factors": ("recent_threats", "threats_to_family")}, "/safety/plan"),
        ("interpreter_missing", {"survivor_needs_interpreter": True}, "/participants/new"),
        ("screening_missing", {"screen": False}, "/participants/{survivor}/screening"),
    ],
    ids=["risk_critical", "safety_plan_missing", "interpreter_missing", "screening_missing"],
)
def test_the_page_refuses_the_conference_past_an_unmet_gate_and_links_to_the_fix(
    as_facilitator: TestClient, code: str, build: dict, fix: str
) -> None:
    case = build_case(as_facilitator, **build)
    response = as_facilitator.post(pages(case), data=form(case))
    assert response.status_code == 409
    refusal = text(response).split('id="refused-title"')[1].split("</div>")[0]
    assert f'data-code="{code}"' in refusal
    assert f'href="/cases/{case.id}{fix.format(survivor=case.survivor)}"' in refusal
