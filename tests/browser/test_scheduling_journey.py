"""Scheduling in a real browser: a facilitator books a preparation meeting with each party, downloads
an invitation, is refused the conference before consent (the page lists the reasons and links to where
each is fixed), records consent, schedules the conference, and pages through the week view with
HTMX. Every page visited gets an axe-core scan with no violations."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from tests.browser.conftest import MendServer, Watch, run_mend
from tests.browser.test_foundation_journey import flash, h1, sign_in
from tests.conferences.test_screening_rules import RESPONSIBLE_READY, SURVIVOR_READY
from tests.conftest import TEST_DATABASE_URL
from tests.factories import PASSWORD, make_case, make_participant, make_program, make_user
from tests.support import scratch_database

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips (or, with MEND_REQUIRE_BROWSER=1, fails) every browser test
    expect = None  # type: ignore[assignment]

Browse = Callable[..., Watch]
REFERENCE = "HRP-2026-044"
FLAGGED = "HRP-2026-051"
EMAIL = "fran.scheduling@example.org"
DAY = (datetime.now(ZoneInfo("Europe/Madrid")) + timedelta(days=14)).date()


@dataclass(frozen=True)
class SchedulingProgram:
    server: MendServer
    case_id: int
    survivor_id: int
    responsible_id: int
    flagged_case_id: int


@pytest.fixture(scope="module")
def scheduling_program(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchedulingProgram]:
    """Mend with a facilitator's case: a survivor and a responsible party, nothing prepared yet."""
    from app.auth.models import UserRole
    from app.conferences.models import ParticipantRole
    from app.db import make_engine

    with scratch_database(TEST_DATABASE_URL, tmp_path_factory.mktemp("scheduling-db")) as url:
        engine = make_engine(url)
        with Session(engine) as session:
            program = make_program(session, "Harbour Restorative Program", timezone="Europe/Madrid")
            fran = make_user(session, program, UserRole.facilitator, "Fran Facilitator", email=EMAIL)
            case = make_case(session, fran, reference=REFERENCE)
            rosa = make_participant(session, fran, case, ParticipantRole.survivor, display_name="Rosa")
            dan = make_participant(session, fran, case, ParticipantRole.responsible_party, display_name="Dan Novak")
            flagged = flagged_case(session, fran)
            session.commit()
            ids = (case.id, rosa.id, dan.id, flagged)
        engine.dispose()
        with run_mend(url, expect_setup_link=False) as server:
            yield SchedulingProgram(server, *ids)  # type: ignore[arg-type]


def flagged_case(session: Session, fran: Any) -> int:
    """A second case: its survivor agreed weeks ago to be contacted and to prepare, and has since
    withdrawn consent to the conference, so the case list flags it."""
    from app.conferences.models import ParticipantRole
    from app.safety.models import Consent, ConsentMethod, ConsentScope

    case = make_case(session, fran, reference=FLAGGED)
    lucia = make_participant(session, fran, case, ParticipantRole.survivor, display_name="Lucía")
    weeks_ago = datetime.now(ZoneInfo("UTC")) - timedelta(days=21)
    for scope in (ConsentScope.contact, ConsentScope.preparation, ConsentScope.conference):
        session.add(
            Consent(
                program_id=case.program_id,
                case_id=case.id,  # type: ignore[arg-type]
                participant_id=lucia.id,  # type: ignore[arg-type]
                scope=scope,
                sheet_version="1",
                sheet_language="es",
                method=ConsentMethod.in_person,
                given_at=weeks_ago,
                withdrawn_at=weeks_ago + timedelta(days=7) if scope == ConsentScope.conference else None,
            )
        )
    return case.id  # type: ignore[return-value]


def api(watch: Watch, path: str, data: dict[str, Any]) -> None:
    """Prepare the case through the JSON API with the browser's own session and CSRF token."""
    token = watch.page.locator('meta[name="csrf-token"]').get_attribute("content")
    response = watch.page.request.post(f"/api/v1{path}", data=data, headers={"X-CSRF-Token": token or ""})
    assert response.status == 201, response.text()


def prepare_everything_but_conference_consent(watch: Watch, program: SchedulingProgram) -> None:
    case = f"/cases/{program.case_id}"
    for person, answers in ((program.survivor_id, SURVIVOR_READY), (program.responsible_id, RESPONSIBLE_READY)):
        api(watch, f"{case}/participants/{person}/screenings", {"answers": answers, "rationale": "Ready."})
        for scope in ("contact", "preparation"):
            api(
                watch,
                f"{case}/participants/{person}/consents",
                {"scope": scope, "sheet_language": "en", "method": "in_person"},
            )
    api(
        watch,
        f"{case}/participants/{program.responsible_id}/acknowledgements",
        {
            "wording": "I kept her passport and paid her nothing.",
            "method": "in_person",
            "acknowledged_at": datetime.now(ZoneInfo("UTC")).isoformat(),
        },
    )
    api(watch, f"{case}/safety/assessments", {"factors": ["isolation"]})


def fill_session_form(watch: Watch, *, day: str, start: str, end: str, who: list[str] | None = None) -> None:
    page = watch.page
    page.get_by_label("Date", exact=True).fill(day)
    page.get_by_label("Starts at").fill(start)
    page.get_by_label("Ends at").fill(end)
    page.get_by_role("radio", name="In person").check()
    for name in who or []:
        page.get_by_label(name).check()
    page.get_by_label("Place", exact=True).fill("Centro Cívico Norte, Calle Mayor 3")


def consent_to_the_conference(watch: Watch, person: str) -> None:
    page = watch.page
    page.get_by_label("Person", exact=True).select_option(label=person)
    page.get_by_label("Consent to").select_option(label="Taking part in the conference")
    page.get_by_label("Language of the sheet shown").select_option(label="English")
    page.get_by_role("radio", name="In person").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator("main")).to_contain_text("Consent recorded")
    watch.scan()


@pytest.mark.browser
def test_a_facilitator_schedules_preparation_meetings_and_the_conference_and_sees_the_week(
    scheduling_program: SchedulingProgram, browse: Browse
) -> None:
    watch = browse(scheduling_program.server)
    page = watch.page
    sign_in(watch, EMAIL, PASSWORD)
    prepare_everything_but_conference_consent(watch, scheduling_program)
    day = DAY.isoformat()

    # From the case page to its sessions, and a preparation meeting with each party.
    watch.goto(f"/cases/{scheduling_program.case_id}")
    watch.scan()
    page.get_by_role("link", name="Sessions: preparation meetings, the conference and follow-ups").click()
    expect(h1(watch)).to_have_text(f"Sessions of case {REFERENCE}")
    watch.scan()
    for name, start, end in (
        ("Rosa (Survivor)", "09:00", "10:00"),
        ("Dan Novak (Responsible party)", "12:00", "13:00"),
    ):
        page.get_by_role("link", name="Schedule a preparation meeting").click()
        expect(h1(watch)).to_have_text(f"Schedule a preparation meeting for case {REFERENCE}")
        watch.scan()
        fill_session_form(watch, day=day, start=start, end=end, who=[name])
        page.get_by_role("button", name="Schedule a preparation meeting").click()
        expect(h1(watch)).to_have_text(f"Preparation meeting, case {REFERENCE}")
        expect(flash(watch)).to_have_text("Preparation meeting scheduled.")
        watch.scan()
        if name.startswith("Rosa"):
            with page.expect_download() as download:
                page.get_by_role("link", name="Invitation (.ics) for Rosa").click()
            saved = Path(download.value.path())
            assert download.value.suggested_filename.endswith(".ics")
            calendar = saved.read_text()
            assert calendar.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in calendar
        page.get_by_role("link", name=f"Back to the sessions of case {REFERENCE}").click()
        expect(h1(watch)).to_have_text(f"Sessions of case {REFERENCE}")
        watch.scan()
    expect(page.locator("main table")).to_have_count(1)
    expect(page.locator("main table tbody tr")).to_have_count(2)

    # The conference before anyone consented to it: the checklist up front, then the refusal.
    page.get_by_role("link", name="Schedule the conference").click()
    expect(h1(watch)).to_have_text(f"Schedule the conference for case {REFERENCE}")
    checklist = page.locator("section", has=page.get_by_role("heading", name="Before the conference"))
    expect(checklist.get_by_role("listitem")).to_have_count(2)
    watch.scan()
    fill_session_form(watch, day=day, start="16:00", end="18:00")
    page.get_by_role("button", name="Schedule the conference").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("This session cannot be scheduled yet")
    expect(refusal.get_by_role("listitem")).to_have_count(2)
    expect(refusal).to_contain_text("The survivor has not consented to take part in the conference.")
    expect(refusal).to_contain_text("The responsible party has not consented to take part in the conference.")
    expect(page.get_by_label("Place", exact=True)).to_have_value("Centro Cívico Norte, Calle Mayor 3")
    expect(page.get_by_label("Starts at")).to_have_value("16:00")
    watch.scan()

    # The refusal links to where consent is recorded.
    refusal.get_by_role("link", name="The survivor has not consented to take part in the conference.").click()
    expect(h1(watch)).to_have_text(f"Informed consent for case {REFERENCE}")
    watch.scan()
    consent_to_the_conference(watch, "Rosa")
    consent_to_the_conference(watch, "Dan Novak")

    # Now every condition is met and the conference is booked.
    watch.goto(f"/cases/{scheduling_program.case_id}/sessions/new?kind=conference")
    expect(page.locator("main")).to_contain_text("Every condition for the conference is met")
    watch.scan()
    fill_session_form(watch, day=day, start="16:00", end="18:00")
    page.get_by_role("button", name="Schedule the conference").click()
    expect(h1(watch)).to_have_text(f"Conference, case {REFERENCE}")
    expect(flash(watch)).to_have_text("Conference scheduled.")
    expect(page.get_by_role("row", name="Rosa")).to_contain_text("16:00")
    watch.scan()

    # My week: the week of the sessions, and HTMX paging to the next week and back.
    page.get_by_role("link", name="My week").click()
    expect(h1(watch)).to_contain_text("My week")
    watch.scan()
    watch.goto(f"/schedule/week?start={day}")
    day_section = page.locator(f"section[aria-labelledby='day-{day}']")
    expect(day_section.get_by_role("listitem")).to_have_count(3)
    expect(day_section).to_contain_text("16:00–18:00 conference")
    watch.scan()
    title = h1(watch).inner_text()
    page.get_by_role("link", name="Next week").click()
    expect(h1(watch)).not_to_have_text(title)
    expect(page.locator(f"section[aria-labelledby='day-{day}']")).to_have_count(0)
    watch.scan()
    page.get_by_role("link", name="Previous week").click()
    expect(h1(watch)).to_have_text(title)
    expect(page.locator(f"section[aria-labelledby='day-{day}'] li")).to_have_count(3)
    watch.scan()
    page.locator(f"section[aria-labelledby='day-{day}']").get_by_role("link", name="16:00–18:00 conference").click()
    expect(h1(watch)).to_have_text(f"Conference, case {REFERENCE}")
    watch.scan()
    watch.assert_clean()


@pytest.mark.browser
def test_a_facilitator_sees_a_flagged_case_and_records_a_meeting_that_already_took_place(
    scheduling_program: SchedulingProgram, browse: Browse
) -> None:
    watch = browse(scheduling_program.server)
    page = watch.page
    sign_in(watch, EMAIL, PASSWORD)

    # The case list says in words which case needs attention, and filters down to it.
    watch.goto("/cases")
    flagged_row = page.get_by_role("row", name=FLAGGED)
    expect(flagged_row).to_contain_text("Consent withdrawn")
    expect(flagged_row).to_contain_text("Paused")
    expect(page.get_by_role("row", name=REFERENCE)).not_to_contain_text("Consent withdrawn")
    watch.scan()
    page.get_by_label("Needs attention", exact=True).select_option(label="Consent withdrawn")
    expect(page.locator("#case-results")).to_contain_text("1 case found.")
    expect(page.locator("#case-results")).not_to_contain_text(REFERENCE)
    watch.scan()

    # The case page lists the flags, each with a link to where it is handled.
    page.get_by_role("link", name=FLAGGED).click()
    flags = page.locator("section", has=page.get_by_role("heading", name="Needs attention"))
    expect(flags.get_by_role("link", name="See the consents")).to_have_attribute(
        "href", f"/cases/{scheduling_program.flagged_case_id}/consent"
    )
    watch.scan()

    # A preparation meeting held two days ago, entered now: held at once, nobody invited.
    watch.goto(f"/cases/{scheduling_program.flagged_case_id}/sessions")
    watch.scan()
    page.get_by_role("link", name="Record a preparation meeting that already took place").click()
    expect(h1(watch)).to_have_text(f"Record a preparation meeting that already took place for case {FLAGGED}")
    expect(page.get_by_label("It already took place: record it as held")).to_be_checked()
    watch.scan()
    past = (datetime.now(ZoneInfo("Europe/Madrid")) - timedelta(days=2)).date().isoformat()
    fill_session_form(watch, day=past, start="10:00", end="11:00", who=["Lucía (Survivor)"])
    page.get_by_label("How it went").fill("Lucía asked questions about the conference; she wants a support person.")
    page.get_by_role("button", name="Record as held").click()
    expect(h1(watch)).to_have_text(f"Preparation meeting, case {FLAGGED}")
    expect(flash(watch)).to_have_text("Preparation meeting recorded as held. No invitations were sent.")
    expect(page.locator("main")).to_contain_text("she wants a support person")
    watch.scan()
    watch.assert_clean()
