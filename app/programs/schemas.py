from datetime import datetime
from functools import lru_cache
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.i18n import N_
from app.schemas import InputModel, says


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(value: str) -> str:
    value = value.strip()
    if value not in _zones():
        raise ValueError(N_("Choose a time zone from the list, such as Europe/Madrid or America/Chicago."))
    return value


def timezone_choices() -> list[str]:
    return sorted(z for z in _zones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))) + ["UTC"]


PROGRAM_NAME = says(
    missing=N_("Enter the name of the program."),
    string_too_long=N_("Enter a program name of at most 200 characters."),
)
TIMEZONE = says(N_("Choose a time zone from the list, such as Europe/Madrid or America/Chicago."))


class ProgramCreate(InputModel):
    name: str = Field(min_length=1, max_length=200, json_schema_extra=PROGRAM_NAME)
    timezone: str = Field(default="UTC", max_length=64, json_schema_extra=TIMEZONE)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return validate_timezone(value)


class ProgramUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200, json_schema_extra=PROGRAM_NAME)
    timezone: str | None = Field(default=None, max_length=64, json_schema_extra=TIMEZONE)
    screening_validity_days: int | None = Field(
        default=None,
        ge=7,
        le=730,
        json_schema_extra=says(N_("Enter how many days a screening stays valid, from 7 to 730, for example 90.")),
    )
    safety_plan_required_at_medium: bool | None = Field(
        default=None,
        description="Require a safety plan at medium risk too (it is always required at high).",
        json_schema_extra=says(N_("Choose whether a medium risk needs a safety plan too.")),
    )
    travel_buffer_minutes: int | None = Field(
        default=None,
        ge=0,
        le=240,
        description="Time kept free around in-person sessions for travel.",
        json_schema_extra=says(N_("Enter the travel time in minutes, from 0 to 240, for example 30.")),
    )
    reminder_lead_hours: str | None = Field(
        default=None,
        max_length=60,
        description="Hours before a session that reminders go out, e.g. '48,4'.",
        json_schema_extra=says(N_("Enter one to five whole hours separated by commas, such as 48,4.")),
    )
    portal_link_hours: int | None = Field(
        default=None,
        ge=1,
        le=336,
        description="How long a portal link works.",
        json_schema_extra=says(N_("Enter how many hours a portal link works, from 1 to 336, for example 72.")),
    )
    due_soon_days: int | None = Field(
        default=None,
        ge=1,
        le=90,
        description="A commitment counts as due soon this many days before its due date.",
        json_schema_extra=says(N_("Enter how many days before its due date a commitment is due soon, from 1 to 90.")),
    )
    commitment_reminder_days: str | None = Field(
        default=None,
        max_length=60,
        description="Days before a commitment's due date that the person who owes it is reminded, e.g. '7,1'.",
        json_schema_extra=says(N_("Enter one to five whole days between 1 and 90, separated by commas, such as 7,1.")),
    )
    quick_exit_url: str | None = Field(
        default=None,
        max_length=500,
        description="The neutral site the portal's quick exit leaves for.",
        json_schema_extra=says(N_("Enter the full https:// address of an everyday site, in at most 500 characters.")),
    )
    retention_years: int | None = Field(
        default=None,
        ge=1,
        le=50,
        description="Years after a case ended (closed or completed) before `mend retention run` anonymises it.",
        json_schema_extra=says(N_("Enter the number of years before ended cases are anonymised, from 1 to 50.")),
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else validate_timezone(value)

    @field_validator("reminder_lead_hours")
    @classmethod
    def _leads(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            hours = sorted({int(part) for part in value.replace(" ", "").split(",") if part}, reverse=True)
        except ValueError:
            raise ValueError(N_("List whole hours separated by commas, such as 48,4.")) from None
        if not hours or any(h < 1 or h > 24 * 14 for h in hours) or len(hours) > 5:
            raise ValueError(N_("Give one to five lead times between 1 and 336 hours, such as 48,4."))
        return ",".join(str(h) for h in hours)

    @field_validator("commitment_reminder_days")
    @classmethod
    def _reminder_days(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            days = sorted({int(part) for part in value.replace(" ", "").split(",") if part}, reverse=True)
        except ValueError:
            raise ValueError(N_("List whole days separated by commas, such as 7,1.")) from None
        if not days or any(d < 1 or d > 90 for d in days) or len(days) > 5:
            raise ValueError(N_("Give one to five reminder days between 1 and 90, such as 7,1."))
        return ",".join(str(d) for d in days)

    @field_validator("quick_exit_url")
    @classmethod
    def _exit_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value.startswith("https://") or any(c.isspace() for c in value):
            raise ValueError(N_("Use a full https:// address of an everyday site, such as a weather page."))
        return value


class ProgramPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    timezone: str
    screening_validity_days: int
    safety_plan_required_at_medium: bool
    travel_buffer_minutes: int
    reminder_lead_hours: str
    portal_link_hours: int
    due_soon_days: int
    commitment_reminder_days: str
    quick_exit_url: str
    retention_years: int
    created_at: datetime
