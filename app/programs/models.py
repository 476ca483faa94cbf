from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Program(SQLModel, table=True):
    """A restorative-justice program: the tenant every record belongs to."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    screening_validity_days: int = Field(default=90)
    safety_plan_required_at_medium: bool = Field(default=False)
    portal_link_hours: int = Field(default=72)
    travel_buffer_minutes: int = Field(default=30)
    reminder_lead_hours: str = Field(default="48,4", max_length=60)
    due_soon_days: int = Field(default=14)  # a commitment is "due soon" this many days before its due date
    commitment_reminder_days: str = Field(default="7,1", max_length=60)  # days before a due date
    quick_exit_url: str = Field(default="https://www.bbc.com/weather", max_length=500)
    retention_years: int = Field(default=6)  # ended cases are anonymised this many years after they ended
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
