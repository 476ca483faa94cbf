"""Portal rules: what the home page says at every stage, for each role, and each link's state. Pure functions."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from app.conferences.models import ParticipantRole, SessionKind
from app.conferences.rules import CaseFacts, Journey, ParticipantFact, Step
from app.db import utcnow
from app.errors import Condition
from app.portal import rules
from app.portal.models import PortalLink
from app.portal.rules import (
    AgreementStep,
    LinkState,
    OwnMeeting,
    OwnRecords,
    PortalAction,
    PortalGuidance,
    PortalStage,
    link_state,
    link_usable,
    portal_guidance,
)
from app.portal.text import ActionWords, guidance_words, translator
from app.safety.models import ConsentScope
from app.safety.rules import ConsentFact

NOW = utcnow()
ROSA, DAN = 1, 2
PEOPLE = (
    ParticipantFact(ROSA, ParticipantRole.survivor, "Rosa", False),
    ParticipantFact(DAN, ParticipantRole.responsible_party, "Dan", False),
)


def _given(pid: int, scope: ConsentScope, withdrawn: bool = False) -> ConsentFact:
    return ConsentFact(pid, scope, NOW - timedelta(days=2), NOW - timedelta(days=1) if withdrawn else None)


SAM = 3  # a supporter: not a party, never a signer
PEOPLE_WITH_SUPPORTER = (*PEOPLE, ParticipantFact(SAM, ParticipantRole.supporter, "Sam", False))
ROLE_OF = {ROSA: ParticipantRole.survivor, DAN: ParticipantRole.responsible_party, SAM: ParticipantRole.supporter}
TAKING_PART = (ConsentScope.contact, ConsentScope.preparation, ConsentScope.conference)
MONDAY_MORNING = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
OTHER_WITHDREW = Condition("consent_withdrawn", "The responsible party withdrew consent to take part.", "/c", DAN)
SAFETY = Condition("safety_concern_open", "An urgent safety concern is waiting for a facilitator's review.", "/c")


def _taking_part(
    pid: int, *, withdrawn: bool = False, progress: bool = False, progress_stopped: bool = False
) -> tuple[ConsentFact, ...]:
    scopes = (*TAKING_PART, ConsentScope.progress_updates) if progress or progress_stopped else TAKING_PART
    return tuple(
        _given(
            pid,
            scope,
            withdrawn=(withdrawn and scope == ConsentScope.conference)
            or (progress_stopped and scope == ConsentScope.progress_updates),
        )
        for scope in scopes
    )


@dataclass(frozen=True)
class Scene:
    """One row of the table: who is signed in, the case's stage, and their own records."""

    who: int
    stage: Step
    agreement: AgreementStep = AgreementStep.nothing
    signed_copy: bool = False
    consented: bool = True
    withdrawn: bool = False
    progress: bool = False
    progress_stopped: bool = False  # she said yes to progress news, then stop
    pauses: tuple[Condition, ...] = ()
    closed_at: Step | None = None
    meeting: OwnMeeting | None = None
    next_due: date | None = None
    late: bool = False
    questions: int = 0

    def guidance(self) -> PortalGuidance:
        consents = (
            _taking_part(
                self.who, withdrawn=self.withdrawn, progress=self.progress, progress_stopped=self.progress_stopped
            )
            if self.consented
            else ()
        )
        facts = CaseFacts(case_id=9, now=NOW, participants=PEOPLE_WITH_SUPPORTER, consents=consents)
        if self.closed_at is not None:
            journey = Journey(
                stage=Step.closed, steps=(), pauses=self.pauses, reached=self.closed_at, closure_reason="x"
            )
        else:
            journey = Journey(stage=self.stage, steps=(), pauses=self.pauses)
        own = OwnRecords(
            participant_id=self.who,
            role=ROLE_OF[self.who],
            agreement=self.agreement,
            signed_copy=self.signed_copy,
            meeting=self.meeting,
            next_due=self.next_due,
            late=self.late,
            questions=self.questions,
        )
        return portal_guidance(facts, journey, own)


PREPARATION_MEETING = OwnMeeting(SessionKind.preparation, "in_person", MONDAY_MORNING, "Main office, Room 2")
CONFERENCE_BY_VIDEO = OwnMeeting(SessionKind.conference, "video", MONDAY_MORNING, "")
CONFERENCE_NO_PLACE = OwnMeeting(SessionKind.conference, "in_person", MONDAY_MORNING, "")
SEALED = {"signed_copy": True}

PREPARING = "Your facilitator is getting ready. Nothing will be planned without your OK."
ON_HOLD = "The process is on hold for now. You do not need to do anything."
STOPPED_AFTER_SIGNING = "You said stop. Your meetings are cancelled. But the signed agreement still stands."
IN_PLACE = "The agreement is in place. Your facilitator checks how it is going."
SHEET, CHOICES, READ, SIGN = (
    "Read the information sheet",
    "See and change your choices",
    "Read the agreement",
    "Sign the agreement",
)
COPY, DUE, PROGRESS = "Download your signed copy", "See what is due next", "See how the agreement is going"

# (row id, scene, stage code, where you are now, what happens next, the primary action's label)
TABLE: list[tuple[str, Scene, PortalStage, str, str, str | None]] = []
for who, name in ((ROSA, "survivor"), (DAN, "responsible party")):
    TABLE += [
        (
            f"{name}: consent to take part still to give",
            Scene(who, Step.preparation, consented=False),
            PortalStage.consent_asked,
            PREPARING,
            "Next: read the information sheet. Then tell us your choices.",
            SHEET,
        ),
        (
            f"{name}: preparation, consent given",
            Scene(who, Step.preparation),
            PortalStage.preparation,
            PREPARING,
            "Next: your facilitator will contact you to meet and talk.",
            SHEET,
        ),
        (
            f"{name}: ready to schedule",
            Scene(who, Step.ready),
            PortalStage.ready,
            "Getting ready is done. Your facilitator will talk with you about a date. Nothing will be scheduled "
            "without your OK.",
            "Next: your facilitator will contact you about a date.",
            SHEET,
        ),
        (
            f"{name}: own preparation meeting scheduled",
            Scene(who, Step.preparation, meeting=PREPARATION_MEETING),
            PortalStage.meeting_scheduled,
            "Your next meeting is on %(date)s at %(time)s. The place is: %(place)s.",
            "You meet your facilitator on your own. If you cannot come, tell your facilitator.",
            SHEET,
        ),
        (
            f"{name}: own conference scheduled, by video",
            Scene(who, Step.conference_scheduled, meeting=CONFERENCE_BY_VIDEO),
            PortalStage.meeting_scheduled,
            "Your next meeting is on %(date)s at %(time)s. It is a video call.",
            "A facilitator will be with you the whole time. You can stop at any time.",
            SHEET,
        ),
        (
            f"{name}: own conference scheduled, no place recorded",
            Scene(who, Step.conference_scheduled, meeting=CONFERENCE_NO_PLACE),
            PortalStage.meeting_scheduled,
            "Your next meeting is on %(date)s at %(time)s. Your facilitator will tell you where.",
            "A facilitator will be with you the whole time. You can stop at any time.",
            SHEET,
        ),
        (
            f"{name}: conference scheduled, not yet on their own calendar",
            Scene(who, Step.conference_scheduled),
            PortalStage.meeting_scheduled,
            "A date for the meeting is set. Your facilitator will tell you when and where to come.",
            "A facilitator will be with you the whole time. You can stop at any time.",
            SHEET,
        ),
        (
            f"{name}: conference held",
            Scene(who, Step.conference_held),
            PortalStage.conference_held,
            "The meeting is over. Thank you for taking part.",
            "Next: your facilitator writes down what was agreed. You will read it here before anyone signs.",
            SHEET,
        ),
        (
            f"{name}: the facilitator is rewriting the agreement",
            Scene(who, Step.agreement_drafted),
            PortalStage.drafting,
            "Your facilitator is working on the agreement.",
            "You will read the new version here before anyone signs.",
            READ,
        ),
        (
            f"{name}: agreement to review",
            Scene(who, Step.survivor_review, AgreementStep.review),
            PortalStage.review,
            "The agreement is ready for you to read.",
            "Take your time. Then choose: accept it, or ask for changes. Nothing is signed yet.",
            READ,
        ),
        (
            f"{name}: accepted, the other party has not yet",
            Scene(who, Step.survivor_review, AgreementStep.reviewed),
            PortalStage.reviewed,
            "You accepted the agreement. Thank you.",
            "Next: when it is accepted, your facilitator will ask all of you to sign it.",
            READ,
        ),
        (
            f"{name}: accepted by both, not yet sent to sign",
            Scene(who, Step.survivor_review, AgreementStep.accepted),
            PortalStage.reviewed,
            "You accepted the agreement. Thank you.",
            "Next: your facilitator will ask everyone to sign it.",
            READ,
        ),
        (
            f"{name}: asked for changes",
            Scene(who, Step.agreement_drafted, AgreementStep.changes_asked),
            PortalStage.changes_asked,
            "You asked for changes to the agreement. Thank you.",
            "Your facilitator will read your comment and change the agreement. You will read the new version here.",
            READ,
        ),
        (
            f"{name}: declined to sign",
            Scene(who, Step.agreement_drafted, AgreementStep.declined),
            PortalStage.declined,
            "You said you do not want to sign. That is OK.",
            "Your facilitator will talk with you about what to do next.",
            READ,
        ),
        (
            f"{name}: ready to sign",
            Scene(who, Step.signing, AgreementStep.sign),
            PortalStage.ready_to_sign,
            "The agreement is ready for you to sign.",
            "Read it again before you sign. You do not have to sign.",
            SIGN,
        ),
        (
            f"{name}: signed, waiting for the others",
            Scene(who, Step.signing, AgreementStep.signed),
            PortalStage.waiting_for_signatures,
            "You signed the agreement. Thank you.",
            "Next: the others sign it too. Then you can download your copy here.",
            READ,
        ),
        (
            f"{name}: signed by everyone",
            Scene(who, Step.signed, AgreementStep.sealed, **SEALED),
            PortalStage.signed,
            "Everyone has signed the agreement.",
            "You can download your copy. Keep it in a safe place.",
            COPY,
        ),
        (
            f"{name}: an amendment waits for their review",
            Scene(who, Step.monitoring, AgreementStep.review, **SEALED),
            PortalStage.review,
            "The agreement is ready for you to read.",
            "Take your time. Then choose: accept it, or ask for changes. Nothing is signed yet.",
            READ,
        ),
        (
            f"{name}: completed",
            Scene(who, Step.completed, AgreementStep.sealed, **SEALED),
            PortalStage.completed,
            "Everything in the agreement is done.",
            "You can still download your signed copy.",
            COPY,
        ),
        (
            f"{name}: paused because the other party stopped",
            Scene(who, Step.preparation, pauses=(OTHER_WITHDREW,)),
            PortalStage.paused,
            ON_HOLD,
            "Your facilitator will contact you.",
            SHEET,
        ),
        (
            f"{name}: paused for safety while signing",
            Scene(who, Step.signing, AgreementStep.sign, pauses=(SAFETY,)),
            PortalStage.paused,
            ON_HOLD,
            "Your facilitator will contact you.",
            SHEET,
        ),
        (
            f"{name}: withdrew before anything was signed",
            Scene(who, Step.preparation, withdrawn=True),
            PortalStage.withdrawn,
            "You said stop. The process is paused. Nothing will be planned without your OK.",
            "If you change your mind, you can say yes again on the page Your choices.",
            CHOICES,
        ),
        (
            f"{name}: closed before an agreement",
            Scene(who, Step.closed, closed_at=Step.preparation),
            PortalStage.closed,
            "This case is closed.",
            "If you have questions, ask your facilitator.",
            None,
        ),
        (
            f"{name}: closed after the agreement was signed",
            Scene(who, Step.closed, AgreementStep.sealed, closed_at=Step.monitoring, **SEALED),
            PortalStage.closed,
            "This case is closed.",
            "You can still download your signed copy.",
            COPY,
        ),
    ]
TABLE += [
    (
        "responsible party: monitoring, next thing due",
        Scene(DAN, Step.monitoring, AgreementStep.sealed, next_due=date(2027, 2, 1), **SEALED),
        PortalStage.monitoring,
        IN_PLACE,
        "The next thing you agreed to do is due by %(date)s.",
        DUE,
    ),
    (
        "responsible party: monitoring, something late",
        Scene(DAN, Step.monitoring, AgreementStep.sealed, next_due=date(2027, 2, 1), late=True, **SEALED),
        PortalStage.monitoring,
        IN_PLACE,
        "Something you agreed to do is late. Please talk with your facilitator.",
        DUE,
    ),
    (
        "responsible party: monitoring, nothing of theirs open",
        Scene(DAN, Step.monitoring, AgreementStep.sealed, **SEALED),
        PortalStage.monitoring,
        IN_PLACE,
        "You have nothing due right now.",
        DUE,
    ),
    (
        "responsible party: monitoring goes on through a pause",
        Scene(DAN, Step.monitoring, AgreementStep.sealed, next_due=date(2027, 2, 1), pauses=(SAFETY,), **SEALED),
        PortalStage.monitoring,
        IN_PLACE,
        "The next thing you agreed to do is due by %(date)s.",
        DUE,
    ),
    (
        "responsible party: withdrew after signing, what they owe stays",
        Scene(DAN, Step.monitoring, AgreementStep.sealed, withdrawn=True, next_due=date(2027, 2, 1), **SEALED),
        PortalStage.withdrawn,
        STOPPED_AFTER_SIGNING,
        "You still need to do what you agreed, like payments. Your facilitator will contact you.",
        DUE,
    ),
    (
        "survivor: monitoring, she opted in to progress",
        Scene(ROSA, Step.monitoring, AgreementStep.sealed, progress=True, **SEALED),
        PortalStage.monitoring,
        IN_PLACE,
        "You can see how it is going.",
        PROGRESS,
    ),
    (
        "survivor: monitoring, she has not said yes to progress news",
        Scene(ROSA, Step.monitoring, AgreementStep.sealed, **SEALED),
        PortalStage.monitoring,
        IN_PLACE,
        "If you want news about how it is going, you can say yes on the page Your choices.",
        COPY,
    ),
    (
        "survivor: monitoring, she said stop to progress news",
        Scene(ROSA, Step.monitoring, AgreementStep.sealed, progress_stopped=True, **SEALED),
        PortalStage.monitoring,
        IN_PLACE,
        "You chose not to get news about it. You can change this on the page Your choices.",
        COPY,
    ),
    (
        "survivor: monitoring, a facilitator asked her a question",
        Scene(ROSA, Step.monitoring, AgreementStep.sealed, questions=1, **SEALED),
        PortalStage.monitoring,
        IN_PLACE,
        "There is a question for you about the agreement.",
        "Answer the question",
    ),
    (
        "survivor: withdrew after signing, what is owed to her stays",
        Scene(ROSA, Step.monitoring, AgreementStep.sealed, withdrawn=True, **SEALED),
        PortalStage.withdrawn,
        STOPPED_AFTER_SIGNING,
        "The other person must still do what they agreed. Your facilitator will tell you more.",
        COPY,
    ),
    (
        "supporter: the agreement is for the parties to review",
        Scene(SAM, Step.survivor_review),
        PortalStage.conference_held,
        "Your facilitator will tell you about the agreement.",
        "Your facilitator will contact you.",
        SHEET,
    ),
    (
        "supporter: paused, in the same neutral words",
        Scene(SAM, Step.preparation, pauses=(OTHER_WITHDREW,)),
        PortalStage.paused,
        ON_HOLD,
        "Your facilitator will contact you.",
        SHEET,
    ),
]


@pytest.mark.parametrize(
    ("scene", "stage", "now", "next_", "primary"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_the_home_page_says_where_the_person_is_and_offers_one_thing_to_do(  # type: ignore[no-untyped-def]
    scene: Scene, stage: PortalStage, now: str, next_: str, primary: str | None
) -> None:
    guidance = scene.guidance()
    assert (guidance.stage, guidance.now, guidance.next) == (stage, now, next_)
    assert (guidance.primary.label if guidance.primary else None) == primary
    assert guidance.primary is None or guidance.primary.href not in {a.href for a in guidance.others}


def test_every_row_is_in_english_and_spanish_and_every_stage_is_covered() -> None:
    spanish = translator("es")
    for _, _scene, _, now, next_, primary in TABLE:
        for words in (now, next_, primary):
            assert words is None or spanish(words) != words, words
    assert {row[2] for row in TABLE} == set(PortalStage)


def test_a_pause_whose_reason_is_someone_elses_is_told_in_neutral_words() -> None:
    for scene in (Scene(ROSA, Step.preparation, pauses=(OTHER_WITHDREW,)), Scene(DAN, Step.signing, pauses=(SAFETY,))):
        guidance = scene.guidance()
        said = f"{guidance.now} {guidance.next}".lower()
        assert not [word for word in ("safe", "withdr", "stop", "other", "concern", "risk") if word in said], said
        assert not guidance.stopped


def test_after_signing_stopping_never_says_that_nothing_will_happen() -> None:
    for who in (ROSA, DAN):
        guidance = Scene(who, Step.monitoring, AgreementStep.sealed, withdrawn=True, signed_copy=True).guidance()
        assert guidance.stopped
        assert "nothing will" not in f"{guidance.now} {guidance.next}".lower()
        assert "still stands" in guidance.now


def test_the_meeting_is_shown_with_the_persons_own_arrival_time_and_place_in_their_language() -> None:
    guidance = Scene(ROSA, Step.preparation, meeting=PREPARATION_MEETING).guidance()
    english = guidance_words(guidance, language="en", timezone="Europe/Madrid")
    assert english.now == "Your next meeting is on Monday 7 December 2026 at 10:30. The place is: Main office, Room 2."
    spanish = guidance_words(guidance, language="es", timezone="Europe/Madrid")
    assert spanish.now == (
        "Su próxima reunión es el lunes 7 de diciembre de 2026 a las 10:30. El lugar es: Main office, Room 2."
    )
    assert spanish.primary == ActionWords("/portal/information", "Lea la hoja de información")


def test_what_is_due_is_dated_in_the_persons_language() -> None:
    guidance = Scene(DAN, Step.monitoring, AgreementStep.sealed, next_due=date(2027, 2, 1), signed_copy=True).guidance()
    assert guidance_words(guidance, language="en", timezone="UTC").next == (
        "The next thing you agreed to do is due by Monday 1 February 2027."
    )


def test_the_signed_copy_and_the_follow_up_are_offered_once_signed() -> None:
    before = Scene(DAN, Step.signing, AgreementStep.sign).guidance()
    assert [a.href for a in before.others] == ["/portal/information", "/portal/consent"]
    after = Scene(ROSA, Step.monitoring, AgreementStep.sealed, progress=True, signed_copy=True).guidance()
    assert after.primary == PortalAction("/portal/commitments", PROGRESS)
    assert [a.href for a in after.others] == ["/portal/information", "/portal/consent", "/portal/agreement"]


@pytest.mark.parametrize(
    ("stage", "step"),
    [(Step.referral, 0), (Step.preparation, 0), (Step.ready, 1), (Step.conference_held, 2), (Step.monitoring, 3)],
)
def test_each_journey_stage_maps_to_one_of_the_four_portal_steps(stage: Step, step: int) -> None:
    assert Scene(ROSA, stage).guidance().step == step


def _link(**overrides) -> PortalLink:  # type: ignore[no-untyped-def]
    values = {
        "program_id": 1,
        "case_id": 1,
        "participant_id": ROSA,
        "token_hash": "0" * 64,
        "issued_by_id": 1,
        "issued_at": NOW - timedelta(hours=1),
        "expires_at": NOW + timedelta(hours=71),
    } | overrides
    return PortalLink(**values)


@pytest.mark.parametrize(
    ("overrides", "session_open", "state", "usable"),
    [
        ({}, False, LinkState.waiting, True),
        ({"expires_at": NOW}, False, LinkState.expired, False),
        ({"used_at": NOW}, True, LinkState.in_use, False),
        ({"used_at": NOW}, False, LinkState.used, False),
        ({"revoked_at": NOW}, False, LinkState.revoked, False),
        ({"used_at": NOW, "revoked_at": NOW}, False, LinkState.revoked, False),
        ({"expires_at": NOW - timedelta(hours=1), "revoked_at": NOW}, False, LinkState.revoked, False),
    ],
)
def test_link_state_and_whether_it_still_opens_the_portal(overrides, session_open, state, usable) -> None:  # type: ignore[no-untyped-def]
    link = _link(**overrides)
    assert link_state(link, now=NOW, session_open=session_open) == state
    assert link_usable(link, now=NOW) is usable


def test_no_link_opens_nothing() -> None:
    assert link_usable(None, now=NOW) is False


# --- what stopping a choice stops, and what stays ------------------------------------------------


@pytest.mark.parametrize("scope", [ConsentScope.contact, ConsentScope.preparation, ConsentScope.conference])
def test_stopping_participation_pauses_and_cancels_meetings(scope: ConsentScope) -> None:
    effects = rules.withdrawal_effects(scope, rules.AgreementStanding())
    assert effects.stops == (rules.STOPS_PAUSE, rules.STOPS_MEETINGS)
    assert effects.stays == (rules.STAYS_RECORDS,)


def test_before_anything_is_signed_no_agreement_is_said_to_stay() -> None:
    unsigned = rules.AgreementStanding(signed=False, owed_to_them=2, owed_by_them=1, payments_to_them=True)
    assert rules.withdrawal_effects(ConsentScope.conference, unsigned).stays == (rules.STAYS_RECORDS,)


def test_after_signing_what_is_owed_to_the_person_stays_in_force() -> None:
    standing = rules.AgreementStanding(signed=True, owed_to_them=2, payments_to_them=True)
    stays = rules.withdrawal_effects(ConsentScope.conference, standing).stays
    assert stays == (rules.STAYS_SIGNED, rules.STAYS_OWED_TO_YOU, rules.STAYS_PAYMENTS, rules.STAYS_RECORDS)


def test_after_signing_what_the_person_owes_stays_too() -> None:
    stays = rules.withdrawal_effects(ConsentScope.progress_updates, rules.AgreementStanding(True, 0, 3)).stays
    assert stays == (rules.STAYS_SIGNED, rules.STAYS_OWED_BY_YOU, rules.STAYS_RECORDS)


def test_when_everything_is_done_the_signed_agreement_still_counts_but_nothing_is_said_to_be_owed() -> None:
    stays = rules.withdrawal_effects(ConsentScope.conference, rules.AgreementStanding(signed=True)).stays
    assert stays == (rules.STAYS_SIGNED, rules.STAYS_RECORDS)


def test_stopping_sharing_says_what_was_shared_cannot_be_taken_back() -> None:
    effects = rules.withdrawal_effects(ConsentScope.share_information, rules.AgreementStanding())
    assert effects.stops == (rules.STOPS_SHARING,)
    assert effects.stays[0] == rules.STAYS_SHARED


@pytest.mark.parametrize("scope", list(ConsentScope))
def test_every_scope_says_what_stops_and_never_that_nothing_will_happen(scope: ConsentScope) -> None:
    effects = rules.withdrawal_effects(scope, rules.AgreementStanding(True, 1, 1, True))
    assert effects.stops and effects.stays
    assert not [line for line in effects.stops + effects.stays if "nothing will happen" in line.lower()]
