"""Rendering a sealed agreement version to PDF/A-3a, with its machine-readable JSON attached.

The PDF is rendered once, when the version is sealed, and stored; downloads serve the stored bytes.
Rendering is synchronous and CPU-bound: it runs inside the sealing service, never in the event loop.

What the template sees is an `AgreementView` built here from the version, its signatures and the
participants' display names. Contact details and signing evidence (IP address, user agent) are never
loaded, so the template cannot print them even by mistake. Every user-written text reaches the
template as data, and Jinja escapes it; WeasyPrint's URL fetcher refuses everything outside the
app's own static files, so nothing is fetched from the network or read from elsewhere on disk.
"""

import json
import mimetypes
import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from pydantic import TypeAdapter
from sqlmodel import Session, col, select

from app.agreements.commitment_rules import commitments_from_terms
from app.agreements.models import AgreementVersion, CommitmentKind, Review, ReviewDecision, Signature
from app.agreements.rules import INTENT_STATEMENT
from app.agreements.service import signatures_of
from app.agreements.terms import RECORD_LANGUAGE, Term, read_text, text_sections
from app.auth.models import User
from app.conferences.models import Case, Participant, ParticipantRole
from app.config import PROJECT_ROOT
from app.i18n import N_, Translate, gettext, language_name, long_day, translator
from app.i18n import install as install_i18n
from app.programs.models import Program

STATIC_DIR = (PROJECT_ROOT / "app" / "static").resolve()
TEMPLATE = "agreements/pdf.html"
ATTACHMENT_NAME = "agreement.json"
JSON_FORMAT = "mend.agreement/1"

_TERMS = TypeAdapter(list[Term])
# The fixed wording is translated (app/i18n.py); the terms are the facilitator's text, bound to its
# hash, and every copy shows them as written.
# The templates of every PDF Mend renders (the agreement and the follow-up report).
pdf_templates = install_i18n(
    Environment(
        loader=FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=select_autoescape(("html",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)

# The running headers and footers of every page, in the copy's language (`page_style`).
AGREEMENT_HEADER = N_("Reparation agreement, case %(reference)s")
FOLLOWUP_HEADER = N_("Follow-up report, case %(reference)s")
HASH_FOOTER = N_("Text SHA-256 %(sha)s")
AGREEMENT_HASH_FOOTER = N_("Agreement text SHA-256 %(sha)s")
PAGE_FOOTER = N_("Page %(page)s of %(pages)s")
# What a placeholder of those messages is on the printed page: a page counter or a string the body sets.
_PAGE_VALUES = {
    "page": "counter(page)",
    "pages": "counter(pages)",
    "reference": "string(case-reference)",
    "sha": "string(text-hash)",
}


def css_content(message: str) -> str:
    """A translated message as a CSS `content` value: its words as CSS strings, its placeholders as the
    page's counters and strings. "Página %(page)s de %(pages)s" -> "Página " counter(page) " de " counter(pages)."""
    parts = []
    for index, part in enumerate(re.split(r"%\((\w+)\)s", message)):
        if index % 2:
            parts.append(_PAGE_VALUES[part])
        elif part:
            escaped = part.replace("\\", "\\5C ").replace('"', "\\22 ").replace("<", "\\3C ").replace("\n", " ")
            parts.append(f'"{escaped}"')
    return " ".join(parts)


@pass_context
def page_style(context: Context, header: str, footer: str = HASH_FOOTER) -> Markup:
    """The @page rule that writes the running header and footers in the copy's language (`lang`)."""
    language = context.get("lang") or RECORD_LANGUAGE
    top, bottom, page = (css_content(gettext(m, language)) for m in (header, footer, PAGE_FOOTER))
    # Safe: css_content writes every word as a CSS string, with quotes, backslashes and "<" escaped.
    return Markup(  # noqa: S704
        f"@page {{ @top-right {{ content: {top}; }} @bottom-left {{ content: {bottom}; }} "
        f"@bottom-right {{ content: {page}; }} }}"
    )


pdf_templates.globals.update(
    page_style=page_style,
    AGREEMENT_HEADER=AGREEMENT_HEADER,
    FOLLOWUP_HEADER=FOLLOWUP_HEADER,
    AGREEMENT_HASH_FOOTER=AGREEMENT_HASH_FOOTER,
)

ROLE_LABELS = {
    ParticipantRole.survivor: N_("Survivor"),
    ParticipantRole.responsible_party: N_("Responsible party"),
    ParticipantRole.supporter: N_("Supporter"),
    ParticipantRole.community_member: N_("Community member"),
    ParticipantRole.interpreter: N_("Interpreter"),
    "facilitator": N_("Facilitator"),
}
FACILITATOR = ROLE_LABELS["facilitator"]
METHOD_LABELS = {"portal": N_("in the portal"), "in_person": N_("in person")}
RESPONSIBLE_PARTY = N_("The responsible party")


# --- what the template receives -----------------------------------------------------------------


@dataclass(frozen=True)
class PartyLine:
    name: str
    role: str


@dataclass(frozen=True)
class CommitmentRow:
    term_number: int
    what: str
    due: str
    due_date: date | None  # None for standing or undated commitments
    owed_by: str
    check: str


@dataclass(frozen=True)
class SignatureBlock:
    order: int
    role: str
    signer: str  # the participant's display name, or the facilitator's name
    typed_name: str
    signed_at: str  # in the program's time zone
    signed_at_utc: str
    method: str
    recorded_by: str | None  # the facilitator who recorded an in-person signature of a party
    bound_to_text: bool
    evidence: str  # a summary: never the IP address or the user agent itself
    intent_statement: str = INTENT_STATEMENT  # as the signature keeps it: the words the signer ticked


@dataclass(frozen=True)
class AcceptanceLine:
    name: str
    role: str
    accepted_at: str
    via: str


@dataclass(frozen=True)
class AgreementView:
    """Everything the PDF shows. Holds no contact details and no signing evidence by construction."""

    program_name: str
    timezone: str
    case_reference: str
    version_number: int
    amends_version_number: int | None
    change_note: str
    text_sha256: str
    canonical_text: str
    sealed_at: str
    sealed_at_utc: datetime
    parties: list[PartyLine]
    terms: list[str]
    term_data: list[dict]
    commitments: list[CommitmentRow]
    signatures: list[SignatureBlock]
    acceptances: list[AcceptanceLine]
    language: str = "en"
    intent_statement_translated: str = INTENT_STATEMENT  # the statement each signer ticked, in the copy's language
    text_languages: tuple[str, ...] = ("en",)  # the languages the signed text is written in, English first
    terms_language: str = "en"  # the language the terms are shown in: the copy's, when the text has it
    language_names: str = "English"  # the text's languages, named in the copy's language


# --- the URL fetcher ----------------------------------------------------------------------------


class FetchRefused(ValueError):
    """WeasyPrint asked for something outside the app's own static files."""


class PdfResourceRefused(RuntimeError):
    """The agreement template referred to a resource the fetcher refused; nothing was rendered."""


def static_path(url: str) -> Path:
    """The file under app/static that a `file:` URL names; anything else is refused."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost") or parts.query:
        raise FetchRefused(f"Refused to fetch {url!r}: only the app's static files are used.")
    try:
        path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise FetchRefused(f"Refused to fetch {url!r}: no such static file.") from exc
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        raise FetchRefused(f"Refused to fetch {url!r}: only the app's static files are used.")
    return path


def _fetcher():  # type: ignore[no-untyped-def]
    # WeasyPrint is imported lazily: it is heavy, and only sealing needs it.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesOnly(URLFetcher):
        """Serves files under app/static and raises for everything else (network, other files, data:)."""

        def fetch(self, url, headers=None):  # type: ignore[no-untyped-def]
            path = static_path(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type})

    # fail_on_errors: a refused fetch stops the rendering, so a sealed PDF never silently lacks a part.
    return StaticFilesOnly(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=True)


# --- building the view --------------------------------------------------------------------------


def _local(moment: datetime, tz: ZoneInfo, language: str) -> str:
    local = moment.astimezone(tz)
    return f"{long_day(local.date(), language=language)}, {local:%H:%M} {local.tzname()}"


def _role_label(role: str, _: Translate) -> str:
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else role.replace("_", " ").capitalize()


def commitment_rows(
    terms: list[Term], names: dict[int, str], language: str = "en", text_language: str = "en"
) -> list[CommitmentRow]:
    """The follow-up schedule: the commitments sealing creates (`commitments_from_terms`), each with who
    owes it and how completion is checked. Dated rows come first, in date order; undated and standing
    rows (no contact) follow. Dates and labels are in `language`; what is owed is described in
    `text_language`, the language the copy shows the terms in."""
    _ = translator(language)
    rows: list[CommitmentRow] = []
    for spec in commitments_from_terms(terms, text_language):
        who = names.get(spec.owed_by_id) or _(RESPONSIBLE_PARTY)
        check = _(spec.verification)
        if spec.kind == CommitmentKind.no_contact:
            if spec.due_on:
                due = _("Standing, until %(date)s", date=long_day(spec.due_on, language=language))
            else:
                due = _("Standing, indefinite")
            rows.append(CommitmentRow(spec.term_number, spec.description, due, None, who, check))
        else:
            due = long_day(spec.due_on, language=language) if spec.due_on else _("No date set")
            rows.append(CommitmentRow(spec.term_number, spec.description, due, spec.due_on, who, check))
    dated = sorted((r for r in rows if r.due_date), key=lambda r: (r.due_date, r.term_number))
    return dated + [r for r in rows if r.due_date is None]


def _method_label(method: str, _: Translate) -> str:
    return _(METHOD_LABELS[method]) if method in METHOD_LABELS else method.replace("_", " ")


def _evidence(signature: Signature, _: Translate) -> str:
    if signature.ip_address or signature.user_agent:
        return _("Recorded with device details, kept by the program")
    return _("No device details recorded")


def agreement_view(session: Session, *, case: Case, version: AgreementVersion, language: str = "en") -> AgreementView:
    """What the PDF of this version shows: display names only, times in the program's time zone, the
    fixed wording in `language` (the terms as written)."""
    _ = translator(language)
    program = session.get(Program, case.program_id)
    tz = ZoneInfo(program.timezone if program else "UTC")
    people = {p.id: p for p in session.exec(select(Participant).where(Participant.case_id == case.id)).all()}
    names = {pid: p.display_name for pid, p in people.items()}
    terms = _TERMS.validate_python(version.terms)
    signatures = signatures_of(session, version=version)
    user_ids = {s.user_id for s in signatures if s.user_id} | {s.recorded_by_id for s in signatures if s.recorded_by_id}
    users = {u.id: u.full_name for u in session.exec(select(User).where(col(User.id).in_(user_ids))).all()}

    involved = {t.owed_by for t in terms} | {s.participant_id for s in signatures if s.participant_id}
    parties = [
        PartyLine(p.display_name, _role_label(p.role, _))
        for p in sorted(people.values(), key=lambda p: (p.role != ParticipantRole.survivor, p.id))
        if p.role in (ParticipantRole.survivor, ParticipantRole.responsible_party) or p.id in involved
    ]
    parties += [
        PartyLine(users.get(s.user_id) or _(FACILITATOR), _role_label(s.signer_role, _))
        for s in signatures
        if s.user_id is not None
    ]

    blocks = []
    for order, signature in enumerate(signatures, start=1):
        signer = names.get(signature.participant_id, "") if signature.participant_id else ""
        signer = signer or users.get(signature.user_id, "")
        in_person_for_party = signature.method == "in_person" and signature.participant_id is not None
        blocks.append(
            SignatureBlock(
                order=order,
                role=_role_label(signature.signer_role, _),
                signer=signer,
                typed_name=signature.typed_name,
                signed_at=_local(signature.signed_at, tz, language),
                signed_at_utc=signature.signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                method=_(METHOD_LABELS[signature.method])
                if signature.method in METHOD_LABELS
                else signature.method.replace("_", " "),
                recorded_by=users.get(signature.recorded_by_id) if in_person_for_party else None,
                bound_to_text=signature.text_sha256 == version.text_sha256,
                evidence=_evidence(signature, _),
                intent_statement=signature.intent_statement,
            )
        )

    reviews = session.exec(
        select(Review)
        .where(Review.version_id == version.id, Review.decision == ReviewDecision.accepted)
        .order_by(col(Review.created_at), col(Review.id))
    ).all()
    acceptances = [
        AcceptanceLine(
            names.get(r.participant_id, ""),
            _role_label(people[r.participant_id].role, _) if r.participant_id in people else "",
            _local(r.created_at, tz, language),
            _("in the portal") if r.via == "portal" else _("with a facilitator"),
        )
        for r in reviews
        if r.text_sha256 == version.text_sha256
    ]

    amends = session.get(AgreementVersion, version.amends_version_id) if version.amends_version_id else None
    sealed = version.sealed_at or version.created_at
    # The terms exactly as the signed text says them, in each of its languages: nothing is reworded.
    texts = {code: read_text(version.canonical_text, code) for code in text_sections(version.canonical_text)}
    terms_language = language if language in texts else RECORD_LANGUAGE
    term_data = []
    for number, (term, stored) in enumerate(zip(terms, version.terms, strict=True)):
        sentences = {code: text.terms[number] for code, text in texts.items() if number < len(text.terms)}
        term_data.append(
            stored
            | {
                "owed_by_name": names.get(term.owed_by, RESPONSIBLE_PARTY),
                "sentence": sentences.get(RECORD_LANGUAGE, ""),
                "sentences": sentences,
            }
        )
    return AgreementView(
        program_name=program.name if program else "",
        timezone=str(tz),
        case_reference=case.reference,
        version_number=version.number,
        amends_version_number=amends.number if amends else None,
        change_note=version.change_note,
        text_sha256=version.text_sha256,
        canonical_text=version.canonical_text,
        sealed_at=_local(sealed, tz, language),
        sealed_at_utc=sealed.astimezone(UTC),
        parties=parties,
        terms=list(texts[terms_language].terms),
        term_data=term_data,
        commitments=commitment_rows(terms, names, language, terms_language),
        signatures=blocks,
        acceptances=acceptances,
        language=language,
        intent_statement_translated=_(INTENT_STATEMENT),
        text_languages=tuple(texts),
        terms_language=terms_language,
        language_names=", ".join(language_name(code, language) for code in texts),
    )


# --- rendering ----------------------------------------------------------------------------------


def agreement_json(view: AgreementView) -> bytes:
    """The machine-readable agreement attached to the PDF: the terms, the hash and the signatures
    (without IP addresses or user agents)."""
    document = {
        "format": JSON_FORMAT,
        "program": view.program_name,
        "case_reference": view.case_reference,
        "version": view.version_number,
        "amends_version": view.amends_version_number,
        "sealed_at": view.sealed_at_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": view.timezone,
        "sha256": view.text_sha256,
        "sha256_of": "canonical_text, encoded as UTF-8",
        "canonical_text": view.canonical_text,
        "languages": list(view.text_languages),
        "parties": [asdict(p) for p in view.parties],
        "terms": view.term_data,
        "commitments": [
            {
                "term": r.term_number,
                "what": r.what,
                "due_date": r.due_date.isoformat() if r.due_date else None,
                "due": r.due,
                "owed_by": r.owed_by,
                "completion_check": r.check,
            }
            for r in view.commitments
        ],
        "signatures": [
            {
                "order": s.order,
                "role": s.role,
                "signer": s.signer,
                "typed_name": s.typed_name,
                "signed_at": s.signed_at_utc,
                "method": s.method,
                "text_sha256": view.text_sha256 if s.bound_to_text else None,
                "intent_statement": s.intent_statement,
            }
            for s in view.signatures
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def agreement_html(view: AgreementView) -> str:
    """The agreement as HTML, from templates/agreements/pdf.html (links resolve under app/static)."""
    return pdf_templates.get_template(TEMPLATE).render(a=view, lang=view.language)


def html_to_pdf(html: str, *, attachment: bytes | None = None, created: datetime | None = None) -> bytes:
    """HTML to PDF/A-3a with WeasyPrint, fetching only from app/static. Raises PdfResourceRefused
    when the HTML refers to anything else."""
    from weasyprint import HTML, Attachment
    from weasyprint.urls import FatalURLFetchingError

    fetcher = _fetcher()
    attachments = []
    if attachment is not None:
        moment = (created or datetime.now(UTC)).astimezone(UTC)
        attachments.append(
            Attachment(
                string=attachment,
                name=ATTACHMENT_NAME,
                description="The agreement in machine-readable form (JSON)",
                # An alternative representation of the document's content (PDF/A-3 AFRelationship).
                relationship="Alternative",
                created=moment,
                modified=moment,
                url_fetcher=fetcher,
            )
        )
    try:
        return HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher).write_pdf(
            pdf_variant="pdf/a-3a", attachments=attachments, uncompressed_pdf=False
        )
    except FatalURLFetchingError as exc:  # a BaseException in WeasyPrint: turn it into an ordinary error
        raise PdfResourceRefused(str(exc)) from exc.__cause__


def render_view_pdf(view: AgreementView, *, record: AgreementView | None = None) -> bytes:
    """The PDF of an agreement view, with the JSON of the record (English) view attached."""
    attachment = agreement_json(record or view)
    return html_to_pdf(agreement_html(view), attachment=attachment, created=view.sealed_at_utc)


def render_agreement_pdf(session: Session, *, case: Case, version: AgreementVersion, language: str = "en") -> bytes:
    """The sealed version as PDF/A-3a with its machine-readable JSON attached, the fixed wording in `language`.

    Every language's copy attaches the same JSON (the English record), so the machine-readable
    agreement does not depend on whose copy it is."""
    record = agreement_view(session, case=case, version=version)
    view = record if language == "en" else agreement_view(session, case=case, version=version, language=language)
    return render_view_pdf(view, record=record)
