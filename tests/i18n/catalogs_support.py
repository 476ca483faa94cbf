"""Babel's own extraction over the project, with the mapping `make messages` uses (babel.cfg)."""

import re
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.config import PROJECT_ROOT
from app.i18n import LANGUAGES, LOCALE_DIR

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
MessageId = str | tuple[str, ...]


def _scanned(directory: str) -> bool:
    """As `make messages` (--ignore-dirs): every folder but hidden ones and caches, so templates/_macros counts."""
    name = Path(directory).name
    return not (name.startswith(".") or name == "__pycache__")


@cache
def extracted() -> dict[MessageId, list[str]]:
    """Every marked message, with the files it appears in (relative to the project root)."""
    with (PROJECT_ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[MessageId, list[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        PROJECT_ROOT,
        method_map,
        options_map,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
        directory_filter=_scanned,
    ):
        key = message if isinstance(message, str) else tuple(message)
        found.setdefault(key, []).append(filename)
    return found


def messages_from(prefixes: tuple[str, ...]) -> list[str]:
    """The English messages marked in files under these paths (singular and plural forms alike)."""
    found: list[str] = []
    for message, files in extracted().items():
        if any(Path(name).as_posix().startswith(prefixes) for name in files):
            found.extend([message] if isinstance(message, str) else message)
    return found


@cache
def catalog(language: str) -> Catalog:
    assert language in LANGUAGES
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)
