from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from app.i18n import N_
from app.schemas import InputModel, says

HOLD_REASON = N_("Say why the case must be kept, for example the court order or claim.")


class LegalHoldSet(InputModel):
    reason: str = Field(
        min_length=1,
        max_length=2_000,
        description="Why the case must be kept (a court order, a pending claim); shown to staff on the case.",
        json_schema_extra=says(
            missing=HOLD_REASON, string_too_long=N_("Shorten the reason for the hold to 2,000 characters or fewer.")
        ),
    )

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        value = value.strip()
        if len(value) < 3:
            raise ValueError(HOLD_REASON)
        return value


class LegalHoldPublic(BaseModel):
    case_id: int
    on_hold: bool
    since: datetime | None
    reason: str | None
    set_by_id: int | None
    anonymised_at: datetime | None
