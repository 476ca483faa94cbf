"""Safety rules as plain function calls: risk levels, plan need, consent state, safe contact."""

from datetime import UTC, datetime, time, timedelta

import pytest

from app.safety.models import ConsentScope, ContactChannel, ContactPreference, RiskLevel
from app.safety.rules import (
    CRITICAL_FROM,
    HIGH_FROM,
    MEDIUM_FROM,
    NEUTRAL_SUBJECT,
    RISK_FACTORS,
    ConsentFact,
    OutboundChannel,
    UnknownRiskFactor,
    compute_risk,
    consent_state,
    first_time_to_send,
    in_quiet_hours,
    may_contact,
    message_conditions,
    safety_plan_required,
    subject_for,
    withdrawn_participants,
)

CRITICAL_KEYS = [f.key for f in RISK_FACTORS if f.critical]
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

# --- risk ------------------------------------------------------------------------------------


def test_every_factor_has_a_positive_weight_and_an_explanation() -> None:
    assert len({f.key for f in RISK_FACTORS}) == len(RISK_FACTORS)
    for factor in RISK_FACTORS:
        assert factor.weight > 0 and factor.explanation.strip() and factor.label.strip()


def test_no_factor_gives_a_low_level_and_a_zero_score() -> None:
    assert compute_risk([]) == (0, RiskLevel.low)


@pytest.mark.parametrize("key", CRITICAL_KEYS)
def test_a_critical_factor_alone_makes_the_level_critical(key: str) -> None:
    score, level = compute_risk([key])
    assert level == RiskLevel.critical
    assert score < CRITICAL_FROM or key == "imminent_danger"


@pytest.mark.parametrize(
    ("factors", "score", "level"),
    [
        (["no_safe_housing"], 2, RiskLevel.low),  # just below medium
        (["debt_bondage"], 3, RiskLevel.medium),  # exactly the medium threshold
        (["recent_threats"], 4, RiskLevel.medium),
        (["isolation", "mental_health_crisis"], 4, RiskLevel.medium),
        (["debt_bondage", "immigration_fear"], 5, RiskLevel.medium),  # just below high
        (["debt_bondage", "weapon_or_violence"], 6, RiskLevel.high),  # exactly the high threshold
        (["recent_threats", "threats_to_family", "immigration_fear"], 10, RiskLevel.high),
        (["recent_threats", "threats_to_family", "debt_bondage"], 11, RiskLevel.high),  # just below critical
        (["recent_threats", "threats_to_family", "location_known"], 12, RiskLevel.critical),  # exactly critical
        (
            ["recent_threats", "threats_to_family", "location_known", "debt_bondage", "weapon_or_violence"],
            18,
            RiskLevel.critical,
        ),
    ],
)
def test_the_score_is_the_sum_of_weights_and_its_band_gives_the_level(
    factors: list[str], score: int, level: RiskLevel
) -> None:
    assert compute_risk(factors) == (score, level)


def test_the_bands_are_ordered() -> None:
    assert 0 < MEDIUM_FROM < HIGH_FROM < CRITICAL_FROM


def test_a_factor_ticked_twice_counts_once() -> None:
    assert compute_risk(["recent_threats", "recent_threats"]) == (4, RiskLevel.medium)


def test_an_unknown_factor_is_refused_rather_than_ignored() -> None:
    with pytest.raises(UnknownRiskFactor):
        compute_risk(["recent_threats", "made_up"])


@pytest.mark.parametrize(
    ("level", "at_medium", "required"),
    [
        (RiskLevel.low, False, False),
        (RiskLevel.low, True, False),
        (RiskLevel.medium, False, False),
        (RiskLevel.medium, True, True),
        (RiskLevel.high, False, True),
        (RiskLevel.high, True, True),
        (RiskLevel.critical, False, True),
    ],
)
def test_a_safety_plan_is_required_at_high_and_where_the_program_says_at_medium(
    level: RiskLevel, at_medium: bool, required: bool
) -> None:
    assert safety_plan_required(level, required_at_medium=at_medium) is required


# --- consent state ---------------------------------------------------------------------------


def _fact(scope: ConsentScope, days_ago: int, withdrawn: bool = False, pid: int = 1) -> ConsentFact:
    given = NOW - timedelta(days=days_ago)
    return ConsentFact(pid, scope, given, given + timedelta(hours=1) if withdrawn else None)


@pytest.mark.parametrize(
    ("facts", "state"),
    [
        ([], "missing"),
        ([_fact(ConsentScope.preparation, 3)], "missing"),  # another scope does not count
        ([_fact(ConsentScope.conference, 3, pid=2)], "missing"),  # nor another person
        ([_fact(ConsentScope.conference, 3)], "active"),
        ([_fact(ConsentScope.conference, 3, withdrawn=True)], "withdrawn"),
        ([_fact(ConsentScope.conference, 5, withdrawn=True), _fact(ConsentScope.conference, 1)], "active"),
        ([_fact(ConsentScope.conference, 1), _fact(ConsentScope.conference, 5, withdrawn=True)], "active"),
        ([_fact(ConsentScope.conference, 5), _fact(ConsentScope.conference, 1, withdrawn=True)], "withdrawn"),
    ],
)
def test_consent_state_follows_the_latest_consent_to_that_scope(facts: list[ConsentFact], state: str) -> None:
    assert consent_state(facts, participant_id=1, scope=ConsentScope.conference) == state


@pytest.mark.parametrize(
    ("scope", "pauses"),
    [
        (ConsentScope.contact, True),
        (ConsentScope.preparation, True),
        (ConsentScope.conference, True),
        (ConsentScope.share_information, False),
        (ConsentScope.support_person, False),
        (ConsentScope.progress_updates, False),
    ],
)
def test_only_withdrawing_participation_counts_as_withdrawing_from_the_process(
    scope: ConsentScope, pauses: bool
) -> None:
    assert (withdrawn_participants([_fact(scope, 2, withdrawn=True)]) == {1}) is pauses


# --- safe contact ----------------------------------------------------------------------------


def _pref(**overrides) -> ContactPreference:  # type: ignore[no-untyped-def]
    fields = {
        "program_id": 1,
        "participant_id": 1,
        "channel": ContactChannel.phone,
        "email": "rosa@example.org",
        "phone": "+34 600 000 000",
        "voicemail_ok": False,
        "text_ok": False,
        "quiet_hours_start": None,
        "quiet_hours_end": None,
        "others_may_see_messages": False,
        "discreet": False,
    } | overrides
    return ContactPreference(**fields)


NOON = time(12, 0)


def test_nothing_is_sent_when_no_preference_is_recorded() -> None:
    allowed, reason = may_contact(None, OutboundChannel.email, NOON)
    assert not allowed and "No contact preferences" in reason


@pytest.mark.parametrize("channel", list(OutboundChannel))
def test_nothing_is_sent_to_a_person_who_chose_no_contact(channel: OutboundChannel) -> None:
    allowed, reason = may_contact(_pref(channel=ContactChannel.none, voicemail_ok=True, text_ok=True), channel, NOON)
    assert not allowed and "not to be contacted" in reason


@pytest.mark.parametrize(
    ("pref", "channel", "allowed"),
    [
        (_pref(channel=ContactChannel.email), OutboundChannel.email, True),
        (_pref(channel=ContactChannel.email, email=None), OutboundChannel.email, False),
        (_pref(channel=ContactChannel.phone), OutboundChannel.email, False),  # email known but not agreed
        (_pref(channel=ContactChannel.email), OutboundChannel.phone, False),
        (_pref(channel=ContactChannel.phone), OutboundChannel.phone, True),
        (_pref(channel=ContactChannel.phone, phone=None), OutboundChannel.phone, False),
        (_pref(channel=ContactChannel.phone), OutboundChannel.voicemail, False),
        (_pref(channel=ContactChannel.phone, voicemail_ok=True), OutboundChannel.voicemail, True),
        (_pref(channel=ContactChannel.phone), OutboundChannel.text, False),
        (_pref(channel=ContactChannel.phone, text_ok=True), OutboundChannel.text, True),
        (_pref(channel=ContactChannel.phone, text_ok=True), OutboundChannel.voicemail, False),
        (_pref(channel=ContactChannel.email, text_ok=True, voicemail_ok=True), OutboundChannel.text, False),
    ],
)
def test_messages_go_only_by_the_agreed_channel_and_voicemail_or_text_only_when_safe(
    pref: ContactPreference, channel: OutboundChannel, allowed: bool
) -> None:
    assert may_contact(pref, channel, NOON)[0] is allowed


@pytest.mark.parametrize(
    ("start", "end", "at", "quiet"),
    [
        ("13:00", "15:00", time(12, 59), False),
        ("13:00", "15:00", time(13, 0), True),  # the start is inside
        ("13:00", "15:00", time(14, 30), True),
        ("13:00", "15:00", time(15, 0), False),  # the end is outside
        ("22:00", "07:00", time(21, 59), False),
        ("22:00", "07:00", time(22, 0), True),
        ("22:00", "07:00", time(23, 59), True),
        ("22:00", "07:00", time(0, 0), True),  # across midnight
        ("22:00", "07:00", time(6, 59), True),
        ("22:00", "07:00", time(7, 0), False),
        ("22:00", "07:00", time(12, 0), False),
        ("00:00", "06:00", time(0, 0), True),
        (None, None, time(3, 0), False),
        ("22:00", None, time(23, 0), False),  # half a range is no range
        ("09:00", "09:00", time(9, 0), False),  # an empty range silences nothing
    ],
)
def test_quiet_hours_include_the_start_exclude_the_end_and_may_span_midnight(
    start: str | None, end: str | None, at: time, quiet: bool
) -> None:
    assert in_quiet_hours(start, end, at) is quiet


@pytest.mark.parametrize("channel", list(OutboundChannel))
def test_nothing_is_sent_in_quiet_hours_whatever_the_channel(channel: OutboundChannel) -> None:
    pref = _pref(
        channel=ContactChannel.email if channel == OutboundChannel.email else ContactChannel.phone,
        voicemail_ok=True,
        text_ok=True,
        quiet_hours_start="21:00",
        quiet_hours_end="08:00",
    )
    allowed, reason = may_contact(pref, channel, time(2, 30))
    assert not allowed and "quiet hours" in reason
    assert may_contact(pref, channel, time(10, 0))[0]


def test_seconds_do_not_let_a_message_slip_out_at_the_start_of_quiet_hours() -> None:
    pref = _pref(channel=ContactChannel.phone, quiet_hours_start="21:00", quiet_hours_end="08:00")
    assert not may_contact(pref, "phone", time(21, 0, 30))[0]


@pytest.mark.parametrize(
    ("pref", "contact_consent", "codes"),
    [
        (_pref(channel=ContactChannel.email), "active", []),
        (_pref(channel=ContactChannel.email), "missing", []),  # agreeing to a channel is agreeing to be written to
        (_pref(channel=ContactChannel.email), "withdrawn", ["contact_consent_withdrawn"]),
        (None, "missing", ["contact_preferences_missing"]),
        (_pref(channel=ContactChannel.none), "active", ["contact_declined"]),
        (_pref(channel=ContactChannel.phone, text_ok=True), "active", ["phone_only"]),  # Mend sends no texts
        (_pref(channel=ContactChannel.email, email=None), "active", ["email_missing"]),
        (_pref(channel=ContactChannel.email, quiet_hours_start="00:00", quiet_hours_end="23:59"), "active", []),
    ],
)
def test_mend_writes_only_by_an_agreed_email_to_a_person_who_has_not_said_stop(
    pref: ContactPreference | None, contact_consent: str, codes: list[str]
) -> None:
    assert [c.code for c in message_conditions(pref, contact_consent=contact_consent)] == codes


@pytest.mark.parametrize(
    ("now", "start", "end", "first"),
    [
        (datetime(2026, 11, 23, 22, 30, tzinfo=UTC), "22:00", "07:30", datetime(2026, 11, 24, 6, 30, tzinfo=UTC)),
        (datetime(2026, 11, 24, 5, 0, tzinfo=UTC), "22:00", "07:30", datetime(2026, 11, 24, 6, 30, tzinfo=UTC)),
        (datetime(2026, 11, 24, 6, 30, tzinfo=UTC), "22:00", "07:30", datetime(2026, 11, 24, 6, 30, tzinfo=UTC)),
        (datetime(2026, 11, 24, 11, 0, tzinfo=UTC), "13:00", "15:00", datetime(2026, 11, 24, 11, 0, tzinfo=UTC)),
        (datetime(2026, 11, 24, 12, 0, tzinfo=UTC), "13:00", "15:00", datetime(2026, 11, 24, 14, 0, tzinfo=UTC)),
        (datetime(2026, 11, 24, 12, 0, tzinfo=UTC), None, None, datetime(2026, 11, 24, 12, 0, tzinfo=UTC)),
        # 07:30 in Madrid is 05:30 UTC in summer time: the clocks changed overnight (29 March 2026).
        (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), "22:00", "07:30", datetime(2026, 3, 29, 5, 30, tzinfo=UTC)),
    ],
)
def test_a_message_queued_in_quiet_hours_waits_until_they_end_in_the_programs_time(
    now: datetime, start: str | None, end: str | None, first: datetime
) -> None:
    pref = _pref(channel=ContactChannel.email, quiet_hours_start=start, quiet_hours_end=end)
    assert first_time_to_send(pref, now=now, timezone="Europe/Madrid") == first
    assert first_time_to_send(None, now=now, timezone="Europe/Madrid") == now


PLAIN = "Your restorative justice conference about the trafficking case"


@pytest.mark.parametrize(
    ("pref", "neutral"),
    [
        (None, True),
        (_pref(discreet=True, others_may_see_messages=False), True),
        (_pref(discreet=False, others_may_see_messages=True), True),
        (_pref(discreet=True, others_may_see_messages=True), True),
        (_pref(discreet=False, others_may_see_messages=False), False),
    ],
)
def test_the_subject_is_neutral_when_discretion_was_asked_or_others_may_see(
    pref: ContactPreference | None, neutral: bool
) -> None:
    subject = subject_for(pref, PLAIN)
    assert (subject == NEUTRAL_SUBJECT) is neutral
    if neutral:
        for word in ("restorative", "justice", "trafficking", "conference", "survivor", "victim"):
            assert word not in subject.lower()
    else:
        assert subject == PLAIN
