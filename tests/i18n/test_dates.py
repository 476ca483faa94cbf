"""Dates on staff pages in the page's language: the templates keep strftime-shaped formats, Babel writes
the month and day names ("03 Dec 2026" in English, "03 dic 2026" in Spanish)."""

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient

from app.db import utcnow
from app.i18n import cldr_pattern, written

MOMENT = datetime(2026, 12, 3, 9, 5, tzinfo=UTC)


def test_a_moment_is_written_in_the_programs_time_zone_and_the_pages_language() -> None:
    assert written(MOMENT, "%d %b %Y, %H:%M", language="en", timezone="Europe/Madrid") == "03 Dec 2026, 10:05"
    assert written(MOMENT, "%d %b %Y, %H:%M", language="es", timezone="Europe/Madrid") == "03 dic 2026, 10:05"
    assert written(MOMENT, "%A %d %B %Y", language="es", timezone="America/Chicago") == "jueves 03 diciembre 2026"


def test_a_calendar_date_has_no_time_zone() -> None:
    assert written(date(2027, 1, 15), "%a %d %b", language="en") == "Fri 15 Jan"
    assert written(date(2027, 1, 15), "%a %d %b", language="es") == "vie 15 ene"


def test_literal_words_in_a_format_stay_as_they_are() -> None:
    assert cldr_pattern("%d %b at %H o'clock") == "dd MMM' at 'HH' o''clock'"
    assert written(date(2026, 12, 3), "%d %b, o'clock", language="en") == "03 Dec, o'clock"


def test_the_audit_log_dates_are_in_spanish_on_a_spanish_page(as_admin: TestClient) -> None:
    page = as_admin.get("/admin/audit", headers={"Accept-Language": "es"}).text
    now = utcnow()
    spanish = written(now, "%d %b %Y", language="es", timezone="Europe/Madrid")
    english = written(now, "%d %b %Y", language="en", timezone="Europe/Madrid")
    assert spanish in page
    assert spanish == english or english not in page
