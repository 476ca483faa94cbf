"""What changed between two versions of an agreement, in what a party reads: the names and the terms.

`compare_versions` is pure: the portal asks it what changed since the version a person last reviewed,
the staff page what changed since each party's last review. `shown_changes` puts the result in plain
words in the reader's language: amounts and dates written the way they read them, the agreement's own
wording (English, as signed) where more than an amount or a date changed.

Only what the reader already reads goes in: the terms and the names of the people in the agreement.
Never the facilitator's change note or anyone's comments. Where the names changed, only the new names
are shown: a person who asked to be known by another name is not named the old way again.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from app.agreements.models import AgreementVersion, TermKind
from app.agreements.terms import RECORD_LANGUAGE, read_text, text_sections
from app.i18n import N_, long_day, money, translator


class ChangeKind(StrEnum):
    added = "added"
    removed = "removed"
    changed = "changed"
    names = "names"  # the names of the people in the agreement


# Per kind of term, the fields that are an amount, a count or a date: when only these changed, the
# reader is shown the old and new values in their language instead of the two English sentences.
_VALUE_FIELDS: dict[str, frozenset[str]] = {
    TermKind.apology: frozenset({"due_date"}),
    TermKind.restitution: frozenset({"amount_cents", "instalments"}),
    TermKind.service_hours: frozenset({"hours", "deadline"}),
    TermKind.program_attendance: frozenset({"sessions", "deadline"}),
    TermKind.no_contact: frozenset({"end_date"}),
    TermKind.other: frozenset({"due_date"}),
}


@dataclass(frozen=True)
class ValueChange:
    """One amount, count or date that changed. `field` is amount, date, end_date, hours, sessions,
    payment_amount or payment_date; `payment` counts a payment plan's instalments from 1."""

    field: str
    before: int | date | None
    after: int | date | None
    currency: str | None = None
    payment: int | None = None


@dataclass(frozen=True)
class TermChange:
    """A term added, removed or changed. `number` is its number in the newer version (in the older one
    when removed); `values` is set when only amounts and dates changed, and then replaces the wording."""

    change: ChangeKind
    kind: TermKind
    number: int
    before: str | None
    after: str | None
    values: tuple[ValueChange, ...] = ()


@dataclass(frozen=True)
class AgreementChanges:
    """What changed since version `since`: the terms in reading order, and the new names if they changed."""

    since: int
    terms: tuple[TermChange, ...]
    names: str | None = None
    language: str = RECORD_LANGUAGE  # the language of the agreement's own words quoted in the changes

    @property
    def nothing(self) -> bool:
        return not self.terms and self.names is None


@dataclass(frozen=True)
class _Read:
    number: int
    term: dict[str, Any]
    sentence: str


def _read(version: AgreementVersion, language: str) -> tuple[str, list[_Read]]:
    text = read_text(version.canonical_text, language)
    return text.parties, [_Read(n, t, s) for n, (t, s) in enumerate(zip(version.terms, text.terms, strict=False), 1)]


# A term's field -> the name its change is shown under, in the order the changes are listed.
_FIELD_NAMES = {
    "hours": "hours",
    "sessions": "sessions",
    "due_date": "date",
    "deadline": "date",
    "end_date": "end_date",
}
_DATES = frozenset({"due_date", "deadline", "end_date"})


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _value_changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[ValueChange, ...]:
    """The amounts and dates that changed, or () when anything else changed (then the wording is shown)."""
    differ = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    if not differ or not differ <= _VALUE_FIELDS[after["kind"]]:
        return ()
    if after["kind"] != TermKind.restitution:
        return tuple(
            ValueChange(
                _FIELD_NAMES[name],
                _day(before.get(name)) if name in _DATES else before.get(name),
                _day(after.get(name)) if name in _DATES else after.get(name),
            )
            for name in sorted(differ, key=list(_FIELD_NAMES).index)
        )
    old, new, currency = before["instalments"], after["instalments"], after["currency"]
    if len(old) != len(new):
        return ()  # a different payment plan: its sentence says it better than a list of values
    changes = []
    if before["amount_cents"] != after["amount_cents"]:
        changes.append(ValueChange("amount", before["amount_cents"], after["amount_cents"], currency))
    for index, (was, now) in enumerate(zip(old, new, strict=True), 1):
        single = len(new) == 1  # one payment: its amount is the whole amount, its date the date
        if was["amount_cents"] != now["amount_cents"] and not single:
            changes.append(ValueChange("payment_amount", was["amount_cents"], now["amount_cents"], currency, index))
        if was["due_date"] != now["due_date"]:
            field, payment = ("date", None) if single else ("payment_date", index)
            changes.append(ValueChange(field, _day(was["due_date"]), _day(now["due_date"]), None, payment))
    return tuple(changes)


def compare_versions(
    before: AgreementVersion, after: AgreementVersion, language: str = RECORD_LANGUAGE
) -> AgreementChanges:
    """What a reader of `before` finds changed in `after`: terms added, removed and changed, and the names,
    in the wording of `language` when both texts are written in it (else in English).

    A term kept word for word is unchanged wherever it moved. The others are paired by kind and who owes
    them, then by kind alone; what finds no pair was removed (from `before`) or added (in `after`).
    """
    both = text_sections(before.canonical_text).keys() & text_sections(after.canonical_text).keys()
    language = language if language in both else RECORD_LANGUAGE
    old_parties, old = _read(before, language)
    new_parties, new = _read(after, language)
    unpaired_new = []
    for read in new:
        same = next((o for o in old if o.term == read.term), None)
        if same is None:
            unpaired_new.append(read)
        else:
            old.remove(same)
    changes = []
    for key in (lambda t: (t["kind"], t["owed_by"]), lambda t: t["kind"]):
        for read in list(unpaired_new):
            pair = next((o for o in old if key(o.term) == key(read.term)), None)
            if pair is not None:
                old.remove(pair)
                unpaired_new.remove(read)
                if pair.sentence == read.sentence:
                    continue  # stored differently, read the same (a note's trailing space): nothing to tell
                values = _value_changes(pair.term, read.term)
                kind = TermKind(read.term["kind"])
                changes.append(TermChange(ChangeKind.changed, kind, read.number, pair.sentence, read.sentence, values))
    changes += [
        TermChange(ChangeKind.added, TermKind(r.term["kind"]), r.number, None, r.sentence) for r in unpaired_new
    ]
    changes.sort(key=lambda c: c.number)
    changes += [TermChange(ChangeKind.removed, TermKind(r.term["kind"]), r.number, r.sentence, None) for r in old]
    names = new_parties if new_parties != old_parties else None
    return AgreementChanges(since=before.number, terms=tuple(changes), names=names, language=language)


def changes_since_review(
    current: AgreementVersion, reviewed: Iterable[AgreementVersion], language: str = RECORD_LANGUAGE
) -> AgreementChanges | None:
    """What changed since the newest earlier version the person reviewed (accepted or asked to change),
    which need not be the version just before; None when they never reviewed an earlier one."""
    earlier = [v for v in reviewed if v.number < current.number and v.agreement_id == current.agreement_id]
    if not earlier:
        return None
    return compare_versions(max(earlier, key=lambda v: v.number), current, language)


# --- in the reader's words ------------------------------------------------------------------------

TERM_KIND_WORDS: dict[TermKind, str] = {
    TermKind.apology: N_("Apology"),
    TermKind.restitution: N_("Payment"),
    TermKind.service_hours: N_("Community service"),
    TermKind.program_attendance: N_("Program sessions"),
    TermKind.no_contact: N_("No contact"),
    TermKind.other: N_("Something else"),
}
CHANGE_TITLES: dict[ChangeKind, str] = {
    ChangeKind.added: N_("New: part %(number)s (%(kind)s)"),
    ChangeKind.removed: N_("Taken out: part %(number)s (%(kind)s)"),
    ChangeKind.changed: N_("Changed: part %(number)s (%(kind)s)"),
    ChangeKind.names: N_("Changed: the names of the people"),
}
VALUE_LABELS: dict[str, str] = {
    "amount": N_("Amount"),
    "date": N_("Date"),
    "end_date": N_("End date"),
    "hours": N_("Hours"),
    "sessions": N_("Sessions"),
    "payment_amount": N_("Payment %(number)s: amount"),
    "payment_date": N_("Payment %(number)s: date"),
}
NO_DATE = N_("No date")
NO_END_DATE = N_("No end date")


@dataclass(frozen=True)
class ShownLine:
    """One before-and-now pair. `wording` marks the agreement's own words (English, as signed), not a value
    written in the reader's language; `before` or `after` is None for a term added or removed."""

    label: str
    before: str | None
    after: str | None
    wording: bool


@dataclass(frozen=True)
class ShownChange:
    change: ChangeKind
    title: str
    lines: tuple[ShownLine, ...]


def _value_words(value: ValueChange, shown: int | date | None, language: str) -> str:
    _ = translator(language)
    if isinstance(shown, date):
        return long_day(shown, language=language)
    if shown is None:
        empty = NO_END_DATE if value.field == "end_date" else NO_DATE
        return _(empty)
    if value.currency:
        return money(shown, value.currency, language=language)
    return str(shown)


def shown_changes(changes: AgreementChanges, language: str) -> list[ShownChange]:
    """The changes as a reader sees them, in their language; [] when nothing they read changed."""
    _ = translator(language)
    shown = []
    for term in changes.terms:
        title = _(CHANGE_TITLES[term.change], number=term.number, kind=_(TERM_KIND_WORDS[term.kind]))
        if term.values:
            lines = tuple(
                ShownLine(
                    _(VALUE_LABELS[v.field], number=v.payment) if v.payment else _(VALUE_LABELS[v.field]),
                    _value_words(v, v.before, language),
                    _value_words(v, v.after, language),
                    wording=False,
                )
                for v in term.values
            )
        else:
            lines = (ShownLine("", term.before, term.after, wording=True),)
        shown.append(ShownChange(term.change, title, lines))
    if changes.names is not None:
        line = ShownLine("", None, changes.names, wording=True)
        shown.append(ShownChange(ChangeKind.names, _(CHANGE_TITLES[ChangeKind.names]), (line,)))
    return shown
