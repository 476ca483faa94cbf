"""Retention: `mend retention run` anonymises ended cases past the program's retention period, and only
those. Each test tries to make it touch what it must not (open cases, held cases, cases inside the
period), or to leave behind what it must remove (a marker string is planted in every free-text field)."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, col, select

import app.models  # noqa: F401  (every table, for the marker scan)
from app.agreements.commitment_queries import dashboard_counts
from app.agreements.commitment_schemas import ClosureCreate, ProgressCreate
from app.agreements.commitment_service import close_case, record_progress
from app.agreements.models import (
    AgreementDocument,
    AgreementVersion,
    CommitmentKind,
    DueTally,
    FollowupSummary,
    ProgressKind,
    Review,
    Signature,
    Waiver,
    WaiverStatus,
)
from app.agreements.service import save_draft
from app.agreements.terms import ApologyTerm, OtherTerm, ServiceHoursTerm
from app.audit.models import AuditEvent
from app.audit.service import verify_chains
from app.auth.models import User, UserRole
from app.auth.service import actor_for
from app.conferences.models import (
    Acknowledgement,
    AcknowledgementMethod,
    Case,
    CaseSession,
    ClosureReason,
    Participant,
    ParticipantRole,
    Screening,
    ScreeningOutcome,
)
from app.crypto import EncryptedJSON, EncryptedText, get_keyring
from app.db import utcnow
from app.errors import Conflict
from app.notifications.models import Notification
from app.portal.models import PortalLink
from app.portal.service import issue_portal_link
from app.programs.models import Program
from app.retention import rules
from app.retention.schemas import LegalHoldSet
from app.retention.service import CaseChanges, Skipped, run_retention, set_legal_hold
from app.safety.models import Consent, ContactPreference, SafetyAssessment, SafetyConcern, SafetyPlan
from tests.agreements.monitoring_support import stub_pdf
from tests.agreements.test_service import Held, held_case, sign_all, to_signing
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_case, make_participant
from tests.portal.conftest import browser, enter

FAR_FUTURE = date(2040, 1, 1)  # every case closed today is past a 6-year retention then
SOON = date.today() + timedelta(days=400)  # well inside it


# --- building a case full of confidential text -----------------------------------------------------


@dataclass
class Planted:
    case: Case
    held: Held
    marker: str
    portal_url: str


def _terms(held: Held, marker: str) -> list:
    owed = held.responsible.id
    return [
        ApologyTerm(owed_by=owed, form="written", due_date=date(2027, 1, 15), note=f"apology {marker}"),  # type: ignore[arg-type]
        ServiceHoursTerm(owed_by=owed, hours=10, deadline=date(2027, 6, 30), where=f"Food bank {marker}"),  # type: ignore[arg-type]
        OtherTerm(owed_by=owed, text=f"Plant a tree {marker}", due_date=date(2027, 3, 1)),  # type: ignore[arg-type]
    ]


def planted_case(db: Session, by: User, monkeypatch: pytest.MonkeyPatch, *, close: bool = True) -> Planted:
    """A case whose agreement is sealed (PDF stored), with the marker in every free-text field; closed
    today unless `close` is False (then it is in monitoring)."""
    stub_pdf(monkeypatch)
    marker = f"MARK{uuid.uuid4().hex[:10].upper()}"
    actor = actor_for(by)
    held = held_case(db, by)
    case = held.case
    case.notes = f"Referral note {marker}"
    held.survivor.display_name = f"Rosa {marker}"
    held.survivor.support_needs = f"Needs {marker}"
    held.responsible.display_name = f"Dan {marker}"
    db.add_all([case, held.survivor, held.responsible])
    make_participant(db, by, case, ParticipantRole.supporter, display_name=f"Aunt {marker}")
    pid, cid, prog = held.survivor.id, case.id, case.program_id
    db.add_all(
        [
            ContactPreference(
                program_id=prog,
                participant_id=pid,
                email=f"{marker}@example.org",
                phone="+34 600 000 001",
                code_word=f"code {marker}",
            ),  # fmt: skip
            Screening(
                program_id=prog,
                case_id=cid,
                participant_id=pid,
                instrument_key="survivor",
                instrument_version=1,
                answers={"motivation": "to_be_heard", "motivation_in_own_words": f"In my words {marker}"},
                suggested_outcome=ScreeningOutcome.ready,
                outcome=ScreeningOutcome.ready,
                rationale=f"rationale {marker}",
                override_reason=f"override {marker}",
                screened_by_id=by.id,
            ),  # fmt: skip
            Acknowledgement(
                program_id=prog,
                case_id=cid,
                participant_id=held.responsible.id,
                wording=f"I did it {marker}",
                method=AcknowledgementMethod.written,
                acknowledged_at=utcnow(),
                recorded_by_id=by.id,
            ),  # fmt: skip
            SafetyAssessment(
                program_id=prog,
                case_id=cid,
                participant_id=pid,
                factors=["threats"],
                score=3,
                level="medium",
                notes=f"assessment {marker}",
                assessed_by_id=by.id,
            ),  # fmt: skip
            SafetyPlan(
                program_id=prog,
                case_id=cid,
                support_person=f"Sister {marker}",
                exit_plan=f"Back door {marker}",
                created_by_id=by.id,
            ),  # fmt: skip
            SafetyConcern(
                program_id=prog,
                case_id=cid,
                description=f"concern {marker}",
                raised_by_id=by.id,
                review_note=f"reviewed {marker}",
            ),  # fmt: skip
            Consent(
                program_id=prog,
                case_id=cid,
                participant_id=pid,
                scope="conference",
                sheet_version="1",
                sheet_language="en",
                method="written",
                witnessed_by=f"Witness {marker}",
                withdrawal_reason=f"withdrew {marker}",
            ),  # fmt: skip
            Notification(
                program_id=prog,
                case_id=cid,
                kind="test",
                subject=f"About {marker}",
                body=f"Body {marker}",
                attachment_body=f"LOCATION:{marker}",
            ),  # fmt: skip
        ]
    )
    conference = db.exec(select(CaseSession).where(CaseSession.case_id == cid)).one()
    conference.location, conference.outcome_note = f"Hall {marker}", f"Outcome {marker}"
    db.add(conference)
    db.flush()
    version = save_draft(db, actor=actor, case=case, terms=_terms(held, marker), based_on=None)
    to_signing(db, actor, held, version)
    for review in db.exec(select(Review).where(Review.version_id == version.id)).all():
        review.comment = f"comment {marker}"
        db.add(review)
    sign_all(db, actor, held, version)
    commitments = held_commitments(db, case)
    apology = next(c for c in commitments if c.kind == CommitmentKind.apology)
    record_progress(
        db,
        actor=actor,
        case=case,
        commitment=apology,
        data=ProgressCreate(
            kind=ProgressKind.apology_delivered,
            occurred_on=date.today(),
            evidence_reference=f"receipt {marker}",
            evidence_note=f"evidence {marker}",
            notify_survivor=False,
        ),
    )
    other = next(c for c in commitments if c.kind == CommitmentKind.other)
    db.add(
        Waiver(
            program_id=prog,
            case_id=cid,
            commitment_id=other.id,
            reason=f"waive {marker}",
            status=WaiverStatus.asked,
            survivor_id=pid,
            requested_by_id=by.id,
        )  # fmt: skip
    )
    portal = issue_portal_link(db, actor=actor, participant=held.survivor)
    if close:
        close_case(
            db, actor=actor, case=case, data=ClosureCreate(reason=ClosureReason.non_compliance, note=f"closed {marker}")
        )
    db.commit()
    return Planted(case, held, marker, portal.url)


def held_commitments(db: Session, case: Case):  # type: ignore[no-untyped-def]
    from app.agreements.commitment_service import active_commitments

    return active_commitments(db, case=case)


def marker_hits(db: Session, marker: str) -> dict[str, int]:
    """Every text and JSON column of every table that still holds the marker, read with raw SQL
    (encrypted columns are read raw and decrypted here, outside the ORM)."""
    hits: dict[str, int] = {}
    keyring = get_keyring()
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText | EncryptedJSON):
                stored = db.execute(sa.select(sa.type_coerce(column, sa.Text)).where(column.is_not(None))).scalars()
                name = f"{table.name}.{column.name}"
                count = sum(marker in keyring.decrypt(value, column=name) for value in stored)
                if count:
                    hits[name] = count
                continue
            kind = column.type.impl if isinstance(column.type, sa.types.TypeDecorator) else column.type
            if not isinstance(kind, sa.String | sa.JSON):
                continue
            count = db.execute(
                sa.select(sa.func.count()).select_from(table).where(sa.cast(column, sa.Text).like(f"%{marker}%"))
            ).scalar_one()
            if count:
                hits[f"{table.name}.{column.name}"] = count
    return hits


def run(db: Session, *, dry_run: bool = False, today: date = FAR_FUTURE, program: Program | None = None) -> tuple:
    """Run retention on the test's connection; returns (changed cases, skipped summary)."""
    db.commit()
    items = list(
        run_retention(db.connection(), dry_run=dry_run, today=today, program_id=program.id if program else None)
    )
    db.expire_all()
    changes = [i for i in items if isinstance(i, CaseChanges)]
    (skipped,) = [i for i in items if isinstance(i, Skipped)]
    return changes, skipped


# --- rules --------------------------------------------------------------------------------------------


def test_the_cutoff_is_the_same_day_years_before() -> None:
    assert rules.retention_cutoff(date(2032, 5, 10), 6) == date(2026, 5, 10)
    assert rules.retention_cutoff(date(2032, 2, 29), 5) == date(2027, 2, 28)
    assert not rules.past_retention(date(2026, 5, 10), today=date(2032, 5, 10), years=6)
    assert rules.past_retention(date(2026, 5, 9), today=date(2032, 5, 10), years=6)


def _facts(outcome: str, commitments=(), closed_on=None, sealed_on=date(2027, 1, 1)) -> rules.EndFacts:  # type: ignore[no-untyped-def]
    return rules.EndFacts(closed_on=closed_on, outcome=outcome, sealed_on=sealed_on, commitments=tuple(commitments))


def test_when_a_case_ended() -> None:
    k = CommitmentKind
    assert rules.ended_on(_facts("closed", closed_on=date(2028, 3, 3))) == date(2028, 3, 3)
    assert rules.ended_on(_facts("no_agreement", sealed_on=None)) is None  # never closed: open, however old
    assert rules.ended_on(_facts("monitoring", [(k.payment, date(2027, 5, 1), None, None)])) is None
    completed = [
        (k.payment, date(2027, 5, 1), date(2027, 4, 20), None),
        (k.apology, date(2027, 2, 1), None, date(2027, 6, 2)),  # waived last
        (k.no_contact, None, None, None),  # indefinite: settles the case, adds no date
    ]
    assert rules.ended_on(_facts("completed", completed)) == date(2027, 6, 2)
    assert rules.ended_on(_facts("completed", [(k.no_contact, date(2029, 1, 1), None, None)])) == date(2029, 1, 1)
    assert rules.ended_on(_facts("completed", [(k.no_contact, None, None, None)])) == date(2027, 1, 1)


def test_participants_become_role_labels() -> None:
    labels = rules.participant_labels([(7, "responsible_party"), (3, "survivor"), (9, "responsible_party")])
    assert labels == {3: "Survivor", 7: "Responsible party 1", 9: "Responsible party 2"}


# --- what is removed and what is kept -------------------------------------------------------------------


def test_anonymising_removes_every_planted_marker_and_the_pdf(
    db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = planted_case(db, facilitator, monkeypatch)
    before = marker_hits(db, planted.marker)
    assert len(before) >= 30, before  # the marker really is everywhere to begin with
    assert "audit_event.detail" not in before and "audit_event.actor_label" not in before

    changes, _ = run(db)

    assert [c.reference for c in changes] == [planted.case.reference]
    assert marker_hits(db, planted.marker) == {}
    case = db.get(Case, planted.case.id)
    assert case is not None and case.anonymised_at is not None
    names = sorted(p.display_name for p in db.exec(select(Participant).where(Participant.case_id == case.id)))
    assert names == ["Responsible party", "Supporter", "Survivor"]
    signatures = db.exec(
        select(Signature).join(AgreementVersion).where(AgreementVersion.program_id == case.program_id)
    ).all()
    assert all(s.ip_address is None and s.user_agent is None for s in signatures)
    version_ids = [v.id for v in db.exec(select(AgreementVersion)).all()]
    documents = db.exec(select(AgreementDocument).where(col(AgreementDocument.version_id).in_(version_ids))).all()
    assert documents == []
    assert db.exec(select(PortalLink).where(PortalLink.case_id == case.id)).all() == []
    screening = db.exec(select(Screening).where(Screening.case_id == case.id)).one()
    assert screening.answers == {"motivation": "to_be_heard"}  # the choice stays, the free text goes
    assert changes[0].deleted["agreement_document"] == 1 and changes[0].deleted["portal_link"] == 1


def test_counts_for_reports_are_kept(db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = planted_case(db, facilitator, monkeypatch)
    actor = actor_for(facilitator)
    program = db.get(Program, planted.case.program_id)
    assert program is not None

    def figures() -> tuple:
        case_id = planted.case.id
        counts = dashboard_counts(db, actor=actor, today=date(2027, 7, 1), due_soon_days=14)
        commitments = [
            (c.kind, c.quantity, c.due_on, c.progress_total, c.completed_on, c.waived_at, c.currency)
            for c in held_commitments(db, planted.case)
        ]
        version = db.exec(select(AgreementVersion.text_sha256, AgreementVersion.status)).all()
        tallies = db.exec(select(DueTally).where(DueTally.program_id == program.id)).all()
        summary = db.get(FollowupSummary, case_id)
        roles = sorted(db.exec(select(Participant.role).where(Participant.case_id == case_id)).all())
        sessions = db.exec(select(CaseSession.kind, CaseSession.starts_at).where(CaseSession.case_id == case_id)).all()
        return (
            counts,
            commitments,
            sorted(version),
            sorted((t.due_on, t.due, t.on_time, t.open) for t in tallies),
            (summary.open_tasks, summary.standing_until) if summary else None,
            roles,
            sorted(sessions),
        )

    before = figures()
    run(db)
    assert figures() == before


def test_the_audit_event_holds_counts_only_and_the_chain_still_verifies(
    db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = planted_case(db, facilitator, monkeypatch)
    run(db)
    (event,) = db.exec(
        select(AuditEvent).where(AuditEvent.case_id == planted.case.id, AuditEvent.action == "case.anonymised")
    ).all()
    assert event.actor_kind == "system" and event.detail["fields_cleared"] > 30
    assert event.detail["kept"]["participants_by_role"] == {"responsible_party": 1, "supporter": 1, "survivor": 1}
    assert planted.marker not in str(event.detail)
    assert verify_chains(db).ok


def test_a_second_run_changes_nothing(db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = planted_case(db, facilitator, monkeypatch)
    first, _ = run(db)
    stamp = db.get(Case, planted.case.id).anonymised_at  # type: ignore[union-attr]
    second, skipped = run(db)
    assert len(first) == 1 and second == [] and skipped.anonymised >= 1
    assert db.get(Case, planted.case.id).anonymised_at == stamp  # type: ignore[union-attr]
    events = db.exec(
        select(AuditEvent).where(AuditEvent.case_id == planted.case.id, AuditEvent.action == "case.anonymised")
    ).all()
    assert len(events) == 1


# --- what is never touched ------------------------------------------------------------------------------


def test_a_held_case_is_skipped_until_the_hold_is_cleared(
    db: Session, facilitator: User, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = planted_case(db, facilitator, monkeypatch)
    set_legal_hold(db, actor=actor_for(admin), case=planted.case, data=LegalHoldSet(reason="Pending civil claim"))
    changes, skipped = run(db)
    assert changes == [] and skipped.legal_hold == 1
    assert db.get(Case, planted.case.id).anonymised_at is None  # type: ignore[union-attr]
    assert len(marker_hits(db, planted.marker)) >= 30


def test_a_case_inside_its_retention_period_is_skipped(
    db: Session, facilitator: User, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = planted_case(db, facilitator, monkeypatch)
    changes, skipped = run(db, today=SOON)
    assert changes == [] and skipped.within_retention >= 1
    program.retention_years = 50
    db.add(program)
    changes, _ = run(db, today=FAR_FUTURE)  # 2040 is inside 50 years
    assert changes == []
    assert db.get(Case, planted.case.id).anonymised_at is None  # type: ignore[union-attr]


def test_open_cases_are_never_touched(db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch) -> None:
    in_monitoring = planted_case(db, facilitator, monkeypatch, close=False)
    no_agreement = make_case(db, facilitator, notes=f"still preparing {in_monitoring.marker}")
    no_agreement.created_at = utcnow() - timedelta(days=365 * 20)
    db.add(no_agreement)
    changes, skipped = run(db, today=date(2090, 1, 1))
    assert changes == [] and skipped.open >= 2
    assert "case_file.notes" in marker_hits(db, in_monitoring.marker)
    assert db.get(Case, no_agreement.id).anonymised_at is None  # type: ignore[union-attr]


def test_another_programs_cases_are_left_alone_with_program_filter(
    db: Session, facilitator: User, other_program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = planted_case(db, facilitator, monkeypatch)
    changes, _ = run(db, program=other_program)
    assert changes == [] and db.get(Case, planted.case.id).anonymised_at is None  # type: ignore[union-attr]


def test_a_dry_run_lists_the_case_and_writes_nothing(
    db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = planted_case(db, facilitator, monkeypatch)
    before = marker_hits(db, planted.marker)
    audit_before = db.exec(sa.select(sa.func.count()).select_from(AuditEvent)).one()  # type: ignore[call-overload]
    documents_before = db.exec(sa.select(sa.func.count()).select_from(AgreementDocument)).one()  # type: ignore[call-overload]

    changes, _ = run(db, dry_run=True)

    (change,) = changes
    assert change.reference == planted.case.reference and change.ended_on == date.today()
    assert change.fields_cleared >= 30 and change.deleted["agreement_document"] == 1
    assert change.fields["participant.display_name"] == 3
    assert marker_hits(db, planted.marker) == before
    assert db.exec(sa.select(sa.func.count()).select_from(AuditEvent)).one() == audit_before  # type: ignore[call-overload]
    assert db.exec(sa.select(sa.func.count()).select_from(AgreementDocument)).one() == documents_before  # type: ignore[call-overload]
    assert db.get(Case, planted.case.id).anonymised_at is None  # type: ignore[union-attr]


# --- after anonymisation: pages and API still work; the portal does not ------------------------------


def test_anonymised_case_pages_and_api_render_placeholders(
    db: Session,
    facilitator: User,
    as_facilitator: TestClient,
    as_staff: TestClient,
    as_admin: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    planted = planted_case(db, facilitator, monkeypatch)
    run(db)
    case_id = planted.case.id
    pages = [
        f"/cases/{case_id}",
        f"/cases/{case_id}/agreement",
        f"/cases/{case_id}/commitments",
        f"/cases/{case_id}/sessions",
        f"/cases/{case_id}/safety",
        f"/cases/{case_id}/consent",
        f"/cases/{case_id}/audit",
        f"/api/v1/cases/{case_id}",
        f"/api/v1/cases/{case_id}/participants",
        f"/api/v1/cases/{case_id}/agreement",
        f"/api/v1/cases/{case_id}/commitments",
        f"/api/v1/cases/{case_id}/sessions",
        f"/api/v1/cases/{case_id}/safety/plan",
        f"/api/v1/cases/{case_id}/safety/assessments",
        f"/api/v1/cases/{case_id}/safety/concerns",
        f"/api/v1/cases/{case_id}/consents",
    ]
    for path in pages:
        response = as_facilitator.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        assert planted.marker not in response.text, path
    page = as_facilitator.get(f"/cases/{case_id}").text
    assert "Anonymised</span>" in page and "Survivor" in page
    assert as_admin.get(f"/cases/{case_id}").status_code == 200
    assert "Legal hold" not in as_admin.get(f"/cases/{case_id}").text  # no hold form on an anonymised case
    assert as_staff.get(f"/cases/{case_id}").status_code == 200
    assert as_staff.get("/monitoring").status_code == 200
    detail = as_facilitator.get(f"/api/v1/cases/{case_id}").json()
    assert detail["anonymised_at"] and detail["notes"] == ""


def test_portal_links_and_sessions_of_an_anonymised_case_stop_working(
    app, db: Session, facilitator: User, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    planted = planted_case(db, facilitator, monkeypatch)
    signed_in = browser(app)
    entered = enter(
        signed_in, issue_portal_link(db, actor=actor_for(facilitator), participant=planted.held.survivor).url
    )
    assert entered.status_code == 303
    assert signed_in.get("/portal", follow_redirects=False).status_code == 200

    run(db)

    assert enter(browser(app), planted.portal_url).status_code == 410  # the unused link
    assert signed_in.get("/portal", follow_redirects=False).status_code != 200  # the open portal session
    survivor = db.get(Participant, planted.held.survivor.id)
    assert survivor is not None
    with pytest.raises(Conflict):
        issue_portal_link(db, actor=actor_for(facilitator), participant=survivor)


# --- the command, as a real process on a fresh database -----------------------------------------------


def test_the_command_lists_in_a_dry_run_then_anonymises_once_and_the_chain_verifies(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_program, make_user
    from tests.test_cli import Mend, scratch_database

    with scratch_database(TEST_DATABASE_URL, tmp_path) as url:
        mend = Mend(url)
        try:
            with Session(mend.engine, expire_on_commit=False) as session:
                program = make_program(session, "Harbour Program")
                by = make_user(session, program, UserRole.facilitator, "Fran Facilitator")
                planted = planted_case(session, by, monkeypatch)
                open_case = make_case(session, by)
                session.commit()
                before = marker_hits(session, planted.marker)

            dry = mend("retention", "run", "--dry-run", "--today", "2040-01-01")
            assert dry.returncode == 0, dry.stderr
            assert f"Case {planted.case.reference} (ended {date.today().isoformat()})" in dry.stdout
            assert "would delete: 1 agreement_document, 1 portal_link" in dry.stdout
            assert "1 case would be anonymised." in dry.stdout and "Left alone: 1 open" in dry.stdout
            with Session(mend.engine) as session:
                assert marker_hits(session, planted.marker) == before

            done = mend("retention", "run", "--today", "2040-01-01")
            assert done.returncode == 0, done.stderr
            assert "1 case anonymised." in done.stdout
            with Session(mend.engine) as session:
                assert marker_hits(session, planted.marker) == {}
                assert session.get(Case, open_case.id).anonymised_at is None  # type: ignore[union-attr]
            again = mend("retention", "run", "--today", "2040-01-01")
            assert again.returncode == 0 and "0 cases anonymised." in again.stdout
            assert "1 already anonymised" in again.stdout
            verify = mend("audit", "verify")
            assert verify.returncode == 0 and "Audit log intact" in verify.stdout

        finally:
            mend.engine.dispose()


def test_the_command_refuses_a_malformed_day() -> None:
    from typer.testing import CliRunner

    from app.cli import app as cli

    result = CliRunner().invoke(cli, ["retention", "run", "--dry-run", "--today", "1 January"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
