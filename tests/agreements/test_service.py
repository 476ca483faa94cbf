"""The agreement service against a real database: drafting after the conference, versions that supersede,
amendments, sealing in one transaction, a sealed version that nothing changes, and two editors racing
on the same version (the database keeps one version N+1).

The builders here (a case with a held conference, its terms, a version taken to signing) are shared by
the API and page tests of this folder."""

import threading
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, select

from app.actor import Actor
from app.agreements import pdf, storage
from app.agreements.models import (
    AgreementDocument,
    AgreementVersion,
    ReviewDecision,
    Signature,
    VersionStatus,
)
from app.agreements.service import (
    decline_to_sign,
    record_review,
    save_draft,
    send_for_review,
    send_for_signature,
    sign_version,
    start_amendment,
)
from app.agreements.terms import ApologyTerm, Instalment, NoContactTerm, RestitutionTerm, ServiceHoursTerm, Term
from app.auth.models import User, UserRole
from app.auth.service import actor_for
from app.conferences.models import Case, CaseSession, Participant, ParticipantRole, SessionKind, SessionStatus
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.notifications.models import Notification
from app.portal.service import portal_actor
from tests.factories import make_case, make_participant, make_program, make_user

STUB_PDF = b"%PDF-1.7 test"


@pytest.fixture
def pdf_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sealing renders the PDF: with the real renderer once it exists, with a stand-in until then."""
    real = pdf.render_agreement_pdf

    def render(session: Session, *, case: Case, version: AgreementVersion, language: str = "en") -> bytes:
        try:
            return real(session, case=case, version=version, language=language)
        except NotImplementedError:
            return STUB_PDF

    monkeypatch.setattr(pdf, "render_agreement_pdf", render)


@dataclass
class Held:
    case: Case
    survivor: Participant
    responsible: Participant


def hold_conference(session: Session, by: User, case: Case) -> CaseSession:
    """A conference that took place (recorded directly: the scheduling gates have their own tests)."""
    conference = CaseSession(
        program_id=case.program_id,
        case_id=case.id,  # type: ignore[arg-type]
        kind=SessionKind.conference,
        mode="in_person",
        starts_at=utcnow() - timedelta(hours=3),
        ends_at=utcnow() - timedelta(hours=1),
        location="Community centre",
        status=SessionStatus.held,
        outcome_note="Apology given; agreement next.",
        uid=f"test-{uuid.uuid4()}",
        created_by_id=by.id,  # type: ignore[arg-type]
    )
    session.add(conference)
    session.flush()
    return conference


def held_case(session: Session, by: User, *, held: bool = True) -> Held:
    """A case with Rosa (survivor) and Dan (responsible party), its conference held."""
    case = make_case(session, by)
    survivor = make_participant(session, by, case, ParticipantRole.survivor, display_name="Rosa")
    responsible = make_participant(session, by, case, ParticipantRole.responsible_party, display_name="Dan")
    if held:
        hold_conference(session, by, case)
    return Held(case, survivor, responsible)


def terms_for(held: Held, *, hours: int = 40, amount_cents: int = 30_000) -> list[Term]:
    owed = held.responsible.id
    return [
        ApologyTerm(owed_by=owed, form="letter_through_program", due_date=date(2027, 1, 15)),  # type: ignore[arg-type]
        RestitutionTerm(
            owed_by=owed,  # type: ignore[arg-type]
            currency="EUR",
            amount_cents=amount_cents,
            instalments=[
                Instalment(due_date=date(2027, 2, 1), amount_cents=amount_cents - 10_000),
                Instalment(due_date=date(2027, 3, 1), amount_cents=10_000),
            ],
        ),
        ServiceHoursTerm(owed_by=owed, hours=hours, deadline=date(2027, 6, 30), where="Harbour Food Bank"),  # type: ignore[arg-type]
        NoContactTerm(owed_by=owed),  # type: ignore[arg-type]
    ]


def terms_json(held: Held, **changes: int) -> list[dict]:
    return [t.model_dump(mode="json") for t in terms_for(held, **changes)]


def accept(session: Session, actor: Actor, held: Held, version: AgreementVersion, *who: Participant) -> None:
    for person in who or (held.survivor, held.responsible):
        record_review(
            session,
            actor=actor,
            case=held.case,
            version=version,
            participant=person,
            decision=ReviewDecision.accepted,
            text_sha256=version.text_sha256,
        )


def to_signing(session: Session, actor: Actor, held: Held, version: AgreementVersion) -> AgreementVersion:
    send_for_review(session, actor=actor, case=held.case, version=version)
    accept(session, actor, held, version)
    return send_for_signature(session, actor=actor, case=held.case, version=version)


def sign_all(session: Session, actor: Actor, held: Held, version: AgreementVersion) -> None:
    """The survivor and the responsible party sign in person, then the facilitator: the version seals."""
    for person in (held.survivor, held.responsible, None):
        sign_version(
            session,
            actor=actor,
            case=held.case,
            version=version,
            participant=person,
            text_sha256=version.text_sha256,
            typed_name=person.display_name if person else "Fran Facilitator",
            intent_confirmed=True,
            ip_address="198.51.100.7",
            user_agent="TestBrowser/1.0",
        )


def sealed_version(session: Session, actor: Actor, held: Held) -> AgreementVersion:
    version = save_draft(session, actor=actor, case=held.case, terms=terms_for(held), based_on=None)
    to_signing(session, actor, held, version)
    sign_all(session, actor, held, version)
    assert version.status == VersionStatus.sealed
    return version


def codes(exc: pytest.ExceptionInfo) -> list[str]:
    return [c.code for c in exc.value.conditions]


# --- drafting ----------------------------------------------------------------------------------


def test_a_draft_is_refused_until_the_conference_is_held(db: Session, facilitator: User) -> None:
    held = held_case(db, facilitator, held=False)
    with pytest.raises(Conflict) as refused:
        save_draft(db, actor=actor_for(facilitator), case=held.case, terms=terms_for(held), based_on=None)
    assert codes(refused) == ["conference_not_held"]


def test_each_save_is_a_new_version_bound_to_the_hash_of_its_plain_language_text(
    db: Session, facilitator: User
) -> None:
    held = held_case(db, facilitator)
    actor = actor_for(facilitator)
    first = save_draft(db, actor=actor, case=held.case, terms=terms_for(held), based_on=None)
    second = save_draft(db, actor=actor, case=held.case, terms=terms_for(held, hours=60), based_on=1)
    db.refresh(first)
    assert (first.number, first.status, second.number, second.status) == (1, "superseded", 2, "draft")
    assert "Dan will do 40 hours of community service at Harbour Food Bank by 30 June 2027." in first.canonical_text
    assert "Dan will do 60 hours" in second.canonical_text
    assert "Dan will pay 300.00 EUR in 2 instalments: 200.00 EUR by 1 February 2027" in second.canonical_text
    assert first.text_sha256 != second.text_sha256 and len(second.text_sha256) == 64


def test_a_term_owed_by_someone_outside_the_case_is_refused(db: Session, facilitator: User) -> None:
    held, other = held_case(db, facilitator), held_case(db, facilitator)
    terms = [ApologyTerm(owed_by=other.responsible.id, form="spoken")]  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as refused:
        save_draft(db, actor=actor_for(facilitator), case=held.case, terms=terms, based_on=None)
    assert "terms" in refused.value.field_errors


def test_a_save_based_on_an_old_version_is_refused_with_the_current_text(db: Session, facilitator: User) -> None:
    held = held_case(db, facilitator)
    actor = actor_for(facilitator)
    save_draft(db, actor=actor, case=held.case, terms=terms_for(held), based_on=None)
    current = save_draft(db, actor=actor, case=held.case, terms=terms_for(held, hours=60), based_on=1)
    with pytest.raises(Conflict) as refused:
        save_draft(db, actor=actor, case=held.case, terms=terms_for(held, hours=10), based_on=1)
    assert codes(refused) == ["edit_conflict"]
    assert current.canonical_text in refused.value.message
    numbers = db.exec(select(AgreementVersion.number).order_by(col(AgreementVersion.number))).all()
    assert list(numbers) == [1, 2]


# --- review and signing -----------------------------------------------------------------------


def test_asking_for_changes_returns_the_version_to_drafting_and_tells_the_facilitators(
    db: Session, facilitator: User
) -> None:
    held = held_case(db, facilitator)
    actor = actor_for(facilitator)
    version = save_draft(db, actor=actor, case=held.case, terms=terms_for(held), based_on=None)
    send_for_review(db, actor=actor, case=held.case, version=version)
    record_review(
        db,
        actor=portal_actor(held.survivor),
        case=held.case,
        version=version,
        participant=held.survivor,
        decision=ReviewDecision.changes_requested,
        text_sha256=version.text_sha256,
        comment="Please make it 30 hours, the food bank is far from his home.",
    )
    assert version.status == VersionStatus.changes_requested
    sent = db.exec(select(Notification).where(Notification.case_id == held.case.id)).all()
    assert [(n.kind, n.recipient_user_id) for n in sent] == [("agreement_changes_requested", facilitator.id)]
    assert "30 hours" in sent[0].body


def test_a_portal_actor_cannot_sign_as_the_other_party(db: Session, facilitator: User) -> None:
    held = held_case(db, facilitator)
    actor = actor_for(facilitator)
    version = to_signing(
        db, actor, held, save_draft(db, actor=actor, case=held.case, terms=terms_for(held), based_on=None)
    )
    with pytest.raises(NotFound):
        sign_version(
            db,
            actor=portal_actor(held.survivor),
            case=held.case,
            version=version,
            participant=held.responsible,
            text_sha256=version.text_sha256,
            typed_name="Dan",
            intent_confirmed=True,
            ip_address=None,
            user_agent=None,
        )
    assert db.exec(select(Signature).where(Signature.version_id == version.id)).all() == []


def test_only_a_signer_can_decline_and_declining_returns_the_agreement_to_drafting(
    db: Session, facilitator: User
) -> None:
    held = held_case(db, facilitator)
    actor = actor_for(facilitator)
    supporter = make_participant(db, facilitator, held.case, ParticipantRole.supporter, display_name="Ana")
    version = to_signing(
        db, actor, held, save_draft(db, actor=actor, case=held.case, terms=terms_for(held), based_on=None)
    )
    with pytest.raises(Conflict) as refused:
        decline_to_sign(
            db, actor=actor, case=held.case, version=version, reason="Not mine to sign", participant=supporter
        )
    assert codes(refused) == ["not_a_signer"] and version.status == VersionStatus.signing
    decline_to_sign(
        db,
        actor=actor,
        case=held.case,
        version=version,
        reason="He wants to talk to his lawyer.",
        participant=held.responsible,
    )
    assert version.status == VersionStatus.changes_requested


# --- sealing ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("pdf_renderer")
def test_the_last_signature_seals_the_version_and_stores_its_pdf_once(db: Session, facilitator: User) -> None:
    held = held_case(db, facilitator)
    version = sealed_version(db, actor_for(facilitator), held)
    document = storage.load_document(db, version=version)
    assert document is not None and document.content.startswith(b"%PDF")
    assert version.sealed_at is not None
    assert len(db.exec(select(AgreementDocument).where(AgreementDocument.version_id == version.id)).all()) == 1


def test_a_seal_that_fails_to_render_leaves_the_version_unsealed_and_without_a_pdf(
    db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = held_case(db, facilitator)
    actor = actor_for(facilitator)
    version = to_signing(
        db, actor, held, save_draft(db, actor=actor, case=held.case, terms=terms_for(held), based_on=None)
    )

    def crash(session: Session, *, case: Case, version: AgreementVersion, language: str = "en") -> bytes:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(pdf, "render_agreement_pdf", crash)
    db.commit()  # what the request found; the signing request is its own transaction below
    with pytest.raises(RuntimeError), db.begin_nested():
        sign_all(db, actor, held, version)
    db.refresh(version)
    assert version.status == VersionStatus.signing and version.sealed_at is None
    assert db.exec(select(Signature).where(Signature.version_id == version.id)).all() == []
    assert db.exec(select(AgreementDocument).where(AgreementDocument.version_id == version.id)).all() == []


@pytest.mark.usefixtures("pdf_renderer")
def test_nothing_changes_a_sealed_version(db: Session, facilitator: User) -> None:
    held = held_case(db, facilitator)
    actor = actor_for(facilitator)
    version = sealed_version(db, actor, held)
    before = (version.canonical_text, version.text_sha256, storage.load_document(db, version=version).content)  # type: ignore[union-attr]
    attempts = {
        "edit": lambda: save_draft(db, actor=actor, case=held.case, terms=terms_for(held, hours=1), based_on=1),
        "review again": lambda: send_for_review(db, actor=actor, case=held.case, version=version),
        "accept": lambda: accept(db, actor, held, version),
        "sign again": lambda: sign_all(db, actor, held, version),
        "decline": lambda: decline_to_sign(db, actor=actor, case=held.case, version=version, reason="Changed my mind"),
        "send for signature": lambda: send_for_signature(db, actor=actor, case=held.case, version=version),
    }
    refused = {}
    for name, attempt in attempts.items():
        with pytest.raises(Conflict) as exc:
            attempt()
        refused[name] = codes(exc)
    assert refused == {
        "edit": ["version_sealed"],
        "review again": ["version_sealed"],
        "accept": ["not_in_review"],
        "sign again": ["not_open_for_signature", "already_signed"],
        "decline": ["version_sealed"],
        "send for signature": ["version_sealed"],
    }
    db.refresh(version)
    after = (version.canonical_text, version.text_sha256, storage.load_document(db, version=version).content)  # type: ignore[union-attr]
    assert version.status == VersionStatus.sealed and after == before


@pytest.mark.usefixtures("pdf_renderer")
def test_an_amendment_is_reviewed_and_signed_again_and_supersedes_the_sealed_version_once_sealed(
    db: Session, facilitator: User
) -> None:
    held = held_case(db, facilitator)
    actor = actor_for(facilitator)
    first = sealed_version(db, actor, held)
    with pytest.raises(InvalidInput):
        start_amendment(db, actor=actor, case=held.case, terms=[], change_note="Nothing", based_on=1)
    amendment = start_amendment(
        db, actor=actor, case=held.case, terms=terms_for(held, hours=20), change_note="Fewer hours", based_on=1
    )
    # An edit of the amendment is still the amendment of version 1.
    edited = save_draft(db, actor=actor, case=held.case, terms=terms_for(held, hours=25), based_on=amendment.number)
    assert (edited.number, edited.amends_version_id, first.status) == (3, first.id, VersionStatus.sealed)
    with pytest.raises(Conflict) as refused:
        send_for_signature(db, actor=actor, case=held.case, version=edited)
    assert "survivor_acceptance_missing" in codes(refused)
    to_signing(db, actor, held, edited)
    sign_all(db, actor, held, edited)
    db.refresh(first)
    assert (first.status, edited.status) == (VersionStatus.superseded, VersionStatus.sealed)


# --- two editors on the same version ----------------------------------------------------------


def test_two_editors_racing_from_the_same_version_leave_exactly_one_next_version(scratch_engine) -> None:  # type: ignore[no-untyped-def]
    """Two real connections: the first save holds its transaction open while the second one saves from the
    same version 1. The second is refused (edit_conflict); the database has one version 2, the first's.
    On PostgreSQL both read version 1 as the latest, so the database's unique constraint is what refuses."""
    with Session(scratch_engine, expire_on_commit=False) as setup:
        program = make_program(setup, "Race Program")
        facilitator = make_user(setup, program, UserRole.facilitator, "Fran Race")
        admin = make_user(setup, program, UserRole.admin, "Ada Race")
        held = held_case(setup, facilitator)
        save_draft(setup, actor=actor_for(facilitator), case=held.case, terms=terms_for(held), based_on=None)
        setup.commit()
    first_saved, outcomes = threading.Event(), {}

    def edit(name: str, user: User, hours: int, wait_for: threading.Event | None) -> None:
        if wait_for is not None:
            wait_for.wait(timeout=10)
        with Session(scratch_engine, expire_on_commit=False) as session:
            try:
                case = session.get(Case, held.case.id)
                save_draft(session, actor=actor_for(user), case=case, terms=terms_for(held, hours=hours), based_on=1)  # type: ignore[arg-type]
                if wait_for is None:
                    first_saved.set()
                    threading.Event().wait(0.5)  # the other save runs into this open transaction
                session.commit()
                outcomes[name] = "saved"
            except Conflict as exc:
                session.rollback()
                outcomes[name] = [c.code for c in exc.conditions]
                outcomes["message"] = exc.message
            finally:
                first_saved.set()

    threads = [
        threading.Thread(target=edit, args=("first", facilitator, 60, None)),
        threading.Thread(target=edit, args=("second", admin, 10, first_saved)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    message = outcomes.pop("message")
    assert outcomes == {"first": "saved", "second": ["edit_conflict"]}
    if scratch_engine.dialect.name == "postgresql":
        # Both read version 1 as the latest; the unique (agreement, number) constraint refused the second.
        assert message == "Someone else saved this agreement a moment ago. Nothing was overwritten."
    else:
        # SQLite has one writer: the second save began after the first committed, and saw version 2.
        assert message.startswith("Someone saved version 2 while you were editing version 1.")
    with Session(scratch_engine) as check:
        versions = check.exec(select(AgreementVersion).order_by(col(AgreementVersion.number))).all()
        assert [(v.number, v.status) for v in versions] == [(1, "superseded"), (2, "draft")]
        assert "60 hours" in versions[1].canonical_text
