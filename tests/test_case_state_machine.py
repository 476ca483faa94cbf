"""One case driven through random sequences of everything that can happen to it, through the same service
functions the pages and the API call (with proper Actors): readiness screening, consent and withdrawal,
safety changes, scheduling, drafting, review, signing, amendment and progress.

Rules also try what the gates must refuse. A refusal (an `AppError`) is an answer; any other exception is
a bug. Each rule is one request: it commits when the service returns and rolls back when it refuses.

After every step the invariants are checked against the rows, with this test's own reading of
`../shared/DESIGN.md` rather than the app's rule functions (tests/case_machine_support.py):

1. a conference is scheduled only when G1 holds at that moment, and none stays scheduled through a
   safety pause (G3);
2. a signature is only on the text both parties accepted (G4, G5);
3. a sealed version never changes;
4. no session survives a withdrawal (G2);
5. the commitments in force are those of the current sealed version's terms (G6), and what is kept
   about them (progress totals, waivers, the case summary and the dashboard tallies) agrees;
6. the audit chain verifies, and every write that went through recorded an event.

It is derandomized, so CI runs the same examples every time; a failure prints the shrunk steps and a
`@reproduce_failure` line. MEND_STATE_MACHINE_EXAMPLES and MEND_STATE_MACHINE_STEPS make it longer,
MEND_STATE_MACHINE_RANDOM=1 tries new sequences, MEND_STATE_MACHINE_STATS=1 prints how often each rule
went through or was refused (and why).
"""

import os
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from app.actor import Actor
from app.agreements import commitment_service
from app.agreements import service as agreements
from app.agreements.commitment_rules import local_today
from app.agreements.commitment_schemas import ClosureCreate, ProgressCreate, WaiverCreate
from app.agreements.models import (
    AgreementVersion,
    CommitmentKind,
    ProgressEntry,
    ProgressKind,
    Review,
    ReviewDecision,
    Signature,
    VersionStatus,
    Waiver,
    WaiverStatus,
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
    text_sections,
)
from app.audit.models import AuditEvent
from app.auth.models import User, UserRole
from app.auth.service import actor_for
from app.conferences import preparation, scheduling
from app.conferences.models import (
    AcknowledgementMethod,
    Case,
    ClosureReason,
    Participant,
    ParticipantRole,
    Screening,
    SessionAttendee,
    SessionKind,
    SessionStatus,
)
from app.conferences.schemas import ParticipantCreate, ParticipantUpdate
from app.conferences.service import add_participant, update_participant
from app.db import utcnow
from app.errors import AppError, Conflict, NotFound, PermissionDenied
from app.i18n import language_for
from app.portal import agreement_service as portal_agreements
from app.portal.agreement_schemas import PortalDecline, PortalReview, PortalSign
from app.portal.schemas import PortalConsentGive, PortalConsentWithdraw
from app.portal.service import give_portal_consent, portal_actor, withdraw_portal_consent
from app.safety import consent
from app.safety import service as safety
from app.safety.models import (
    ConsentMethod,
    ConsentScope,
    RiskLevel,
    SafetyConcern,
    SessionMode,
)
from app.safety.schemas import SafetyPlanCreate
from app.safety.sheets import CURRENT_VERSION
from tests.case_machine_support import ACTIVE, PARTICIPATION, TZ, CaseRecords, World
from tests.conferences.test_screening_rules import RESPONSIBLE_READY, SURVIVOR_READY
from tests.factories import make_case, make_participant, make_program, make_user

EXAMPLES = int(os.environ.get("MEND_STATE_MACHINE_EXAMPLES", "10"))
STEPS = int(os.environ.get("MEND_STATE_MACHINE_STEPS", "40"))
NOWHERE = 2**31 - 1  # an id no participant has

# The codes of G1's conditions (DESIGN: "a refused request says every unmet condition, each with a stable
# code"); the other codes a scheduling refusal may carry are about rooms, modes and double bookings.
G1_CODES = frozenset(
    {
        "case_paused",
        "survivor_missing",
        "responsible_party_missing",
        "screening_missing",
        "screening_expired",
        "not_ready",
        "acknowledgement_missing",
        "safety_assessment_missing",
        "risk_critical",
        "safety_plan_missing",
        "consent_missing",
        "consent_withdrawn",
        "interpreter_missing",
    }
)
PREPARATION_CODES = frozenset({"case_paused", "consent_missing", "consent_withdrawn", "interpreter_missing"})

# Risk factors chosen for the level they give: 0 → low, 4 → medium, 7 → high, a critical factor → critical.
FACTORS = {
    RiskLevel.low: [],
    RiskLevel.medium: ["isolation", "no_safe_housing"],
    RiskLevel.high: ["recent_threats", "debt_bondage"],
    RiskLevel.critical: ["imminent_danger"],
}

# Answers that make each instrument suggest an outcome, and those a "ready" override may not overrule.
ANSWERS = {
    ParticipantRole.survivor: {
        "ready": SURVIVOR_READY,
        "not_yet": SURVIVOR_READY | {"current_crisis": "yes"},
        "not_suitable": SURVIVOR_READY | {"trafficker_contact": "under_control"},
        "coerced": SURVIVOR_READY | {"coerced": "yes"},
    },
    ParticipantRole.responsible_party: {
        "ready": RESPONSIBLE_READY,
        "not_yet": RESPONSIBLE_READY | {"minimising": "persistently"},
        "not_suitable": RESPONSIBLE_READY | {"blames_survivor": "yes"},
        "coerced": RESPONSIBLE_READY | {"coerced": "yes"},
    },
}

PEOPLE = st.sampled_from(["survivor", "responsible", "supporter", "interpreter"])
PARTIES = st.sampled_from(["survivor", "responsible"])
WRITERS = st.sampled_from(["facilitator", "facilitator", "admin", "staff"])
INDEX = st.integers(min_value=0, max_value=7)

TERM_SPECS = st.one_of(
    st.tuples(
        st.just("apology"),
        st.sampled_from(["spoken", "written", "letter_through_program"]),
        st.sampled_from([None, -10, 20]),
    ),
    st.tuples(st.just("restitution"), st.sampled_from([5_000, 30_001]), st.integers(1, 3), st.sampled_from([-40, 10])),
    st.tuples(st.just("hours"), st.sampled_from([2, 10]), st.sampled_from([-5, 30, 200])),
    st.tuples(st.just("attendance"), st.integers(1, 3), st.sampled_from([15, 120])),
    st.tuples(st.just("no_contact"), st.sampled_from([None, -1, 365])),
    st.tuples(st.just("other"), st.sampled_from([-2, 45])),
)
TERMS = st.lists(TERM_SPECS, min_size=1, max_size=3)
OWERS = st.sampled_from(["responsible", "responsible", "responsible", "survivor", "outsider"])

STARTS = ("referral", "scheduled", "held", "in_review", "sealed")
HAPPY_TERMS = [("apology", "written", 20), ("restitution", 30_001, 3, -40), ("no_contact", None)]
STATS: Counter = Counter()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    value: Any = None
    error: AppError | None = None

    @property
    def codes(self) -> set[str]:
        return {c.code for c in self.error.conditions} if self.error else set()


class CaseMachine(CaseRecords, RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        world = self.world
        self.savepoint = world.connection.begin_nested()
        self.db = Session(bind=world.connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        facilitator = self.db.get(User, world.facilitator_id)
        assert facilitator is not None
        case = make_case(self.db, facilitator)
        self.case_id: int = case.id  # type: ignore[assignment]
        self.people: dict[str, int] = {
            "survivor": make_participant(self.db, facilitator, case, ParticipantRole.survivor).id,  # type: ignore[dict-item]
            "responsible": make_participant(self.db, facilitator, case, ParticipantRole.responsible_party).id,  # type: ignore[dict-item]
        }
        self.db.commit()
        self.day = 0  # sessions go on distinct future days, so no double booking hides a gate
        self.seen_sessions: dict[int, tuple[str, int]] = {}
        self.sealed: dict[int, dict[str, Any]] = {}

    def teardown(self) -> None:
        self.db.close()
        if self.savepoint.is_active:
            self.savepoint.rollback()

    # --- plumbing ---------------------------------------------------------------------------------

    @property
    def case(self) -> Case:
        case = self.db.get(Case, self.case_id)
        assert case is not None
        return case

    def actor(self, who: str) -> Actor:
        user_id = {"facilitator": self.world.facilitator_id, "admin": self.world.admin_id}.get(who, self.world.staff_id)
        user = self.db.get(User, user_id)
        assert user is not None
        return actor_for(user)

    def person(self, who: str) -> Participant | None:
        pid = self.people.get(who)
        return self.db.get(Participant, pid) if pid is not None else None

    def portal(self, who: str) -> Actor:
        person = self.person(who)
        assert person is not None
        return portal_actor(person)

    def events(self) -> int:
        return self.db.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.chain_key == self.world.program_id)
        ).one()

    def attempt(self, call: Callable[[], Any]) -> Outcome:
        """One request: commit what the service did, or roll all of it back when it refuses."""
        before, step = self.events(), sys._getframe(1).f_code.co_name  # the rule, for --hypothesis-show-statistics
        try:
            value = call()
        except AppError as error:
            self.db.rollback()
            assert self.events() == before, "a refused request left audit events behind"
            event(f"{step}: refused ({type(error).__name__})")
            STATS[f"{step}: refused {sorted(c.code for c in error.conditions)}"] += 1
            return Outcome(False, error=error)
        self.db.commit()
        self.db.expire_all()  # what follows reads the rows as stored, not the objects the service held
        assert self.events() > before, "a write went through without an audit event"
        event(f"{step}: done")
        STATS[f"{step}: done"] += 1
        return Outcome(True, value)

    def today(self) -> date:
        return local_today(utcnow(), TZ)

    def next_day(self) -> date:
        self.day += 1
        return self.today() + timedelta(days=7 + 2 * self.day)

    def pick(self, items: list[Any], index: int) -> Any:
        return items[index % len(items)] if items else None

    # --- set-up -----------------------------------------------------------------------------------

    @initialize(plan_at_medium=st.booleans(), start=st.sampled_from((*STARTS, "sealed")))
    def choose_program_and_start(self, plan_at_medium: bool, start: str) -> None:
        """Examples start at different points of the journey, reached by the same service calls as
        `advance`, so that the later steps (conference, agreement, monitoring) are reached often
        within the step budget; "sealed" twice as often, as monitoring needs a sealed version."""
        program = self.program
        program.safety_plan_required_at_medium = plan_at_medium
        self.db.add(program)
        self.db.commit()
        for _ in range(20):  # the longest way, to a sealed version, takes about a dozen steps
            if self.stage() == start or not self.next_step():
                break

    def stage(self) -> str:
        """Where the case is, read from the rows: the furthest of the start points it has reached."""
        version = self.latest_version()
        if version is not None and version.status in (VersionStatus.sealed, VersionStatus.in_review):
            return str(version.status)
        conferences = {s.status for s in self.sessions() if s.kind == SessionKind.conference}
        if SessionStatus.held in conferences:
            return "held"
        return "scheduled" if SessionStatus.scheduled in conferences else "referral"

    def next_step(self) -> bool:
        """One step along the journey, as a facilitator would take it next; False when there is none."""
        if self.closed():
            return False
        conferences = [s for s in self.sessions() if s.kind == SessionKind.conference]
        if not any(s.status == SessionStatus.held for s in conferences):
            scheduled = [s for s in conferences if s.status == SessionStatus.scheduled]
            if scheduled:
                self.conference_takes_place(self.sessions().index(scheduled[0]), wait=True)
            else:
                self.make_ready()
                self.schedule_conference(True, True, SessionMode.video, False, "facilitator")
            return True
        version = self.latest_version()
        status = VersionStatus(version.status) if version else None
        if status in (None, VersionStatus.changes_requested, VersionStatus.superseded):
            self.save_draft(HAPPY_TERMS, "responsible", stale=False)
        elif status == VersionStatus.draft:
            self.send_for_review(previous=False)
        elif status == VersionStatus.in_review:
            accepted = {r.participant_id for r in self.db.exec(select(Review).where(Review.version_id == version.id))}  # type: ignore[union-attr]
            who = "survivor" if self.people["survivor"] not in accepted else "responsible"
            self.review(who, ReviewDecision.accepted, in_portal=True, stale=False, previous=False)
        elif status == VersionStatus.accepted:
            self.send_for_signature(previous=False)
        elif status == VersionStatus.signing:
            signed = {s.signer_key for s in self.db.exec(select(Signature).where(Signature.version_id == version.id))}  # type: ignore[union-attr]
            who = next(
                (w for w in ("survivor", "responsible") if f"participant:{self.people[w]}" not in signed), "facilitator"
            )
            self.sign(who, in_portal=True, stale=False, previous=False)
        elif not any(v.amends_version_id for v in self.versions()):
            self.start_amendment(HAPPY_TERMS[1:], "responsible", "The payment dates move.")
        else:
            open_ones = [c for c in self.commitments(in_force=True) if c.completed_on is None and c.waived_at is None]
            if not open_ones:
                return False
            self.record_progress(0, False, "expected", "rest", 0, "facilitator")
        return True

    @rule()
    def advance(self) -> None:
        """The next step of the journey (a rule under two names, so that random runs get somewhere)."""
        self.next_step()

    @rule()
    def advance_again(self) -> None:
        self.next_step()

    # --- participants -----------------------------------------------------------------------------

    @precondition(lambda self: "supporter" not in self.people or "interpreter" not in self.people)
    @rule(role=st.sampled_from([ParticipantRole.supporter, ParticipantRole.interpreter]))
    def add_participant(self, role: ParticipantRole) -> None:
        who = "supporter" if role == ParticipantRole.supporter else "interpreter"
        if who in self.people:
            return
        data = ParticipantCreate(role=role, display_name="Sam" if who == "supporter" else "Ines")
        outcome = self.attempt(
            lambda: add_participant(self.db, actor=self.actor("facilitator"), case=self.case, data=data)
        )
        assert outcome.ok
        self.people[who] = outcome.value.id

    @rule(who=st.sampled_from(["survivor", "responsible", "supporter"]), needed=st.booleans())
    def set_interpreter_needed(self, who: str, needed: bool) -> None:
        person = self.person(who)
        if person is None:
            return
        data = ParticipantUpdate(interpreter_needed=needed)
        assert self.attempt(
            lambda: update_participant(self.db, actor=self.actor("facilitator"), participant=person, data=data)
        ).ok

    # --- readiness screening and acknowledgement -------------------------------------------------

    @rule(
        who=PARTIES,
        answers=st.sampled_from(["ready", "ready", "not_yet", "not_suitable", "coerced"]),
        override_to_ready=st.booleans(),
        by=WRITERS,
    )
    def screen(self, who: str, answers: str, override_to_ready: bool, by: str) -> None:
        person = self.person(who)
        assert person is not None
        role = ParticipantRole(person.role)
        chosen = "ready" if override_to_ready else None
        outcome = self.attempt(
            lambda: preparation.record_screening(
                self.db,
                actor=self.actor(by),
                participant=person,
                answers=ANSWERS[role][answers],
                outcome=chosen,  # type: ignore[arg-type]
                override_reason="Discussed at length; the concern is resolved." if chosen else None,
                rationale="Screened in a private room.",
            )
        )
        if by == "staff":
            assert isinstance(outcome.error, PermissionDenied)
            return
        if answers == "coerced" and override_to_ready:
            assert isinstance(outcome.error, Conflict), "a hard rule must forbid 'ready', even by override"
            return
        assert outcome.ok, outcome.error
        expected = "ready" if override_to_ready else {"coerced": "not_yet"}.get(answers, answers)
        assert outcome.value.outcome == expected

    @rule(who=st.sampled_from(["survivor", "responsible", "responsible"]))
    def acknowledge(self, who: str) -> None:
        person = self.person(who)
        assert person is not None
        outcome = self.attempt(
            lambda: preparation.record_acknowledgement(
                self.db,
                actor=self.actor("facilitator"),
                participant=person,
                wording="I kept her passport and did not pay her.",
                method=AcknowledgementMethod.in_person,
                acknowledged_at=utcnow() - timedelta(minutes=5),
            )
        )
        assert outcome.ok == (who == "responsible")

    @rule(who=PARTIES)
    def time_passes_past_screening_validity(self, who: str) -> None:
        """Time passes: every screening of this person is now older than the program's validity window."""
        gap = timedelta(days=self.program.screening_validity_days + 1)
        for screening in self.db.exec(select(Screening).where(Screening.participant_id == self.people[who])).all():
            screening.completed_at = screening.completed_at - gap
            self.db.add(screening)
        self.db.commit()

    # --- consent (G2) ------------------------------------------------------------------------------

    @rule(
        who=PEOPLE,
        scope=st.sampled_from(list(ConsentScope)),
        in_portal=st.booleans(),
        confirmed=st.sampled_from([True, True, False]),
    )
    def give_consent(self, who: str, scope: ConsentScope, in_portal: bool, confirmed: bool = True) -> None:
        person = self.person(who)
        if person is None:
            return
        before = self.consent_state(person.id, scope)  # type: ignore[arg-type]
        if in_portal and who in ("survivor", "responsible"):
            outcome = self.attempt(
                lambda: give_portal_consent(
                    self.db,
                    actor=self.portal(who),
                    participant=person,
                    scope=scope,
                    data=PortalConsentGive(confirmed=confirmed),
                )
            )
            if not confirmed:  # a yes in the portal is never one tap: nothing is recorded without confirming
                assert not outcome.ok
                assert self.consent_state(person.id, scope) == before  # type: ignore[arg-type]
                return
        else:
            outcome = self.attempt(
                lambda: consent.give_consent(
                    self.db,
                    actor=self.actor("facilitator"),
                    participant=person,
                    scope=scope,
                    sheet_version=CURRENT_VERSION,
                    sheet_language="en",
                    method=ConsentMethod.in_person,
                )
            )
        assert outcome.ok == (before != "active"), (before, outcome.error)
        assert self.consent_state(person.id, scope) == "active"  # type: ignore[arg-type]

    @rule(who=PEOPLE, scope=st.sampled_from(list(ConsentScope)), in_portal=st.booleans())
    def withdraw_consent(self, who: str, scope: ConsentScope, in_portal: bool) -> None:
        person = self.person(who)
        if person is None:
            return
        before = self.consent_state(person.id, scope)  # type: ignore[arg-type]
        if in_portal and who in ("survivor", "responsible"):
            outcome = self.attempt(
                lambda: withdraw_portal_consent(
                    self.db,
                    actor=self.portal(who),
                    participant=person,
                    scope=scope,
                    data=PortalConsentWithdraw(reason="I need time."),
                )
            )
        else:
            outcome = self.attempt(
                lambda: consent.withdraw_consent(
                    self.db, actor=self.actor("facilitator"), participant=person, scope=scope, reason="Asked to stop."
                )
            )
        assert outcome.ok == (before == "active"), (before, outcome.error)
        if outcome.ok and scope in PARTICIPATION:
            # Invariant 4 (G2), at the moment it applies: nothing this person attends is still on.
            left = self.upcoming(person.id)
            assert not left, f"sessions {[s.id for s in left]} survived {who}'s withdrawal of {scope}"
            for case_session in self.sessions():
                if person.id in self.attendees(case_session) and case_session.status == SessionStatus.cancelled:
                    assert case_session.status_reason, "a cancellation without its reason"

    # --- safety (G3) -------------------------------------------------------------------------------

    @rule(level=st.sampled_from(list(RiskLevel)), by=WRITERS)
    def assess_safety(self, level: RiskLevel, by: str) -> None:
        survivor = self.person("survivor")
        outcome = self.attempt(
            lambda: safety.assess_safety(
                self.db, actor=self.actor(by), case=self.case, participant=survivor, factors=FACTORS[level]
            )
        )
        assert outcome.ok == (by != "staff"), outcome.error
        if outcome.ok:
            assert outcome.value.level == level

    @rule(mode=st.sampled_from([SessionMode.in_person, SessionMode.video]), separate=st.booleans())
    def save_safety_plan(self, mode: SessionMode, separate: bool) -> None:
        data = SafetyPlanCreate(
            staggered_arrival=True,
            arrival_gap_minutes=15,
            departure_gap_minutes=15,
            separate_waiting_rooms=separate,
            preferred_mode=mode,
        )
        assert self.attempt(
            lambda: safety.save_safety_plan(self.db, actor=self.actor("facilitator"), case=self.case, data=data)
        ).ok

    @rule(urgent=st.booleans())
    def raise_concern(self, urgent: bool) -> None:
        assert self.attempt(
            lambda: safety.raise_concern(
                self.db,
                actor=self.actor("facilitator"),
                case=self.case,
                description="A stranger asked for her at the shelter.",
                urgent=urgent,
            )
        ).ok

    @rule(index=INDEX)
    def review_concern(self, index: int) -> None:
        concern = self.pick(
            list(self.db.exec(select(SafetyConcern).where(SafetyConcern.case_id == self.case_id))), index
        )
        if concern is None:
            return
        reviewed = concern.reviewed_at is not None
        outcome = self.attempt(
            lambda: safety.review_concern(self.db, actor=self.actor("facilitator"), concern=concern, note="Checked.")
        )
        assert outcome.ok != reviewed

    # --- a shortcut to readiness, made of the same service calls -----------------------------------

    @rule()
    def make_ready(self) -> None:
        """Everything G1 asks for, one request at a time, as a facilitator would do it on the pages."""
        facilitator = self.actor("facilitator")
        for who in ("survivor", "responsible"):
            person = self.person(who)
            assert person is not None
            self.attempt(
                lambda person=person: preparation.record_screening(  # type: ignore[misc]
                    self.db,
                    actor=facilitator,
                    participant=person,
                    answers=ANSWERS[ParticipantRole(person.role)]["ready"],
                    outcome=None,
                    override_reason=None,
                    rationale="Ready.",
                )
            )
        self.acknowledge("responsible")
        for concern in self.db.exec(
            select(SafetyConcern).where(SafetyConcern.case_id == self.case_id, col(SafetyConcern.reviewed_at).is_(None))
        ).all():
            self.attempt(
                lambda concern=concern: safety.review_concern(
                    self.db, actor=facilitator, concern=concern, note="Resolved."
                )
            )  # type: ignore[misc]
        self.assess_safety(RiskLevel.low, "facilitator")
        for who in self.people:
            person = self.person(who)
            for scope in PARTICIPATION:
                if self.consent_state(person.id, scope) != "active":  # type: ignore[union-attr,arg-type]
                    self.give_consent(who, scope, in_portal=False)
            if person.interpreter_needed and "interpreter" not in self.people:  # type: ignore[union-attr]
                self.set_interpreter_needed(who, False)
        self.db.commit()
        assert self.g1_codes(set(self.people.values())) == set()

    # --- scheduling (G1) ---------------------------------------------------------------------------

    def plan(self, kind: SessionKind, attendees: set[int], mode: SessionMode, same_rooms: bool = False):  # type: ignore[no-untyped-def]
        return scheduling.SessionPlan(
            kind=kind,
            mode=mode,
            day=self.next_day(),
            start=time(10),
            end=time(12),
            attendee_ids=frozenset(attendees),
            location="Community centre",
            room="Room 2",
            survivor_waiting_room="Blue room",
            responsible_waiting_room="Blue room" if same_rooms else "Green room",
        )

    @rule(
        with_supporter=st.booleans(),
        with_interpreter=st.booleans(),
        mode=st.sampled_from([SessionMode.in_person, SessionMode.video, SessionMode.shuttle]),
        same_rooms=st.booleans(),
        by=WRITERS,
    )
    def schedule_conference(
        self, with_supporter: bool, with_interpreter: bool, mode: SessionMode, same_rooms: bool, by: str
    ) -> None:
        attendees = {self.people["survivor"], self.people["responsible"]}
        for who, wanted in (("supporter", with_supporter), ("interpreter", with_interpreter)):
            if wanted and who in self.people:
                attendees.add(self.people[who])
        expected, closed = self.g1_codes(attendees), self.closed()
        plan = self.plan(SessionKind.conference, attendees, mode, same_rooms)
        outcome = self.attempt(
            lambda: scheduling.schedule_session(self.db, actor=self.actor(by), case=self.case, plan=plan)
        )
        if by == "staff":
            assert isinstance(outcome.error, PermissionDenied)
            return
        if closed:
            assert outcome.codes == {"case_closed"}, "a conference was scheduled in a closed case"
            return
        if expected:
            assert not outcome.ok, f"the conference was scheduled although G1 fails: {sorted(expected)}"
        if not outcome.ok:
            assert isinstance(outcome.error, Conflict), outcome.error
            assert outcome.codes & G1_CODES == expected, (sorted(outcome.codes), sorted(expected))

    @rule(
        who=st.sampled_from(["survivor", "responsible", "supporter", "both"]),
        with_interpreter=st.booleans(),
        mode=st.sampled_from([SessionMode.video, SessionMode.in_person]),
    )
    def schedule_preparation(self, who: str, with_interpreter: bool, mode: SessionMode) -> None:
        names = ["survivor", "responsible"] if who == "both" else [who]
        if with_interpreter:
            names.append("interpreter")
        if any(name not in self.people for name in names):
            return
        attendees = {self.people[name] for name in names}
        expected = self.preparation_codes(attendees) | ({"preparation_one_party"} if who == "both" else set())
        closed = self.closed()
        outcome = self.attempt(
            lambda: scheduling.schedule_session(
                self.db,
                actor=self.actor("facilitator"),
                case=self.case,
                plan=self.plan(SessionKind.preparation, attendees, mode),
            )
        )
        if closed:
            assert outcome.codes == {"case_closed"}, "a preparation meeting was scheduled in a closed case"
            return
        if expected:
            assert not outcome.ok, f"a preparation meeting was scheduled although {sorted(expected)}"
        if not outcome.ok:
            assert isinstance(outcome.error, Conflict), outcome.error
            assert outcome.codes & (PREPARATION_CODES | {"preparation_one_party"}) == expected, (
                sorted(outcome.codes),
                sorted(expected),
            )

    @rule(index=INDEX, mode=st.sampled_from([SessionMode.video, SessionMode.in_person]))
    def reschedule(self, index: int, mode: SessionMode) -> None:
        case_session = self.pick(self.sessions(), index)
        if case_session is None:
            return
        attendees = self.attendees(case_session)
        was_active, closed = case_session.status in ACTIVE, self.closed()
        plan = self.plan(SessionKind(case_session.kind), attendees, mode)
        outcome = self.attempt(
            lambda: scheduling.reschedule_session(
                self.db, actor=self.actor("facilitator"), case=self.case, case_session=case_session, plan=plan
            )
        )
        if not was_active or closed:
            assert not outcome.ok, "a cancelled or held session was moved, or one in a closed case"

    @rule(index=INDEX)
    def cancel(self, index: int) -> None:
        case_session = self.pick(self.sessions(), index)
        if case_session is None:
            return
        was_active = case_session.status in ACTIVE
        outcome = self.attempt(
            lambda: scheduling.cancel_session(
                self.db, actor=self.actor("facilitator"), case_session=case_session, reason="Room unavailable."
            )
        )
        assert outcome.ok == was_active

    @rule(index=INDEX, wait=st.booleans())
    def conference_takes_place(self, index: int, wait: bool) -> None:
        """Time passes until a session has started (its times move into the past), then it is marked held.
        Without waiting, marking a future session held must be refused."""
        case_session = self.pick(self.sessions(), index)
        if case_session is None:
            return
        if wait and case_session.status == SessionStatus.scheduled:
            shift = case_session.starts_at - (utcnow() - timedelta(hours=3))
            case_session.starts_at, case_session.ends_at = case_session.starts_at - shift, case_session.ends_at - shift
            for attendee in self.db.exec(
                select(SessionAttendee).where(SessionAttendee.session_id == case_session.id)
            ).all():
                attendee.arrives_at, attendee.leaves_at = attendee.arrives_at - shift, attendee.leaves_at - shift
                self.db.add(attendee)
            self.db.add(case_session)
            self.db.commit()
        started = case_session.starts_at <= utcnow()
        status = case_session.status
        outcome = self.attempt(
            lambda: scheduling.mark_session_held(
                self.db, actor=self.actor("facilitator"), case_session=case_session, outcome_note="Apology given."
            )
        )
        assert outcome.ok == (started and status == SessionStatus.scheduled), outcome.error

    # --- drafting, review, signing (G4, G5) --------------------------------------------------------

    def terms(self, specs: list[tuple], owed_by: str, translated: bool = True) -> list[Term]:  # type: ignore[type-arg]
        """The terms of a draft; `translated` gives the Spanish wording of what a person wrote in them."""
        owner = NOWHERE if owed_by == "outsider" else self.people[owed_by]
        spanish = {"translated_by": "Inés Intérprete"}
        today, terms = self.today(), []
        for spec in specs:
            kind, *args = spec
            if kind == "apology":
                form, offset = args
                due = None if offset is None else today + timedelta(days=offset)
                terms.append(ApologyTerm(owed_by=owner, form=form, due_date=due))
            elif kind == "restitution":
                total, count, offset = args
                parts = [total // count + (1 if i < total % count else 0) for i in range(count)]
                instalments = [
                    Instalment(due_date=today + timedelta(days=offset + 30 * i), amount_cents=amount)
                    for i, amount in enumerate(parts)
                ]
                terms.append(
                    RestitutionTerm(owed_by=owner, currency="EUR", amount_cents=total, instalments=instalments)
                )
            elif kind == "hours":
                hours, offset = args
                terms.append(ServiceHoursTerm(owed_by=owner, hours=hours, deadline=today + timedelta(days=offset)))
            elif kind == "attendance":
                sessions, offset = args
                terms.append(
                    ProgramAttendanceTerm(
                        owed_by=owner,
                        program_name="Thinking Skills",
                        sessions=sessions,
                        deadline=today + timedelta(days=offset),
                        translations={"es": spanish | {"program_name": "Pensar mejor"}} if translated else {},
                    )
                )
            elif kind == "no_contact":
                (offset,) = args
                terms.append(
                    NoContactTerm(owed_by=owner, end_date=None if offset is None else today + timedelta(days=offset))
                )
            else:
                (offset,) = args
                terms.append(
                    OtherTerm(
                        owed_by=owner,
                        text="Return her documents.",
                        due_date=today + timedelta(days=offset),
                        translations={"es": spanish | {"text": "Devolver sus documentos."}} if translated else {},
                    )
                )
        return terms

    @rule(specs=TERMS, owed_by=OWERS, stale=st.booleans(), translated=st.booleans())
    def save_draft(self, specs: list[tuple], owed_by: str, stale: bool, translated: bool = True) -> None:  # type: ignore[type-arg]
        latest = self.latest_version()
        based_on = latest.number if latest else None
        if stale:  # the editor started from a version that is no longer the newest (or from nothing)
            based_on = 1 if latest is None else (None if latest.number == 1 else latest.number - 1)
        terms = self.terms(specs, owed_by, translated)
        before, closed = self.versions(), self.closed()
        outcome = self.attempt(
            lambda: agreements.save_draft(
                self.db, actor=self.actor("facilitator"), case=self.case, terms=terms, based_on=based_on
            )
        )
        # Nobody, or the survivor owing what only the responsible party can owe (she may owe another task).
        unowed = owed_by == "outsider" or (owed_by == "survivor" and any(spec[0] != "other" for spec in specs))
        if closed or stale or unowed or (latest is not None and latest.status == VersionStatus.sealed):
            assert not outcome.ok, "a stale, sealed or unowed draft was saved, or one in a closed case"
        if outcome.ok:  # the text holds English and each reader's language its terms are translated into
            sections = set(text_sections(outcome.value.canonical_text))
            assert sections == {"en"} | (self.readers() if translated else set()) or not translated, sections
        if not outcome.ok:
            assert [(v.id, v.status) for v in self.versions()] == [(v.id, v.status) for v in before]

    @rule(specs=TERMS, owed_by=OWERS, note=st.sampled_from(["", "The payment dates move."]))
    def start_amendment(self, specs: list[tuple], owed_by: str, note: str) -> None:  # type: ignore[type-arg]
        latest = self.latest_version()
        if latest is None:
            return
        terms, closed = self.terms(specs, owed_by), self.closed()
        outcome = self.attempt(
            lambda: agreements.start_amendment(
                self.db,
                actor=self.actor("facilitator"),
                case=self.case,
                terms=terms,
                change_note=note,
                based_on=latest.number,
            )
        )
        unowed = owed_by == "outsider" or (owed_by == "survivor" and any(spec[0] != "other" for spec in specs))
        if closed or latest.status != VersionStatus.sealed or not note or unowed:
            assert not outcome.ok

    @rule(previous=st.booleans())
    def send_for_review(self, previous: bool) -> None:
        versions = self.versions()
        if not versions:
            return
        version = versions[-2] if previous and len(versions) > 1 else versions[-1]
        status, closed = version.status, self.closed()
        outcome = self.attempt(
            lambda: agreements.send_for_review(
                self.db, actor=self.actor("facilitator"), case=self.case, version=version
            )
        )
        readable = self.readable(version)
        assert outcome.ok == (status == VersionStatus.draft and not closed and readable), (status, outcome.error)
        if status == VersionStatus.draft and not closed and not readable:
            assert outcome.codes == {"translation_missing"}, outcome.codes

    def readers(self) -> set[str]:
        """The languages the case's participants read (where Mend has a catalog)."""
        people = self.db.exec(select(Participant).where(Participant.case_id == self.case_id)).all()
        return {language_for(p.preferred_language) for p in people}

    def readable(self, version: AgreementVersion) -> bool:
        """Every participant can read this version's text in their own language."""
        return self.readers() <= set(text_sections(version.canonical_text))

    @rule(who=PARTIES, language=st.sampled_from(["es", "es-MX", "en"]))
    def read_in(self, who: str, language: str) -> None:
        """A party's language becomes known, or changes (through the interpreter)."""
        person = self.person(who)
        assert person is not None
        person.preferred_language = language
        self.db.add(person)
        self.db.commit()

    @rule(
        who=PARTIES,
        decision=st.sampled_from([ReviewDecision.accepted, ReviewDecision.accepted, ReviewDecision.changes_requested]),
        in_portal=st.booleans(),
        stale=st.booleans(),
        previous=st.booleans(),
    )
    def review(self, who: str, decision: ReviewDecision, in_portal: bool, stale: bool, previous: bool) -> None:
        versions = self.versions()
        if not versions:
            return
        version = versions[-2] if previous and len(versions) > 1 else versions[-1]
        shown = versions[0].text_sha256 if stale else version.text_sha256
        person = self.person(who)
        comment = "Please change the dates." if decision == ReviewDecision.changes_requested else ""
        status, closed = version.status, self.closed()
        if in_portal:
            data = PortalReview(version_id=version.id, decision=decision, text_sha256=shown, comment=comment)
            call = lambda: portal_agreements.review_own_agreement(  # noqa: E731
                self.db, actor=self.portal(who), participant=person, data=data
            )
        else:
            call = lambda: agreements.record_review(  # noqa: E731
                self.db,
                actor=self.actor("facilitator"),
                case=self.case,
                version=version,
                participant=person,
                decision=decision,
                text_sha256=shown,
                comment=comment,
            )
        outcome = self.attempt(call)
        if closed or status != VersionStatus.in_review or shown != version.text_sha256:
            assert not outcome.ok, "a review was recorded for a version not in review, for other text, or when closed"

    @rule(previous=st.booleans())
    def send_for_signature(self, previous: bool) -> None:
        versions = self.versions()
        if not versions:
            return
        version = versions[-2] if previous and len(versions) > 1 else versions[-1]
        status, closed = version.status, self.closed()
        outcome = self.attempt(
            lambda: agreements.send_for_signature(
                self.db, actor=self.actor("facilitator"), case=self.case, version=version
            )
        )
        readable = self.readable(version)
        assert outcome.ok == (status == VersionStatus.accepted and not closed and readable), (status, outcome.error)

    @rule(
        who=st.sampled_from(["survivor", "responsible", "facilitator", "admin"]),
        in_portal=st.booleans(),
        stale=st.booleans(),
        previous=st.booleans(),
    )
    def sign(self, who: str, in_portal: bool, stale: bool, previous: bool) -> None:
        versions = self.versions()
        if not versions:
            return
        version = versions[-2] if previous and len(versions) > 1 else versions[-1]
        shown = versions[0].text_sha256 if stale else version.text_sha256
        status, closed = version.status, self.closed()
        if who in ("survivor", "responsible") and in_portal:
            data = PortalSign(version_id=version.id, text_sha256=shown, typed_name="Rosa Doe", intent_confirmed=True)
            call = lambda: portal_agreements.sign_own_agreement(  # noqa: E731
                self.db,
                actor=self.portal(who),
                participant=self.person(who),
                data=data,
                ip_address="198.51.100.7",
                user_agent="Phone",
            )
        else:
            call = lambda: agreements.sign_version(  # noqa: E731
                self.db,
                actor=self.actor("facilitator" if who == "survivor" or who == "responsible" else who),
                case=self.case,
                version=version,
                participant=self.person(who) if who in ("survivor", "responsible") else None,
                text_sha256=shown,
                typed_name="Typed Name",
                intent_confirmed=True,
                ip_address="198.51.100.8",
                user_agent="Desk",
            )
        outcome = self.attempt(call)
        if closed or status != VersionStatus.signing or shown != version.text_sha256:
            assert not outcome.ok, "a signature on a version not open for signature, on other text, or in a closed case"

    @rule(who=st.sampled_from(["survivor", "responsible", "facilitator"]), in_portal=st.booleans())
    def decline(self, who: str, in_portal: bool) -> None:
        version = self.latest_version()
        if version is None:
            return
        status = version.status
        person = self.person(who) if who != "facilitator" else None
        if person is not None and in_portal:
            call = lambda: portal_agreements.decline_own_agreement(  # noqa: E731
                self.db, actor=self.portal(who), participant=person, data=PortalDecline(reason="Not fair to me.")
            )
        else:
            call = lambda: agreements.decline_to_sign(  # noqa: E731
                self.db,
                actor=self.actor("facilitator"),
                case=self.case,
                version=version,
                reason="Not fair to me.",
                participant=person,
            )
        outcome = self.attempt(call)
        assert outcome.ok == (status == VersionStatus.signing), (status, outcome.error)

    # --- monitoring (G6) ---------------------------------------------------------------------------

    @rule(
        index=INDEX,
        superseded=st.booleans(),
        kind=st.sampled_from(["expected", "expected", "expected", "note", "wrong"]),
        amount=st.sampled_from(["rest", "part", "part", "over"]),
        when=st.sampled_from([0, -3, -3, 1]),
        by=st.sampled_from(["facilitator", "staff"]),
    )
    def record_progress(self, index: int, superseded: bool, kind: str, amount: str, when: int, by: str) -> None:
        commitment = self.pick(
            (superseded and self.commitments(in_force=False)) or self.commitments(in_force=True), index
        )
        if commitment is None:
            return
        superseded = commitment.superseded_at is not None
        expected_kind = {
            CommitmentKind.payment: ProgressKind.payment,
            CommitmentKind.service_hours: ProgressKind.hours,
            CommitmentKind.program_attendance: ProgressKind.session_attended,
            CommitmentKind.apology: ProgressKind.apology_delivered,
            CommitmentKind.no_contact: ProgressKind.breach_reported,
            CommitmentKind.other: ProgressKind.done,
        }[CommitmentKind(commitment.kind)]
        entry_kind = {
            "expected": expected_kind,
            "note": ProgressKind.note,
            "wrong": ProgressKind.payment if expected_kind != ProgressKind.payment else ProgressKind.hours,
        }[kind]
        left = commitment.quantity - commitment.progress_total
        value: Decimal | None = None  # in the commitment's natural unit; the wrong kind is refused whatever it is
        if kind == "wrong":
            value = Decimal(1)
        elif entry_kind == ProgressKind.payment:
            cents = {"rest": left, "part": max(1, left // 2), "over": left + 1}[amount]
            value = Decimal(max(cents, 0)) / 100
        elif entry_kind == ProgressKind.hours:
            minutes = {"rest": left, "part": max(30, left // 120 * 60), "over": left + 30}[amount]
            value = Decimal(max(minutes, 0)) / 60
        elif entry_kind == ProgressKind.session_attended:
            value = Decimal(max({"rest": left, "part": max(1, left // 2), "over": left + 1}[amount], 0))
        data = ProgressCreate(
            kind=entry_kind,
            amount=value,
            occurred_on=self.today() + timedelta(days=when),
            evidence_reference="R-1",
            evidence_note="Seen by the facilitator.",
        )
        closed = self.closed()
        outcome = self.attempt(
            lambda: commitment_service.record_progress(
                self.db, actor=self.actor(by), case=self.case, commitment=commitment, data=data
            )
        )
        if superseded or closed or when > 0 or kind == "wrong":
            assert not outcome.ok, "progress was recorded against a replaced commitment, a closed case or the future"

    @rule(index=INDEX)
    def correct_entry(self, index: int) -> None:
        entry = self.pick(
            list(
                self.db.exec(
                    select(ProgressEntry).where(ProgressEntry.case_id == self.case_id).order_by(col(ProgressEntry.id))
                )
            ),
            index,
        )
        if entry is None:
            return
        already = (
            entry.reverses_id is not None
            or self.db.exec(select(ProgressEntry.id).where(ProgressEntry.reverses_id == entry.id)).first() is not None
        )
        outcome = self.attempt(
            lambda: commitment_service.correct_entry(
                self.db, actor=self.actor("facilitator"), case=self.case, entry=entry, reason="Wrong receipt."
            )
        )
        if already:
            assert not outcome.ok, "a correction was corrected, or an entry corrected twice"

    @rule(index=INDEX, how=st.sampled_from(["confirmed", "ask_in_portal", "unconfirmed"]))
    def waive(self, index: int, how: str) -> None:
        commitment = self.pick(self.commitments(in_force=True), index)
        if commitment is None:
            return
        data = WaiverCreate(
            reason="The survivor asked for it.",
            consent_method=None if how == "ask_in_portal" else "in_person",
            survivor_consent_confirmed=how == "confirmed",
        )
        outcome = self.attempt(
            lambda: commitment_service.waive(
                self.db, actor=self.actor("facilitator"), case=self.case, commitment=commitment, data=data
            )
        )
        if how == "unconfirmed":
            assert not outcome.ok, "a waiver went through without the survivor's consent"

    @rule(agree=st.booleans(), as_whom=st.sampled_from(["survivor", "survivor", "responsible"]))
    def answer_waiver(self, agree: bool, as_whom: str) -> None:
        waiver = self.db.exec(
            select(Waiver).where(Waiver.case_id == self.case_id, Waiver.status == WaiverStatus.asked)
        ).first()
        if waiver is None:
            return
        outcome = self.attempt(
            lambda: commitment_service.answer_waiver(
                self.db, actor=self.portal(as_whom), case=self.case, waiver=waiver, agree=agree
            )
        )
        if as_whom != "survivor":
            assert isinstance(outcome.error, NotFound), "someone other than the survivor answered a waiver"

    @precondition(lambda self: self.commitments())
    @rule(now=st.integers(0, 3))
    def close_case(self, now: int) -> None:
        """Closing ends monitoring, so it is tried in one of four of the steps that pick it."""
        if now:
            return
        data = ClosureCreate(reason=ClosureReason.participant_withdrew, note="The survivor chose to stop.")
        self.attempt(
            lambda: commitment_service.close_case(self.db, actor=self.actor("facilitator"), case=self.case, data=data)
        )

    # --- invariants --------------------------------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        """After every step, against what is now in the database."""
        self.db.expire_all()
        self.conference_only_with_g1()
        self.no_session_without_consent()
        self.signatures_only_on_accepted_text()
        self.sealed_versions_never_change()
        self.commitments_follow_the_sealed_terms()
        self.audit_chain_verifies()
        self.journey_agrees()


def _world(connection: Connection) -> World:
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    program = make_program(session, "State Machine Program", timezone=TZ)
    users = [
        make_user(session, program, role, name)
        for role, name in (
            (UserRole.admin, "Ada Admin"),
            (UserRole.facilitator, "Fran Facilitator"),
            (UserRole.staff, "Sky Staff"),
        )
    ]
    session.commit()
    world = World(connection, program.id, *(u.id for u in users))  # type: ignore[arg-type]
    session.close()
    return world


def test_a_case_holds_its_invariants_through_random_sequences(engine: Engine) -> None:
    connection = engine.connect()
    outer = connection.begin()
    try:
        machine = type("CaseMachine", (CaseMachine,), {"world": _world(connection)})
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                derandomize=not os.environ.get("MEND_STATE_MACHINE_RANDOM"),
                database=None,
                print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        if os.environ.get("MEND_STATE_MACHINE_STATS"):  # how often each rule went through or was refused, and why
            print("\n".join(f"{count:5} {what}" for what, count in sorted(STATS.items())))
        outer.rollback()
        connection.close()
