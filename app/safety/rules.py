"""Safety and consent rules: risk factors and levels, safety-plan need, consent state, pauses. Pure."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.errors import Condition
from app.i18n import N_, translator
from app.safety.models import ConsentScope, ContactChannel, ContactPreference, RiskLevel


@dataclass(frozen=True)
class RiskFactor:
    key: str
    label: str
    weight: int
    explanation: str
    critical: bool = False


RISK_FACTORS: tuple[RiskFactor, ...] = (
    RiskFactor(
        "trafficker_contact",
        N_("Still in contact with, or controlled by, the trafficker or their network"),
        5,
        N_("Ongoing control means the process could be used to reach or pressure the survivor."),
        critical=True,
    ),
    RiskFactor(
        "recent_threats",
        N_("Threats to the survivor in the last 3 months"),
        4,
        N_("Recent threats show someone is still willing to harm or intimidate."),
    ),
    RiskFactor(
        "threats_to_family",
        N_("Threats to the survivor's family, here or abroad"),
        4,
        N_("Family members can be used as leverage, often out of the program's reach."),
    ),
    RiskFactor(
        "location_known",
        N_("The responsible party or their network knows where the survivor lives"),
        4,
        N_("Known whereabouts make retaliation possible; keep the address confidential."),
    ),
    RiskFactor(
        "debt_bondage",
        N_("An unpaid 'debt' is still claimed from the survivor"),
        3,
        N_("A claimed debt is a tool of control and can be used to coerce a settlement."),
    ),
    RiskFactor(
        "weapon_or_violence",
        N_("Past serious violence or access to weapons"),
        3,
        N_("Past serious violence predicts future violence."),
    ),
    RiskFactor(
        "immigration_fear",
        N_("Fear about immigration status used as a threat"),
        2,
        N_("Threats of denunciation silence survivors and can distort consent."),
    ),
    RiskFactor(
        "no_safe_housing",
        N_("No safe, stable housing"),
        2,
        N_("Without a safe place to return to, meetings can expose the survivor."),
    ),
    RiskFactor(
        "isolation",
        N_("No support person or service around the survivor"),
        2,
        N_("Isolation raises risk and makes a bad reaction harder to catch."),
    ),
    RiskFactor(
        "mental_health_crisis",
        N_("Acute trauma symptoms or a mental-health crisis"),
        2,
        N_("Meeting now could re-traumatise; support must be in place first."),
    ),
    RiskFactor(
        "dependency",
        N_("Dependent on the responsible party (work, money, papers, family)"),
        3,
        N_("Dependency creates a power imbalance that undermines free consent."),
    ),
    RiskFactor(
        "imminent_danger",
        N_("Credible threat of imminent harm"),
        10,
        N_("Stop the process and follow the emergency safety protocol."),
        critical=True,
    ),
)
FACTORS_BY_KEY = {f.key: f for f in RISK_FACTORS}

# Score bands: below MEDIUM is low, and so on; a critical factor is critical whatever the score.
MEDIUM_FROM, HIGH_FROM, CRITICAL_FROM = 3, 6, 12


class UnknownRiskFactor(ValueError):
    pass


def compute_risk(factor_keys: Iterable[str]) -> tuple[int, RiskLevel]:
    """The score (sum of weights) and the level it gives; any critical factor makes the level critical."""
    keys = set(factor_keys)
    unknown = keys - FACTORS_BY_KEY.keys()
    if unknown:
        raise UnknownRiskFactor(f"unknown risk factors: {sorted(unknown)}")
    factors = [FACTORS_BY_KEY[k] for k in keys]
    score = sum(f.weight for f in factors)
    if any(f.critical for f in factors) or score >= CRITICAL_FROM:
        return score, RiskLevel.critical
    if score >= HIGH_FROM:
        return score, RiskLevel.high
    if score >= MEDIUM_FROM:
        return score, RiskLevel.medium
    return score, RiskLevel.low


def safety_plan_required(level: RiskLevel, *, required_at_medium: bool) -> bool:
    """A plan is needed at high (and critical) risk, and at medium where the program says so."""
    return level in (RiskLevel.high, RiskLevel.critical) or (level == RiskLevel.medium and required_at_medium)


# Withdrawing any of these stops the person's participation: the case pauses at once (G2).
PARTICIPATION_SCOPES = frozenset({ConsentScope.contact, ConsentScope.preparation, ConsentScope.conference})


@dataclass(frozen=True)
class ConsentFact:
    participant_id: int
    scope: ConsentScope
    given_at: datetime
    withdrawn_at: datetime | None


def consent_state(consents: Iterable[ConsentFact], *, participant_id: int, scope: ConsentScope) -> str:
    """'active', 'withdrawn' or 'missing': judged by the participant's latest consent to that scope."""
    latest = None
    for fact in consents:
        if fact.participant_id == participant_id and fact.scope == scope:
            if latest is None or fact.given_at >= latest.given_at:
                latest = fact
    if latest is None:
        return "missing"
    return "withdrawn" if latest.withdrawn_at is not None else "active"


def withdrawn_participants(consents: Iterable[ConsentFact]) -> set[int]:
    """Participants whose latest consent to some participation scope is withdrawn."""
    consents = list(consents)
    return {
        fact.participant_id
        for fact in consents
        if fact.scope in PARTICIPATION_SCOPES
        and consent_state(consents, participant_id=fact.participant_id, scope=fact.scope) == "withdrawn"
    }


# --- safe contact ------------------------------------------------------------------------------


class OutboundChannel(StrEnum):
    """How a message would reach the person; voicemail and text are kinds of phone contact."""

    email = "email"
    phone = "phone"
    voicemail = "voicemail"
    text = "text"


_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def parse_hhmm(value: str) -> time:
    """A 24-hour "HH:MM" clock time; ValueError for anything else."""
    if not _HHMM.match(value):
        raise ValueError("Use a 24-hour time such as 07:30 or 21:00.")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(start: str | None, end: str | None, at: time) -> bool:
    """Whether `at` falls in the quiet hours [start, end); a range such as 22:00–07:00 spans midnight."""
    if not start or not end:
        return False
    begin, finish = parse_hhmm(start), parse_hhmm(end)
    at = at.replace(second=0, microsecond=0, tzinfo=None)
    if begin == finish:
        return False  # an empty range: the form refuses it, but an old row must not silence everything
    if begin < finish:
        return begin <= at < finish
    return at >= begin or at < finish


def may_contact(
    pref: ContactPreference | None, channel: OutboundChannel | str, at_local_time: time
) -> tuple[bool, str]:
    """Whether a message may go to this person now by `channel`, and why not when it may not.

    `at_local_time` is the time of day where the person is (the program's time zone). With no
    preference on record nothing is sent: a survivor's safety outweighs a missed message.
    """
    channel = OutboundChannel(channel)
    if pref is None:
        return False, "No contact preferences are recorded for this person."
    agreed = ContactChannel(pref.channel)
    if agreed == ContactChannel.none:
        return False, "This person asked not to be contacted."
    if channel == OutboundChannel.email and (agreed != ContactChannel.email or not pref.email):
        return False, "This person did not agree to contact by email."
    if channel != OutboundChannel.email and (agreed != ContactChannel.phone or not pref.phone):
        return False, "This person did not agree to contact by phone."
    if channel == OutboundChannel.voicemail and not pref.voicemail_ok:
        return False, "A voicemail is not safe for this person."
    if channel == OutboundChannel.text and not pref.text_ok:
        return False, "A text message is not safe for this person."
    if in_quiet_hours(pref.quiet_hours_start, pref.quiet_hours_end, at_local_time):
        return False, f"It is within this person's quiet hours ({pref.quiet_hours_start}–{pref.quiet_hours_end})."
    return True, "Allowed by this person's contact preferences."


def end_of_quiet_hours(end: str, local: datetime) -> datetime:
    """The next time the clock reads `end` ("HH:MM") after the zone-aware `local`, in UTC."""
    finish = parse_hhmm(end)
    candidate = local.replace(hour=finish.hour, minute=finish.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate.astimezone(UTC)


def first_time_to_send(pref: ContactPreference | None, *, now: datetime, timezone: str) -> datetime:
    """When a message queued `now` may go out: at once, or when the person's quiet hours end."""
    local = now.astimezone(ZoneInfo(timezone))
    if pref is not None and in_quiet_hours(pref.quiet_hours_start, pref.quiet_hours_end, local.time()):
        return end_of_quiet_hours(pref.quiet_hours_end, local)  # type: ignore[arg-type]
    return now


def message_conditions(pref: ContactPreference | None, *, contact_consent: str) -> list[Condition]:
    """Why Mend itself may not send this person a message, each with a stable code; empty when it may.

    The outbox sends email only, and only by the channel the person agreed to. `contact_consent` is
    the state of their consent to be contacted ("active", "withdrawn" or "missing"): a person who
    said stop is not written to. Quiet hours do not refuse a message: it waits until they end.
    """
    if contact_consent == "withdrawn":
        return [Condition("contact_consent_withdrawn", N_("This person withdrew their consent to be contacted."))]
    if pref is None:
        return [
            Condition(
                "contact_preferences_missing",
                N_("No contact preferences are recorded for this person, so Mend sends them nothing."),
            )
        ]
    agreed = ContactChannel(pref.channel)
    if agreed == ContactChannel.none:
        return [Condition("contact_declined", N_("This person asked not to be contacted."))]
    if agreed == ContactChannel.phone:
        return [
            Condition(
                "phone_only",
                N_("This person agreed to contact by phone only, and Mend can send only email."),
            )
        ]
    if not pref.email:
        return [Condition("email_missing", N_("This person agreed to contact by email, but no address is recorded."))]
    return []


NEUTRAL_SUBJECT = N_("A message about your appointment")


def needs_discretion(pref: ContactPreference | None) -> bool:
    """Messages must not reveal what they are about: asked for, or someone who might harm them can see them."""
    return pref is None or pref.discreet or pref.others_may_see_messages


def subject_for(pref: ContactPreference | None, plain_subject: str, *, language: str = "en") -> str:
    """The subject line to send: the plain one, or a neutral one in the person's language for discretion."""
    if needs_discretion(pref):
        return translator(language)(NEUTRAL_SUBJECT)
    return plain_subject
