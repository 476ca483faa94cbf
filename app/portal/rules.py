"""What the portal tells a person about where they are, from their own case facts. Pure functions.

The portal speaks only of the signed-in person's own choices. When the case is paused for a
reason that is not theirs (the other party withdrew, a safety concern), it says only that the
facilitator is getting ready: the reason belongs to someone else.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.conferences.rules import CaseFacts, Journey, Step
from app.i18n import N_
from app.portal.models import PortalLink
from app.safety.models import ConsentScope
from app.safety.rules import PARTICIPATION_SCOPES, consent_state

PREPARING = N_("Your facilitator is getting ready. Nothing will be planned without your OK.")
READY = N_(
    "Getting ready is done. Your facilitator will talk with you about a date. Nothing will be scheduled without "
    "your OK."
)
STOPPED = N_("You said stop. The process is paused. Nothing will happen unless you say yes again.")
NEXT_CHOICES = N_("Next: read the information sheet. Then tell us your choices.")
NEXT_MEET = N_("Next: your facilitator will contact you to meet and talk.")
NEXT_DATE = N_("Next: your facilitator will contact you about a date.")
NEXT_AGAIN = N_("If you change your mind, you can say yes again on the page Your choices.")

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


@dataclass(frozen=True)
class PortalStatus:
    """Where the person is, in plain words (English keys of app/portal/text.py), and the current step."""

    now: str
    next: str
    step: int
    stopped: bool


def portal_status(facts: CaseFacts, journey: Journey, *, participant_id: int) -> PortalStatus:
    """The home page's 'where are you now' and 'what happens next', for one participant."""
    step = _STEP_OF_STAGE[journey.reached or journey.stage]
    own = {scope: consent_state(facts.consents, participant_id=participant_id, scope=scope) for scope in ConsentScope}
    if any(own[scope] == "withdrawn" for scope in PARTICIPATION_SCOPES):
        return PortalStatus(STOPPED, NEXT_AGAIN, step, stopped=True)
    if journey.stage == Step.ready:
        return PortalStatus(READY, NEXT_DATE, step, stopped=False)
    if own[ConsentScope.conference] == "missing":
        return PortalStatus(PREPARING, NEXT_CHOICES, step, stopped=False)
    return PortalStatus(PREPARING, NEXT_MEET, step, stopped=False)


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
