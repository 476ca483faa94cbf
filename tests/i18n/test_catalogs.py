"""Translation completeness: a marked string with no Spanish translation, or one that lost a value, fails here.

The messages come from Babel's extraction over Python and the templates (babel.cfg, as `make messages`
runs it), so a string marked anywhere is checked; run `make messages` and translate what it adds.
"""

import pytest

from app.i18n import LANGUAGES
from app.safety.sheets import SHEETS_DIR
from tests.i18n.catalogs_support import PLACEHOLDER, catalog, extracted


def _ids(message: object) -> list[str]:
    return [message] if isinstance(message, str) else list(message)  # type: ignore[arg-type]


def test_extraction_finds_the_portal_email_and_pdf_strings() -> None:
    found = {part for message in extracted() for part in _ids(message)}
    assert {"Quick exit", "Hello, %(name)s.", "Sign the agreement"} <= found  # portal templates and Python
    assert "I have read this agreement and I sign it of my own free will." in found  # N_() marker


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_extracted_message_is_in_the_catalog(language: str) -> None:
    missing = [message for message in extracted() if message not in catalog(language)]
    assert missing == [], f"run `make messages` and translate: {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogs_hold_no_message_the_code_no_longer_uses(language: str) -> None:
    stale = [
        m.id for m in catalog(language) if m.id and (m.id if isinstance(m.id, str) else tuple(m.id)) not in extracted()
    ]
    assert stale == [], "run `make messages` to drop them"


# Words Spanish writes as English does; any other msgstr equal to its msgid is an untranslated copy.
SAME_IN_SPANISH = frozenset({"No", "Portal", "Error:", "Hindi", "Igbo", "Yoruba"})


def test_every_spanish_translation_is_written_and_not_fuzzy() -> None:
    spanish = catalog("es")
    untranslated = [
        m.id
        for m in spanish
        if m.id
        and (m.fuzzy or not all(_ids(m.string)) or (_ids(m.string) == _ids(m.id) and m.id not in SAME_IN_SPANISH))
    ]
    assert untranslated == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_values_they_fill_in(language: str) -> None:
    changed = [
        m.id
        for m in catalog(language)
        if m.id
        and any(
            sorted(PLACEHOLDER.findall(form)) != sorted(PLACEHOLDER.findall(_ids(m.id)[-1]))
            for form in _ids(m.string)
            if form
        )
    ]
    assert changed == []


def test_every_information_sheet_version_exists_in_every_language() -> None:
    versions = {path.name.split(".")[0] for path in SHEETS_DIR.glob("*.md")}
    missing = [
        f"{v}.{lang}.md"
        for v in sorted(versions)
        for lang in LANGUAGES
        if not (SHEETS_DIR / f"{v}.{lang}.md").is_file()
    ]
    assert versions and missing == []
