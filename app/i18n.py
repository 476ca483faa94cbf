"""Translations: Babel catalogs for English and Spanish, gettext for Python and for Jinja2 templates.

The catalogs are the .po files under app/locale, compiled in memory at start-up, so there is no
build step and no compiled .mo file that can go stale beside its source. `make messages` extracts
every marked string (babel.cfg) and updates both catalogs; tests/i18n/test_catalogs.py fails when a
string has no Spanish translation.

The language of one render is explicit: templates read the `lang` variable of their context (and,
without it, the language set with `use_language`), Python code asks `translator(language)`. English is
the source language: an English msgid is shown as it is. Messages take `%(name)s` placeholders, the
form Jinja2's newstyle gettext and Babel's python-format check use.
"""

import io
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, negotiate_locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from app.config import PROJECT_ROOT

LOCALE_DIR = PROJECT_ROOT / "app" / "locale"
DEFAULT_LANGUAGE = "en"
LANGUAGES: tuple[str, ...] = ("en", "es")
DOMAIN = "messages"

# A date written out as people read it: 21 November 2026, 21 de noviembre de 2026.
_LONG_DATE = {"en": "d MMMM y", "es": "d 'de' MMMM 'de' y"}
# With the weekday, for invitations and reminders: Monday 7 December 2026, lunes 7 de diciembre de 2026.
_DAY_DATE = {"en": "EEEE d MMMM y", "es": "EEEE d 'de' MMMM 'de' y"}
# The Babel locale for formatting numbers and money: British English writes 1,234.50; Spain 1234,50.
_FORMAT_LOCALE = {"en": "en_GB", "es": "es_ES"}
# A month, for charts and their tables: January 2026, enero de 2026; on a chart's axis: Jan, ene.
_MONTH = {"en": "MMMM y", "es": "MMMM 'de' y"}

_current_language: ContextVar[str] = ContextVar("mend_language", default=DEFAULT_LANGUAGE)

Translate = Callable[..., str]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention Babel extracts by default
    """Mark a string for extraction where it is defined; it is translated where it is shown."""
    return message


class Labels(dict[Any, str]):
    """Value -> English label (each marked with N_): a page shows the labels in its language (`for_page`)."""


class Choices(list[tuple[Any, str]]):
    """(value, English label) options of a form field: a page shows the labels in its language (`for_page`)."""


class Filled(str):
    """A marked message with its values filled in. As a string it is the English sentence (for the API
    and the logs); a page shows it in its own language (`|t`, `gettext`). A value under a key in
    `LANGUAGE_KEYS` is a language code and is written as that language's name in the reader's language."""

    LANGUAGE_KEYS = frozenset({"language"})

    def __new__(cls, template: str, **values: Any) -> "Filled":
        instance = super().__new__(cls, template % _named(values, DEFAULT_LANGUAGE))
        instance.template, instance.values = template, values
        return instance

    def in_language(self, language: str) -> str:
        return gettext(self.template, language) % _named(self.values, language)


def language_name(code: str, language: str) -> str:
    """A language's name as a reader of `language` writes it: Spanish, español."""
    from babel import Locale

    return Locale.parse(language_for(language)).languages.get(code, code)


def _named(values: dict[str, Any], language: str) -> dict[str, Any]:
    return {
        key: language_name(value, language) if key in Filled.LANGUAGE_KEYS else value for key, value in values.items()
    }


def for_page(value: Any, language: str | None = None) -> Any:
    """Labels and Choices with their wording in `language`; anything else (data) as it is."""
    if isinstance(value, Labels):
        return {key: gettext(label, language) for key, label in value.items()}
    if isinstance(value, Choices):
        return [(key, gettext(label, language)) for key, label in value]
    return value


def language_for(preferred: str | None) -> str:
    """The language Mend speaks to a person: theirs when there is a catalog for it, else English."""
    base = (preferred or "").replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def negotiate(accept_language: str | None) -> str:
    """The staff interface's language from the browser's Accept-Language header (English by default)."""
    preferred: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and quality > 0:
            preferred.append((-quality, position, tag.strip().replace("_", "-")))
    tags = [tag for _q, _p, tag in sorted(preferred)]
    return language_for(negotiate_locale(tags, list(LANGUAGES), sep="-"))


def set_language(language: str) -> None:
    """The language of the rest of this request (the staff pages' negotiated language)."""
    _current_language.set(language_for(language))


@cache
def translations(language: str) -> Translations:
    """The compiled catalog for `language` (fuzzy entries left out, so they fall back to English)."""
    language = language_for(language)
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def load_catalogs() -> None:
    """Compile every catalog now (at start-up), so a broken .po file stops the app rather than a page."""
    for language in LANGUAGES:
        translations(language)


def gettext(message: str, language: str | None = None) -> str:
    """`message` in `language` (by default the language set with `use_language`)."""
    if isinstance(message, Filled):
        return message.in_language(language or _current_language.get())
    return translations(language or _current_language.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int, language: str | None = None) -> str:
    """The singular or plural form for `n`, in `language`."""
    return translations(language or _current_language.get()).ungettext(singular, plural, n)


def translator(language: str) -> Translate:
    """`_("Hello, %(name)s.", name=value)`: the text in `language`, with the values filled in."""
    catalog = translations(language)

    def translate(message: str, **values: Any) -> str:
        translated = catalog.ugettext(message)
        return translated % values if values else translated

    return translate


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Render in `language` inside the block: templates without a `lang` variable use it."""
    token = _current_language.set(language_for(language))
    try:
        yield
    finally:
        _current_language.reset(token)


def current_language() -> str:
    """The language set with `use_language` (English outside any)."""
    return _current_language.get()


@pass_context
def _template_gettext(context: Context, message: str) -> str:
    return gettext(message, context.get("lang") or _current_language.get())


@pass_context
def _template_label(context: Context, message: str | None) -> str | None:
    """A message held in a variable, in the page's language when it was marked (data and "" pass through)."""
    return gettext(message, context.get("lang") or _current_language.get()) if message else message


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return ngettext(singular, plural, n, context.get("lang") or _current_language.get())


def install(env: Environment) -> Environment:
    """Add Jinja2's i18n extension (newstyle gettext: `_()` and `{% trans %}` escape and fill in values)."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_template_gettext, _template_ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["long_date"] = _long_date_filter
    env.filters["day"] = _day_filter
    env.filters["t"] = _template_label  # a marked message held in a variable: {{ step.label|t }}
    return env


@pass_context
def _long_date_filter(context: Context, value: date | datetime | None) -> str:
    if value is None:
        return ""
    language = context.get("lang") or _current_language.get()
    if isinstance(value, datetime):
        return long_date(value, language=language, timezone=context.get("tz") or "UTC")
    return long_day(value, language=language)


# strftime's directives as CLDR pattern letters, so templates keep their familiar formats and the page's
# language names the months and days: "%d %b %Y" is 03 Dec 2026 in English, 03 dic 2026 in Spanish.
_CLDR = {
    "%d": "dd",
    "%b": "MMM",
    "%B": "MMMM",
    "%Y": "y",
    "%H": "HH",
    "%M": "mm",
    "%S": "ss",
    "%a": "EEE",
    "%A": "EEEE",
}


def cldr_pattern(strftime_format: str) -> str:
    """A strftime format (of the directives in _CLDR) as a CLDR pattern; literal text is quoted."""
    parts: list[str] = []
    for index, piece in enumerate(re.split(r"(%[a-zA-Z])", strftime_format)):
        if index % 2:
            parts.append(_CLDR[piece])  # KeyError: a directive Mend does not use
        elif piece:
            escaped = piece.replace("'", "''")
            parts.append(f"'{escaped}'" if any(c.isalpha() for c in piece) else escaped)
    return "".join(parts)


def written(value: date | datetime, strftime_format: str, *, language: str, timezone: str = "UTC") -> str:
    """A date, or a moment in the program's time zone, in `strftime_format`'s shape and `language`'s words."""
    locale = _FORMAT_LOCALE[language_for(language)]
    pattern = cldr_pattern(strftime_format)
    if isinstance(value, datetime):
        return babel_format_datetime(value, pattern, tzinfo=ZoneInfo(timezone), locale=locale)
    return babel_format_date(value, pattern, locale=locale)


@pass_context
def _day_filter(context: Context, value: date | None, strftime_format: str = "%d %b %Y") -> str:
    """{{ some_date|day }}: a calendar date in the page's language."""
    if value is None:
        return ""
    return written(value, strftime_format, language=context.get("lang") or _current_language.get())


def long_date(value: datetime, *, language: str, timezone: str = "UTC") -> str:
    """A moment's date in the person's language and the program's time zone: 21 November 2026."""
    return long_day(value.astimezone(ZoneInfo(timezone)).date(), language=language)


def long_day(value: date, *, language: str) -> str:
    """A calendar date written out in the person's language: 21 de noviembre de 2026."""
    language = language_for(language)
    return babel_format_date(value, _LONG_DATE[language], locale=language)


def weekday_date(value: date, *, language: str) -> str:
    """A date with its weekday, in the person's language: Monday 7 December 2026."""
    language = language_for(language)
    return babel_format_date(value, _DAY_DATE[language], locale=language)


def language_names(codes: Iterable[str], *, language: str) -> dict[str, str]:
    """Each language code's name written in `language`, from Babel's CLDR data: Arabic, árabe.

    Names are as CLDR writes them inside a sentence (Spanish writes them in lower case); a code CLDR
    does not know is shown as it is.
    """
    names = Locale.parse(language_for(language)).languages
    return {code: names.get(code, code) for code in codes}


def clock_time(value: datetime, *, language: str, timezone: str = "UTC") -> str:
    """A moment's time of day in the program's time zone, as people in `language` write it: 10:30."""
    return babel_format_time(value, "short", tzinfo=ZoneInfo(timezone), locale=_FORMAT_LOCALE[language_for(language)])


def money(cents: int, currency: str, *, language: str) -> str:
    """An amount of money as people in `language` write it: £1,234.50, 1234,50 €."""
    amount = Decimal(cents) / 100
    locale = _FORMAT_LOCALE[language_for(language)]
    if len(currency) == 3 and currency.isalpha():
        return format_currency(amount, currency.upper(), locale=locale)
    return f"{format_decimal(amount, format='#,##0.00', locale=locale)} {currency}".strip()


def number(value: Decimal | int, *, language: str) -> str:
    """A number as people in `language` write it (1.5 or 1,5), without trailing zeros."""
    return format_decimal(value, locale=_FORMAT_LOCALE[language_for(language)])


def month_name(value: date, *, language: str) -> str:
    """A calendar month written out in the person's language: January 2026, enero de 2026."""
    language = language_for(language)
    return babel_format_date(value, _MONTH[language], locale=language)


def short_month(value: date, *, language: str) -> str:
    """A month's short name for a chart's axis: Jan, ene."""
    return babel_format_date(value, "LLL", locale=language_for(language)).rstrip(".")


def percent(value: float, *, language: str) -> str:
    """A share as a whole percentage, as people in `language` write it: 50%, 50 %."""
    return format_percent(value, locale=_FORMAT_LOCALE[language_for(language)])
