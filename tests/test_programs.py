"""Program settings: admins change them through the page and the API; bad values are refused beside the field."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.programs.models import Program


def test_admin_sets_scheduling_and_portal_settings_through_the_api(as_admin: TestClient, program: Program) -> None:
    response = as_admin.patch(
        "/api/v1/program",
        json={
            "travel_buffer_minutes": 45,
            "reminder_lead_hours": "4, 48,24",
            "portal_link_hours": 24,
            "quick_exit_url": "https://weather.example.org/today",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["travel_buffer_minutes"], body["reminder_lead_hours"], body["portal_link_hours"]) == (
        45,
        "48,24,4",
        24,
    )


def test_settings_page_refuses_bad_values_beside_the_fields(
    as_admin: TestClient, db: Session, program: Program
) -> None:
    response = as_admin.post(
        "/admin/program",
        data={
            "name": program.name,
            "timezone": program.timezone,
            "reminder_lead_hours": "soon",
            "quick_exit_url": "javascript:alert(1)",
            "travel_buffer_minutes": "-5",
            "csrf_token": as_admin.csrf_token,
        },
    )
    assert response.status_code == 422
    for field in ("reminder_lead_hours", "quick_exit_url", "travel_buffer_minutes"):
        assert f'id="field-{field}-error"' in response.text
    db.refresh(program)
    assert program.reminder_lead_hours == "48,4" and program.quick_exit_url.startswith("https://")


def test_facilitators_cannot_change_program_settings(as_facilitator: TestClient) -> None:
    assert as_facilitator.patch("/api/v1/program", json={"travel_buffer_minutes": 0}).status_code == 403


def test_admin_sets_the_monitoring_windows_through_the_api(as_admin: TestClient, program: Program) -> None:
    response = as_admin.patch("/api/v1/program", json={"due_soon_days": 21, "commitment_reminder_days": "1, 14,7,7"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["due_soon_days"], body["commitment_reminder_days"]) == (21, "14,7,1")
    assert as_admin.get("/api/v1/program").json()["commitment_reminder_days"] == "14,7,1"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("due_soon_days", 0),
        ("due_soon_days", 91),
        ("commitment_reminder_days", "0,7"),
        ("commitment_reminder_days", "91"),
        ("commitment_reminder_days", "next week"),
        ("commitment_reminder_days", "1,2,3,4,5,6"),
    ],
)
def test_monitoring_windows_out_of_range_are_refused_by_the_api(
    as_admin: TestClient, db: Session, program: Program, field: str, value: object
) -> None:
    response = as_admin.patch("/api/v1/program", json={field: value})
    assert response.status_code == 422
    db.refresh(program)
    assert (program.due_soon_days, program.commitment_reminder_days) == (14, "7,1")


def test_settings_page_shows_and_saves_the_monitoring_windows(
    as_admin: TestClient, db: Session, program: Program
) -> None:
    page = as_admin.get("/admin/program")
    assert page.status_code == 200
    assert 'name="due_soon_days"' in page.text and 'value="14"' in page.text
    assert 'name="commitment_reminder_days"' in page.text and 'value="7,1"' in page.text
    response = as_admin.post(
        "/admin/program",
        data={
            "name": program.name,
            "timezone": program.timezone,
            "due_soon_days": "10",
            "commitment_reminder_days": "3,10",
            "csrf_token": as_admin.csrf_token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    db.refresh(program)
    assert (program.due_soon_days, program.commitment_reminder_days) == (10, "10,3")


def test_settings_page_refuses_bad_monitoring_windows_beside_the_fields(
    as_admin: TestClient, db: Session, program: Program
) -> None:
    response = as_admin.post(
        "/admin/program",
        data={
            "name": program.name,
            "timezone": program.timezone,
            "due_soon_days": "365",
            "commitment_reminder_days": "tomorrow",
            "csrf_token": as_admin.csrf_token,
        },
    )
    assert response.status_code == 422
    for field in ("due_soon_days", "commitment_reminder_days"):
        assert f'id="field-{field}-error"' in response.text
    assert 'value="tomorrow"' in response.text
    db.refresh(program)
    assert (program.due_soon_days, program.commitment_reminder_days) == (14, "7,1")
