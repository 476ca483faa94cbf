"""The portal's words: every string a portal page can show has its translation, so no page mixes languages."""

import re
from datetime import UTC, datetime

import pytest

from app.config import PROJECT_ROOT
from app.portal import rules, text
from app.portal.text import ENGLISH_ONLY, SPANISH, long_date, portal_language, sheet_blocks, translator
from app.safety.sheets import InformationSheet

_LITERAL = re.compile(r"""_\(\s*(["'])(.+?)\1""", re.S)


def _template_strings() -> set[str]:
    found = set()
    for path in (PROJECT_ROOT / "templates" / "portal").glob("*.html"):
        if path.name == "links.html":  # the facilitator's page, in English like every staff page
            continue
        found |= {m.group(2) for m in _LITERAL.finditer(path.read_text(encoding="utf-8"))}
    return found


def _python_strings() -> set[str]:
    constants = [getattr(module, name) for module in (rules, text) for name in dir(module) if name.isupper()]
    found = {value for value in constants if isinstance(value, str) and " " in value}
    found |= set(text.SCOPE_TITLES.values()) | set(text.SCOPE_EXPLANATIONS.values())
    found |= {part for step in rules.PORTAL_STEPS for part in step}
    return found - ENGLISH_ONLY


def test_the_templates_use_literal_strings_the_test_can_find() -> None:
    assert {"Quick exit", "Open my page", "Yes, stop", "Do you want to stop?"} <= _template_strings()


@pytest.mark.parametrize("english", sorted(_template_strings() | _python_strings()))
def test_every_portal_string_has_a_spanish_translation(english: str) -> None:
    assert english in SPANISH, f"no Spanish for {english!r}"
    assert SPANISH[english].strip() and SPANISH[english] != english


def test_translations_keep_their_placeholders() -> None:
    for english, spanish in SPANISH.items():
        assert re.findall(r"\{\w+\}", english) == re.findall(r"\{\w+\}", spanish), english


@pytest.mark.parametrize(
    ("preferred", "language"), [("es", "es"), ("es-MX", "es"), ("en-GB", "en"), ("pt", "en"), ("", "en")]
)
def test_the_portal_speaks_the_persons_language_only_where_a_translation_exists(preferred: str, language: str) -> None:
    assert portal_language(preferred) == language


def test_translation_fills_in_values() -> None:
    assert translator("es")("Hello, {name}.", name="Rosa") == "Hola, Rosa."
    assert translator("en")("Hello, {name}.", name="Rosa") == "Hello, Rosa."


def test_dates_are_written_out_in_the_persons_language_and_the_programs_time_zone() -> None:
    late_evening_utc = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert long_date(late_evening_utc, language="es", timezone="Europe/Madrid") == "1 de diciembre de 2026"
    assert long_date(late_evening_utc, language="en", timezone="America/Chicago") == "30 November 2026"


def test_a_sheet_becomes_headings_lists_and_paragraphs() -> None:
    sheet = InformationSheet("v", "en", "Title", ("## Your rights", "- You can stop.\n- You can ask.", "Plain\ntext."))
    assert sheet_blocks(sheet) == [
        ("h2", "Your rights"),
        ("ul", ["You can stop.", "You can ask."]),
        ("p", "Plain text."),
    ]
