"""Agreement terms: what each kind holds, and how it reads in plain language, in every reader's language.

The canonical text of a version is built from its terms by `agreement_text`: the English text, then the
same agreement in each other language a participant of the case reads. Its SHA-256 is what every review
and signature is bound to, so no language's wording can change without a new version. Amounts, dates and
the fixed wording of each kind of term come from the translation catalog (one source for every language);
what a person wrote (a note, a place, a program's name, another commitment) is translated by a person,
and the term records who (`TermWording.translated_by`). Money is kept in minor units (cents).
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, field_validator, model_validator

from app.agreements.models import TermKind
from app.i18n import LANGUAGES, N_, long_day, money, translator
from app.schemas import says

RECORD_LANGUAGE = "en"
# The fields a person writes in words, per kind of term: each needs its wording in every reader's language.
WRITTEN_FIELDS: dict[str, tuple[str, ...]] = {
    TermKind.apology: ("note",),
    TermKind.restitution: ("note",),
    TermKind.service_hours: ("where", "note"),
    TermKind.program_attendance: ("program_name", "note"),
    TermKind.no_contact: ("note",),
    TermKind.other: ("text", "note"),
}

CURRENCIES = ("EUR", "USD", "GBP", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK", "PLN", "RON", "MXN", "BRL")


def format_money(cents: int, currency: str) -> str:
    return f"{Decimal(cents) / 100:,.2f} {currency}"


# A term's errors say which term (and which payment) they are about: the editor fills in %(term)s and
# %(payment)s (agreements/schemas.py), so that a summary of several terms' errors tells them apart.
DEADLINE = says(N_("Enter the date term %(term)s must be done by, for example 2027-06-30."))


class Instalment(BaseModel):
    due_date: date = Field(
        json_schema_extra=says(
            N_("Enter the date payment %(payment)s of term %(term)s is due, for example 2027-02-01.")
        )
    )
    amount_cents: int = Field(
        gt=0,
        le=10**11,
        json_schema_extra=says(
            N_("Enter the amount of payment %(payment)s of term %(term)s, more than 0, for example 300.00.")
        ),
    )


class TermWording(BaseModel):
    """What a person wrote in a term, in another language, and who translated it."""

    note: str = Field(default="", max_length=2_000)
    text: str = Field(default="", max_length=2_000)
    where: str = Field(default="", max_length=200)
    program_name: str = Field(default="", max_length=200)
    translated_by: str = Field(
        default="", max_length=200, description="Who translated it: the interpreter's or the facilitator's name."
    )

    def written(self) -> dict[str, str]:
        return {name: getattr(self, name).strip() for name in ("note", "text", "where", "program_name")}


class _Term(BaseModel):
    owed_by: int = Field(
        description="The participant who owes this term (usually the responsible party).",
        json_schema_extra=says(N_("Choose who does term %(term)s.")),
    )
    note: str = Field(
        default="",
        max_length=2_000,
        description="Anything else the parties agreed about this term.",
        json_schema_extra=says(N_("Shorten the note of term %(term)s to 2,000 characters or fewer.")),
    )
    translations: dict[str, TermWording] = Field(
        default_factory=dict,
        description="What was written in this term (the note, a place, a program's name, the commitment's own "
        "words) in each other language a participant reads, keyed by language (`es`), with who translated it. "
        "Amounts, dates and the fixed wording are translated by Mend.",
    )

    @field_validator("translations")
    @classmethod
    def _languages(cls, value: dict[str, TermWording]) -> dict[str, TermWording]:
        for language in value:
            if language not in LANGUAGES or language == RECORD_LANGUAGE:
                raise ValueError(N_("Give translations only in a language Mend speaks, other than English (es)."))
        return value

    @model_validator(mode="after")
    def _translated_what_was_written(self) -> "_Term":
        needed = written_fields(self)  # type: ignore[arg-type]
        for wording in self.translations.values():
            given = {name for name, text in wording.written().items() if text}
            if given - set(needed):
                raise ValueError(N_("Translate only what the term says in English: write the English wording first."))
            if given and not wording.translated_by.strip():
                raise ValueError(N_("Say who translated this term."))
        return self


class ApologyTerm(_Term):
    kind: Literal[TermKind.apology] = TermKind.apology
    form: Literal["spoken", "written", "letter_through_program"] = Field(
        json_schema_extra=says(N_("Choose how the apology of term %(term)s is given."))
    )
    due_date: date | None = Field(
        default=None,
        json_schema_extra=says(
            N_("Enter the date of the apology of term %(term)s, for example 2027-03-28, or leave it empty.")
        ),
    )


class RestitutionTerm(_Term):
    kind: Literal[TermKind.restitution] = TermKind.restitution
    currency: str = Field(
        min_length=3, max_length=3, json_schema_extra=says(N_("Choose the currency of term %(term)s from the list."))
    )
    amount_cents: int = Field(
        gt=0,
        le=10**11,
        json_schema_extra=says(N_("Enter the whole amount of term %(term)s, more than 0, for example 1200.50.")),
    )
    instalments: list[Instalment] = Field(
        min_length=1,
        max_length=120,
        json_schema_extra=says(N_("Give term %(term)s from 1 to 120 payments, each with its date.")),
    )

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.upper()
        if value not in CURRENCIES:
            raise ValueError(N_("Choose the currency from the list."))
        return value

    @model_validator(mode="after")
    def _instalments_add_up(self) -> "RestitutionTerm":
        if sum(i.amount_cents for i in self.instalments) != self.amount_cents:
            raise ValueError(N_("Make the payments add up to the whole amount."))
        dates = [i.due_date for i in self.instalments]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError(N_("Give each payment its own date, in order."))
        return self


class ServiceHoursTerm(_Term):
    kind: Literal[TermKind.service_hours] = TermKind.service_hours
    hours: int = Field(
        gt=0, le=2_000, json_schema_extra=says(N_("Enter the number of hours of term %(term)s, from 1 to 2,000."))
    )
    deadline: date = Field(json_schema_extra=DEADLINE)
    where: str = Field(
        default="",
        max_length=200,
        json_schema_extra=says(N_("Enter where term %(term)s is done in at most 200 characters.")),
    )


class ProgramAttendanceTerm(_Term):
    kind: Literal[TermKind.program_attendance] = TermKind.program_attendance
    program_name: str = Field(
        min_length=1,
        max_length=200,
        json_schema_extra=says(
            missing=N_("Enter the program of term %(term)s, such as counselling."),
            string_too_long=N_("Enter a program name of at most 200 characters in term %(term)s."),
        ),
    )
    sessions: int = Field(
        gt=0, le=500, json_schema_extra=says(N_("Enter the number of sessions of term %(term)s, from 1 to 500."))
    )
    deadline: date = Field(json_schema_extra=DEADLINE)


class NoContactTerm(_Term):
    kind: Literal[TermKind.no_contact] = TermKind.no_contact
    end_date: date | None = Field(
        default=None,
        description="Empty means indefinite.",
        json_schema_extra=says(N_("Enter the end date of term %(term)s, for example 2027-12-31.")),
    )


class OtherTerm(_Term):
    kind: Literal[TermKind.other] = TermKind.other
    text: str = Field(
        min_length=1,
        max_length=2_000,
        json_schema_extra=says(
            missing=N_("Write what will be done in term %(term)s."),
            string_too_long=N_("Shorten what will be done in term %(term)s to 2,000 characters or fewer."),
        ),
    )
    due_date: date = Field(json_schema_extra=DEADLINE)


Term = Annotated[
    ApologyTerm | RestitutionTerm | ServiceHoursTerm | ProgramAttendanceTerm | NoContactTerm | OtherTerm,
    Field(discriminator="kind"),
]

# Each sentence whole, so that a translation can order its words as the language needs.
_APOLOGY = {
    "spoken": (N_("%(who)s will say sorry in person."), N_("%(who)s will say sorry in person by %(date)s.")),
    "written": (
        N_("%(who)s will write a letter of apology."),
        N_("%(who)s will write a letter of apology by %(date)s."),
    ),
    "letter_through_program": (
        N_("%(who)s will write a letter of apology, passed on through the program."),
        N_("%(who)s will write a letter of apology, passed on through the program by %(date)s."),
    ),
}
RESPONSIBLE_PARTY = N_("The responsible party")


def written_fields(term: "Term") -> tuple[str, ...]:
    """The fields of this term that hold words a person wrote in English (and so need translating)."""
    return tuple(name for name in WRITTEN_FIELDS[term.kind] if str(getattr(term, name) or "").strip())


def untranslated(term: "Term", language: str) -> bool:
    """Whether the term lacks its wording in `language` (English terms are the original)."""
    if language == RECORD_LANGUAGE:
        return False
    wording = term.translations.get(language)
    needed = written_fields(term)
    return bool(needed) and (wording is None or not all(wording.written()[name] for name in needed))


def written_in(term: "Term", name: str, language: str) -> str:
    """What was written in `name`, in `language`."""
    if language == RECORD_LANGUAGE:
        return str(getattr(term, name) or "").strip()
    wording = term.translations.get(language)
    return wording.written()[name] if wording else ""


def _date(value: date, language: str) -> str:
    return f"{value.day} {value:%B %Y}" if language == RECORD_LANGUAGE else long_day(value, language=language)


def written_money(cents: int, currency: str, language: str) -> str:
    return format_money(cents, currency) if language == RECORD_LANGUAGE else money(cents, currency, language=language)


def term_sentence(term: Term, who: str, language: str = RECORD_LANGUAGE) -> str:
    """One term as the parties will read it, in `language` (its written parts as translated)."""
    _ = translator(language)
    match term:
        case ApologyTerm():
            undated, dated = _APOLOGY[term.form]
            if term.due_date:
                sentence = _(dated, who=who, date=_date(term.due_date, language))
            else:
                sentence = _(undated, who=who)
        case RestitutionTerm():
            total = written_money(term.amount_cents, term.currency, language)
            if len(term.instalments) == 1:
                sentence = _(
                    "%(who)s will pay %(total)s by %(date)s.",
                    who=who,
                    total=total,
                    date=_date(term.instalments[0].due_date, language),
                )
            else:
                parts = "; ".join(
                    _(
                        "%(amount)s by %(date)s",
                        amount=written_money(i.amount_cents, term.currency, language),
                        date=_date(i.due_date, language),
                    )
                    for i in term.instalments
                )
                sentence = _(
                    "%(who)s will pay %(total)s in %(count)s instalments: %(parts)s.",
                    who=who,
                    total=total,
                    count=len(term.instalments),
                    parts=parts,
                )
        case ServiceHoursTerm():
            values = {"who": who, "hours": term.hours, "date": _date(term.deadline, language)}
            if term.where:
                sentence = _(
                    "%(who)s will do %(hours)s hours of community service at %(where)s by %(date)s.",
                    where=written_in(term, "where", language),
                    **values,
                )
            else:
                sentence = _("%(who)s will do %(hours)s hours of community service by %(date)s.", **values)
        case ProgramAttendanceTerm():
            sentence = _(
                "%(who)s will attend %(sessions)s sessions of %(program)s by %(date)s.",
                who=who,
                sessions=term.sessions,
                program=written_in(term, "program_name", language),
                date=_date(term.deadline, language),
            )
        case NoContactTerm():
            if term.end_date:
                sentence = _(
                    "%(who)s will not contact the survivor in any way, directly or through others, until %(date)s.",
                    who=who,
                    date=_date(term.end_date, language),
                )
            else:
                sentence = _(
                    "%(who)s will not contact the survivor in any way, directly or through others, with no end date.",
                    who=who,
                )
        case OtherTerm():
            sentence = _(
                "%(who)s will do the following by %(date)s: %(text)s",
                who=who,
                date=_date(term.due_date, language),
                text=written_in(term, "text", language),
            )
    note = written_in(term, "note", language)
    return f"{sentence} {note}" if note else sentence


def canonical_text(
    *, case_reference: str, number: int, parties: dict[int, str], terms: list[Term], language: str = RECORD_LANGUAGE
) -> str:
    """The text of the agreement in one language: stable for the same content."""
    _ = translator(language)
    lines = [_("Reparation agreement, case %(reference)s, version %(number)s", reference=case_reference, number=number)]
    lines += ["", _("Parties: %(names)s", names="; ".join(name for _id, name in sorted(parties.items()))), ""]
    for index, term in enumerate(terms, start=1):
        who = parties.get(term.owed_by) or _(RESPONSIBLE_PARTY)
        lines.append(f"{index}. {term_sentence(term, who, language)}")
    return "\n".join(lines).strip() + "\n"


def _section_mark(language: str) -> str:
    return f"=== {language} ==="


_SECTION = re.compile(r"^=== ([a-z]{2,3}) ===$")


def text_languages(terms: list[Term], readers: set[str]) -> list[str]:
    """The languages a version's text is written in: English, then each reader's language in which
    every term has its wording (a draft may still lack one; it cannot go to review then)."""
    others = sorted(language for language in readers if language in LANGUAGES and language != RECORD_LANGUAGE)
    return [RECORD_LANGUAGE, *(language for language in others if not any(untranslated(t, language) for t in terms))]


def agreement_text(
    *, case_reference: str, number: int, parties: dict[int, str], terms: list[Term], languages: list[str]
) -> str:
    """The exact text reviews and signatures are bound to: the English text, then the same agreement in
    each other language, each after a line `=== es ===`. With English alone it is the English text."""
    texts = [
        canonical_text(case_reference=case_reference, number=number, parties=parties, terms=terms, language=language)
        for language in languages
    ]
    sections = [
        texts[0],
        *(f"{_section_mark(language)}\n{text}" for language, text in zip(languages[1:], texts[1:], strict=True)),
    ]
    return "\n".join(sections)


def text_sections(text: str) -> dict[str, str]:
    """A canonical text's sections by language, each as that language's reader reads it."""
    sections: dict[str, list[str]] = {RECORD_LANGUAGE: []}
    current = RECORD_LANGUAGE
    for line in text.split("\n"):
        if match := _SECTION.match(line):
            current = match.group(1)
            sections[current] = []
        else:
            sections[current].append(line)
    return {language: "\n".join(lines).strip("\n") + "\n" for language, lines in sections.items()}


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_TERM_LINE = re.compile(r"^(\d+)\. (.*)$")


@dataclass(frozen=True)
class AgreementText:
    """A version's canonical text laid out for reading: its title, the parties, and the numbered terms."""

    title: str
    parties: str
    terms: tuple[str, ...]
    language: str = RECORD_LANGUAGE


def read_text(text: str, language: str = RECORD_LANGUAGE) -> AgreementText:
    """Lay out a canonical text in `language` (English when the text is not written in it), line for
    line: nothing is reworded, so what is read is what is signed."""
    sections = text_sections(text)
    language = language if language in sections else RECORD_LANGUAGE
    title, parties, terms = "", "", []
    for line in sections[language].splitlines():
        if not line.strip():
            continue
        if match := _TERM_LINE.match(line):
            terms.append(match.group(2))
        elif not title:
            title = line
        elif terms:  # a term whose note runs over several lines
            terms[-1] = f"{terms[-1]}\n{line}"
        else:
            parties = f"{parties}\n{line}".strip()
    return AgreementText(title, parties, tuple(terms), language)


# Reads a version's stored terms back as Term objects.
TERMS: TypeAdapter[list[Term]] = TypeAdapter(list[Term])


def stored_term(term: Term) -> dict:
    """A term as a version stores it: without `translations` when nothing was translated, so a version
    of an English-only case stores exactly what it always did."""
    data = term.model_dump(mode="json")
    if not data.get("translations"):
        data.pop("translations", None)
    return data
