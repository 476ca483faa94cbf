"""The agreement in every participant's language (issue #12, item 2).

Rosa reads Spanish, Dan English. Each term's written words are given in Spanish by the interpreter; the
version's text holds the agreement in both languages under one SHA-256, so neither can change without a
new version; a version without a reader's language cannot go to review or to signing; each person reads
and keeps their own language's text, and Rosa's PDF copies have no English fixed wording left.
"""

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.agreements import storage
from app.agreements.followup_pdf import render_followup_pdf
from app.agreements.models import AgreementVersion, VersionStatus
from app.agreements.service import save_draft
from app.agreements.terms import OtherTerm, TermWording, text_sections
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Case, Participant
from app.conferences.scheduling import mark_session_held, schedule_session
from app.config import PROJECT_ROOT
from app.db import utcnow
from tests.agreements.test_pdf import INTERPRETER, _flat, _pages, _pdf_file, _review_and_sign, _run, _terms
from tests.conferences.test_scheduling_service import _plan, _ready
from tests.portal.conftest import PortalClientFactory, browser, enter, issue_url

PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\{\{.*?\}\}|\{.*?\}")


@pytest.fixture
def held(db: Session, as_facilitator: TestClient, facilitator: User) -> tuple[Case, Participant, Participant]:
    """A case whose conference was held: Rosa reads Spanish, Dan English."""
    case, survivor, responsible = _ready(db, as_facilitator)
    assert survivor.preferred_language == "es" and responsible.preferred_language == "en"
    actor = actor_for(facilitator)
    conference = schedule_session(db, actor=actor, case=case, plan=_plan(survivor, responsible))
    conference.starts_at, conference.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
    db.add(conference)
    db.flush()
    mark_session_held(db, actor=actor, case_session=conference, outcome_note="Apology given; agreement next.")
    db.commit()
    return case, survivor, responsible


@pytest.fixture
def portal_client_for(app, db: Session, facilitator: User) -> PortalClientFactory:  # type: ignore[no-untyped-def]
    """A browser signed in to the portal as a participant (tests/portal/conftest.py has the same)."""

    def make(participant: Participant) -> TestClient:
        client = browser(app)
        assert enter(client, issue_url(db, facilitator, participant)).status_code == 303
        return client

    return make


def _csrf(client: TestClient) -> dict[str, str]:
    return {"csrf_token": client.csrf_token}  # type: ignore[attr-defined]


def _base(case: Case) -> str:
    return f"/api/v1/cases/{case.id}/agreement"


def _other(dan: int, spanish: str | None = "Devolver sus documentos a la oficina.") -> dict:
    term = {"kind": "other", "owed_by": dan, "text": "Return her documents to the office.", "due_date": "2027-03-01"}
    if spanish is not None:
        term["translations"] = {"es": {"text": spanish, "translated_by": INTERPRETER}}
    return term


def _no_contact(dan: int) -> dict:
    return {"kind": "no_contact", "owed_by": dan}


def _save(client: TestClient, case: Case, terms: list[dict], based_on: int | None = None) -> dict:
    response = client.put(f"{_base(case)}/draft", json={"terms": terms, "based_on": based_on})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_version_without_a_readers_language_cannot_go_to_review(
    as_facilitator: TestClient, held: tuple[Case, Participant, Participant]
) -> None:
    case, _rosa, dan = held
    draft = _save(as_facilitator, case, [_no_contact(dan.id), _other(dan.id, spanish=None)])
    # Mend writes the no-contact term in Spanish itself; the other term's own words wait for a translator.
    assert list(text_sections(draft["canonical_text"])) == ["en"]

    refused = as_facilitator.post(f"{_base(case)}/versions/1/send-for-review")
    assert refused.status_code == 409
    [condition] = refused.json()["conditions"]
    assert condition["code"] == "translation_missing"
    assert condition["message"] == "Term 2 has no wording in Spanish yet. Add it, say who translated it."
    assert as_facilitator.get(f"{_base(case)}/versions/1").json()["status"] == "draft"

    translated = _save(as_facilitator, case, [_no_contact(dan.id), _other(dan.id)], based_on=1)
    spanish = text_sections(translated["canonical_text"])["es"]
    assert "2. Dan hará lo siguiente antes del 1 de marzo de 2027: Devolver sus documentos a la oficina." in spanish
    assert "1. Dan no se pondrá en contacto con la sobreviviente" in spanish
    sent = as_facilitator.post(f"{_base(case)}/versions/2/send-for-review")
    assert sent.status_code == 200 and sent.json()["status"] == "in_review"
    assert sent.json()["terms"][1]["translations"]["es"]["translated_by"] == INTERPRETER


def test_the_staff_page_names_the_term_to_translate_in_the_pages_language_and_links_to_the_editor(
    as_facilitator: TestClient, held: tuple[Case, Participant, Participant]
) -> None:
    case, _rosa, dan = held
    _save(as_facilitator, case, [_other(dan.id, spanish=None)])
    page = f"/cases/{case.id}/agreement/versions/1"
    response = as_facilitator.post(
        f"{page}/send-for-review", data=_csrf(as_facilitator), headers={"Accept-Language": "es"}
    )
    assert response.status_code == 409
    assert "La cláusula 1 todavía no tiene texto en español. Añádalo e indique quién lo tradujo." in response.text
    assert f'href="/cases/{case.id}/agreement/edit"' in response.text
    assert ">translation_missing<" not in response.text


def test_the_editor_asks_for_the_spanish_words_and_who_translated_them(
    as_facilitator: TestClient, db: Session, held: tuple[Case, Participant, Participant]
) -> None:
    case, _rosa, dan = held
    editor = f"/cases/{case.id}/agreement/edit"
    page = as_facilitator.post(editor, data=_csrf(as_facilitator) | {"action": "add:other"}).text
    assert "<legend>In Spanish</legend>" in page and 'name="terms-0-es-translated_by"' in page
    fields = {
        "terms-0-kind": "other",
        "terms-0-owed_by": str(dan.id),
        "terms-0-text": "Return her documents to the office.",
        "terms-0-due_date": "2027-03-01",
        "terms-0-es-text": "Devolver sus documentos a la oficina.",
        "change_note": "",
        "based_on": "",
        "action": "save",
    }
    unsigned = as_facilitator.post(editor, data=_csrf(as_facilitator) | fields)
    assert unsigned.status_code == 422 and "Say who translated this term." in unsigned.text
    assert 'value="Devolver sus documentos a la oficina."' in unsigned.text or (
        "Devolver sus documentos a la oficina.</textarea>" in unsigned.text
    )  # what was typed is kept
    saved = as_facilitator.post(
        editor,
        data=_csrf(as_facilitator) | fields | {"terms-0-es-translated_by": INTERPRETER},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    version = db.exec(select(AgreementVersion)).one()
    assert version.terms[0]["translations"]["es"] == {
        "note": "",
        "text": "Devolver sus documentos a la oficina.",
        "where": "",
        "program_name": "",
        "translated_by": INTERPRETER,
    }
    assert list(text_sections(version.canonical_text)) == ["en", "es"]


def test_the_survivor_cannot_owe_what_repairs_the_harm_and_the_editor_does_not_offer_her(
    as_facilitator: TestClient, held: tuple[Case, Participant, Participant]
) -> None:
    case, rosa, dan = held
    apology = {"kind": "apology", "owed_by": rosa.id, "form": "written"}
    refused = as_facilitator.put(f"{_base(case)}/draft", json={"terms": [_no_contact(dan.id), apology]})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "terms-1-owed_by", "message": "Choose the responsible party: only they can owe this kind of term."}
    ]
    assert as_facilitator.get(f"{_base(case)}").status_code == 404  # nothing was saved
    editor = as_facilitator.post(
        f"/cases/{case.id}/agreement/edit",
        data=_csrf(as_facilitator) | {"action": "add:apology"},
    ).text
    owed = editor[
        editor.index('name="terms-0-owed_by"') : editor.index("</select>", editor.index('name="terms-0-owed_by"'))
    ]
    assert f'value="{dan.id}"' in owed and f'value="{rosa.id}"' not in owed


def test_changing_only_the_spanish_wording_makes_a_new_version_that_must_be_accepted_again(
    as_facilitator: TestClient, held: tuple[Case, Participant, Participant]
) -> None:
    case, rosa, dan = held
    first = _save(as_facilitator, case, [_other(dan.id)])
    as_facilitator.post(f"{_base(case)}/versions/1/send-for-review")
    for person in (rosa, dan):
        review = {"participant_id": person.id, "decision": "accepted", "text_sha256": first["text_sha256"]}
        assert as_facilitator.post(f"{_base(case)}/versions/1/reviews", json=review).status_code == 201
    second = _save(as_facilitator, case, [_other(dan.id, spanish="Devolver todos sus documentos.")], based_on=1)
    assert second["number"] == 2 and second["text_sha256"] != first["text_sha256"]
    assert (
        text_sections(second["canonical_text"])["en"].replace("version 2", "version 1")
        == (text_sections(first["canonical_text"])["en"])
    )  # the English is the same: the Spanish alone changed, and that is a new version
    assert as_facilitator.get(f"{_base(case)}/versions/1").json()["status"] == "superseded"
    as_facilitator.post(f"{_base(case)}/versions/2/send-for-review")
    refused = as_facilitator.post(f"{_base(case)}/versions/2/send-for-signature")
    assert refused.status_code == 409
    codes = {c["code"] for c in refused.json()["conditions"]}
    assert {"survivor_acceptance_missing", "responsible_acceptance_missing"} <= codes
    # A review of the old text does not count for the new one.
    stale = {"participant_id": rosa.id, "decision": "accepted", "text_sha256": first["text_sha256"]}
    assert as_facilitator.post(f"{_base(case)}/versions/2/reviews", json=stale).status_code == 409


def test_each_person_reads_their_own_languages_text_bound_to_the_same_fingerprint(
    as_facilitator: TestClient, held: tuple[Case, Participant, Participant], portal_client_for: PortalClientFactory
) -> None:
    case, rosa, dan = held
    version = _save(as_facilitator, case, [_no_contact(dan.id), _other(dan.id)])
    as_facilitator.post(f"{_base(case)}/versions/1/send-for-review")
    rosa_page = portal_client_for(rosa).get("/portal/agreement").text
    dan_page = portal_client_for(dan).get("/portal/agreement").text
    assert "Devolver sus documentos a la oficina." in rosa_page and "Return her documents" not in rosa_page
    assert "Return her documents to the office." in dan_page and "Devolver" not in dan_page
    assert "El acuerdo está en inglés" not in rosa_page
    api = portal_client_for(rosa).get("/api/v1/portal/agreement").json()["version"]
    assert api["language"] == "es" and api["terms"][1].endswith("Devolver sus documentos a la oficina.")
    for page in (rosa_page, dan_page):
        assert page.count(f'name="text_sha256" value="{version["text_sha256"]}"') == 2


def _english_fixed_wording() -> list[str]:
    """Every stretch of three or more words of an English message whose Spanish differs: none may be
    left in a Spanish copy."""
    with (PROJECT_ROOT / "app/locale/es/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    found = set()
    for message in catalog:
        if not message.id or isinstance(message.id, tuple) or message.string == message.id:
            continue
        for piece in PLACEHOLDER.split(message.id):
            piece = piece.strip(" .,:;“”\"'()")
            if len(piece.split()) >= 3:
                found.add(piece)
    return sorted(found)


@pytest.fixture
def sealed(db: Session, facilitator: User, held: tuple[Case, Participant, Participant]) -> AgreementVersion:
    case, rosa, dan = held
    actor = actor_for(facilitator)
    version = save_draft(db, actor=actor, case=case, terms=_terms(dan), based_on=None)
    _review_and_sign(db, facilitator, case=case, version=version, survivor=rosa, responsible=dan)
    db.commit()
    return version


def test_the_spanish_copy_shows_the_spanish_terms_and_no_english_fixed_wording(
    db: Session, sealed: AgreementVersion, tmp_path: Path
) -> None:
    copy = storage.load_document(db, version=sealed, language="es")
    assert copy is not None and copy.language == "es"
    pages = _pages(_pdf_file(tmp_path, copy.content, "es.pdf"))
    text = _flat("\n".join(pages))
    spanish = text_sections(sealed.canonical_text)["es"]
    for line in spanish.splitlines()[4:]:  # every term of the Spanish text Rosa reviewed, word for word
        assert _flat(line.split(". ", 1)[1]) in text, line
    for number, page in enumerate(pages, start=1):  # running header and footers in Spanish
        assert f"Página {number} de {len(pages)}" in page and "Acuerdo de reparación, caso" in page
        assert f"SHA-256 del texto {sealed.text_sha256}" in page
    assert "Texto firmado, en inglés, español" in text
    english = [phrase for phrase in _english_fixed_wording() if phrase in text]
    assert english == []
    for line in text_sections(sealed.canonical_text)["en"].splitlines()[4:]:
        assert _flat(line.split(". ", 1)[1]) not in text  # no English term


def test_the_spanish_follow_up_report_has_no_english_fixed_wording(
    db: Session, staff: User, sealed: AgreementVersion, held: tuple[Case, Participant, Participant], tmp_path: Path
) -> None:
    case = held[0]
    pdf = render_followup_pdf(db, actor=actor_for(staff), case=case, language="es")
    pages = _pages(_pdf_file(tmp_path, pdf, "followup-es.pdf"))
    text = _flat("\n".join(pages))
    for number, page in enumerate(pages, start=1):
        assert f"Página {number} de {len(pages)}" in page and "Informe de seguimiento, caso" in page
    assert "Devolver los documentos de identidad a la oficina del programa." in text
    assert "40 horas de servicio comunitario en Banco de Alimentos del Puerto" in text
    assert [phrase for phrase in _english_fixed_wording() if phrase in text] == []


def test_the_attached_json_carries_every_language(db: Session, sealed: AgreementVersion, tmp_path: Path) -> None:
    document = storage.load_document(db, version=sealed)
    path = _pdf_file(tmp_path, document.content)  # type: ignore[union-attr]
    _run("pdfdetach", "-saveall", "-o", tmp_path, path)
    data = json.loads((tmp_path / "agreement.json").read_text(encoding="utf-8"))
    assert data["languages"] == ["en", "es"] and "\n=== es ===\n" in data["canonical_text"]
    other = data["terms"][-1]
    assert other["sentences"]["es"].endswith("Devolver los documentos de identidad a la oficina del programa.")
    assert other["sentences"]["en"].endswith("Return the identity papers to the program office.")
    assert other["translations"]["es"]["translated_by"] == INTERPRETER


def test_a_sealed_version_keeps_every_language_and_an_edit_is_refused(
    as_facilitator: TestClient, sealed: AgreementVersion, held: tuple[Case, Participant, Participant]
) -> None:
    case, _rosa, dan = held
    assert sealed.status == VersionStatus.sealed
    refused = as_facilitator.put(
        f"{_base(case)}/draft", json={"terms": [_other(dan.id, "Otra cosa.")], "based_on": sealed.number}
    )
    assert refused.status_code == 409 and refused.json()["conditions"][0]["code"] == "version_sealed"


def test_a_translation_of_words_the_english_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="write the English wording first"):
        OtherTerm(
            owed_by=1,
            text="Return her documents.",
            due_date=date(2027, 3, 1),
            translations={"es": TermWording(note="Pronto.", text="Devolver.", translated_by=INTERPRETER)},
        )
    with pytest.raises(ValueError, match="other than English"):
        OtherTerm(
            owed_by=1,
            text="Return her documents.",
            due_date=date(2027, 3, 1),
            translations={"fr": TermWording(text="Rendre ses papiers.", translated_by=INTERPRETER)},
        )
