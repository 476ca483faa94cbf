"""Information sheets: versioned plain-language texts in several languages, shipped with the app.

A consent records the exact version and language the person was given. Files live in
app/safety/sheets/<version>.<language>.md; a new version is a new file, old ones stay.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SHEETS_DIR = Path(__file__).parent / "sheets"
CURRENT_VERSION = "2026-1"
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class InformationSheet:
    version: str
    language: str
    title: str
    paragraphs: tuple[str, ...]


@lru_cache(maxsize=64)
def load_sheet(version: str, language: str) -> InformationSheet | None:
    path = SHEETS_DIR / f"{version}.{language}.md"
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").strip().split("\n\n")
    title = lines[0].lstrip("# ").strip()
    return InformationSheet(version, language, title, tuple(p.strip() for p in lines[1:] if p.strip()))


def sheet_for(language: str, version: str = CURRENT_VERSION) -> InformationSheet:
    """The sheet in the person's language (es, es-MX, es_MX), or in English when there is no translation yet."""
    base = language.replace("_", "-").split("-")[0].lower()
    sheet = load_sheet(version, base) or load_sheet(version, FALLBACK_LANGUAGE)
    if sheet is None:
        raise LookupError(f"information sheet {version} is missing")
    return sheet


def available_languages(version: str = CURRENT_VERSION) -> list[str]:
    return sorted(p.name.split(".")[1] for p in SHEETS_DIR.glob(f"{version}.*.md"))
