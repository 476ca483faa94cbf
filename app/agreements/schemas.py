"""Input and output schemas for agreements, and the term editor's form translated into them.

The editor posts one row of fields per term (`terms-0-kind`, `terms-0-hours`, `terms-0-instalments-1-amount`,
...). `parse_rows` turns those rows into the same `DraftSave` the JSON API takes, so a page save and an
API save are validated alike; errors come back keyed by the form field they belong to.
"""

import calendar
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator
from starlette.datastructures import FormData

from app.agreements.models import ReviewDecision, TermKind, VersionStatus
from app.agreements.terms import (
    CURRENCIES,
    RECORD_LANGUAGE,
    ApologyTerm,
    Instalment,
    NoContactTerm,
    OtherTerm,
    ProgramAttendanceTerm,
    RestitutionTerm,
    ServiceHoursTerm,
    Term,
)
from app.conferences.models import ParticipantRole
from app.db import RecordId
from app.i18n import LANGUAGES, N_, gettext
from app.schemas import InputModel, refuse_nul, says
from app.web import friendly_message

MAX_TERMS = 60
MAX_INSTALMENTS = 120
Sha256 = Field(
    pattern=r"^[0-9a-f]{64}$",
    description="The SHA-256 (hex) of the exact text you were shown.",
    json_schema_extra=says(N_("Reload the page: the text you were shown is not clear.")),
)

STATUS_LABELS = {
    VersionStatus.draft: N_("Draft"),
    VersionStatus.in_review: N_("With the parties for review"),
    VersionStatus.changes_requested: N_("Changes asked for: back to drafting"),
    VersionStatus.accepted: N_("Accepted by both parties"),
    VersionStatus.signing: N_("Open for signature"),
    VersionStatus.sealed: N_("Signed and sealed"),
    VersionStatus.superseded: N_("Replaced by a newer version"),
}
TERM_KIND_LABELS = {
    TermKind.apology: N_("Apology"),
    TermKind.restitution: N_("Restitution (a payment)"),
    TermKind.service_hours: N_("Community service hours"),
    TermKind.program_attendance: N_("Program attendance"),
    TermKind.no_contact: N_("No contact"),
    TermKind.other: N_("Other commitment"),
}
APOLOGY_FORM_LABELS = {
    "spoken": N_("Spoken, in person"),
    "written": N_("A written apology"),
    "letter_through_program": N_("A letter passed on through the program"),
}
DECISION_LABELS = {
    ReviewDecision.accepted: N_("Accepted this version"),
    ReviewDecision.changes_requested: N_("Asked for changes"),
}
METHOD_LABELS = {"portal": N_("In the private portal"), "in_person": N_("In person, recorded by a facilitator")}
VIA_LABELS = {"portal": N_("In the private portal"), "facilitator": N_("In person, recorded by a facilitator")}


def _refuse_nul_deep(value: Any) -> Any:
    """Terms nest their text; PostgreSQL cannot store a NUL anywhere in it."""
    if isinstance(value, dict):
        for item in value.values():
            _refuse_nul_deep(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_nul_deep(item)
    else:
        refuse_nul(value)
    return value


class DraftSave(InputModel):
    """Save the draft as a new version, starting from version `based_on` (empty for the first draft)."""

    terms: list[Term] = Field(
        max_length=MAX_TERMS,
        description="Every term of the agreement, in order.",
        json_schema_extra=says(N_("Keep the agreement to at most 60 terms.")),
    )
    based_on: RecordId | None = Field(
        default=None,
        description="The version number your edit started from. If someone saved since, the save is refused (409).",
        json_schema_extra=says(N_("Start again from the agreement page: the version this edit began from is unclear.")),
    )
    change_note: str = Field(
        default="",
        max_length=2_000,
        description="What changed, for the history.",
        json_schema_extra=says(N_("Shorten the note on what changed to 2,000 characters or fewer.")),
    )

    @field_validator("terms", mode="before")
    @classmethod
    def _terms_text(cls, value: Any) -> Any:
        return _refuse_nul_deep(value)


class AmendmentCreate(DraftSave):
    """Amend the sealed agreement: a new version that goes through review and signing again."""

    based_on: RecordId = Field(  # type: ignore[assignment]
        description="The number of the sealed version being amended.",
        json_schema_extra=says(N_("Start again from the agreement page: the version this edit began from is unclear.")),
    )
    change_note: str = Field(
        min_length=1,
        max_length=2_000,
        description="Why the agreement is being amended.",
        json_schema_extra=says(
            missing=N_("Say why the agreement is being amended."),
            string_too_long=N_("Shorten why the agreement is being amended to 2,000 characters or fewer."),
        ),
    )


class ReviewRecord(InputModel):
    """A party's review given in person, recorded by a facilitator."""

    participant_id: RecordId = Field(
        description="The survivor or the responsible party of this case.",
        json_schema_extra=says(N_("Choose who reviewed the agreement.")),
    )
    decision: ReviewDecision = Field(
        json_schema_extra=says(N_("Choose their decision: they accept this version, or they ask for changes."))
    )
    text_sha256: str = Sha256
    comment: str = Field(
        default="",
        max_length=4_000,
        description="Needed when asking for changes.",
        json_schema_extra=says(N_("Shorten what they would like changed to 4,000 characters or fewer.")),
    )


class SignatureCreate(InputModel):
    """A signature on the exact text: the facilitator's own, or a party's given in person (`participant_id`)."""

    text_sha256: str = Sha256
    typed_name: str = Field(
        min_length=1,
        max_length=200,
        description="The signer's full name, typed.",
        json_schema_extra=says(
            missing=N_("Type the full name of the person signing."),
            string_too_long=N_("Type a full name of at most 200 characters."),
        ),
    )
    intent_confirmed: bool = Field(default=False, description="The signer ticked the intent statement.")
    participant_id: RecordId | None = Field(
        default=None,
        description="A party signing in person with the facilitator; left out, you sign yourself.",
        json_schema_extra=says(N_("Choose who is signing.")),
    )


class DeclineCreate(InputModel):
    """A signer declines, with a reason; the agreement goes back to drafting."""

    reason: str = Field(
        min_length=1,
        max_length=2_000,
        json_schema_extra=says(
            missing=N_("Say why they do not sign."),
            string_too_long=N_("Shorten why they do not sign to 2,000 characters or fewer."),
        ),
    )
    participant_id: RecordId | None = Field(
        default=None,
        description="The party who declines; left out, you do.",
        json_schema_extra=says(N_("Choose who declines to sign.")),
    )


# --- output -----------------------------------------------------------------------------------


class ReviewPublic(BaseModel):
    """A party's review of one exact version."""

    id: int
    participant_id: int
    participant_name: str
    role: ParticipantRole
    decision: ReviewDecision
    comment: str
    text_sha256: str
    via: str
    created_at: datetime


class EvidencePublic(BaseModel):
    """Where a signature came from. Administrators only."""

    ip_address: str | None
    user_agent: str | None


class SignaturePublic(BaseModel):
    """A signature on one exact text; its evidence only for administrators."""

    id: int
    signer: str = Field(description='"facilitator" or "participant:<id>".')
    participant_id: int | None
    signer_role: str
    typed_name: str
    intent_statement: str
    method: str
    text_sha256: str
    signed_at: datetime
    evidence: EvidencePublic | None = Field(default=None, description="Administrators only.")
    version_status: VersionStatus | None = Field(default=None, description="The version's status after signing.")


class DeclinePublic(BaseModel):
    """A signer who declined, and why."""

    id: int
    signer: str
    reason: str
    created_at: datetime


class SignerPublic(BaseModel):
    """A required signer of the version and whether they signed it."""

    signer: str
    role: str
    name: str
    signed: bool


class DocumentPublic(BaseModel):
    """The sealed version's stored PDF: its hash, size, and where to download it."""

    sha256: str
    size_bytes: int
    created_at: datetime
    url: str


class VersionSummary(BaseModel):
    """A version as the history lists it."""

    number: int
    status: VersionStatus
    text_sha256: str
    change_note: str
    created_at: datetime
    sealed_at: datetime | None


class VersionPublic(VersionSummary):
    """One version in full: its exact text, terms, and what was recorded against it."""

    canonical_text: str = Field(description="The exact text reviews and signatures are bound to.")
    terms: list[Term]
    amends_version: int | None
    reviews: list[ReviewPublic] | None = Field(description="Left out for program staff.")
    signatures: list[SignaturePublic]
    declines: list[DeclinePublic] | None = Field(description="Left out for program staff.")
    required_signers: list[SignerPublic]
    document: DocumentPublic | None = Field(description="The stored PDF, once sealed.")


class AgreementPublic(BaseModel):
    """A case's agreement: the current version and the history of every version."""

    case_id: int
    current: VersionPublic = Field(description="The latest version (for program staff: the latest sealed one).")
    in_force: int | None = Field(description="The sealed version in force, if any.")
    versions: list[VersionSummary] = Field(description="Every version, newest first.")


class DiffLinePublic(BaseModel):
    """One line of the diff of two canonical texts."""

    op: Literal["added", "removed", "unchanged"]
    text: str


class DiffPublic(BaseModel):
    """What changed from one version's text to another's, line by line."""

    from_version: int
    to_version: int
    lines: list[DiffLinePublic]


# --- the term editor's form -------------------------------------------------------------------

_FIELDS = ("kind", "owed_by", "note", "form", "due_date", "currency", "amount", "hours", "deadline", "where")
_FIELDS += ("program_name", "sessions", "until", "end_date", "text", "split_count", "split_first")
# What a person wrote in a term, in each other language a participant reads, and who translated it.
TRANSLATION_LANGUAGES = tuple(code for code in LANGUAGES if code != RECORD_LANGUAGE)
_WORDING = ("note", "text", "where", "program_name", "translated_by")
_TRANSLATED = tuple(f"{code}-{name}" for code in TRANSLATION_LANGUAGES for name in _WORDING)
_ROW = re.compile(r"^terms-(\d{1,3})-kind$")
_INSTALMENT = re.compile(r"^terms-(\d{1,3})-instalments-(\d{1,3})-(due_date|amount)$")
_MONEY = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")


def blank_row(kind: str, owed_by: int | None) -> dict[str, Any]:
    """A new, empty term of this kind, as the editor shows it."""
    row: dict[str, Any] = {name: "" for name in _FIELDS + _TRANSLATED} | {"kind": kind, "owed_by": str(owed_by or "")}
    row["instalments"] = [{"due_date": "", "amount": ""}] if kind == TermKind.restitution else []
    if kind == TermKind.restitution:
        row["currency"] = "EUR"
    if kind == TermKind.apology:
        row["form"] = "written"
    return row


def rows_from_form(form: FormData) -> list[dict[str, Any]]:
    """The editor's rows exactly as typed, in order; a row is a dict of strings plus its instalments."""
    indexes = sorted({int(m.group(1)) for key in form.keys() if (m := _ROW.match(key))})
    rows = []
    for i in indexes[:MAX_TERMS]:
        row: dict[str, Any] = {name: _text(form.get(f"terms-{i}-{name}")) for name in _FIELDS + _TRANSLATED}
        found: dict[int, dict[str, str]] = {}
        for key in form.keys():
            if (m := _INSTALMENT.match(key)) and int(m.group(1)) == i:
                found.setdefault(int(m.group(2)), {"due_date": "", "amount": ""})[m.group(3)] = _text(form.get(key))
        row["instalments"] = [found[j] for j in sorted(found)][:MAX_INSTALMENTS]
        rows.append(row)
    return rows


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def cents_text(cents: int) -> str:
    """Minor units as the amount a person types: 120050 -> "1200.50"."""
    return f"{Decimal(cents) / 100:.2f}"


def rows_from_terms(terms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A saved version's terms as editor rows, to start an edit from."""
    rows = []
    for term in terms:
        row = blank_row(term["kind"], term.get("owed_by")) | {"note": term.get("note", "")}
        for name in ("form", "due_date", "currency", "hours", "deadline", "where", "program_name", "sessions", "text"):
            if term.get(name) is not None:
                row[name] = str(term[name])
        if term["kind"] == TermKind.restitution:
            row["amount"] = cents_text(term["amount_cents"])
            row["instalments"] = [
                {"due_date": str(i["due_date"]), "amount": cents_text(i["amount_cents"])} for i in term["instalments"]
            ]
        if term["kind"] == TermKind.no_contact:
            row["until"] = "date" if term.get("end_date") else "indefinite"
            row["end_date"] = str(term.get("end_date") or "")
        for code, wording in (term.get("translations") or {}).items():
            row |= {f"{code}-{name}": str(wording.get(name) or "") for name in _WORDING if f"{code}-{name}" in row}
        rows.append(row)
    return rows


def parse_money(value: str) -> int | None:
    """A typed amount in minor units, or None when it is not a clear amount (a comma for cents is refused)."""
    value = value.replace(" ", "")
    if not _MONEY.match(value):
        return None
    try:
        return int(Decimal(value.replace(",", "")) * 100)
    except InvalidOperation:
        return None


WHOLE_AMOUNT = N_("Enter the whole amount of term %(term)s as a number such as 1200.50 (a point before the cents).")
PAYMENT_AMOUNT = N_(
    "Enter the amount of payment %(payment)s of term %(term)s as a number such as 300.00 (a point before the cents)."
)


def _say(message: str, i: int, **more: int) -> str:
    """An editor error in the page's language, naming its term (numbered from 1)."""
    return gettext(message) % ({"term": i + 1} | more)


def _term_data(i: int, row: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """One row as the Term schema's input; what only the form can get wrong goes into `errors`."""
    prefix = f"terms-{i}-"
    data: dict[str, Any] = {"kind": row["kind"], "owed_by": row["owed_by"] or None, "note": row["note"]}

    def optional(name: str) -> None:
        data[name] = row[name] or None

    match row["kind"]:
        case TermKind.apology:
            data["form"] = row["form"] or None
            optional("due_date")
        case TermKind.restitution:
            data["currency"] = row["currency"]
            total = parse_money(row["amount"]) if row["amount"] else None
            if row["amount"] and total is None:
                errors[prefix + "amount"] = _say(WHOLE_AMOUNT, i)
            data["amount_cents"] = total
            instalments = [r for r in row["instalments"] if r["due_date"] or r["amount"]]
            if len(instalments) == 1 and not instalments[0]["amount"] and total:
                instalments = [{"due_date": instalments[0]["due_date"], "amount": cents_text(total)}]
            data["instalments"] = []
            for j, r in enumerate(instalments):
                cents = parse_money(r["amount"]) if r["amount"] else None
                if r["amount"] and cents is None:
                    errors[f"{prefix}instalments-{j}-amount"] = _say(PAYMENT_AMOUNT, i, payment=j + 1)
                data["instalments"].append({"due_date": r["due_date"] or None, "amount_cents": cents})
            if not instalments:
                errors[prefix + "instalments-0-due_date"] = _say(
                    N_("Enter the date payment 1 of term %(term)s is due, for example 2027-02-01."), i
                )
        case TermKind.service_hours:
            data |= {"hours": row["hours"] or None, "deadline": row["deadline"] or None, "where": row["where"]}
        case TermKind.program_attendance:
            optional("program_name")
            optional("sessions")
            optional("deadline")
        case TermKind.no_contact:
            if row["until"] == "date":
                if not row["end_date"]:
                    errors[prefix + "end_date"] = _say(
                        N_("Enter the end date of term %(term)s, or choose 'With no end date'."), i
                    )
                data["end_date"] = row["end_date"] or None
            elif row["until"] != "indefinite":
                errors[prefix + "until"] = _say(
                    N_("Choose how long term %(term)s lasts: until a date, or with no end date."), i
                )
        case TermKind.other:
            optional("text")
            optional("due_date")
    translations = {
        code: {name: row[f"{code}-{name}"] for name in _WORDING}
        for code in TRANSLATION_LANGUAGES
        if any(row[f"{code}-{name}"] for name in _WORDING)
    }
    if translations:
        data["translations"] = translations
    return data


_TERM_MODELS: dict[str, type[BaseModel]] = {
    TermKind.apology: ApologyTerm,
    TermKind.restitution: RestitutionTerm,
    TermKind.service_hours: ServiceHoursTerm,
    TermKind.program_attendance: ProgramAttendanceTerm,
    TermKind.no_contact: NoContactTerm,
    TermKind.other: OtherTerm,
}
_ABOUT_A_TERM = N_("Term %(term)s: %(problem)s")


def _message(error: Any, model: type[BaseModel]) -> str:
    """A pydantic error of the editor in words that name the term (and payment) it is about."""
    loc = error["loc"]
    if not loc or loc[0] != "terms" or len(loc) < 2:
        return friendly_message(error, model=model)
    numbers = {"term": int(loc[1]) + 1}
    if len(loc) < 4:  # the whole term: its own check (the payments add up), or a kind Mend does not know
        if error["type"] in ("value_error", "assertion_error"):
            return gettext(_ABOUT_A_TERM) % (numbers | {"problem": friendly_message(error)})
        return gettext(N_("Remove term %(term)s and add it again: Mend does not know its kind.")) % numbers
    field_model, rest = _TERM_MODELS.get(str(loc[2]), BaseModel), loc[3:]
    if rest[0] == "instalments" and len(rest) >= 3:
        field_model, rest, numbers["payment"] = Instalment, rest[2:], int(rest[1]) + 1
    message = friendly_message({**error, "loc": rest, "ctx": (error.get("ctx") or {}) | numbers}, model=field_model)
    if error["type"] in ("value_error", "assertion_error"):
        return gettext(_ABOUT_A_TERM) % (numbers | {"problem": message})
    return message


def _field_key(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as the editor's field name: ("terms", 0, "restitution", "amount_cents") ->
    "terms-0-amount"; an error about a whole term is "terms-0", about its list of payments the first payment."""
    if not loc or loc[0] != "terms":
        return str(loc[0]) if loc else "_form"
    if len(loc) < 3:
        return "terms" if len(loc) == 1 else f"terms-{loc[1]}"
    parts = [str(p).replace("amount_cents", "amount") for p in loc[3:]]
    if parts[:1] == ["translations"]:  # ("terms", 0, kind, "translations", "es", "note") -> "terms-0-es-note"
        parts = parts[1:]
    if parts == ["instalments"]:
        parts = ["instalments", "0", "due_date"]
    return "-".join(["terms", str(loc[1]), *parts])


# A term's fields in the order the editor shows them (agreements/_term.html), whatever the kind.
_FIELD_ORDER = ("", "owed_by", "form", "amount", "currency", "instalments", "split_count", "split_first", "hours")
_FIELD_ORDER += ("program_name", "sessions", "until", "end_date", "text", "due_date", "deadline", "where", "note")
_TERM_FIELD = re.compile(r"^terms-(\d+)(?:-(.*))?$")


def _in_page_order(errors: dict[str, str]) -> dict[str, str]:
    """The editor's errors in the order of their fields on the page, as the error summary lists them."""

    def position(key: str) -> tuple[int, ...]:
        if key == "terms":
            return (1, -1)
        if not (m := _TERM_FIELD.match(key)):
            return (2,) if key == "change_note" else (0,)
        rest = m.group(2) or ""
        if rest.startswith("instalments-") and rest.count("-") == 2:
            _, payment, name = rest.split("-")
            return (1, int(m.group(1)), _FIELD_ORDER.index("instalments"), int(payment), name != "due_date")
        return (1, int(m.group(1)), _FIELD_ORDER.index(rest) if rest in _FIELD_ORDER else len(_FIELD_ORDER))

    return dict(sorted(errors.items(), key=lambda item: position(item[0])))


def parse_rows(
    rows: list[dict[str, Any]], *, based_on: str, change_note: str, amendment: bool = False
) -> tuple[DraftSave | None, dict[str, str]]:
    """The editor's rows as the API's schema (DraftSave, or AmendmentCreate), or the errors beside each field."""
    errors: dict[str, str] = {}
    data = {
        "terms": [_term_data(i, row, errors) for i, row in enumerate(rows)],
        "change_note": change_note,
    }
    if based_on:
        data["based_on"] = based_on
    model = AmendmentCreate if amendment else DraftSave
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            errors.setdefault(_field_key(error["loc"]), _message(error, model))
        return None, _in_page_order(errors)
    return (None, _in_page_order(errors)) if errors else (parsed, {})


_TERM: TypeAdapter[Term] = TypeAdapter(Term)


def preview_terms(rows: list[dict[str, Any]]) -> tuple[list[Term], list[int]]:
    """The complete terms, for the live preview, and the numbers (from 1) of the terms not complete yet."""
    terms, incomplete = [], []
    for i, row in enumerate(rows):
        errors: dict[str, str] = {}
        try:
            term = _TERM.validate_python(_refuse_nul_deep(_term_data(i, row, errors)))
        except ValueError:  # pydantic's ValidationError is one
            incomplete.append(i + 1)
            continue
        if errors:
            incomplete.append(i + 1)
        else:
            terms.append(term)
    return terms, incomplete


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter (31 Jan -> 28 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def split_amount(amount_cents: int, count: int, first_due: date) -> list[dict[str, Any]]:
    """Split an amount into `count` monthly instalments that add up to the cent: the first ones take the
    leftover cents, so 100.00 in 3 is 33.34, 33.33, 33.33."""
    base, extra = divmod(amount_cents, count)
    return [
        {"due_date": add_months(first_due, k), "amount_cents": base + (1 if k < extra else 0)} for k in range(count)
    ]


def apply_editor_action(
    rows: list[dict[str, Any]], action: str, *, default_owed_by: int | None
) -> tuple[list[dict[str, Any]], dict[str, str], str | None]:
    """Add or remove a term or an instalment, or split an amount, without saving. Returns the rows, errors
    beside fields, and the id of the field to focus when the editor comes back."""
    verb, _, rest = action.partition(":")
    args = [int(a) for a in rest.split(":") if a.isdigit()] if rest else []
    if verb == "add" and rest in TermKind.__members__ and len(rows) < MAX_TERMS:
        rows.append(blank_row(rest, default_owed_by))
        return rows, {}, f"field-terms-{len(rows) - 1}-owed_by"
    if not args or args[0] >= len(rows):
        return rows, {}, None
    i, row = args[0], rows[args[0]]
    if verb == "remove":
        del rows[i]
        return rows, {}, None
    if verb == "add_instalment" and len(row["instalments"]) < MAX_INSTALMENTS:
        row["instalments"].append({"due_date": "", "amount": ""})
        return rows, {}, f"field-terms-{i}-instalments-{len(row['instalments']) - 1}-due_date"
    if verb == "remove_instalment" and len(args) == 2 and args[1] < len(row["instalments"]):
        del row["instalments"][args[1]]
        return rows, {}, None
    if verb == "split":
        return _split(rows, i)
    return rows, {}, None


def _split(rows: list[dict[str, Any]], i: int) -> tuple[list[dict[str, Any]], dict[str, str], str | None]:
    row, prefix, errors = rows[i], f"terms-{i}-", {}
    total = parse_money(row["amount"]) if row["amount"] else None
    if total is None:
        whole = WHOLE_AMOUNT if row["amount"] else N_("Enter the whole amount of term %(term)s first.")
        errors[prefix + "amount"] = _say(whole, i)
    count = int(row["split_count"]) if row["split_count"].isdigit() else 0
    if not 1 <= count <= MAX_INSTALMENTS:
        errors[prefix + "split_count"] = _say(
            N_("Enter the number of monthly payments of term %(term)s, from 1 to 120."), i
        )
    try:
        first = date.fromisoformat(row["split_first"])
    except ValueError:
        errors[prefix + "split_first"] = _say(
            N_("Enter the date of the first payment of term %(term)s, such as 2027-03-28."), i
        )
    if total is not None and count and total < count:
        errors[prefix + "split_count"] = _say(
            N_("Enter fewer monthly payments for term %(term)s: each must be at least one cent."), i
        )
    if errors:
        return rows, errors, None
    row["instalments"] = [
        {"due_date": str(p["due_date"]), "amount": cents_text(p["amount_cents"])}
        for p in split_amount(total, count, first)  # type: ignore[arg-type]
    ]
    return rows, {}, f"field-terms-{i}-instalments-0-due_date"


CURRENCY_OPTIONS = [(c, c) for c in CURRENCIES]
