"""The agreement in the portal: the survivor and the responsible party read the exact version waiting for
them, accept it or ask for changes, sign it (or decline), and download the sealed PDF, through the pages
and the portal API. Each test tries to break one rule: a stale text, signing before acceptance, signing
twice, acting as someone else or on another case, downloading before it is sealed."""

from collections.abc import Iterator
from datetime import time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.agreements import service as agreements
from app.agreements.models import (
    AgreementDocument,
    AgreementVersion,
    Review,
    Signature,
    SignatureDecline,
    VersionStatus,
)
from app.agreements.rules import INTENT_STATEMENT
from app.agreements.terms import ApologyTerm, Instalment, NoContactTerm, RestitutionTerm, Term, text_sections
from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import (
    AcknowledgementMethod,
    Case,
    CaseSession,
    Participant,
    ParticipantRole,
)
from app.conferences.preparation import record_acknowledgement, record_screening
from app.conferences.scheduling import SessionPlan, mark_session_held, schedule_session
from app.db import utcnow
from app.notifications.models import Notification
from app.portal.text import AGREEMENT_STEPS, REFUSALS, translator
from app.safety.consent import give_consent
from app.safety.models import ConsentMethod, ConsentScope, SessionMode
from app.safety.schemas import ContactPreferenceUpdate
from app.safety.service import assess_safety, save_contact_preference
from tests.conferences.test_screening_rules import RESPONSIBLE_READY, SURVIVOR_READY
from tests.factories import make_case, make_participant
from tests.portal.conftest import PortalClientFactory, form
from tests.portal.test_views import focusables

API = "/api/v1/portal/agreement"
PAGE = "/portal/agreement"
SURVIVOR_EMAIL = "rosa.private@example.org"
SURVIVOR_PHONE = "+34 600 111 222"
SURVIVOR_BROWSER = "Mozilla/5.0 (Linux; Android 14) RosaPhone/1.0"
FAKE_PDF = b"%PDF-1.7\n% stand-in for the agreement PDF while app/agreements/pdf.py is being built\n%%EOF\n"


# --- the case, brought to a held conference through the services --------------------------


def hold_conference(session: Session, facilitator: User, case: Case, *people: Participant) -> CaseSession:
    """Prepare both parties (G1), schedule the conference, move it into the past and mark it held."""
    actor = actor_for(facilitator)
    survivor = next(p for p in people if p.role == ParticipantRole.survivor)
    responsible = next(p for p in people if p.role == ParticipantRole.responsible_party)
    for person, answers in ((survivor, SURVIVOR_READY), (responsible, RESPONSIBLE_READY)):
        record_screening(
            session,
            actor=actor,
            participant=person,
            answers=answers,
            outcome=None,
            override_reason=None,
            rationale="Prepared and supported.",
        )
    record_acknowledgement(
        session,
        actor=actor,
        participant=responsible,
        wording="I kept her passport and paid her nothing.",
        method=AcknowledgementMethod.in_person,
        acknowledged_at=utcnow() - timedelta(days=1),
    )
    assess_safety(session, actor=actor, case=case, participant=survivor, factors=["isolation"])
    for person in (survivor, responsible):
        for scope in (ConsentScope.contact, ConsentScope.preparation, ConsentScope.conference):
            give_consent(
                session,
                actor=actor,
                participant=person,
                scope=scope,
                sheet_version="2026-1",
                sheet_language="en",
                method=ConsentMethod.in_person,
            )
    plan = SessionPlan(
        kind="conference",  # type: ignore[arg-type]
        mode=SessionMode.in_person,
        day=(utcnow() + timedelta(days=14)).date(),
        start=time(10),
        end=time(12),
        attendee_ids=frozenset({survivor.id, responsible.id}),  # type: ignore[arg-type]
        location="Community centre, 2nd floor",
    )
    conference = schedule_session(session, actor=actor, case=case, plan=plan)
    conference.starts_at = utcnow() - timedelta(hours=3)  # the meeting has happened since
    conference.ends_at = utcnow() - timedelta(hours=1)
    session.add(conference)
    session.flush()
    return mark_session_held(session, actor=actor, case_session=conference, outcome_note="Apology given.")


def first_terms(responsible: Participant) -> list[Term]:
    return [
        ApologyTerm(owed_by=responsible.id, form="written"),  # type: ignore[arg-type]
        RestitutionTerm(
            owed_by=responsible.id,  # type: ignore[arg-type]
            currency="EUR",
            amount_cents=60_000,
            instalments=[
                Instalment(due_date=utcnow().date() + timedelta(days=30), amount_cents=30_000),
                Instalment(due_date=utcnow().date() + timedelta(days=60), amount_cents=30_000),
            ],
        ),
    ]


def edited_terms(responsible: Participant) -> list[Term]:
    return [*first_terms(responsible), NoContactTerm(owed_by=responsible.id)]  # type: ignore[arg-type]


@pytest.fixture
def pdf_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Seal with the real PDF renderer once it exists; until then, a stand-in, so sealing can be tested."""
    from app.agreements import pdf

    real = pdf.render_agreement_pdf

    def render(session: Session, *, case: Case, version: AgreementVersion, language: str = "en") -> bytes:
        try:
            return real(session, case=case, version=version, language=language)
        except NotImplementedError:
            return FAKE_PDF

    monkeypatch.setattr(pdf, "render_agreement_pdf", render)
    yield


class Desk:
    """The facilitator's side, through the agreement services."""

    def __init__(self, db: Session, facilitator: User, case: Case, responsible: Participant) -> None:
        self.db, self.actor, self.case, self.responsible = db, actor_for(facilitator), case, responsible

    def latest(self) -> AgreementVersion:
        agreement = agreements.agreement_of(self.db, case=self.case)
        assert agreement is not None
        version = agreements.latest_version(self.db, agreement=agreement)
        assert version is not None
        return version

    def draft(self, terms: list[Term] | None = None) -> AgreementVersion:
        agreement = agreements.agreement_of(self.db, case=self.case)
        latest = agreements.latest_version(self.db, agreement=agreement) if agreement else None
        return agreements.save_draft(
            self.db,
            actor=self.actor,
            case=self.case,
            terms=terms or first_terms(self.responsible),
            based_on=latest.number if latest else None,
        )

    def send_for_review(self, terms: list[Term] | None = None) -> AgreementVersion:
        version = self.draft(terms)
        agreements.send_for_review(self.db, actor=self.actor, case=self.case, version=version)
        self.db.commit()
        return version

    def send_for_signature(self) -> AgreementVersion:
        version = agreements.send_for_signature(self.db, actor=self.actor, case=self.case, version=self.latest())
        self.db.commit()
        return version

    def sign(self) -> Signature:
        version = self.latest()
        signature = agreements.sign_version(
            self.db,
            actor=self.actor,
            case=self.case,
            version=version,
            text_sha256=version.text_sha256,
            typed_name="Fran Facilitator",
            intent_confirmed=True,
            ip_address="10.0.0.9",
            user_agent="desk",
        )
        self.db.commit()
        return signature


@pytest.fixture
def held(db: Session, facilitator: User, case: Case, survivor: Participant, responsible: Participant) -> CaseSession:
    conference = hold_conference(db, facilitator, case, survivor, responsible)
    db.commit()
    return conference


@pytest.fixture
def desk(db: Session, facilitator: User, case: Case, responsible: Participant, held: CaseSession) -> Desk:
    return Desk(db, facilitator, case, responsible)


@pytest.fixture
def as_responsible(portal_client_for: PortalClientFactory, responsible: Participant) -> TestClient:
    return portal_client_for(responsible)


def _ok(response, status: int = 200) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json()


def _codes(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [c["code"] for c in response.json()["conditions"]]


def accept(client: TestClient, version: AgreementVersion) -> None:
    _ok(client.post(f"{API}/review", json={"decision": "accepted", "text_sha256": version.text_sha256}))


def sign(client: TestClient, version: AgreementVersion, name: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"{API}/sign",
        json={"text_sha256": version.text_sha256, "typed_name": name, "intent_confirmed": True},
        headers=headers,
    )


def signatures(db: Session) -> list[Signature]:
    return list(db.exec(select(Signature)).all())


def to_signing(desk: Desk, as_survivor: TestClient, as_responsible: TestClient) -> AgreementVersion:
    version = desk.send_for_review()
    accept(as_survivor, version)
    accept(as_responsible, version)
    return desk.send_for_signature()


# --- reading: only what was sent, only to its parties ------------------------------------------


def test_nothing_is_shown_before_the_facilitator_sends_a_version_for_review(
    as_survivor: TestClient, desk: Desk
) -> None:
    assert "Todavía no hay nada que leer" in as_survivor.get(PAGE).text
    draft = desk.draft()
    desk.db.commit()
    page = as_survivor.get(PAGE)
    assert page.status_code == 200 and "Todavía no hay nada que leer" in page.text
    assert "apology" not in page.text and draft.text_sha256[:12] not in page.text
    body = _ok(as_survivor.get(API))
    assert body["step"] == "nothing" and body["version"] is None and body["signed_copy"] is None


def test_the_survivor_reads_the_exact_text_with_its_fingerprint_in_her_language(
    as_survivor: TestClient, desk: Desk
) -> None:
    version = desk.send_for_review()
    page = as_survivor.get(PAGE).text
    assert '<html lang="es">' in page and "Por favor, lea el acuerdo" in page
    assert page.index('id="quick-exit"') < page.index("<main")
    spanish = text_sections(version.canonical_text)["es"]
    for line in spanish.strip().splitlines()[2:]:  # the parties and every term of her language's text, word for word
        assert line.split(". ", 1)[-1] in page
    assert "will pay" not in page and '<div class="portal-choice">' in page  # no English text, no English note
    assert f'<code class="portal-fingerprint">{version.text_sha256[:12]}</code>' in page
    assert page.count(f'name="text_sha256" value="{version.text_sha256}"') == 2
    assert "Acepto esto" in page and "Quiero cambios" in page
    assert focusables(page)[0]["id"] == "quick-exit"  # the way out stays the first thing a keyboard reaches
    fragment = as_survivor.get(PAGE, headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and "Por favor, lea el acuerdo" in fragment
    body = _ok(as_survivor.get(API))
    assert body["step"] == "review" and body["version"]["canonical_text"] == version.canonical_text
    assert body["version"]["text_sha256"] == version.text_sha256 and len(body["version"]["terms"]) == 2
    assert body["message"] == translator("es")(AGREEMENT_STEPS["review"]) != AGREEMENT_STEPS["review"]


def test_accepting_on_the_page_records_a_review_bound_to_the_text_shown(
    as_survivor: TestClient, db: Session, desk: Desk, survivor: Participant
) -> None:
    version = desk.send_for_review()
    response = as_survivor.post(
        f"{PAGE}/review",
        data=form(as_survivor, decision="accepted", text_sha256=version.text_sha256),
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == PAGE
    page = as_survivor.get(PAGE).text
    assert "Gracias. Usted aceptó el acuerdo." in page and "Usted aceptó este acuerdo." in page
    assert "Acepto esto" not in page
    review = db.exec(select(Review)).one()
    assert (review.participant_id, review.decision, review.text_sha256, review.via) == (
        survivor.id,
        "accepted",
        version.text_sha256,
        "portal",
    )
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "agreement.review_accepted")).one()
    assert event.actor_kind == "participant"
    db.refresh(version)
    assert version.status == VersionStatus.in_review  # the responsible party has not accepted yet


def test_asking_for_changes_returns_it_to_drafting_and_sends_the_comment_to_the_facilitators(
    as_survivor: TestClient,
    as_responsible: TestClient,
    db: Session,
    desk: Desk,
    facilitator: User,
) -> None:
    version = desk.send_for_review()
    comment = "Please add that he never contacts my family."
    response = as_survivor.post(
        f"{PAGE}/review",
        data=form(as_survivor, decision="changes_requested", text_sha256=version.text_sha256, comment=comment),
    )
    assert response.status_code == 200 and "Usted pidió cambios" in response.text
    db.refresh(version)
    assert version.status == VersionStatus.changes_requested
    [note] = db.exec(select(Notification).where(Notification.kind == "agreement_changes_requested")).all()
    assert note.recipient_user_id == facilitator.id and comment in note.body
    other = as_responsible.get(PAGE).text  # the other party is not told whose answer it was, nor what it said
    assert "Nothing to read yet" in other and comment not in other
    assert _ok(as_responsible.get(API))["step"] == "nothing"


def test_asking_for_changes_needs_a_comment_shown_beside_the_box(
    as_survivor: TestClient, db: Session, desk: Desk
) -> None:
    version = desk.send_for_review()
    response = as_survivor.post(
        f"{PAGE}/review",
        data=form(as_survivor, decision="changes_requested", text_sha256=version.text_sha256, comment="   "),
    )
    assert response.status_code == 422
    assert 'id="field-comment-error">Diga qué le gustaría cambiar.</p>' in response.text
    assert 'aria-describedby="field-comment-hint field-comment-error" aria-invalid="true"' in response.text
    api = as_survivor.post(f"{API}/review", json={"decision": "changes_requested", "text_sha256": version.text_sha256})
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "comment"
    assert db.exec(select(Review)).first() is None
    assert db.exec(select(Notification).where(Notification.kind == "agreement_changes_requested")).first() is None


def test_accepting_the_old_text_after_the_facilitator_edited_and_resent_is_refused(
    as_survivor: TestClient, db: Session, desk: Desk
) -> None:
    old = desk.send_for_review()
    new = desk.send_for_review(edited_terms(desk.responsible))
    response = as_survivor.post(
        f"{PAGE}/review", data=form(as_survivor, decision="accepted", text_sha256=old.text_sha256)
    )
    assert response.status_code == 409
    assert "El acuerdo cambió después de que usted abriera esta página." in response.text
    assert f'value="{new.text_sha256}"' in response.text  # the new text, to read before answering again
    assert _codes(as_survivor.post(f"{API}/review", json={"decision": "accepted", "text_sha256": old.text_sha256})) == [
        "text_changed"
    ]
    assert db.exec(select(Review)).first() is None


# --- signing (G5) --------------------------------------------------------------------------


def test_signing_before_both_parties_accepted_is_refused(
    as_survivor: TestClient, as_responsible: TestClient, db: Session, desk: Desk
) -> None:
    version = desk.send_for_review()
    assert _codes(sign(as_survivor, version, "Rosa Martínez")) == ["not_open_for_signature"]
    accept(as_survivor, version)
    assert _codes(sign(as_survivor, version, "Rosa Martínez")) == ["not_open_for_signature"]
    page = as_survivor.post(
        f"{PAGE}/sign",
        data=form(as_survivor, text_sha256=version.text_sha256, typed_name="Rosa Martínez", intent_confirmed="true"),
    )
    assert page.status_code == 409 and "Este acuerdo no está listo para firmar ahora." in page.text
    assert signatures(db) == []


def test_signing_an_old_hash_after_the_facilitator_edited_is_refused_as_text_changed(
    as_survivor: TestClient, as_responsible: TestClient, db: Session, desk: Desk
) -> None:
    old = to_signing(desk, as_survivor, as_responsible)
    new = desk.send_for_review(edited_terms(desk.responsible))  # an edit voids the first version
    accept(as_survivor, new)
    accept(as_responsible, new)
    desk.send_for_signature()
    assert _codes(sign(as_survivor, old, "Rosa Martínez")) == ["text_changed"]
    stale = as_survivor.post(f"{API}/sign", json={"version_id": old.id, "text_sha256": old.text_sha256} | _SIGNED)
    assert _codes(stale) == ["not_open_for_signature"]  # the old version itself is closed
    assert signatures(db) == []
    _ok(sign(as_survivor, new, "Rosa Martínez"), 201)


_SIGNED = {"typed_name": "Rosa Martínez", "intent_confirmed": True}


def test_signing_twice_is_refused(as_survivor: TestClient, as_responsible: TestClient, db: Session, desk: Desk) -> None:
    version = to_signing(desk, as_survivor, as_responsible)
    assert _ok(sign(as_survivor, version, "Rosa Martínez"), 201)["step"] == "signed"
    assert _codes(sign(as_survivor, version, "Rosa Martínez")) == ["already_signed"]
    assert len(signatures(db)) == 1


def test_a_portal_session_cannot_sign_or_review_as_another_participant(
    as_survivor: TestClient, as_responsible: TestClient, db: Session, desk: Desk, responsible: Participant
) -> None:
    version = to_signing(desk, as_survivor, as_responsible)
    as_dan = {"participant_id": responsible.id, "text_sha256": version.text_sha256} | _SIGNED
    assert as_survivor.post(f"{API}/sign", json=as_dan).status_code == 404
    assert as_survivor.post(f"{API}/sign?participant_id={responsible.id}", json=as_dan).status_code == 404
    page = as_survivor.post(
        f"{PAGE}/sign",
        data=form(as_survivor, participant_id=str(responsible.id), text_sha256=version.text_sha256, typed_name="Dan")
        | {"intent_confirmed": "true"},
    )
    assert page.status_code == 404 and "No encontramos esta página." in page.text
    assert signatures(db) == []


def test_another_cases_version_is_not_found_and_nothing_changes(
    as_survivor: TestClient, db: Session, facilitator: User, desk: Desk
) -> None:
    desk.send_for_review()
    other_case = make_case(db, facilitator, reference="HRP-8")
    people = [
        make_participant(db, facilitator, other_case, ParticipantRole.survivor, display_name="Ana"),
        make_participant(db, facilitator, other_case, ParticipantRole.responsible_party, display_name="Bo"),
    ]
    hold_conference(db, facilitator, other_case, *people)
    theirs = Desk(db, facilitator, other_case, people[1]).send_for_review()
    for path, body in (
        ("review", {"decision": "accepted", "text_sha256": theirs.text_sha256}),
        ("sign", {"text_sha256": theirs.text_sha256} | _SIGNED),
        ("decline", {"reason": "No."}),
    ):
        response = as_survivor.post(f"{API}/{path}", json=body | {"version_id": theirs.id})
        assert response.status_code == 404, path
    also = as_survivor.post(
        f"{API}/review?case_id={other_case.id}", json={"decision": "accepted", "text_sha256": "0" * 64}
    )
    assert also.status_code == 404
    db.refresh(theirs)
    assert theirs.status == VersionStatus.in_review and db.exec(select(Review)).first() is None


def test_the_page_signature_records_the_name_the_intent_statement_she_read_and_the_evidence(
    as_survivor: TestClient, as_responsible: TestClient, db: Session, desk: Desk, survivor: Participant
) -> None:
    version = to_signing(desk, as_survivor, as_responsible)
    page = as_survivor.get(PAGE).text
    assert "Firme el acuerdo" in page and "He leído este acuerdo y lo firmo por mi propia voluntad." in page
    assert INTENT_STATEMENT not in page  # she ticks her language's words only
    unticked = as_survivor.post(
        f"{PAGE}/sign", data=form(as_survivor, text_sha256=version.text_sha256, typed_name="Rosa Martínez")
    )
    assert unticked.status_code == 422
    assert 'id="field-intent_confirmed-error">Marque esta casilla para firmar.</p>' in unticked.text
    assert 'value="Rosa Martínez"' in unticked.text  # what she typed is kept
    assert signatures(db) == []
    response = as_survivor.post(
        f"{PAGE}/sign",
        data=form(as_survivor, text_sha256=version.text_sha256, typed_name=" Rosa Martínez ", intent_confirmed="true"),
        headers={"User-Agent": SURVIVOR_BROWSER},
        follow_redirects=False,
    )
    assert response.status_code == 303
    [signature] = signatures(db)
    assert (signature.participant_id, signature.signer_role, signature.method) == (survivor.id, "survivor", "portal")
    assert signature.text_sha256 == version.text_sha256 and signature.typed_name == "Rosa Martínez"
    assert signature.intent_statement == "He leído este acuerdo y lo firmo por mi propia voluntad."  # what she ticked
    assert signature.ip_address == "testclient" and signature.user_agent == SURVIVOR_BROWSER
    after = as_survivor.get(PAGE).text
    assert "Gracias. Usted firmó el acuerdo." in after and "1 de 3 personas han firmado." in after


def test_the_other_party_never_sees_the_survivors_evidence_contacts_or_comments(
    as_survivor: TestClient,
    as_responsible: TestClient,
    db: Session,
    desk: Desk,
    facilitator: User,
    survivor: Participant,
) -> None:
    save_contact_preference(
        db,
        actor=actor_for(facilitator),
        participant=survivor,
        data=ContactPreferenceUpdate(channel="email", email=SURVIVOR_EMAIL, phone=SURVIVOR_PHONE),
    )
    first = desk.send_for_review()
    secret = "He still drives past the shelter at night."
    as_survivor.post(
        f"{API}/review", json={"decision": "changes_requested", "text_sha256": first.text_sha256, "comment": secret}
    )
    version = desk.send_for_review(edited_terms(desk.responsible))
    accept(as_survivor, version)
    accept(as_responsible, version)
    desk.send_for_signature()
    _ok(sign(as_survivor, version, "Rosa Martínez", **{"User-Agent": SURVIVOR_BROWSER}), 201)
    seen = as_responsible.get(PAGE).text + as_responsible.get(API).text
    for private in (SURVIVOR_EMAIL, SURVIVOR_PHONE, SURVIVOR_BROWSER, "testclient", secret, "isolation"):
        assert private not in seen


def test_declining_needs_a_reason_returns_it_to_drafting_and_tells_the_facilitators(
    as_survivor: TestClient, as_responsible: TestClient, db: Session, desk: Desk
) -> None:
    version = to_signing(desk, as_survivor, as_responsible)
    empty = as_responsible.post(f"{PAGE}/decline", data=form(as_responsible, text_sha256=version.text_sha256))
    assert empty.status_code == 422 and 'id="field-reason-error">Say why you do not want to sign.</p>' in empty.text
    response = as_responsible.post(
        f"{PAGE}/decline",
        data=form(as_responsible, text_sha256=version.text_sha256, reason="I cannot pay that much by then."),
    )
    assert response.status_code == 200 and "You said you do not want to sign" in response.text
    db.refresh(version)
    assert version.status == VersionStatus.changes_requested
    assert db.exec(select(SignatureDecline)).one().reason == "I cannot pay that much by then."
    assert db.exec(select(Notification).where(Notification.kind == "agreement_declined")).first() is not None
    assert _codes(sign(as_survivor, version, "Rosa Martínez")) == ["not_open_for_signature"]


def test_a_version_still_in_review_cannot_be_declined_as_if_it_were_open_for_signature(
    as_survivor: TestClient, db: Session, desk: Desk
) -> None:
    version = desk.send_for_review()
    assert _codes(as_survivor.post(f"{API}/decline", json={"reason": "Not yet."})) == ["not_open_for_signature"]
    db.refresh(version)
    assert version.status == VersionStatus.in_review and db.exec(select(SignatureDecline)).first() is None


# --- sealed: the stored PDF --------------------------------------------------------------------


def test_the_last_signature_seals_it_and_both_parties_download_the_stored_pdf(
    as_survivor: TestClient, as_responsible: TestClient, db: Session, desk: Desk, pdf_engine: None
) -> None:
    version = to_signing(desk, as_survivor, as_responsible)
    assert as_survivor.get(f"{PAGE}/pdf").status_code == 404  # not before it is sealed
    assert as_survivor.get(f"{API}/pdf").status_code == 404
    _ok(sign(as_survivor, version, "Rosa Martínez"), 201)
    _ok(sign(as_responsible, version, "Dan Novak"), 201)
    desk.sign()
    db.refresh(version)
    assert version.status == VersionStatus.sealed
    # The survivor reads Spanish: besides the English record copy, sealing stored one for her.
    stored = {document.language: document for document in db.exec(select(AgreementDocument)).all()}
    assert set(stored) == {"en", "es"}
    page = as_survivor.get(PAGE).text
    assert "Firmado por todos" in page and 'href="/portal/agreement/pdf"' in page
    for client, path, language in ((as_survivor, f"{PAGE}/pdf", "es"), (as_responsible, f"{API}/pdf", "en")):
        download = client.get(path)
        assert download.status_code == 200 and download.content == stored[language].content
        assert download.content.startswith(b"%PDF")
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["content-disposition"] == 'attachment; filename="agreement-HRP-7-version-1.pdf"'
        assert download.headers["cache-control"] == "no-store"
    body = _ok(as_responsible.get(API))
    assert body["step"] == "sealed" and body["signed_copy"]["pdf_url"] == f"{API}/pdf"
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "agreement.pdf_downloaded")).all()) == 2


def test_the_pdf_is_only_for_the_parties_of_that_case(
    app,
    as_survivor: TestClient,
    as_responsible: TestClient,
    as_facilitator: TestClient,
    portal_client_for: PortalClientFactory,
    db: Session,
    facilitator: User,
    desk: Desk,
    pdf_engine: None,
) -> None:  # type: ignore[no-untyped-def]
    version = to_signing(desk, as_survivor, as_responsible)
    _ok(sign(as_survivor, version, "Rosa Martínez"), 201)
    _ok(sign(as_responsible, version, "Dan Novak"), 201)
    desk.sign()
    other_case = make_case(db, facilitator, reference="HRP-9")
    stranger = make_participant(db, facilitator, other_case, ParticipantRole.survivor, display_name="Ana")
    as_stranger = portal_client_for(stranger)
    assert as_stranger.get(f"{PAGE}/pdf").status_code == 404
    assert as_stranger.get(f"{API}/pdf").status_code == 404
    assert _ok(as_stranger.get(API))["signed_copy"] is None
    # A staff session is not a portal session: the portal's download is closed to it.
    assert as_facilitator.get(f"{API}/pdf").status_code == 401
    staff_page = as_facilitator.get(f"{PAGE}/pdf", follow_redirects=False)
    assert staff_page.status_code == 303 and staff_page.headers["location"] == "/portal/signed-out"
    assert TestClient(app).get(f"{API}/pdf").status_code == 401


# --- the API's own rules ------------------------------------------------------------------


def test_the_portal_api_needs_the_csrf_header_to_change_anything(
    as_survivor: TestClient, db: Session, desk: Desk
) -> None:
    version = desk.send_for_review()
    del as_survivor.headers["X-CSRF-Token"]
    response = as_survivor.post(f"{API}/review", json={"decision": "accepted", "text_sha256": version.text_sha256})
    assert response.status_code == 403 and db.exec(select(Review)).first() is None


def test_a_malformed_hash_is_malformed_input(as_survivor: TestClient, desk: Desk) -> None:
    desk.send_for_review()
    response = as_survivor.post(f"{API}/review", json={"decision": "accepted", "text_sha256": "not-a-hash"})
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"


def test_every_agreement_message_has_its_spanish_translation() -> None:
    spanish = translator("es")
    for english in [*AGREEMENT_STEPS.values(), *REFUSALS.values(), INTENT_STATEMENT]:
        assert spanish(english) != english, english
