from datetime import datetime
from functools import lru_cache
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas import InputModel


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(value: str) -> str:
    value = value.strip()
    if value not in _zones():
        raise ValueError("Choose a time zone from the list, such as Europe/Madrid or America/Chicago.")
    return value


def timezone_choices() -> list[str]:
    return sorted(z for z in _zones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))) + ["UTC"]


class ProgramCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", max_length=64)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return validate_timezone(value)


class ProgramUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    screening_validity_days: int | None = Field(default=None, ge=7, le=730)
    safety_plan_required_at_medium: bool | None = Field(
        default=None, description="Require a safety plan at medium risk too (it is always required at high)."
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else validate_timezone(value)


class ProgramPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    timezone: str
    screening_validity_days: int
    safety_plan_required_at_medium: bool
    created_at: datetime
