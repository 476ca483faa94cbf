"""The portal's words: they come from the Babel catalogs, in the person's language, dates included.

That every marked string has its Spanish translation is tests/i18n/test_catalogs.py's job.
"""

from datetime import UTC, datetime

import pytest

from app.agreements.models import CommitmentKind
from app.portal.text import amount_words, long_date, portal_language, sheet_blocks, translator
from app.safety.sheets import InformationSheet


@pytest.mark.parametrize(
    ("preferred", "language"), [("es", "es"), ("es-MX", "es"), ("en-GB", "en"), ("pt", "en"), ("", "en")]
)
def test_the_portal_speaks_the_persons_language_only_where_a_translation_exists(preferred: str, language: str) -> None:
    assert portal_language(preferred) == language


def test_translation_fills_in_values() -> None:
    assert translator("es")("Hello, %(name)s.", name="Rosa") == "Hola, Rosa."
    assert translator("en")("Hello, %(name)s.", name="Rosa") == "Hello, Rosa."


def test_dates_are_written_out_in_the_persons_language_and_the_programs_time_zone() -> None:
    late_evening_utc = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert long_date(late_evening_utc, language="es", timezone="Europe/Madrid") == "1 de diciembre de 2026"
    assert long_date(late_evening_utc, language="en", timezone="America/Chicago") == "30 November 2026"


def test_amounts_use_the_persons_plural_forms_and_number_format() -> None:
    assert amount_words(CommitmentKind.service_hours, 90, None, "es") == "1,5 horas"
    assert amount_words(CommitmentKind.service_hours, 60, None, "en") == "1 hour"
    assert amount_words(CommitmentKind.program_attendance, 1, None, "es") == "1 sesión"
    assert amount_words(CommitmentKind.program_attendance, 3, None, "en") == "3 sessions"
    assert amount_words(CommitmentKind.payment, 123450, "EUR", "es") == "1.234,50\xa0€"
    assert amount_words(CommitmentKind.payment, 123450, "EUR", "en") == "€1,234.50"


def test_a_sheet_becomes_headings_lists_and_paragraphs() -> None:
    sheet = InformationSheet("v", "en", "Title", ("## Your rights", "- You can stop.\n- You can ask.", "Plain\ntext."))
    assert sheet_blocks(sheet) == [
        ("h2", "Your rights"),
        ("ul", ["You can stop.", "You can ask."]),
        ("p", "Plain text."),
    ]
