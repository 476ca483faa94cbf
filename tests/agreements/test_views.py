"""The agreement pages: the term editor without JavaScript and its HTMX preview, errors beside the fields,
the page when someone else saved first, the G4 checklist, signing in person until sealed, the diff, and
who sees what (staff: sealed versions only; signing evidence: administrators only)."""

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.agreements.models import AgreementDocument, AgreementVersion, ReviewDecision
from app.agreements.rules import INTENT_STATEMENT
from app.agreements.service import record_review, save_draft, send_for_review
from app.auth.models import User
from app.auth.service import actor_for
from tests.agreements.test_service import (  # noqa: F401
    Held,
    held_case,
    pdf_renderer,
    sealed_version,
    terms_for,
    to_signing,
)

pytestmark = pytest.mark.usefixtures("pdf_renderer")


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.text)


def page(held: Held, tail: str = "") -> str:
    return f"/cases/{held.case.id}/agreement{tail}"


def hours_form(client: TestClient, held: Held, *, hours: str = "12", based_on: str = "", **extra: str) -> dict:
    """The editor holding one service-hours term, as the browser posts it."""
    return {
        "csrf_token": client.csrf_token,  # type: ignore[attr-defined]
        "based_on": based_on,
        "terms-0-kind": "service_hours",
        "terms-0-owed_by": str(held.responsible.id),
        "terms-0-hours": hours,
        "terms-0-deadline": "2027-06-30",
        "terms-0-where": "Harbour Food Bank",
        "terms-0-note": "",
        "change_note": "",
    } | extra


def draft(db: Session, facilitator: User, held: Held, **changes: int) -> AgreementVersion:
    return save_draft(db, actor=actor_for(facilitator), case=held.case, terms=terms_for(held, **changes), based_on=None)


@pytest.fixture
def held(db: Session, facilitator: User) -> Held:
    return held_case(db, facilitator)


def test_the_case_page_links_to_the_agreement(as_facilitator: TestClient, held: Held) -> None:
    assert f'href="/cases/{held.case.id}/agreement"' in as_facilitator.get(f"/cases/{held.case.id}").text


def test_before_the_conference_is_held_the_page_says_so_and_after_it_offers_the_draft(
    as_facilitator: TestClient, db: Session, facilitator: User, held: Held
) -> None:
    waiting = held_case(db, facilitator, held=False)
    body = text(as_facilitator.get(page(waiting)))
    assert "drafted after the conference is held" in body and "Draft the agreement</a>" not in body
    assert "Draft the agreement</a>" in text(as_facilitator.get(page(held)))


def test_the_editor_adds_a_payment_term_and_its_instalments_without_javascript(
    as_facilitator: TestClient, held: Held
) -> None:
    form = hours_form(as_facilitator, held) | {"action": "add:restitution"}
    added = as_facilitator.post(page(held, "/edit"), data=form)
    assert added.status_code == 200
    body = text(added)
    assert "Term 2: Restitution (a payment)" in body
    assert re.search(r'<select id="field-terms-1-owed_by"[^>]* autofocus', body)
    assert f'<option value="{held.responsible.id}" selected>Dan (Responsible party)</option>' in body
    more = hours_form(as_facilitator, held) | {
        "terms-1-kind": "restitution",
        "terms-1-owed_by": str(held.responsible.id),
        "terms-1-amount": "300",
        "terms-1-currency": "EUR",
        "terms-1-instalments-0-due_date": "2027-02-01",
        "terms-1-instalments-0-amount": "",
        "action": "add_instalment:1",
    }
    body = text(as_facilitator.post(page(held, "/edit"), data=more))
    assert 'id="field-terms-1-instalments-1-due_date"' in body and "Remove payment 2" in body
    removed = text(as_facilitator.post(page(held, "/edit"), data=more | {"action": "remove:0"}))
    assert (
        "Term 1: Restitution (a payment)" in removed and "Community service hours" not in removed.split("Add a term")[0]
    )


def test_the_split_helper_makes_monthly_instalments_that_keep_every_cent(
    as_facilitator: TestClient, held: Held
) -> None:
    form = {
        "terms-0-kind": "restitution",
        "terms-0-owed_by": str(held.responsible.id),
        "terms-0-amount": "100.00",
        "terms-0-currency": "EUR",
        "terms-0-split_count": "3",
        "terms-0-split_first": "2027-01-31",
        "action": "split:0",
    }
    body = text(as_facilitator.post(page(held, "/edit"), data=form))
    dates = re.findall(r'id="field-terms-0-instalments-\d-due_date" name="[^"]+" value="([^"]*)"', body)
    amounts = re.findall(r'id="field-terms-0-instalments-\d-amount" name="[^"]+" value="([^"]*)"', body)
    assert dates == ["2027-01-31", "2027-02-28", "2027-03-31"]
    assert amounts == ["33.34", "33.33", "33.33"]
    assert "Dan will pay 100.00 EUR in 3 instalments: 33.34 EUR by 31 January 2027" in body


def test_a_save_with_gaps_shows_each_error_beside_its_field_and_saves_nothing(
    as_facilitator: TestClient, held: Held, db: Session
) -> None:
    form = hours_form(as_facilitator, held, hours="") | {
        "terms-1-kind": "restitution",
        "terms-1-owed_by": str(held.responsible.id),
        "terms-1-amount": "1200,50",
        "terms-1-currency": "EUR",
        "terms-1-instalments-0-due_date": "2027-02-01",
        "terms-2-kind": "no_contact",
        "terms-2-owed_by": str(held.responsible.id),
        "action": "save",
    }
    response = as_facilitator.post(page(held, "/edit"), data=form)
    assert response.status_code == 422
    body = text(response)
    assert 'id="field-terms-0-hours-error"' in body and 'aria-describedby="field-terms-0-hours-error"' in body
    assert "Enter the whole amount of term 2 as a number such as 1200.50 (a point before the cents)." in body
    assert 'id="field-terms-2-until-error"' in body
    assert '<a href="#field-terms-0-hours">Enter the number of hours of term 1, from 1 to 2,000.</a>' in body
    assert 'value="Harbour Food Bank"' in body  # what was typed stays
    assert db.exec(select(AgreementVersion)).all() == []


def test_the_live_preview_is_an_htmx_fragment_of_the_text_as_the_parties_will_read_it(
    as_facilitator: TestClient, held: Held
) -> None:
    form = hours_form(as_facilitator, held) | {"terms-1-kind": "other", "terms-1-owed_by": str(held.responsible.id)}
    response = as_facilitator.post(page(held, "/preview"), data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.text and "<form" not in response.text
    body = text(response)
    assert body.strip().startswith('<div id="agreement-preview">')
    assert f"Reparation agreement, case {held.case.reference}, version 1" in body
    assert "1. Dan will do 12 hours of community service at Harbour Food Bank by 30 June 2027." in body
    assert "Not complete yet, so not in the preview: term 2." in body


def test_the_editor_form_previews_live_with_htmx_and_keeps_a_preview_button(
    as_facilitator: TestClient, held: Held
) -> None:
    body = as_facilitator.get(page(held, "/edit")).text
    assert f'hx-post="/cases/{held.case.id}/agreement/preview"' in body and 'hx-target="#agreement-preview"' in body
    assert 'name="action" value="preview"' in body and 'name="csrf_token"' in body and 'name="based_on"' in body
    first_button = re.search(r'<button type="submit" name="action" value="([^"]+)"', body)
    assert first_button and first_button.group(1) == "preview"  # Enter never removes a term


def test_saving_makes_a_version_and_the_page_shows_it_as_the_parties_read_it(
    as_facilitator: TestClient, held: Held
) -> None:
    saved = as_facilitator.post(
        page(held, "/edit"), data=hours_form(as_facilitator, held) | {"action": "save"}, follow_redirects=False
    )
    assert saved.status_code == 303 and saved.headers["location"] == page(held)
    body = text(as_facilitator.get(page(held)))
    assert "Version 1: Draft" in body
    assert "<p>1. Dan will do 12 hours of community service at Harbour Food Bank by 30 June 2027.</p>" in body
    assert "Send version 1 for review" in body
    editing = text(as_facilitator.get(page(held, "/edit")))
    assert 'name="based_on" value="1"' in editing and 'value="12"' in editing


def test_a_save_after_someone_else_saved_shows_the_current_text_beside_the_unsaved_terms(
    as_facilitator: TestClient, as_admin: TestClient, held: Held, db: Session, facilitator: User
) -> None:
    draft(db, facilitator, held)
    mine = hours_form(as_facilitator, held, hours="60", based_on="1") | {"action": "save"}
    assert as_facilitator.post(page(held, "/edit"), data=mine, follow_redirects=False).status_code == 303
    theirs = hours_form(as_admin, held, hours="10", based_on="1") | {"action": "save"}
    response = as_admin.post(page(held, "/edit"), data=theirs)
    assert response.status_code == 409
    body = text(response)
    assert "Not saved: someone else saved this agreement while you were editing" in body
    assert "nothing was overwritten" in body
    current = body.split('id="current-title"')[1].split('id="yours-title"')[0]
    yours = body.split('id="yours-title"')[1].split("</section>")[0]
    assert "Dan will do 60 hours" in current and "10 hours" not in current
    assert "Dan will do 10 hours" in yours
    assert 'name="terms-0-hours" value="10"' in body and 'name="based_on" value="2"' in body
    versions = db.exec(select(AgreementVersion).order_by(col(AgreementVersion.number))).all()
    assert [(v.number, v.status) for v in versions] == [(1, "superseded"), (2, "draft")]
    assert "60 hours" in versions[1].canonical_text


def test_sending_for_signature_too_early_shows_the_g4_checklist(
    as_facilitator: TestClient, held: Held, db: Session, facilitator: User
) -> None:
    version = draft(db, facilitator, held)
    send_for_review(db, actor=actor_for(facilitator), case=held.case, version=version)
    response = as_facilitator.post(page(held, "/versions/1/send-for-signature"), data={})
    assert response.status_code == 409
    body = text(response)
    assert "This version cannot be sent for signature yet" in body
    assert (
        "The survivor has not accepted this exact version." in body
        and 'data-code="survivor_acceptance_missing"' in body
    )
    assert 'data-code="responsible_acceptance_missing"' in body and "Nothing was changed." in body
    db.refresh(version)
    assert version.status == "in_review"


def test_signing_without_ticking_the_statement_shows_the_error_beside_the_box(
    as_facilitator: TestClient, held: Held, db: Session, facilitator: User
) -> None:
    version = to_signing(db, actor_for(facilitator), held, draft(db, facilitator, held))
    form = {"text_sha256": version.text_sha256, "participant_id": "", "typed_name": "Fran Facilitator"}
    response = as_facilitator.post(page(held, "/versions/1/signatures"), data=form)
    assert response.status_code == 422
    body = text(response)
    assert 'id="field-sign-intent_confirmed-error"' in body and "Tick this box to sign." in body
    assert f'<label for="field-sign-intent_confirmed">{INTENT_STATEMENT}</label>' in body
    assert 'value="Fran Facilitator"' in body


def test_a_facilitator_takes_the_agreement_to_sealed_through_the_pages(
    as_facilitator: TestClient, held: Held, db: Session
) -> None:
    assert as_facilitator.post(
        page(held, "/edit"), data=hours_form(as_facilitator, held) | {"action": "save"}
    ).is_success
    assert as_facilitator.post(page(held, "/versions/1/send-for-review"), data={}).is_success
    version = db.exec(select(AgreementVersion)).one()
    for person in (held.survivor, held.responsible):
        form = {"participant_id": str(person.id), "decision": "accepted", "text_sha256": version.text_sha256}
        assert as_facilitator.post(page(held, "/versions/1/reviews"), data=form).is_success
    assert "Accepted by both parties" in text(as_facilitator.get(page(held)))
    assert as_facilitator.post(page(held, "/versions/1/send-for-signature"), data={}).is_success
    for person, name in ((held.survivor, "Rosa"), (held.responsible, "Dan"), (None, "Fran Facilitator")):
        form = {
            "participant_id": str(person.id) if person else "",
            "typed_name": name,
            "intent_confirmed": "true",
            "text_sha256": version.text_sha256,
        }
        signed = as_facilitator.post(page(held, "/versions/1/signatures"), data=form, follow_redirects=False)
        assert signed.status_code == 303, signed.text
    body = text(as_facilitator.get(page(held)))
    assert "Version 1: Signed and sealed" in body and "Start an amendment" in body and "Edit the draft" not in body
    download = as_facilitator.get(page(held, "/versions/1/pdf"))
    stored = db.exec(select(AgreementDocument)).one()
    assert download.content == stored.content and download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["cache-control"] == "no-store"


def test_declining_is_recorded_with_the_reason(
    as_facilitator: TestClient, held: Held, db: Session, facilitator: User
) -> None:
    version = to_signing(db, actor_for(facilitator), held, draft(db, facilitator, held))
    empty = as_facilitator.post(page(held, "/versions/1/decline"), data={"participant_id": str(held.survivor.id)})
    assert empty.status_code == 422 and 'id="field-decline-reason-error"' in empty.text
    form = {"participant_id": str(held.survivor.id), "reason": "The dates are too close to the trial."}
    assert as_facilitator.post(page(held, "/versions/1/decline"), data=form).is_success
    db.refresh(version)
    body = text(as_facilitator.get(page(held)))
    assert version.status == "changes_requested" and "Rosa" in body and "The dates are too close to the trial." in body


def test_staff_are_refused_drafts_and_read_a_sealed_version_without_any_evidence(
    as_staff: TestClient, held: Held, db: Session, facilitator: User
) -> None:
    draft(db, facilitator, held)
    assert as_staff.get(page(held)).status_code == 403
    assert as_staff.get(page(held, "/versions/1")).status_code == 403
    assert as_staff.get(page(held, "/edit")).status_code == 403
    other = held_case(db, facilitator)
    sealed_version(db, actor_for(facilitator), other)
    response = as_staff.get(page(other))
    assert response.status_code == 200
    body = text(response)
    assert "Version 1: Signed and sealed" in body and "Download the signed agreement" in body
    assert "198.51.100.7" not in body and "TestBrowser" not in body and "Evidence" not in body
    assert "Record a review" not in body and "Start an amendment" not in body and "Reviews of version" not in body


def test_only_administrators_see_the_signing_evidence(
    as_admin: TestClient, as_facilitator: TestClient, held: Held, db: Session, facilitator: User
) -> None:
    sealed_version(db, actor_for(facilitator), held)
    admin = text(as_admin.get(page(held)))
    assert "Evidence (administrators only)" in admin and "IP address: 198.51.100.7" in admin
    assert "Browser: TestBrowser/1.0" in admin
    mine = text(as_facilitator.get(page(held)))
    assert "198.51.100.7" not in mine and "TestBrowser" not in mine and "Signed and sealed" in mine


def test_other_programs_and_unassigned_facilitators_get_not_found(
    as_facilitator2: TestClient, as_other_admin: TestClient, held: Held, db: Session, facilitator: User
) -> None:
    draft(db, facilitator, held)
    for client in (as_facilitator2, as_other_admin):
        assert client.get(page(held)).status_code == 404
        assert client.get(page(held, "/edit")).status_code == 404
        assert client.post(page(held, "/edit"), data=hours_form(client, held) | {"action": "save"}).status_code == 404


def test_the_diff_page_marks_removed_and_added_lines_in_words(
    as_facilitator: TestClient, held: Held, db: Session, facilitator: User
) -> None:
    draft(db, facilitator, held)
    save_draft(db, actor=actor_for(facilitator), case=held.case, terms=terms_for(held, hours=25), based_on=1)
    body = text(as_facilitator.get(page(held, "/diff")))
    assert "From version 1 to version 2" in body
    assert '<del><strong class="diff-mark">Removed:</strong> 3. Dan will do 40 hours' in body
    assert '<ins><strong class="diff-mark">Added:</strong> 3. Dan will do 25 hours' in body
    assert '<span class="visually-hidden">Unchanged: </span>Parties: Rosa; Dan' in body
    assert as_facilitator.get(page(held, "/diff?from=1&to=9")).status_code == 404


def test_the_page_links_each_party_to_the_changes_since_their_last_review(
    as_facilitator: TestClient, held: Held, db: Session, facilitator: User
) -> None:
    actor = actor_for(facilitator)
    first = draft(db, facilitator, held)
    send_for_review(db, actor=actor, case=held.case, version=first)
    record_review(
        db,
        actor=actor,
        case=held.case,
        version=first,
        participant=held.survivor,
        decision=ReviewDecision.changes_requested,
        text_sha256=first.text_sha256,
        comment="Fewer hours, please.",
    )
    save_draft(db, actor=actor, case=held.case, terms=terms_for(held, hours=25), based_on=1)
    body = text(as_facilitator.get(page(held)))
    assert "Changes since each person's last review" in body and "Rosa last reviewed version 1." in body
    assert f'<a href="/cases/{held.case.id}/agreement/diff?from=1&to=2">Changes from version 1 to version 2</a>' in body
    assert "Dan last reviewed" not in body  # he never answered version 1


def test_an_amendment_starts_from_the_sealed_terms_and_needs_a_reason(
    as_facilitator: TestClient, held: Held, db: Session, facilitator: User
) -> None:
    sealed_version(db, actor_for(facilitator), held)
    assert "Start an amendment" in text(as_facilitator.get(page(held, "/edit")))
    start = text(as_facilitator.get(page(held, "/amend")))
    assert (
        "Amend the agreement" in start and 'name="based_on" value="1"' in start and 'value="Harbour Food Bank"' in start
    )
    form = hours_form(as_facilitator, held, hours="20", based_on="1") | {"action": "save"}
    missing = as_facilitator.post(page(held, "/amend"), data=form)
    assert missing.status_code == 422 and 'id="field-change_note-error"' in missing.text
    saved = as_facilitator.post(
        page(held, "/amend"), data=form | {"change_note": "Fewer hours."}, follow_redirects=False
    )
    assert saved.status_code == 303
    body = text(as_facilitator.get(page(held)))
    assert "Version 2: Draft" in body and "Version 1 is signed and in force." in body
