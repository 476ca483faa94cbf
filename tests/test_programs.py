"""Program settings: admins change them through the page and the API; bad values are refused beside the field."""

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
