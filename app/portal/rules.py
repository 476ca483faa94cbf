"""What the portal tells a person about where they are, from their own case facts. Pure functions.

`portal_guidance` is the one place that decides what the portal home (and GET /api/v1/portal/me)
says at each stage: where the person is, what happens next, and the one thing to do now. It speaks
only of the signed-in person's own choices and meetings. When the case is paused for a reason that
is not theirs (the other party withdrew, a safety concern), it says only that things are on hold:
the reason belongs to someone else.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from app.conferences.models import ParticipantRole, SessionKind
from app.conferences.rules import CaseFacts, Journey, Step
from app.i18n import N_
from app.portal.models import PortalLink
from app.safety.models import ConsentScope
from app.safety.rules import PARTICIPATION_SCOPES, consent_state

# --- what the home page says, at every stage --------------------------------------------------

# Where the person is ("now"), in plain words. Values in %(...)s are filled in where the page is shown.
PREPARING = N_("Your facilitator is getting ready. Nothing will be planned without your OK.")
READY = N_(
    "Getting ready is done. Your facilitator will talk with you about a date. Nothing will be scheduled without "
    "your OK."
)
MEETING_AT_PLACE = N_("Your next meeting is on %(date)s at %(time)s. The place is: %(place)s.")
MEETING_BY_VIDEO = N_("Your next meeting is on %(date)s at %(time)s. It is a video call.")
MEETING_AT = N_("Your next meeting is on %(date)s at %(time)s. Your facilitator will tell you where.")
MEETING_SET = N_("A date for the meeting is set. Your facilitator will tell you when and where to come.")
CONFERENCE_HELD = N_("The meeting is over. Thank you for taking part.")
DRAFTING = N_("Your facilitator is working on the agreement.")
TO_REVIEW = N_("The agreement is ready for you to read.")
YOU_ACCEPTED = N_("You accepted the agreement. Thank you.")
YOU_ASKED_CHANGES = N_("You asked for changes to the agreement. Thank you.")
YOU_DECLINED = N_("You said you do not want to sign. That is OK.")
TO_SIGN = N_("The agreement is ready for you to sign.")
YOU_SIGNED = N_("You signed the agreement. Thank you.")
ALL_SIGNED = N_("Everyone has signed the agreement.")
IN_PLACE = N_("The agreement is in place. Your facilitator checks how it is going.")
COMPLETED = N_("Everything in the agreement is done.")
ON_HOLD = N_("The process is on hold for now. You do not need to do anything.")
STOPPED = N_("You said stop. The process is paused. Nothing will be planned without your OK.")
STOPPED_AFTER_SIGNING = N_("You said stop. Your meetings are cancelled. But the signed agreement still stands.")
CLOSED = N_("This case is closed.")
NOT_A_SIGNER = N_("Your facilitator will tell you about the agreement.")

# What happens next.
NEXT_CHOICES = N_("Next: read the information sheet. Then tell us your choices.")
NEXT_MEET = N_("Next: your facilitator will contact you to meet and talk.")
NEXT_DATE = N_("Next: your facilitator will contact you about a date.")
NEXT_AT_PREPARATION = N_("You meet your facilitator on your own. If you cannot come, tell your facilitator.")
NEXT_AT_CONFERENCE = N_("A facilitator will be with you the whole time. You can stop at any time.")
NEXT_WRITING = N_("Next: your facilitator writes down what was agreed. You will read it here before anyone signs.")
NEXT_NEW_VERSION = N_("You will read the new version here before anyone signs.")
NEXT_REVIEW = N_("Take your time. Then choose: accept it, or ask for changes. Nothing is signed yet.")
NEXT_OTHERS_ACCEPT = N_("Next: when it is accepted, your facilitator will ask all of you to sign it.")
NEXT_SIGNATURES = N_("Next: your facilitator will ask everyone to sign it.")
NEXT_CHANGES = N_(
    "Your facilitator will read your comment and change the agreement. You will read the new version here."
)
NEXT_TALK = N_("Your facilitator will talk with you about what to do next.")
NEXT_SIGN = N_("Read it again before you sign. You do not have to sign.")
NEXT_OTHERS_SIGN = N_("Next: the others sign it too. Then you can download your copy here.")
NEXT_KEEP_COPY = N_("You can download your copy. Keep it in a safe place.")
NEXT_DUE = N_("The next thing you agreed to do is due by %(date)s.")
NEXT_LATE = N_("Something you agreed to do is late. Please talk with your facilitator.")
NEXT_NOTHING_DUE = N_("You have nothing due right now.")
NEXT_PROGRESS = N_("You can see how it is going.")
NEXT_NO_PROGRESS = N_("You chose not to get news about it. You can change this on the page Your choices.")
NEXT_NEWS_IF_YOU_WANT = N_("If you want news about how it is going, you can say yes on the page Your choices.")
NEXT_QUESTION = N_("There is a question for you about the agreement.")
NEXT_COPY_STAYS = N_("You can still download your signed copy.")
NEXT_CONTACT = N_("Your facilitator will contact you.")
NEXT_AGAIN = N_("If you change your mind, you can say yes again on the page Your choices.")
NEXT_STILL_OWED = N_("You still need to do what you agreed, like payments. Your facilitator will contact you.")
NEXT_STILL_OWED_TO_YOU = N_("The other person must still do what they agreed. Your facilitator will tell you more.")
NEXT_QUESTIONS = N_("If you have questions, ask your facilitator.")

# The actions the home page offers: one is primary, the others are listed below it.
READ_SHEET = N_("Read the information sheet")
SEE_CHOICES = N_("See and change your choices")
READ_AGREEMENT = N_("Read the agreement")
SIGN_AGREEMENT = N_("Sign the agreement")
DOWNLOAD_COPY = N_("Download your signed copy")
SEE_DUE = N_("See what is due next")
SEE_PROGRESS = N_("See how the agreement is going")
ANSWER_QUESTION = N_("Answer the question")

# The four steps the portal shows, and which journey stages fall in each.
PORTAL_STEPS: tuple[tuple[str, str], ...] = (
    (N_("Getting ready"), N_("You meet your facilitator on your own.")),
    (N_("The meeting"), N_("If you both say yes, you meet and talk, with a facilitator.")),
    (N_("The agreement"), N_("You may agree on what will be done to repair the harm.")),
    (N_("Follow-up"), N_("We check that the agreement is kept.")),
)
_STEP_OF_STAGE = {
    Step.referral: 0,
    Step.preparation: 0,
    Step.ready: 1,
    Step.conference_scheduled: 1,
    Step.conference_held: 2,
    Step.agreement_drafted: 2,
    Step.survivor_review: 2,
    Step.signing: 2,
    Step.signed: 3,
    Step.monitoring: 3,
    Step.completed: 3,
}


class AgreementStep(StrEnum):
    """Where the person is with the agreement, from their own review, signature or refusal of its newest version."""

    nothing = "nothing"  # no agreement yet, or the facilitator is (re)writing it
    review = "review"  # waiting for this person to accept or ask for changes
    reviewed = "reviewed"  # they accepted this version; others have not yet
    changes_asked = "changes_asked"  # they asked for changes; back with the facilitator
    declined = "declined"  # they declined to sign; back with the facilitator
    accepted = "accepted"  # accepted by both parties; not yet sent for signature
    sign = "sign"  # open for signature, and this person has not signed
    signed = "signed"  # they signed; others have not yet
    sealed = "sealed"  # signed by everyone


class PortalStage(StrEnum):
    """Where the person is, as the portal home tells it: a stable code for the API and the tests."""

    preparation = "preparation"
    consent_asked = "consent_asked"
    ready = "ready"
    meeting_scheduled = "meeting_scheduled"
    conference_held = "conference_held"
    drafting = "drafting"
    review = "review"
    reviewed = "reviewed"
    changes_asked = "changes_asked"
    declined = "declined"
    ready_to_sign = "ready_to_sign"
    waiting_for_signatures = "waiting_for_signatures"
    signed = "signed"
    monitoring = "monitoring"
    completed = "completed"
    paused = "paused"
    withdrawn = "withdrawn"
    closed = "closed"


@dataclass(frozen=True)
class OwnMeeting:
    """The person's own next session: their own arrival time (arrivals may be staggered) and its place."""

    kind: SessionKind
    mode: str  # app.safety.models.SessionMode
    arrives_at: datetime
    place: str  # location and room; empty when there is none


@dataclass(frozen=True)
class OwnRecords:
    """What the person's own records say, beside the case's journey: nothing here is about anyone else."""

    participant_id: int
    role: ParticipantRole
    agreement: AgreementStep = AgreementStep.nothing
    signed_copy: bool = False  # a version is sealed: its PDF is theirs to download
    meeting: OwnMeeting | None = None
    next_due: date | None = None  # the earliest due date of what they still owe
    late: bool = False  # something they owe is overdue
    questions: int = 0  # waivers a facilitator asked them about, waiting for their answer


@dataclass(frozen=True)
class PortalAction:
    """A link on the home page: where it goes and its label (an English key of the catalog)."""

    href: str
    label: str


SHEET = PortalAction("/portal/information", READ_SHEET)
CHOICES = PortalAction("/portal/consent", SEE_CHOICES)
AGREEMENT = PortalAction("/portal/agreement", READ_AGREEMENT)
SIGN = PortalAction("/portal/agreement", SIGN_AGREEMENT)
COPY = PortalAction("/portal/agreement/pdf", DOWNLOAD_COPY)
DUE = PortalAction("/portal/commitments", SEE_DUE)
PROGRESS = PortalAction("/portal/commitments", SEE_PROGRESS)
QUESTION = PortalAction("/portal/commitments", ANSWER_QUESTION)


@dataclass(frozen=True)
class PortalGuidance:
    """What the portal home says to one person: where they are, what happens next, and the one thing to do."""

    stage: PortalStage
    now: str
    next: str
    primary: PortalAction | None
    others: tuple[PortalAction, ...]
    step: int  # which of PORTAL_STEPS the person is at
    values: dict[str, object] = field(default_factory=dict)  # %(date)s, %(time)s, %(place)s, filled in when shown

    @property
    def stopped(self) -> bool:
        return self.stage == PortalStage.withdrawn


_PARTIES = frozenset({ParticipantRole.survivor, ParticipantRole.responsible_party})


def portal_guidance(facts: CaseFacts, journey: Journey, own: OwnRecords) -> PortalGuidance:
    """The portal home for one person: the message, the next line and the primary action, at every stage.

    Built from the case's derived journey and the person's own records only. A pause whose reason is
    not theirs (the other party stopped, a safety concern) is told in neutral words; after the agreement
    is signed, a pause or a withdrawal does not undo it, and the words say what stays in force.
    """
    stage = journey.reached or journey.stage
    step = _STEP_OF_STAGE[stage]
    stage_, now, next_, primary, values = _guidance(facts, journey, own)
    others = [SHEET, CHOICES, AGREEMENT]
    if own.signed_copy and own.role in _PARTIES:
        others.append(DUE if own.role == ParticipantRole.responsible_party else PROGRESS)
    shown = tuple(action for action in others if primary is None or action.href != primary.href)
    return PortalGuidance(stage_, now, next_, primary, shown, step, values)


_Said = tuple[PortalStage, str, str, PortalAction | None, dict[str, object]]


def _guidance(facts: CaseFacts, journey: Journey, own: OwnRecords) -> _Said:
    consents = {
        scope: consent_state(facts.consents, participant_id=own.participant_id, scope=scope) for scope in ConsentScope
    }
    if journey.stage == Step.closed:
        if own.signed_copy:
            return PortalStage.closed, CLOSED, NEXT_COPY_STAYS, COPY, {}
        return PortalStage.closed, CLOSED, NEXT_QUESTIONS, None, {}
    if any(consents[scope] == "withdrawn" for scope in PARTICIPATION_SCOPES):
        if journey.stage == Step.completed:
            return PortalStage.completed, COMPLETED, NEXT_COPY_STAYS, COPY, {}
        if not own.signed_copy:
            return PortalStage.withdrawn, STOPPED, NEXT_AGAIN, CHOICES, {}
        if own.role == ParticipantRole.responsible_party:
            return PortalStage.withdrawn, STOPPED_AFTER_SIGNING, NEXT_STILL_OWED, DUE, {}
        if own.role == ParticipantRole.survivor:
            return PortalStage.withdrawn, STOPPED_AFTER_SIGNING, NEXT_STILL_OWED_TO_YOU, COPY, {}
        return PortalStage.withdrawn, STOPPED_AFTER_SIGNING, NEXT_CONTACT, COPY, {}
    if own.signed_copy:  # a pause does not undo a signed agreement: what it asks goes on
        return _after_signing(facts, journey, own, consents)
    if journey.paused:
        return PortalStage.paused, ON_HOLD, NEXT_CONTACT, SHEET, {}
    if journey.stage in (Step.referral, Step.preparation, Step.ready, Step.conference_scheduled):
        return _before_the_meeting(journey, own, consents)
    if own.role not in _PARTIES:
        return PortalStage.conference_held, NOT_A_SIGNER, NEXT_CONTACT, SHEET, {}
    return _agreement(journey, own)


def _before_the_meeting(journey: Journey, own: OwnRecords, consents: dict[ConsentScope, str]) -> _Said:
    if own.meeting is not None:
        meeting = own.meeting
        values: dict[str, object] = {"date": meeting.arrives_at, "time": meeting.arrives_at}
        if meeting.mode == "video":
            now = MEETING_BY_VIDEO
        elif meeting.place:
            now, values["place"] = MEETING_AT_PLACE, meeting.place
        else:
            now = MEETING_AT
        next_ = NEXT_AT_CONFERENCE if meeting.kind == SessionKind.conference else NEXT_AT_PREPARATION
        return PortalStage.meeting_scheduled, now, next_, SHEET, values
    if consents[ConsentScope.conference] == "missing":
        return PortalStage.consent_asked, PREPARING, NEXT_CHOICES, SHEET, {}
    if journey.stage == Step.conference_scheduled:
        return PortalStage.meeting_scheduled, MEETING_SET, NEXT_AT_CONFERENCE, SHEET, {}
    if journey.stage == Step.ready:
        return PortalStage.ready, READY, NEXT_DATE, SHEET, {}
    return PortalStage.preparation, PREPARING, NEXT_MEET, SHEET, {}


def _agreement(journey: Journey, own: OwnRecords) -> _Said:
    match own.agreement:
        case AgreementStep.review:
            return PortalStage.review, TO_REVIEW, NEXT_REVIEW, AGREEMENT, {}
        case AgreementStep.reviewed:
            return PortalStage.reviewed, YOU_ACCEPTED, NEXT_OTHERS_ACCEPT, AGREEMENT, {}
        case AgreementStep.accepted:
            return PortalStage.reviewed, YOU_ACCEPTED, NEXT_SIGNATURES, AGREEMENT, {}
        case AgreementStep.changes_asked:
            return PortalStage.changes_asked, YOU_ASKED_CHANGES, NEXT_CHANGES, AGREEMENT, {}
        case AgreementStep.declined:
            return PortalStage.declined, YOU_DECLINED, NEXT_TALK, AGREEMENT, {}
        case AgreementStep.sign:
            return PortalStage.ready_to_sign, TO_SIGN, NEXT_SIGN, SIGN, {}
        case AgreementStep.signed:
            return PortalStage.waiting_for_signatures, YOU_SIGNED, NEXT_OTHERS_SIGN, AGREEMENT, {}
    if journey.stage == Step.conference_held:
        return PortalStage.conference_held, CONFERENCE_HELD, NEXT_WRITING, SHEET, {}
    return PortalStage.drafting, DRAFTING, NEXT_NEW_VERSION, AGREEMENT, {}


def _after_signing(facts: CaseFacts, journey: Journey, own: OwnRecords, consents: dict[ConsentScope, str]) -> _Said:
    if own.agreement in (AgreementStep.review, AgreementStep.sign):  # an amendment waits for them
        return _agreement(journey, own)
    if journey.stage == Step.completed:
        return PortalStage.completed, COMPLETED, NEXT_COPY_STAYS, COPY, {}
    if journey.stage == Step.signed:
        return PortalStage.signed, ALL_SIGNED, NEXT_KEEP_COPY, COPY, {}
    if own.role == ParticipantRole.responsible_party:
        if own.late:
            return PortalStage.monitoring, IN_PLACE, NEXT_LATE, DUE, {}
        if own.next_due is not None:
            return PortalStage.monitoring, IN_PLACE, NEXT_DUE, DUE, {"date": own.next_due}
        return PortalStage.monitoring, IN_PLACE, NEXT_NOTHING_DUE, DUE, {}
    if own.role == ParticipantRole.survivor:
        if own.questions:
            return PortalStage.monitoring, IN_PLACE, NEXT_QUESTION, QUESTION, {}
        news = consents[ConsentScope.progress_updates]
        if news == "active":
            return PortalStage.monitoring, IN_PLACE, NEXT_PROGRESS, PROGRESS, {}
        # Only someone who said stop chose not to hear: one never asked is told that she may, and no more.
        next_ = NEXT_NO_PROGRESS if news == "withdrawn" else NEXT_NEWS_IF_YOU_WANT
        return PortalStage.monitoring, IN_PLACE, next_, COPY, {}
    return PortalStage.monitoring, IN_PLACE, NEXT_QUESTIONS, SHEET, {}


class LinkState(StrEnum):
    waiting = "waiting"
    in_use = "in_use"
    used = "used"
    expired = "expired"
    revoked = "revoked"


def link_state(link: PortalLink, *, now: datetime, session_open: bool) -> LinkState:
    """A link's state for the facilitator's list: waiting to be opened, in use, used, expired or revoked."""
    if link.revoked_at is not None:
        return LinkState.revoked
    if link.used_at is not None:
        return LinkState.in_use if session_open else LinkState.used
    if now >= link.expires_at:
        return LinkState.expired
    return LinkState.waiting


def link_usable(link: PortalLink | None, *, now: datetime) -> bool:
    """A link opens the portal only once, before it expires, and only if no one revoked it."""
    return link is not None and link.used_at is None and link.revoked_at is None and now < link.expires_at


# What stopping a choice stops, and what stays in force: the withdrawal pages say both, truthfully.
STOPS_PAUSE = N_("The process is paused. No meeting will be planned without your OK.")
STOPS_MEETINGS = N_("Any meeting planned for you is cancelled.")
STOPS_SHARING = N_("Your facilitator will not share anything more that you said.")
STOPS_NEWS = N_("We will not tell you how the agreement is going.")
STOPS_SUPPORT = N_("We will not plan for a support person to be with you.")
STAYS_SHARED = N_("What was shared before cannot be taken back.")
STAYS_SIGNED = N_("The agreement that was signed still counts.")
STAYS_OWED_TO_YOU = N_("What the agreement promises you is still owed to you.")
STAYS_PAYMENTS = N_("Payments to you still have to be made.")
STAYS_OWED_BY_YOU = N_("You still have to do what you agreed to in it.")
STAYS_RECORDS = N_("Nothing is deleted. We keep a note of what you chose.")
_STOPS: dict[ConsentScope, tuple[str, ...]] = {
    ConsentScope.share_information: (STOPS_SHARING,),
    ConsentScope.support_person: (STOPS_SUPPORT,),
    ConsentScope.progress_updates: (STOPS_NEWS,),
}


@dataclass(frozen=True)
class AgreementStanding:
    """The facts about the case's agreement that outlast a withdrawal, seen from one participant."""

    signed: bool = False  # a version was sealed: its commitments are in force
    owed_to_them: int = 0  # commitments in force, not yet done, that others owe
    owed_by_them: int = 0  # commitments in force, not yet done, that this person owes
    payments_to_them: bool = False  # among those owed to them, a payment


@dataclass(frozen=True)
class WithdrawalEffects:
    """What stopping one choice stops and what stays (English keys of the portal's words)."""

    stops: tuple[str, ...]
    stays: tuple[str, ...]


def withdrawal_effects(scope: ConsentScope, standing: AgreementStanding) -> WithdrawalEffects:
    """Stopping never undoes a signed agreement: what it promises stays owed, and the pages must say so."""
    stops = (STOPS_PAUSE, STOPS_MEETINGS) if scope in PARTICIPATION_SCOPES else _STOPS[scope]
    stays: list[str] = [STAYS_SHARED] if scope == ConsentScope.share_information else []
    if standing.signed:
        stays.append(STAYS_SIGNED)
        if standing.owed_to_them:
            stays.append(STAYS_OWED_TO_YOU)
        if standing.payments_to_them:
            stays.append(STAYS_PAYMENTS)
        if standing.owed_by_them:
            stays.append(STAYS_OWED_BY_YOU)
    stays.append(STAYS_RECORDS)
    return WithdrawalEffects(stops, tuple(stays))
