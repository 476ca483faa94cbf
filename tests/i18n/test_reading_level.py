"""Portal copy reads at grade 8 or below (Flesch-Kincaid, textstat), as DESIGN.md asks of every portal page.

Units: each portal template's messages together (one page's copy), each Python module's portal
messages together (flash messages, status lines, the words for commitments), every such message of
10 words or more on its own (shorter ones are labels, where the formula means little), and each
English information sheet, whole and paragraph by paragraph (paragraphs of 10 words or more).
The staff page templates/portal/links.html is not portal copy.
"""

from pathlib import Path

import pytest
import textstat

from app.safety.sheets import SHEETS_DIR
from tests.i18n.catalogs_support import extracted

MAX_GRADE = 8.0
MIN_WORDS = 10
PORTAL_SOURCES = ("templates/portal/", "app/portal/", "app/agreements/rules.py", "app/agreements/changes.py")


def _grade(text: str) -> float:
    return float(textstat.flesch_kincaid_grade(text))


def _as_sentence(message: str) -> str:
    message = message.replace("%(", "").replace(")s", "")
    return message if message.rstrip().endswith((".", "?", "!", ":")) else message + "."


def _portal_units() -> dict[str, list[str]]:
    units: dict[str, list[str]] = {}
    for message, files in extracted().items():
        for name in {Path(f).as_posix() for f in files}:
            if name.startswith(PORTAL_SOURCES) and not name.endswith("links.html"):
                units.setdefault(name, []).extend([message] if isinstance(message, str) else message)
    return units


def _long_messages() -> list[str]:
    return sorted({m for messages in _portal_units().values() for m in messages if len(m.split()) >= MIN_WORDS})


def _sheet_paragraphs() -> list[tuple[str, str]]:
    return [
        (path.name, paragraph)
        for path in sorted(SHEETS_DIR.glob("*.en.md"))
        for paragraph in path.read_text(encoding="utf-8").split("\n\n")
        if len(paragraph.split()) >= MIN_WORDS
    ]


def test_the_units_cover_the_portal_pages_and_the_sheets() -> None:
    assert {"templates/portal/home.html", "templates/portal/agreement.html", "app/portal/text.py"} <= set(
        _portal_units()
    )
    assert len(_long_messages()) > 20 and _sheet_paragraphs()


@pytest.mark.parametrize("unit", sorted(_portal_units()))
def test_each_portal_pages_copy_reads_at_grade_8_or_below(unit: str) -> None:
    text = " ".join(_as_sentence(m) for m in _portal_units()[unit])
    assert _grade(text) <= MAX_GRADE


@pytest.mark.parametrize("message", _long_messages())
def test_each_longer_portal_message_reads_at_grade_8_or_below(message: str) -> None:
    assert _grade(_as_sentence(message)) <= MAX_GRADE


@pytest.mark.parametrize("path", sorted(SHEETS_DIR.glob("*.en.md")), ids=lambda p: p.name)
def test_each_english_information_sheet_reads_at_grade_8_or_below(path: Path) -> None:
    assert _grade(path.read_text(encoding="utf-8")) <= MAX_GRADE


@pytest.mark.parametrize(("sheet", "paragraph"), _sheet_paragraphs(), ids=lambda v: v[:40])
def test_each_information_sheet_paragraph_reads_at_grade_8_or_below(sheet: str, paragraph: str) -> None:
    assert _grade(paragraph) <= MAX_GRADE, sheet


def test_the_check_would_catch_hard_copy() -> None:
    hard = "Notwithstanding the aforementioned considerations, participation necessitates comprehensive deliberation."
    assert _grade(hard) > MAX_GRADE
