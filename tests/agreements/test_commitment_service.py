"""The monitoring service against a real database: commitments created with the seal (or not at all), an
amendment replacing them, progress that refuses overpayment, who may record it, waivers that need the
survivor's consent, a case completing by itself, closure, and the survivor told about progress only
while they consent to it."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.agreements import pdf
from app.agreements.commitment_rules import CommitmentStatus
from app.agreements.commitment_schemas import ClosureCreate, ProgressCreate, WaiverCreate
from app.agreements.commitment_service import (
    active_commitments,
    answer_waiver,
    case_state,
    close_case,
    entries_of,
    record_progress,
    status_of,
    today_for,
    waive,
    waivers_of,
)
from app.agreements.models import AgreementVersion, Commitment, CommitmentKind, ProgressKind, WaiverStatus
from app.agreements.service import save_draft, start_amendment
from app.agreements.terms import OtherTerm
from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import Case, CaseSession, ClosureReason, SessionKind, SessionStatus
from app.conferences.scheduling import SessionPlan, schedule_session
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.notifications.models import Notification
from app.portal.service import portal_actor
from app.safety.consent import give_consent, withdraw_consent
from app.safety.models import ConsentMethod, ConsentScope, SessionMode
from tests.agreements.monitoring_support import Sealed, sealed_case, stub_pdf
from tests.agreements.test_service import held_case, sign_all, terms_for, to_signing


@pytest.fixture(autouse=True)
def _no_real_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_pdf(monkeypatch)


@pytest.fixture
def sealed(db: Session, facilitator: User) -> Sealed:
    return sealed_case(db, facilitator)


def codes(exc: pytest.ExceptionInfo) -> list[str]:
    return [c.code for c in exc.value.conditions]


def progress(kind: ProgressKind, amount: str | None = None, **fields: object) -> ProgressCreate:
    return ProgressCreate(kind=kind, amount=Decimal(amount) if amount else None, occurred_on=date.today(), **fields)


def record(db: Session, user: User, sealed: Sealed, commitment: Commitment, data: ProgressCreate):  # type: ignore[no-untyped-def]
    data.occurred_on = today_for(db, sealed.case)
    return record_progress(db, actor=actor_for(user), case=sealed.case, commitment=commitment, data=data)


def status(db: Session, sealed: Sealed, commitment: Commitment) -> CommitmentStatus:
    db.refresh(commitment)
    return status_of(commitment, today=today_for(db, sealed.case), due_soon_days=14)


def settle_everything(db: Session, user: User, sealed: Sealed) -> None:
    """Meet every commitment of the default terms except the standing no-contact."""
    record(db, user, sealed, sealed.of_kind("apology")[0], progress(ProgressKind.apology_delivered))
    first, second = sealed.of_kind("payment")
    record(db, user, sealed, first, progress(ProgressKind.payment, "200.00"))
    record(db, user, sealed, second, progress(ProgressKind.payment, "100.00"))
    record(db, user, sealed, sealed.of_kind("service_hours")[0], progress(ProgressKind.hours, "40"))


# --- sealing --------------------------------------------------------------------------------------


def test_sealing_creates_the_commitments_of_the_terms(db: Session, sealed: Sealed) -> None:
    rows = [(c.kind, c.sequence, c.of_count, c.due_on, c.quantity, c.currency) for c in sealed.commitments]
    assert sorted(rows, key=str) == sorted(
        [
            (CommitmentKind.apology, 1, 1, date(2027, 1, 15), 1, None),
            (CommitmentKind.payment, 1, 2, date(2027, 2, 1), 20_000, "EUR"),
            (CommitmentKind.payment, 2, 2, date(2027, 3, 1), 10_000, "EUR"),
            (CommitmentKind.service_hours, 1, 1, date(2027, 6, 30), 40 * 60, None),
            (CommitmentKind.no_contact, 1, 1, None, 0, None),
        ],
        key=str,
    )
    assert {(c.version_id, c.owed_by_id, c.program_id) for c in sealed.commitments} == {
        (sealed.version.id, sealed.held.responsible.id, sealed.case.program_id)
    }
    assert case_state(db, case=sealed.case) == "monitoring"


def test_a_seal_that_fails_to_render_creates_no_commitments(
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
    assert db.exec(select(Commitment).where(Commitment.case_id == held.case.id)).all() == []
    assert case_state(db, case=held.case) == "no_agreement"


def test_a_sealed_amendment_replaces_the_commitments_which_keep_their_progress(
    db: Session, facilitator: User, sealed: Sealed
) -> None:
    old_payment = sealed.of_kind("payment")[0]
    record(db, facilitator, sealed, old_payment, progress(ProgressKind.payment, "50.00"))
    actor, held = actor_for(facilitator), sealed.held
    amendment = start_amendment(
        db, actor=actor, case=held.case, terms=terms_for(held, hours=20), change_note="Fewer hours", based_on=1
    )
    to_signing(db, actor, held, amendment)
    sign_all(db, actor, held, amendment)

    active = active_commitments(db, case=held.case)
    assert {c.version_id for c in active} == {amendment.id}
    assert [c.quantity for c in active if c.kind == CommitmentKind.service_hours] == [20 * 60]
    db.refresh(old_payment)
    assert old_payment.superseded_at is not None and old_payment.progress_total == 5_000
    assert len(entries_of(db, commitment=old_payment)) == 1
    assert all(
        c.superseded_at is not None
        for c in db.exec(select(Commitment).where(Commitment.version_id == sealed.version.id))
    )
    with pytest.raises(Conflict) as refused:
        record(db, facilitator, sealed, old_payment, progress(ProgressKind.payment, "10.00"))
    assert codes(refused) == ["commitment_superseded"]


# --- progress -------------------------------------------------------------------------------------


def test_an_overpayment_is_refused_and_nothing_is_saved(db: Session, staff: User, sealed: Sealed) -> None:
    payment = sealed.of_kind("payment")[0]  # 200.00 EUR
    record(db, staff, sealed, payment, progress(ProgressKind.payment, "150.00"))
    events_before = len(db.exec(select(AuditEvent.id)).all())
    with pytest.raises(InvalidInput) as refused:
        record(db, staff, sealed, payment, progress(ProgressKind.payment, "50.01"))
    assert refused.value.field_errors["amount"].endswith("At most 50.00 EUR can be recorded.")
    db.refresh(payment)
    assert payment.progress_total == 15_000 and payment.completed_on is None
    assert [e.amount for e in entries_of(db, commitment=payment)] == [15_000]
    assert len(db.exec(select(AuditEvent.id)).all()) == events_before
    record(db, staff, sealed, payment, progress(ProgressKind.payment, "50.00"))
    assert status(db, sealed, payment) == CommitmentStatus.completed


def test_staff_record_progress_but_the_portal_does_not(db: Session, staff: User, sealed: Sealed) -> None:
    apology = sealed.of_kind("apology")[0]
    entry = record(db, staff, sealed, apology, progress(ProgressKind.apology_delivered, evidence_reference="L-17"))
    assert (entry.recorded_by_id, entry.amount, entry.evidence_reference) == (staff.id, 1, "L-17")
    for person in (sealed.held.responsible, sealed.held.survivor):
        with pytest.raises(PermissionDenied):
            record_progress(
                db,
                actor=portal_actor(person),
                case=sealed.case,
                commitment=sealed.of_kind("payment")[0],
                data=progress(ProgressKind.payment, "10.00"),
            )
    assert entries_of(db, commitment=sealed.of_kind("payment")[0]) == []


# --- waivers --------------------------------------------------------------------------------------


def test_a_waiver_without_the_survivors_consent_is_refused(db: Session, facilitator: User, sealed: Sealed) -> None:
    hours = sealed.of_kind("service_hours")[0]
    data = WaiverCreate(reason="The food bank closed.", consent_method="phone", survivor_consent_confirmed=False)
    with pytest.raises(Conflict) as refused:
        waive(db, actor=actor_for(facilitator), case=sealed.case, commitment=hours, data=data)
    assert codes(refused) == ["survivor_consent_missing"]
    assert refused.value.conditions[0].participant_id == sealed.held.survivor.id
    assert waivers_of(db, case=sealed.case) == []
    assert status(db, sealed, hours) != CommitmentStatus.waived


def test_consent_recorded_by_the_facilitator_waives_at_once(db: Session, facilitator: User, sealed: Sealed) -> None:
    hours = sealed.of_kind("service_hours")[0]
    data = WaiverCreate(reason="The food bank closed.", consent_method="phone", survivor_consent_confirmed=True)
    waiver = waive(db, actor=actor_for(facilitator), case=sealed.case, commitment=hours, data=data)
    assert (waiver.status, waiver.consent_method, waiver.consent_recorded_by_id) == (
        WaiverStatus.consented,
        "phone",
        facilitator.id,
    )
    assert status(db, sealed, hours) == CommitmentStatus.waived


def test_staff_cannot_waive(db: Session, staff: User, sealed: Sealed) -> None:
    data = WaiverCreate(reason="Closed.", consent_method="phone", survivor_consent_confirmed=True)
    with pytest.raises(PermissionDenied):
        waive(db, actor=actor_for(staff), case=sealed.case, commitment=sealed.of_kind("apology")[0], data=data)


def test_a_waiver_asked_in_the_portal_waits_for_the_survivor_and_only_the_survivor_answers(
    db: Session, facilitator: User, sealed: Sealed
) -> None:
    hours = sealed.of_kind("service_hours")[0]
    asked = waive(
        db,
        actor=actor_for(facilitator),
        case=sealed.case,
        commitment=hours,
        data=WaiverCreate(reason="The food bank closed."),
    )
    assert asked.status == WaiverStatus.asked and status(db, sealed, hours) != CommitmentStatus.waived
    with pytest.raises(Conflict) as again:
        waive(
            db,
            actor=actor_for(facilitator),
            case=sealed.case,
            commitment=hours,
            data=WaiverCreate(reason="Asking twice."),
        )
    assert codes(again) == ["waiver_pending"]
    with pytest.raises(NotFound):
        answer_waiver(db, actor=portal_actor(sealed.held.responsible), case=sealed.case, waiver=asked, agree=True)
    assert status(db, sealed, hours) != CommitmentStatus.waived

    answered = answer_waiver(db, actor=portal_actor(sealed.held.survivor), case=sealed.case, waiver=asked, agree=True)
    assert (answered.status, answered.consent_method) == (WaiverStatus.consented, "portal")
    assert status(db, sealed, hours) == CommitmentStatus.waived
    with pytest.raises(Conflict) as twice:
        answer_waiver(db, actor=portal_actor(sealed.held.survivor), case=sealed.case, waiver=asked, agree=False)
    assert codes(twice) == ["already_answered"]


def test_a_declined_waiver_leaves_the_commitment_standing(db: Session, facilitator: User, sealed: Sealed) -> None:
    hours = sealed.of_kind("service_hours")[0]
    asked = waive(
        db, actor=actor_for(facilitator), case=sealed.case, commitment=hours, data=WaiverCreate(reason="Closed.")
    )
    declined = answer_waiver(db, actor=portal_actor(sealed.held.survivor), case=sealed.case, waiver=asked, agree=False)
    assert declined.status == WaiverStatus.declined and hours.waived_at is None
    told = db.exec(select(Notification).where(Notification.kind == "waiver_declined")).all()
    assert [n.recipient_user_id for n in told] == [facilitator.id]


def test_a_waiver_the_survivor_agrees_to_after_the_commitment_was_completed_does_not_waive_it(
    db: Session, facilitator: User, staff: User, sealed: Sealed
) -> None:
    """The portal answer used to waive a commitment met in the meantime, so the record said "waived" where
    the responsible party had done what they promised (the state machine's G6 invariant now checks it)."""
    apology = sealed.of_kind("apology")[0]
    asked = waive(
        db, actor=actor_for(facilitator), case=sealed.case, commitment=apology, data=WaiverCreate(reason="Moved away.")
    )
    record(db, staff, sealed, apology, progress(ProgressKind.apology_delivered))
    with pytest.raises(Conflict) as refused:
        answer_waiver(db, actor=portal_actor(sealed.held.survivor), case=sealed.case, waiver=asked, agree=True)
    assert codes(refused) == ["already_settled"]
    assert status(db, sealed, apology) == CommitmentStatus.completed and apology.waived_at is None


# --- completion and closure -----------------------------------------------------------------------


def test_the_case_completes_by_itself_when_everything_but_an_indefinite_no_contact_is_met(
    db: Session, facilitator: User, staff: User, sealed: Sealed
) -> None:
    record(db, staff, sealed, sealed.of_kind("apology")[0], progress(ProgressKind.apology_delivered))
    first, second = sealed.of_kind("payment")
    record(db, staff, sealed, first, progress(ProgressKind.payment, "200.00"))
    # The second instalment is waived, with the survivor's consent, instead of paid.
    waive(
        db,
        actor=actor_for(facilitator),
        case=sealed.case,
        commitment=second,
        data=WaiverCreate(reason="Rosa forgave the rest.", consent_method="in_person", survivor_consent_confirmed=True),
    )
    assert case_state(db, case=sealed.case) == "monitoring"
    record(db, staff, sealed, sealed.of_kind("service_hours")[0], progress(ProgressKind.hours, "40"))
    assert case_state(db, case=sealed.case) == "completed"
    events = db.exec(select(AuditEvent.action).where(AuditEvent.case_id == sealed.case.id)).all()
    assert events.count("case.completed") == 1
    told = db.exec(select(Notification.recipient_user_id).where(Notification.kind == "case_completed")).all()
    assert told == [facilitator.id]


def test_a_no_contact_breach_keeps_the_case_from_completing(db: Session, staff: User, sealed: Sealed) -> None:
    no_contact = sealed.of_kind("no_contact")[0]
    record(db, staff, sealed, no_contact, progress(ProgressKind.breach_reported, evidence_note="Messages seen."))
    assert status(db, sealed, no_contact) == CommitmentStatus.breached
    settle_everything(db, staff, sealed)
    assert case_state(db, case=sealed.case) == "monitoring"


def closure(
    reason: ClosureReason = ClosureReason.non_compliance, note: str = "No payment since March."
) -> ClosureCreate:
    return ClosureCreate(reason=reason, note=note)


def test_closure_reasons_are_a_fixed_list_and_a_note_is_required(
    db: Session, facilitator: User, sealed: Sealed
) -> None:
    with pytest.raises(ValidationError):
        ClosureCreate(reason="bored", note="Why not.")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ClosureCreate(reason=ClosureReason.other, note="")
    with pytest.raises(InvalidInput) as blank:
        close_case(db, actor=actor_for(facilitator), case=sealed.case, data=closure(note="   "))
    assert "note" in blank.value.field_errors
    assert case_state(db, case=sealed.case) == "monitoring"


def test_a_closed_case_takes_no_more_progress_and_cannot_be_closed_twice(
    db: Session, facilitator: User, staff: User, sealed: Sealed
) -> None:
    closed = close_case(db, actor=actor_for(facilitator), case=sealed.case, data=closure())
    assert (closed.reason, closed.closed_by_id) == (ClosureReason.non_compliance, facilitator.id)
    assert case_state(db, case=sealed.case) == "closed"
    with pytest.raises(Conflict) as refused:
        record(db, staff, sealed, sealed.of_kind("apology")[0], progress(ProgressKind.apology_delivered))
    assert codes(refused) == ["case_closed"]
    with pytest.raises(Conflict) as again:
        close_case(db, actor=actor_for(facilitator), case=sealed.case, data=closure())
    assert codes(again) == ["case_closed"]


def test_a_closed_case_takes_no_new_session_or_amendment(db: Session, facilitator: User, sealed: Sealed) -> None:
    """Found while writing the state machine (which now checks it): a closed case still took new sessions,
    and an amendment whose commitments nobody could record progress against. Closing a case stops it."""
    actor = actor_for(facilitator)
    close_case(db, actor=actor, case=sealed.case, data=closure())
    plan = SessionPlan(
        kind=SessionKind.preparation,
        mode=SessionMode.video,
        day=(utcnow() + timedelta(days=5)).date(),
        start=time(10),
        end=time(11),
        attendee_ids=frozenset({sealed.held.survivor.id}),
    )
    with pytest.raises(Conflict) as no_session:
        schedule_session(db, actor=actor, case=sealed.case, plan=plan)
    with pytest.raises(Conflict) as no_amendment:
        start_amendment(
            db, actor=actor, case=sealed.case, terms=terms_for(sealed.held, hours=5), change_note="Fewer", based_on=1
        )
    assert codes(no_session) == codes(no_amendment) == ["case_closed"]


def test_staff_cannot_close_a_case(db: Session, staff: User, sealed: Sealed) -> None:
    with pytest.raises(PermissionDenied):
        close_case(db, actor=actor_for(staff), case=sealed.case, data=closure())


def test_a_completed_case_is_not_closed(db: Session, facilitator: User, sealed: Sealed) -> None:
    settle_everything(db, facilitator, sealed)
    assert case_state(db, case=sealed.case) == "completed"
    with pytest.raises(Conflict) as refused:
        close_case(db, actor=actor_for(facilitator), case=sealed.case, data=closure(ClosureReason.other))
    assert codes(refused) == ["case_completed"]


def test_a_case_with_an_upcoming_session_is_not_closed_until_the_session_is_cancelled(
    db: Session, facilitator: User, sealed: Sealed
) -> None:
    follow_up = CaseSession(
        program_id=sealed.case.program_id,
        case_id=sealed.case.id,  # type: ignore[arg-type]
        kind=SessionKind.follow_up,
        mode="video",
        starts_at=utcnow() + timedelta(days=3),
        ends_at=utcnow() + timedelta(days=3, hours=1),
        location="Video call",
        status=SessionStatus.scheduled,
        uid="follow-up-test",
        created_by_id=facilitator.id,  # type: ignore[arg-type]
    )
    db.add(follow_up)
    db.flush()
    with pytest.raises(Conflict) as refused:
        close_case(db, actor=actor_for(facilitator), case=sealed.case, data=closure())
    assert codes(refused) == ["sessions_scheduled"]
    assert refused.value.conditions[0].fix_path == f"/cases/{sealed.case.id}/sessions"
    follow_up.status = SessionStatus.cancelled
    db.add(follow_up)
    db.flush()
    close_case(db, actor=actor_for(facilitator), case=sealed.case, data=closure())
    assert case_state(db, case=sealed.case) == "closed"


# --- the survivor told about progress -------------------------------------------------------------


def messages_to_survivor(db: Session, sealed: Sealed) -> list[Notification]:
    return list(
        db.exec(
            select(Notification)
            .where(Notification.recipient_participant_id == sealed.held.survivor.id)
            .order_by(col(Notification.id))
        ).all()
    )


def test_the_survivor_is_told_about_progress_only_while_they_consent(
    db: Session, facilitator: User, staff: User, sealed: Sealed
) -> None:
    payment = sealed.of_kind("payment")[0]
    record(db, staff, sealed, payment, progress(ProgressKind.payment, "10.00"))
    assert messages_to_survivor(db, sealed) == []

    survivor = sealed.held.survivor
    give_consent(
        db,
        actor=actor_for(facilitator),
        participant=survivor,
        scope=ConsentScope.progress_updates,
        sheet_version="2026-1",
        sheet_language="es",
        method=ConsentMethod.in_person,
    )
    record(db, staff, sealed, payment, progress(ProgressKind.payment, "10.00"))
    told = messages_to_survivor(db, sealed)
    assert [(m.kind, m.subject) for m in told] == [("commitment_progress", "News about your agreement")]
    assert "payment received" in told[0].body
    record(db, staff, sealed, payment, progress(ProgressKind.note, evidence_note="Called Dan."))
    record(db, staff, sealed, payment, progress(ProgressKind.payment, "10.00", notify_survivor=False))
    assert len(messages_to_survivor(db, sealed)) == 1  # no message for a note, nor when staff chose not to

    withdraw_consent(db, actor=portal_actor(survivor), participant=survivor, scope=ConsentScope.progress_updates)
    record(db, staff, sealed, payment, progress(ProgressKind.payment, "10.00"))
    assert len(messages_to_survivor(db, sealed)) == 1


def test_a_long_task_is_shortened_in_its_commitment_and_kept_whole_in_the_schedule(
    db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_pdf(monkeypatch)
    text = "Repair the garden fence and repaint it, " * 20  # 800 characters: more than a commitment holds

    def terms(held):  # type: ignore[no-untyped-def]
        return [OtherTerm(owed_by=held.responsible.id, text=text, due_date=date(2027, 5, 1))]

    sealed = sealed_case(db, facilitator, terms=terms)
    (task,) = sealed.commitments
    assert len(task.description) == 300 and task.description.endswith("…")
    assert text.strip().startswith(task.description[:-1])
    rows = pdf.commitment_rows(terms(sealed.held), {sealed.held.responsible.id: "Dan"})  # type: ignore[dict-item]
    assert rows[0].what == text.strip()
