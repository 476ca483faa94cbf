"""Agreement terms: what each kind holds, and how it reads in plain language.

The canonical text of a version is built from its terms by `canonical_text`; its SHA-256 is what
every review and signature is bound to. Money is kept in minor units (cents) so nothing is lost.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from app.agreements.models import TermKind
from app.i18n import N_
from app.schemas import says

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

_APOLOGY_FORMS = {
    "spoken": "say sorry in person",
    "written": "write a letter of apology",
    "letter_through_program": "write a letter of apology, passed on through the program",
}


def _d(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def term_sentence(term: Term, who: str) -> str:
    """One term as the parties will read it."""
    match term:
        case ApologyTerm():
            by = f" by {_d(term.due_date)}" if term.due_date else ""
            sentence = f"{who} will {_APOLOGY_FORMS[term.form]}{by}."
        case RestitutionTerm():
            total = format_money(term.amount_cents, term.currency)
            if len(term.instalments) == 1:
                sentence = f"{who} will pay {total} by {_d(term.instalments[0].due_date)}."
            else:
                parts = "; ".join(
                    f"{format_money(i.amount_cents, term.currency)} by {_d(i.due_date)}" for i in term.instalments
                )
                sentence = f"{who} will pay {total} in {len(term.instalments)} instalments: {parts}."
        case ServiceHoursTerm():
            where = f" at {term.where}" if term.where else ""
            sentence = f"{who} will do {term.hours} hours of community service{where} by {_d(term.deadline)}."
        case ProgramAttendanceTerm():
            sentence = f"{who} will attend {term.sessions} sessions of {term.program_name} by {_d(term.deadline)}."
        case NoContactTerm():
            until = f"until {_d(term.end_date)}" if term.end_date else "with no end date"
            sentence = f"{who} will not contact the survivor in any way, directly or through others, {until}."
        case OtherTerm():
            sentence = f"{who} will do the following by {_d(term.due_date)}: {term.text.strip()}"
    note = term.note.strip()
    return f"{sentence} {note}" if note else sentence


def canonical_text(*, case_reference: str, number: int, parties: dict[int, str], terms: list[Term]) -> str:
    """The exact text reviews and signatures are bound to: stable for the same content."""
    lines = [f"Reparation agreement, case {case_reference}, version {number}", ""]
    lines.append("Parties: " + "; ".join(f"{name}" for _, name in sorted(parties.items())))
    lines.append("")
    for index, term in enumerate(terms, start=1):
        lines.append(f"{index}. {term_sentence(term, parties.get(term.owed_by, 'The responsible party'))}")
    return "\n".join(lines).strip() + "\n"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_TERM_LINE = re.compile(r"^(\d+)\. (.*)$")


@dataclass(frozen=True)
class AgreementText:
    """A version's canonical text laid out for reading: its title, the parties, and the numbered terms."""

    title: str
    parties: str
    terms: tuple[str, ...]


def read_text(text: str) -> AgreementText:
    """Lay out a canonical text, line for line: nothing is reworded, so what is read is what is signed."""
    title, parties, terms = "", "", []
    for line in text.splitlines():
        if not line.strip():
            continue
        if match := _TERM_LINE.match(line):
            terms.append(match.group(2))
        elif line.startswith("Parties: ") and not terms:
            parties = line
        elif not title:
            title = line
        elif terms:  # a term whose note runs over several lines
            terms[-1] = f"{terms[-1]}\n{line}"
        else:
            parties = f"{parties}\n{line}".strip()
    return AgreementText(title, parties, tuple(terms))
