"""The follow-up report PDF, read back with pdftotext: the agreement's reference and hash, each commitment
with its status, progress and evidence references, a correction, a waiver with its consent; PDF/A-3b;
and never a contact detail or an IP address."""

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.agreements.commitment_schemas import ClosureCreate, ProgressCreate, WaiverCreate
from app.agreements.commitment_service import close_case, correct_entry, record_progress, waive
from app.agreements.followup_pdf import followup_filename, render_followup_pdf
from app.agreements.models import ProgressEntry, ProgressKind
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import ClosureReason
from app.safety.schemas import ContactPreferenceUpdate
from app.safety.service import save_contact_preference
from tests.agreements.monitoring_support import Sealed, sealed_case, stub_pdf
from tests.support import pdf_languages

# The fixed dates below (commitments due from 15 January 2027) were written for late November 2026.
pytestmark = pytest.mark.clock

SURVIVOR_EMAIL = "rosa.hidden@example.net"
RESPONSIBLE_EMAIL = "dan.private@example.net"
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
DONE_ON = date(2026, 11, 2)  # in the past whenever the suite runs after the fixtures were written


@pytest.fixture(autouse=True)
def _stub_sealing_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_pdf(monkeypatch)  # the agreement's own PDF is not what these tests read


@dataclass
class Followed:
    sealed: Sealed
    wrong: ProgressEntry


def _progress(db: Session, by: User, sealed: Sealed, commitment, **data) -> ProgressEntry:  # type: ignore[no-untyped-def]
    return record_progress(
        db,
        actor=actor_for(by),
        case=sealed.case,
        commitment=commitment,
        data=ProgressCreate(occurred_on=DONE_ON, notify_survivor=False, **data),
    )


def _followed(db: Session, facilitator: User) -> Followed:
    """The default terms sealed; the apology delivered, a payment made, another recorded by mistake and
    corrected, the second instalment waived with the survivor's consent by phone, some hours logged."""
    sealed = sealed_case(db, facilitator)
    actor = actor_for(facilitator)
    for person, email in ((sealed.held.survivor, SURVIVOR_EMAIL), (sealed.held.responsible, RESPONSIBLE_EMAIL)):
        save_contact_preference(
            db, actor=actor, participant=person, data=ContactPreferenceUpdate(channel="email", email=email)
        )
    first, second = sealed.of_kind("payment")
    _progress(
        db,
        facilitator,
        sealed,
        sealed.of_kind("apology")[0],
        kind=ProgressKind.apology_delivered,
        evidence_reference="LETTER-17",
        evidence_note="Rosa cried when she read it; keep this between us.",
    )
    _progress(
        db, facilitator, sealed, first, kind=ProgressKind.payment, amount=Decimal(100), evidence_reference="RCPT-0001"
    )
    wrong = _progress(
        db, facilitator, sealed, first, kind=ProgressKind.payment, amount=Decimal(50), evidence_reference="RCPT-0002"
    )
    correct_entry(db, actor=actor, case=sealed.case, entry=wrong, reason="The bank returned the transfer.")
    _progress(
        db,
        facilitator,
        sealed,
        sealed.of_kind("service_hours")[0],
        kind=ProgressKind.hours,
        amount=Decimal("7.5"),
        evidence_reference="HOURS-LOG-3",
    )
    waive(
        db,
        actor=actor,
        case=sealed.case,
        commitment=second,
        data=WaiverCreate(
            reason="Lost his job; the survivor agreed.", consent_method="phone", survivor_consent_confirmed=True
        ),
    )
    return Followed(sealed, wrong)


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path is not None, f"{name} (poppler-utils) is needed"
    return path


def _text(tmp_path: Path, pdf: bytes) -> str:
    path = tmp_path / "followup.pdf"
    path.write_bytes(pdf)
    return " ".join(
        subprocess.run([_tool("pdftotext"), str(path), "-"], check=True, capture_output=True, text=True).stdout.split()
    )


def _section(text: str, heading: str, following: str | None) -> str:
    start = text.index(heading)
    return text[start : text.index(following, start + 1)] if following else text[start:]


def test_the_report_shows_the_agreement_each_commitment_its_progress_corrections_and_waivers(
    db: Session, facilitator: User, staff: User, tmp_path: Path
) -> None:
    followed = _followed(db, facilitator)
    case, version = followed.sealed.case, followed.sealed.version
    text = _text(tmp_path, render_followup_pdf(db, actor=actor_for(staff), case=case))

    assert f"Case reference {case.reference}" in text
    assert "Harbour Restorative Program" in text
    assert f"Sealed agreement Version {version.number}" in text
    assert version.text_sha256 in text
    assert "State In monitoring" in text
    assert "Commitments in force 5" in text and "Compliance rate Nothing due yet" in text

    apology = _section(text, "1. Letter of apology", "2. Payment 1 of 2")
    first = _section(text, "2. Payment 1 of 2", "3. Payment 2 of 2")
    second = _section(text, "3. Payment 2 of 2", "4. 40 hours")
    hours = _section(text, "4. 40 hours", "5. No contact")
    no_contact = _section(text, "5. No contact", None)
    assert "Status Completed" in apology and "LETTER-17" in apology and "Fran Facilitator" in apology
    assert "Status Upcoming" in first and "Owed by Dan" in first and "Done 100.00 EUR" in first
    assert "RCPT-0001" in first and "RCPT-0002" in first
    assert "Correction: payment received reversed" in first and "−50.00 EUR" in first
    assert (
        "2 2 November 2026 Payment received 50.00 EUR RCPT-0002 Fran Facilitator Corrected by entry 3; does not count"
        in first
    )
    assert "Correction of entry 2: The bank returned the transfer." in first
    assert "Status Waived" in second and "Waived with the survivor's consent" in second
    assert "Reason: Lost his job; the survivor agreed." in second
    assert re.search(
        r"Survivor's consent: By phone, \d{1,2} \w+ \d{4}, \d\d:\d\d CES?T, recorded by Fran Facilitator", second
    )
    assert "Status Upcoming" in hours and "HOURS-LOG-3" in hours and "7.5 hours" in hours
    assert "Status Upcoming" in no_contact and "Standing, indefinite" in no_contact


def test_a_closed_case_shows_the_closure_reason(db: Session, facilitator: User, tmp_path: Path) -> None:
    sealed = sealed_case(db, facilitator)
    close_case(
        db,
        actor=actor_for(facilitator),
        case=sealed.case,
        data=ClosureCreate(reason=ClosureReason.non_compliance, note="Safety worry: he was seen near her home."),
    )
    text = _text(tmp_path, render_followup_pdf(db, actor=actor_for(facilitator), case=sealed.case))
    assert "State Closed: Unresolved: commitments were not met" in text
    assert "Safety worry" not in text and "near her home" not in text


def test_the_report_is_tagged_pdfa3a_and_holds_no_contact_details_ip_addresses_or_notes(
    db: Session, facilitator: User, staff: User, tmp_path: Path
) -> None:
    followed = _followed(db, facilitator)
    pdf = render_followup_pdf(db, actor=actor_for(staff), case=followed.sealed.case)
    path = tmp_path / "followup.pdf"
    path.write_bytes(pdf)
    xmp = subprocess.run([_tool("pdfinfo"), "-meta", str(path)], check=True, capture_output=True, text=True).stdout
    assert re.search(r'pdfaid:part(="|>)3', xmp) and re.search(r'pdfaid:conformance(="|>)A', xmp)
    info = subprocess.run([_tool("pdfinfo"), str(path)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    assert pdf_languages(pdf) == {"en"}
    assert pdf_languages(render_followup_pdf(db, actor=actor_for(staff), case=followed.sealed.case, language="es")) == {
        "es"
    }

    text = _text(tmp_path, pdf)
    assert SURVIVOR_EMAIL not in text and RESPONSIBLE_EMAIL not in text and EMAIL.findall(text) == []
    assert IPV4.findall(text) == []  # the signatures were given from 198.51.100.7
    assert "keep this between us" not in text  # evidence notes stay in the record, not the report
    assert "Confidential referral note" not in text


def test_the_file_name_is_safe_in_a_header(db: Session, facilitator: User) -> None:
    sealed = sealed_case(db, facilitator)
    assert followup_filename(sealed.case) == f"followup-report-{sealed.case.reference}.pdf"
    sealed.case.reference = 'A/B "x"\r\n'
    assert followup_filename(sealed.case) == "followup-report-A-B-x.pdf"


def test_the_report_in_spanish_translates_the_fixed_wording_dates_and_amounts_not_the_records_words(
    db: Session, facilitator: User, staff: User, tmp_path: Path
) -> None:
    followed = _followed(db, facilitator)
    case, version = followed.sealed.case, followed.sealed.version
    text = _text(tmp_path, render_followup_pdf(db, actor=actor_for(staff), case=case, language="es"))

    assert f"Referencia del caso {case.reference}" in text and f"Acuerdo sellado Versión {version.number}" in text
    assert "Situación En seguimiento" in text and "Tasa de cumplimiento Todavía no ha vencido nada" in text
    first = _section(text, "2. Payment 1 of 2", "3. Payment 2 of 2")  # the commitments are the agreement's words
    assert "Estado Próximo" in first and "Hecho 100,00 €" in first and "−50,00 €" in first
    assert "2 de noviembre de 2026 Pago recibido 50,00 € RCPT-0002" in first
    assert "Corregida por la anotación 3; no cuenta" in first
    assert "Correction" not in text and "Status " not in text
    assert "7,5 horas" in _section(text, "4. 40 hours", "5. No contact")
    assert "Permanente, sin fecha de fin" in _section(text, "5. No contact", None)


def test_staff_download_the_report_in_either_language(
    db: Session, facilitator: User, as_facilitator: TestClient
) -> None:
    case = sealed_case(db, facilitator).case
    spanish = as_facilitator.get(f"/cases/{case.id}/commitments/report.pdf?language=es")
    assert spanish.status_code == 200 and spanish.headers["content-disposition"].endswith('-es.pdf"')
    assert as_facilitator.get(f"/api/v1/cases/{case.id}/commitments/report.pdf?language=fr").status_code == 422
