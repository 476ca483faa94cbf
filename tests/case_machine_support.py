"""What the case state machine (tests/test_case_state_machine.py) knows without asking the app's rules:
the case's rows read with DESIGN's gates in mind (G1's conditions, pauses, consent states), and the
invariants checked after every step. A mixin, so the machine's rules and its checks share one session."""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from app.agreements.commitment_rules import commitments_from_terms, local_today
from app.agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementVersion,
    Commitment,
    CommitmentKind,
    DueTally,
    FollowupSummary,
    ProgressEntry,
    ProgressKind,
    Review,
    ReviewDecision,
    Signature,
    VersionStatus,
    Waiver,
    WaiverStatus,
)
from app.agreements.terms import Term
from app.audit.service import verify_chains
from app.conferences.models import (
    Acknowledgement,
    CaseClosure,
    CaseSession,
    Participant,
    ParticipantRole,
    Screening,
    SessionAttendee,
    SessionKind,
    SessionStatus,
)
from app.conferences.queries import case_row
from app.db import utcnow
from app.programs.models import Program
from app.safety.models import (
    Consent,
    ConsentScope,
    RiskLevel,
    SafetyAssessment,
    SafetyConcern,
    SafetyPlan,
)

TZ = "Europe/Madrid"
PARTICIPATION = (ConsentScope.contact, ConsentScope.preparation, ConsentScope.conference)
ACTIVE = (SessionStatus.scheduled, SessionStatus.on_hold)
_TERMS = TypeAdapter(list[Term])


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class World:
    """What every example shares, set up once and kept under an outer transaction rolled back at the end."""

    connection: Connection
    program_id: int
    admin_id: int
    facilitator_id: int
    staff_id: int


class CaseRecords:
    """The case's rows as this test reads them (not through the app's rule functions), and the invariants."""

    world: World
    db: Session
    case_id: int
    people: dict[str, int]
    seen_sessions: dict[int, tuple[str, int]]
    sealed: dict[int, dict[str, Any]]

    @property
    def program(self) -> Program:
        program = self.db.get(Program, self.world.program_id)
        assert program is not None
        return program

    # --- reading the rows (this module's own reading, not the app's rules) --------------------------

    def closed(self) -> bool:
        return self.db.exec(select(CaseClosure.id).where(CaseClosure.case_id == self.case_id)).first() is not None

    def participants(self) -> list[Participant]:
        return list(self.db.exec(select(Participant).where(Participant.case_id == self.case_id)).all())

    def consent_state(self, participant_id: int, scope: ConsentScope) -> str:
        latest = self.db.exec(
            select(Consent)
            .where(Consent.participant_id == participant_id, Consent.scope == scope)
            .order_by(col(Consent.given_at).desc(), col(Consent.id).desc())
        ).first()
        if latest is None:
            return "missing"
        return "active" if latest.withdrawn_at is None else "withdrawn"

    def latest_assessment(self) -> SafetyAssessment | None:
        return self.db.exec(
            select(SafetyAssessment)
            .where(SafetyAssessment.case_id == self.case_id)
            .order_by(col(SafetyAssessment.assessed_at).desc(), col(SafetyAssessment.id).desc())
        ).first()

    def safety_paused(self) -> bool:
        """G3: a critical latest assessment, or an urgent concern nobody has reviewed."""
        latest = self.latest_assessment()
        open_urgent = self.db.exec(
            select(SafetyConcern.id).where(
                SafetyConcern.case_id == self.case_id,
                col(SafetyConcern.urgent).is_(True),
                col(SafetyConcern.reviewed_at).is_(None),
            )
        ).first()
        return (latest is not None and latest.level == RiskLevel.critical) or open_urgent is not None

    def withdrawn_anyone(self) -> bool:
        """G2: someone's latest consent to take part (in any of the participation scopes) is withdrawn."""
        return any(
            self.consent_state(p.id, scope) == "withdrawn"  # type: ignore[arg-type]
            for p in self.participants()
            for scope in PARTICIPATION
        )

    def interpreter_missing(self, attendee_ids: set[int]) -> bool:
        people = [p for p in self.participants() if p.id in attendee_ids]
        return any(p.interpreter_needed for p in people) and not any(
            p.role == ParticipantRole.interpreter for p in people
        )

    def g1_codes(self, attendee_ids: set[int]) -> set[str]:
        """DESIGN's G1, read from the rows: everything that must hold to schedule the conference."""
        now, program, missing = utcnow(), self.program, set()
        if self.safety_paused() or self.withdrawn_anyone():
            missing.add("case_paused")
        for who in ("survivor", "responsible"):
            latest = self.db.exec(
                select(Screening)
                .where(Screening.participant_id == self.people[who])
                .order_by(col(Screening.completed_at).desc())
            ).first()
            if latest is None:
                missing.add("screening_missing")
            elif now - latest.completed_at > timedelta(days=program.screening_validity_days):
                missing.add("screening_expired")
            elif latest.outcome != "ready":
                missing.add("not_ready")
        if not self.db.exec(
            select(Acknowledgement.id).where(Acknowledgement.participant_id == self.people["responsible"])
        ).first():
            missing.add("acknowledgement_missing")
        latest = self.latest_assessment()
        has_plan = self.db.exec(select(SafetyPlan.id).where(SafetyPlan.case_id == self.case_id)).first() is not None
        if latest is None:
            missing.add("safety_assessment_missing")
        elif latest.level == RiskLevel.critical:
            missing.add("risk_critical")
        elif (
            latest.level == RiskLevel.high
            or (latest.level == RiskLevel.medium and program.safety_plan_required_at_medium)
        ) and not has_plan:
            missing.add("safety_plan_missing")
        for pid in attendee_ids:
            state = self.consent_state(pid, ConsentScope.conference)
            if state != "active":
                missing.add(f"consent_{state}")
        if self.interpreter_missing(attendee_ids):
            missing.add("interpreter_missing")
        return missing

    def preparation_codes(self, attendee_ids: set[int]) -> set[str]:
        """What DESIGN asks of a preparation meeting: each attendee's consent to be contacted (and to
        prepare), an interpreter where needed, and no safety pause."""
        missing = {"case_paused"} if self.safety_paused() else set()
        for pid in attendee_ids:
            for scope in (ConsentScope.contact, ConsentScope.preparation):
                state = self.consent_state(pid, scope)
                if state != "active":
                    missing.add(f"consent_{state}")
        if self.interpreter_missing(attendee_ids):
            missing.add("interpreter_missing")
        return missing

    def sessions(self) -> list[CaseSession]:
        return list(
            self.db.exec(select(CaseSession).where(CaseSession.case_id == self.case_id).order_by(col(CaseSession.id)))
        )

    def attendees(self, case_session: CaseSession) -> set[int]:
        return set(
            self.db.exec(
                select(SessionAttendee.participant_id).where(SessionAttendee.session_id == case_session.id)
            ).all()
        )

    def upcoming(self, participant_id: int | None = None) -> list[CaseSession]:
        now = utcnow()
        return [
            s
            for s in self.sessions()
            if s.status in ACTIVE
            and s.ends_at > now
            and (participant_id is None or participant_id in self.attendees(s))
        ]

    def versions(self) -> list[AgreementVersion]:
        return list(
            self.db.exec(
                select(AgreementVersion)
                .join(Agreement, col(Agreement.id) == AgreementVersion.agreement_id)
                .where(Agreement.case_id == self.case_id)
                .order_by(col(AgreementVersion.number))
            ).all()
        )

    def latest_version(self) -> AgreementVersion | None:
        versions = self.versions()
        return versions[-1] if versions else None

    def commitments(self, *, in_force: bool | None = None) -> list[Commitment]:
        query = select(Commitment).where(Commitment.case_id == self.case_id)
        if in_force is not None:
            query = query.where(
                col(Commitment.superseded_at).is_(None) if in_force else col(Commitment.superseded_at).is_not(None)
            )
        return list(self.db.exec(query.order_by(col(Commitment.id))).all())

    def conference_only_with_g1(self) -> None:
        """(1) A conference becomes scheduled (new, moved, or released from hold) only when G1 holds then,
        and no session stays scheduled while the case is under a safety pause (G3: it is held).
        DESIGN's G1 applies "at the moment of scheduling": a screening that lapses later does not unschedule
        a conference, whereas the pauses (G3 here, G2 in `no_session_without_consent`) hold at every step."""
        now, paused, seen = utcnow(), self.safety_paused(), {}
        for case_session in self.sessions():
            status, sequence = SessionStatus(case_session.status), case_session.sequence
            seen[case_session.id] = (status, sequence)
            before = self.seen_sessions.get(case_session.id)  # type: ignore[arg-type]
            became = status == SessionStatus.scheduled and before != (SessionStatus.scheduled, sequence)
            if case_session.kind == SessionKind.conference and became:
                missing = self.g1_codes(self.attendees(case_session))
                assert not missing, f"conference {case_session.id} is scheduled while G1 fails: {sorted(missing)}"
            if status == SessionStatus.scheduled and case_session.ends_at > now:
                assert not paused, f"session {case_session.id} is still scheduled under a safety pause"
        self.seen_sessions = seen  # type: ignore[assignment]

    def no_session_without_consent(self) -> None:
        """(4) Whoever attends an upcoming session still consents to it: a withdrawal cancelled it (G2)."""
        for case_session in self.upcoming():
            scopes = (
                (ConsentScope.conference,)
                if case_session.kind == SessionKind.conference
                else (ConsentScope.contact, ConsentScope.preparation)
            )
            for pid in self.attendees(case_session):
                for scope in scopes:
                    state = self.consent_state(pid, scope)
                    assert state == "active", f"session {case_session.id} is on although {pid}'s {scope} is {state}"

    def signatures_only_on_accepted_text(self) -> None:
        """(2) Every signature is bound to its version's text, which both parties accepted before it."""
        parties = [self.people["survivor"], self.people["responsible"]]
        for version in self.versions():
            signatures = self.db.exec(select(Signature).where(Signature.version_id == version.id)).all()
            if not signatures:
                continue
            assert version.status in (
                VersionStatus.signing,
                VersionStatus.sealed,
                VersionStatus.superseded,
                VersionStatus.changes_requested,
            ), f"signatures on a version that is {version.status}"
            reviews = self.db.exec(select(Review).where(Review.version_id == version.id).order_by(col(Review.id))).all()
            latest = {r.participant_id: r for r in reviews}
            for signature in signatures:
                assert signature.text_sha256 == version.text_sha256, "a signature on text other than its version's"
                for pid in parties:
                    review = latest.get(pid)
                    assert review is not None and review.decision == ReviewDecision.accepted, (
                        f"version {version.number} signed without participant {pid}'s acceptance"
                    )
                    assert review.text_sha256 == signature.text_sha256, "signed text differs from the accepted text"
                    assert review.created_at <= signature.signed_at
            if version.sealed_at is not None:
                keys = {s.signer_key for s in signatures}
                assert keys == {f"participant:{pid}" for pid in parties} | {"facilitator"}, keys

    def sealed_versions_never_change(self) -> None:
        """(3) A sealed version keeps its terms, text, hash, seal time, PDF and signatures; it only ever
        becomes superseded, and only when an amendment of it is sealed."""
        versions = self.versions()
        sealed_now = [v for v in versions if v.status == VersionStatus.sealed]
        assert len(sealed_now) <= 1, "two versions in force"
        for version in versions:
            assert version.text_sha256 == hashlib.sha256(version.canonical_text.encode()).hexdigest()
            if version.sealed_at is None:
                assert version.id not in self.sealed and version.status != VersionStatus.sealed
                continue
            documents = self.db.exec(
                select(AgreementDocument).where(
                    AgreementDocument.version_id == version.id, AgreementDocument.language == "en"
                )
            ).all()
            assert len(documents) == 1, "a sealed version must have exactly one stored record copy"
            snapshot = {
                "number": version.number,
                "terms": _json(version.terms),
                "text": version.canonical_text,
                "sha256": version.text_sha256,
                "sealed_at": version.sealed_at,
                "pdf_sha256": documents[0].sha256,
                "pdf_bytes": hashlib.sha256(documents[0].content).hexdigest(),
                "signatures": sorted(
                    (s.id, s.signer_key, s.text_sha256, s.signed_at)
                    for s in self.db.exec(select(Signature).where(Signature.version_id == version.id))
                ),
            }
            assert snapshot["pdf_sha256"] == snapshot["pdf_bytes"], "the stored PDF does not match its hash"
            kept = self.sealed.setdefault(version.id, snapshot)  # type: ignore[arg-type]
            assert kept == snapshot, f"sealed version {version.number} changed"
            if version.status == VersionStatus.superseded:
                assert any(v.amends_version_id == version.id and v.sealed_at is not None for v in versions), (
                    f"sealed version {version.number} was superseded without a sealed amendment"
                )
            else:
                assert version.status == VersionStatus.sealed, f"sealed version {version.number} is {version.status}"

    def commitments_follow_the_sealed_terms(self) -> None:
        """(5) The commitments in force are exactly those of the current sealed version's terms; the others
        are marked superseded; waivers have the survivor's consent; totals, the case summary and the
        dashboard tallies agree with the entries."""
        current = next((v for v in self.versions() if v.status == VersionStatus.sealed), None)
        in_force = self.commitments(in_force=True)
        if current is None:
            assert not in_force, "commitments in force without a sealed version"
        else:
            expected = sorted(
                (s.term_number, s.sequence, str(s.kind), s.quantity, s.due_on, s.owed_by_id, s.currency)
                for s in commitments_from_terms(_TERMS.validate_python(current.terms))
            )
            actual = sorted(
                (c.term_number, c.sequence, str(c.kind), c.quantity, c.due_on, c.owed_by_id, c.currency)
                for c in in_force
            )
            assert actual == expected, "the commitments in force differ from the sealed terms"
            assert all(c.version_id == current.id for c in in_force)
        for old in self.commitments(in_force=False):
            assert current is not None and old.version_id != current.id, (
                "a commitment of the sealed version is marked replaced"
            )
        for commitment in self.commitments():
            self._check_progress(commitment)
            if commitment.waived_at is not None:
                assert self.db.exec(
                    select(Waiver.id).where(
                        Waiver.commitment_id == commitment.id, Waiver.status == WaiverStatus.consented
                    )
                ).first(), "a commitment was waived without the survivor's consent"
                assert not self._completed_by(commitment, commitment.waived_at), (
                    f"commitment {commitment.id} was waived after it was completed"
                )
        self._check_summaries(in_force)

    def _check_progress(self, commitment: Commitment) -> None:
        entries = self.db.exec(select(ProgressEntry).where(ProgressEntry.commitment_id == commitment.id)).all()
        reversed_ids = {e.reverses_id for e in entries if e.reverses_id is not None}
        counting = sorted(
            (e for e in entries if e.reverses_id is None and e.id not in reversed_ids),
            key=lambda e: (e.occurred_on, e.id),
        )
        total, completed_on = 0, None
        breaches = [e.occurred_on for e in counting if e.kind == ProgressKind.breach_reported]
        if commitment.kind != CommitmentKind.no_contact:
            for entry in counting:
                if entry.kind != ProgressKind.note:
                    total += entry.amount
                    if completed_on is None and total >= commitment.quantity > 0:
                        completed_on = entry.occurred_on
        assert 0 <= total <= commitment.quantity or commitment.kind == CommitmentKind.no_contact
        assert (commitment.progress_total, commitment.completed_on, commitment.breached_on) == (
            total,
            completed_on,
            min(breaches) if breaches else None,
        ), f"commitment {commitment.id}'s summary does not match its entries"

    def _completed_by(self, commitment: Commitment, moment: datetime) -> bool:
        """Whether the progress recorded up to `moment` had completed the commitment (or, for a no-contact
        term, whether its end date had passed): what is completed cannot be waived any more (G6)."""
        if commitment.kind == CommitmentKind.no_contact:
            ended = commitment.due_on is not None and commitment.due_on < local_today(moment, TZ)
            return ended and commitment.breached_on is None
        entries = [
            e
            for e in self.db.exec(select(ProgressEntry).where(ProgressEntry.commitment_id == commitment.id))
            if e.recorded_at <= moment
        ]
        reversed_ids = {e.reverses_id for e in entries if e.reverses_id is not None}
        done = sum(
            e.amount
            for e in entries
            if e.reverses_id is None and e.id not in reversed_ids and e.kind != ProgressKind.note
        )
        return done >= commitment.quantity

    def _check_summaries(self, in_force: list[Commitment]) -> None:
        summary = self.db.get(FollowupSummary, self.case_id)
        open_tasks, standing = 0, None
        tallies: dict[date, list[int]] = {}
        for c in in_force:
            if c.waived_at is not None:
                continue
            if c.kind == CommitmentKind.no_contact:
                if c.breached_on is not None:
                    open_tasks += 1
                elif c.due_on is not None:
                    standing = c.due_on if standing is None else max(standing, c.due_on)
                continue
            open_tasks += c.completed_on is None
            if c.due_on is not None:
                tally = tallies.setdefault(c.due_on, [0, 0, 0])
                tally[0] += 1
                tally[1] += c.completed_on is not None and c.completed_on <= c.due_on
                tally[2] += c.completed_on is None
        if summary is not None or in_force:
            assert summary is not None and (summary.open_tasks, summary.standing_until) == (open_tasks, standing), (
                "the case's follow-up summary disagrees with its commitments"
            )
        rows = self.db.exec(select(DueTally).where(DueTally.program_id == self.world.program_id)).all()
        kept = {r.due_on: [r.due, r.on_time, r.open] for r in rows if (r.due, r.on_time, r.open) != (0, 0, 0)}
        assert kept == tallies, "the dashboard's due-day tallies disagree with the commitments"

    def audit_chain_verifies(self) -> None:
        """(6) The program's audit chain links from its first event to its head."""
        report = verify_chains(self.db, chain_key=self.world.program_id)
        assert report.ok, report.first_break

    def journey_agrees(self) -> None:
        """The case page's journey can always be derived, and it is paused exactly when G2 or G3 says so."""
        journey = case_row(self.db, case=self.case).journey
        if not self.closed():
            assert journey.paused == (self.safety_paused() or self.withdrawn_anyone())
