"""The sealed agreement PDF: what it shows (read back with pdftotext), what it never shows,
PDF/A-3b with the JSON attached, and a URL fetcher that reaches nothing outside app/static."""

import hashlib
import json
import re
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.agreements import storage
from app.agreements.models import AgreementVersion, ReviewDecision, VersionStatus
from app.agreements.pdf import (
    STATIC_DIR,
    FetchRefused,
    PdfResourceRefused,
    html_to_pdf,
    render_agreement_pdf,
    static_path,
)
from app.agreements.service import (
    record_review,
    save_draft,
    send_for_review,
    send_for_signature,
    sign_version,
    signatures_of,
    start_amendment,
)
from app.agreements.terms import (
    ApologyTerm,
    Instalment,
    NoContactTerm,
    OtherTerm,
    ProgramAttendanceTerm,
    RestitutionTerm,
    ServiceHoursTerm,
    Term,
    TermWording,
    text_sections,
)
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Case, Participant
from app.conferences.scheduling import mark_session_held, schedule_session
from app.db import utcnow
from app.portal.service import portal_actor
from tests.conferences.test_scheduling_service import _plan, _ready
from tests.support import pdf_languages
from tests.test_preparation_journey import _ok

SURVIVOR_EMAIL = "rosa.hidden@example.net"
SURVIVOR_PHONE = "+34 600 123 456"
SURVIVOR_IP = "203.0.113.45"
RESPONSIBLE_IP = "2001:db8::7"
FACILITATOR_IP = "198.51.100.23"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"
INTERPRETER = "Inés Intérprete"
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


@dataclass
class Sealed:
    case: Case
    version: AgreementVersion
    survivor: Participant
    responsible: Participant
    pdf: bytes


def _terms(responsible: Participant, survivor_note: str = "") -> list[Term]:
    owed = responsible.id
    return [
        ApologyTerm(owed_by=owed, form="letter_through_program", due_date=date(2027, 1, 15)),
        RestitutionTerm(
            owed_by=owed,
            currency="EUR",
            amount_cents=30_000,
            instalments=[
                Instalment(due_date=date(2027, 2, 1), amount_cents=10_000),
                Instalment(due_date=date(2027, 3, 1), amount_cents=10_000),
                Instalment(due_date=date(2027, 4, 1), amount_cents=10_000),
            ],
        ),
        ServiceHoursTerm(
            owed_by=owed,
            hours=40,
            deadline=date(2027, 6, 30),
            where="Harbour Food Bank",
            translations={"es": _es(where="Banco de Alimentos del Puerto")},
        ),
        ProgramAttendanceTerm(
            owed_by=owed,
            program_name="Labour rights course",
            sessions=12,
            deadline=date(2027, 5, 31),
            translations={"es": _es(program_name="Curso de derechos laborales")},
        ),
        NoContactTerm(
            owed_by=owed, note=survivor_note, translations={"es": _es(note=survivor_note)} if survivor_note else {}
        ),
        OtherTerm(
            owed_by=owed,
            text="Return the identity papers to the program office.",
            due_date=date(2027, 1, 31),
            translations={"es": _es(text="Devolver los documentos de identidad a la oficina del programa.")},
        ),
    ]


def _es(**wording: str) -> TermWording:
    """The Spanish wording of what a term says in words, as the interpreter gave it."""
    return TermWording(translated_by=INTERPRETER, **wording)


def _seal(db: Session, client: TestClient, facilitator: User, *, note: str = "") -> Sealed:
    """A case from 'ready' through a held conference to a sealed version, through the real services."""
    case, survivor, responsible = _ready(db, client)
    _ok(
        client.put(
            f"/api/v1/cases/{case.id}/participants/{survivor.id}/contact-preferences",
            json={"channel": "email", "email": SURVIVOR_EMAIL, "phone": SURVIVOR_PHONE, "code_word": "lighthouse"},
        ),
        200,
    )
    actor = actor_for(facilitator, ip_address=FACILITATOR_IP)
    conference = schedule_session(db, actor=actor, case=case, plan=_plan(survivor, responsible))
    conference.starts_at, conference.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
    db.add(conference)
    db.flush()
    mark_session_held(db, actor=actor, case_session=conference, outcome_note="Apology given; agreement next.")

    version = save_draft(db, actor=actor, case=case, terms=_terms(responsible, note), based_on=None)
    return _review_and_sign(db, facilitator, case=case, version=version, survivor=survivor, responsible=responsible)


def _review_and_sign(
    db: Session,
    facilitator: User,
    *,
    case: Case,
    version: AgreementVersion,
    survivor: Participant,
    responsible: Participant,
) -> Sealed:
    """Both parties accept the version; the survivor signs in the portal, the others in person; it seals."""
    actor = actor_for(facilitator, ip_address=FACILITATOR_IP)
    send_for_review(db, actor=actor, case=case, version=version)
    survivor_actor = portal_actor(survivor, ip_address=SURVIVOR_IP)
    for who, person in ((survivor_actor, survivor), (actor, responsible)):
        record_review(
            db,
            actor=who,
            case=case,
            version=version,
            participant=person,
            decision=ReviewDecision.accepted,
            text_sha256=version.text_sha256,
        )
    send_for_signature(db, actor=actor, case=case, version=version)
    signing = {"text_sha256": version.text_sha256, "intent_confirmed": True, "user_agent": USER_AGENT}
    sign_version(
        db,
        actor=survivor_actor,
        case=case,
        version=version,
        participant=survivor,
        typed_name="Rosa María Quintero",
        ip_address=SURVIVOR_IP,
        **signing,
    )
    sign_version(
        db,
        actor=actor,
        case=case,
        version=version,
        participant=responsible,
        typed_name="Daniel Okafor",
        ip_address=RESPONSIBLE_IP,
        **signing,
    )
    sign_version(
        db, actor=actor, case=case, version=version, typed_name="Fran Facilitator", ip_address=FACILITATOR_IP, **signing
    )
    assert version.status == VersionStatus.sealed
    document = storage.load_document(db, version=version)
    assert document is not None
    return Sealed(case, version, survivor, responsible, document.content)


def _run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def _pdf_file(tmp_path: Path, pdf: bytes, name: str = "agreement.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def _pages(path: Path) -> list[str]:
    count = int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", path), re.M).group(1))  # type: ignore[union-attr]
    return [_run("pdftotext", "-layout", "-f", str(n), "-l", str(n), path, "-") for n in range(1, count + 1)]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _row_at(text: str, *cells: str) -> int | None:
    """The line of the laid-out text holding these cells, left to right (a table row's first line).
    Each cell starts with the given text; a wrapped cell shows only its first words on that line."""
    pattern = r"\s{2,}".join(re.escape(c) + r"(?: ?\S)*" for c in cells)
    return next((n for n, line in enumerate(text.splitlines()) if re.search(pattern, line)), None)


def _row(text: str, *cells: str) -> bool:
    return _row_at(text, *cells) is not None


def test_the_pdf_shows_every_term_the_schedule_and_the_signatures_with_page_and_hash_on_each_page(
    db: Session, as_facilitator: TestClient, facilitator: User, tmp_path: Path
) -> None:
    sealed = _seal(db, as_facilitator, facilitator)
    pages = _pages(_pdf_file(tmp_path, sealed.pdf))
    text = "\n".join(pages)
    flat = _flat(text)

    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert f"Text SHA-256 {sealed.version.text_sha256}" in page
    assert text.count(sealed.version.text_sha256) >= len(pages)

    assert "Harbour Restorative Program" in flat and f"case {sealed.case.reference}" in flat
    english = text_sections(sealed.version.canonical_text)["en"]
    terms = [line for line in english.splitlines() if re.match(r"\d+\. ", line)]
    assert len(terms) == 6
    assert "Signed text, in English, Spanish" in flat  # the record copy names every language it was signed in
    for line in terms:  # every term, word for word
        assert line in flat
    assert "Rosa, survivor" in flat and "Dan, responsible party" in flat

    assert _row(text, "1", "Letter of apology, through the", "15 January 2027", "Dan", "Delivery confirmed by")
    for month in ("February", "March", "April"):
        index = ("February", "March", "April").index(month) + 1
        assert _row(text, "2", f"Payment {index} of 3: 100.00 EUR", f"1 {month} 2027", "Dan", "Payment received, with")
    assert _row(text, "3", "40 hours of community service", "30 June 2027", "Dan", "Hours log confirmed by")
    assert _row(text, "4", "12 sessions of Labour rights", "31 May 2027", "Dan", "Attendance confirmed by")
    standing = _row_at(text, "5", "No contact with the survivor", "Standing,", "Dan", "No breach reported")
    assert standing is not None and text.splitlines()[standing + 1].split() == ["indefinite"]
    assert _row(text, "6", "Return the identity papers", "31 January 2027", "Dan", "Completion confirmed by")
    assert "receipt reference" in text and "host organisation" in text  # the wrapped ends of those cells

    blocks = text[text.index("Signatures\n") :]
    blocks = blocks[: blocks.index("Signature certificate")] if "Signature certificate" in blocks else blocks
    madrid = ZoneInfo("Europe/Madrid")
    times = Counter(
        f"{t.day} {t:%B %Y, %H:%M} {t.tzname()}"
        for t in (s.signed_at.astimezone(madrid) for s in signatures_of(db, version=sealed.version))
    )
    assert sum(times.values()) == 3
    for shown, count in times.items():  # each block shows its time in the program's time zone
        assert blocks.count(shown) == count
    assert _row(blocks, "Rosa María Quintero", "Daniel Okafor")
    assert _row(blocks, "Signed in the portal", "Signed in person, recorded by Fran Facilitator")
    assert re.search(r"^\s*Fran Facilitator\n\s*Signed in person\n", blocks, re.M)


def test_the_last_page_is_the_signature_certificate_without_evidence_details(
    db: Session, as_facilitator: TestClient, facilitator: User, tmp_path: Path
) -> None:
    sealed = _seal(db, as_facilitator, facilitator)
    certificate = _pages(_pdf_file(tmp_path, sealed.pdf))[-1]
    flat = _flat(certificate)
    assert "Signature certificate" in flat
    assert _row(certificate, "Version", str(sealed.version.number))
    assert sealed.version.text_sha256 in flat
    events = [line for line in certificate.splitlines() if re.match(r"\s*[123]\s{2,}", line)]
    assert [e.split()[0] for e in events] == ["1", "2", "3"]
    assert "Rosa María" in events[0] and "Daniel Okafor" in events[1] and "Fran Facilitator" in events[2]
    assert "In the portal" in events[0] and "In person, recorded by" in events[1] and "In person" in events[2]
    assert "Rosa (survivor) accepted this exact text in the portal" in flat
    assert "recorded with device details, kept by the program" in flat
    for secret in (SURVIVOR_IP, RESPONSIBLE_IP, FACILITATOR_IP, USER_AGENT):
        assert secret not in certificate


def test_the_pdf_and_its_json_never_hold_contact_details_or_ip_addresses(
    db: Session, as_facilitator: TestClient, facilitator: User, tmp_path: Path
) -> None:
    sealed = _seal(db, as_facilitator, facilitator)
    path = _pdf_file(tmp_path, sealed.pdf)
    attached = tmp_path / "attached.json"
    _run("pdfdetach", "-save", "1", "-o", attached, path)
    text = _run("pdftotext", "-layout", path, "-") + attached.read_text()
    for secret in (SURVIVOR_EMAIL, SURVIVOR_PHONE, "600 123 456", "lighthouse", USER_AGENT, "TestBrowser"):
        assert secret not in text
    assert SURVIVOR_IP not in text and RESPONSIBLE_IP not in text and FACILITATOR_IP not in text
    assert IPV4.findall(text) == []
    assert "ip_address" not in attached.read_text() and "user_agent" not in attached.read_text()


def test_the_pdf_is_tagged_pdfa3a_in_its_language_with_the_agreement_json_attached(
    db: Session, as_facilitator: TestClient, facilitator: User, tmp_path: Path
) -> None:
    sealed = _seal(db, as_facilitator, facilitator)
    path = _pdf_file(tmp_path, sealed.pdf)
    xmp = _run("pdfinfo", "-meta", path)
    assert re.search(r'pdfaid:part(="|>)3', xmp)
    assert re.search(r'pdfaid:conformance(="|>)A', xmp)  # "a": accessible, a tagged structure
    assert re.search(r"^Tagged:\s+yes$", _run("pdfinfo", path), re.M)
    structure = _run("pdfinfo", "-struct", path)
    assert re.search(r"^\s*H1\b", structure, re.M) and re.search(r"^\s*Table\b", structure, re.M)
    assert pdf_languages(sealed.pdf) == {"en"}

    listing = _run("pdfdetach", "-list", path)
    assert "1 embedded files" in listing and "agreement.json" in listing
    attached = tmp_path / "attached.json"
    _run("pdfdetach", "-save", "1", "-o", attached, path)
    data = json.loads(attached.read_text())
    assert data["case_reference"] == sealed.case.reference
    assert data["version"] == sealed.version.number
    assert data["sha256"] == sealed.version.text_sha256
    assert hashlib.sha256(data["canonical_text"].encode()).hexdigest() == sealed.version.text_sha256
    assert [t["kind"] for t in data["terms"]] == [t["kind"] for t in sealed.version.terms]
    assert [s["typed_name"] for s in data["signatures"]] == ["Rosa María Quintero", "Daniel Okafor", "Fran Facilitator"]
    assert {s["text_sha256"] for s in data["signatures"]} == {sealed.version.text_sha256}
    assert len(data["commitments"]) == 8


def test_the_stored_document_hash_is_the_hash_of_the_stored_bytes(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    sealed = _seal(db, as_facilitator, facilitator)
    document = storage.load_document(db, version=sealed.version)
    assert document is not None and document.content.startswith(b"%PDF-1.7")
    assert document.sha256 == hashlib.sha256(document.content).hexdigest()
    assert document.size_bytes == len(document.content)


def test_rendering_the_same_version_twice_gives_the_same_text_and_bytes(
    db: Session, as_facilitator: TestClient, facilitator: User, tmp_path: Path
) -> None:
    sealed = _seal(db, as_facilitator, facilitator)
    again = render_agreement_pdf(db, case=sealed.case, version=sealed.version)
    first = _run("pdftotext", "-layout", _pdf_file(tmp_path, sealed.pdf, "first.pdf"), "-")
    second = _run("pdftotext", "-layout", _pdf_file(tmp_path, again, "second.pdf"), "-")
    assert first == second
    assert again == sealed.pdf  # sealed_at fixes the dates, so a stored PDF can be checked by re-rendering


def test_a_sealed_amendment_has_its_own_pdf_naming_the_version_it_amends(
    db: Session, as_facilitator: TestClient, facilitator: User, tmp_path: Path
) -> None:
    first = _seal(db, as_facilitator, facilitator)
    terms = _terms(first.responsible)[:4]
    amendment = start_amendment(
        db,
        actor=actor_for(facilitator),
        case=first.case,
        terms=terms,
        change_note="Rosa asked to drop the last two terms.",
        based_on=first.version.number,
    )
    second = _review_and_sign(
        db, facilitator, case=first.case, version=amendment, survivor=first.survivor, responsible=first.responsible
    )
    flat = _flat(_run("pdftotext", "-layout", _pdf_file(tmp_path, second.pdf), "-"))
    assert "Version 2 (amends version 1)" in flat
    assert "Why this version was made: Rosa asked to drop the last two terms." in flat
    assert second.version.text_sha256 in flat and first.version.text_sha256 not in flat
    assert "No contact with the survivor" not in flat
    stored = storage.load_document(db, version=first.version)
    assert stored is not None and stored.content == first.pdf  # the first PDF stays as it was sealed


def test_fonts_are_dejavu_and_all_embedded(
    db: Session, as_facilitator: TestClient, facilitator: User, tmp_path: Path
) -> None:
    sealed = _seal(db, as_facilitator, facilitator)
    fonts = _run("pdffonts", _pdf_file(tmp_path, sealed.pdf)).splitlines()[2:]
    assert fonts
    for line in fonts:
        assert "DejaVu" in line.split()[0]
        assert re.search(r"\byes\s+yes\s+(yes|no)\s+\d+\s+\d+\s*$", line), line  # embedded, subset


# --- nothing is fetched -------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request it gets: any request means something was fetched."""
    hits: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_markup_in_a_term_note_is_printed_as_text_and_nothing_is_fetched(
    db: Session, as_facilitator: TestClient, facilitator: User, tmp_path: Path, listener: tuple[str, list[str]]
) -> None:
    url, hits = listener
    note = (
        f'<img src="{url}/tracker.png"> <img src="file:///etc/passwd">'
        f' <link rel="stylesheet" href="{url}/evil.css"> <style>@import "{url}/more.css";</style>'
    )
    sealed = _seal(db, as_facilitator, facilitator, note=note)
    flat = _flat(_run("pdftotext", "-layout", _pdf_file(tmp_path, sealed.pdf), "-"))
    assert hits == []
    assert f'<img src="{url}/tracker.png">' in flat and '<img src="file:///etc/passwd">' in flat
    assert "root:" not in flat


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/tracker.png",
        "https://fonts.example.org/font.woff2",
        "ftp://example.org/x.css",
        "file:///etc/passwd",
        "file://evil.example.org/share/x.css",
        STATIC_DIR.as_uri() + "/../../pyproject.toml",
        STATIC_DIR.as_uri() + "/css/no-such-file.css",
        STATIC_DIR.as_uri() + "/css",
        "data:text/css,body{}",
        "css/agreement-pdf.css",
    ],
)
def test_the_fetcher_refuses_anything_outside_the_static_files(url: str) -> None:
    with pytest.raises(FetchRefused):
        static_path(url)


def test_the_fetcher_serves_the_agreement_stylesheet() -> None:
    assert static_path(STATIC_DIR.as_uri() + "/css/agreement-pdf.css") == STATIC_DIR / "css" / "agreement-pdf.css"


@pytest.mark.parametrize("where", ["http", "file"])
def test_rendering_stops_when_the_html_refers_to_anything_outside_the_static_files(
    where: str, listener: tuple[str, list[str]]
) -> None:
    url, hits = listener
    src = f"{url}/tracker.png" if where == "http" else "file:///etc/passwd"
    with pytest.raises(PdfResourceRefused):
        html_to_pdf(f'<!doctype html><html lang="en"><title>x</title><p>Hello</p><img src="{src}" alt=""></html>')
    assert hits == []
