"""Screening instruments and their rules: plain function calls, parametrized over every rule."""

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.conferences import instruments
from app.conferences.instruments import (
    Instrument,
    InstrumentError,
    Rule,
    current_instrument,
    load_instrument,
    parse_instrument,
)
from app.conferences.models import ParticipantRole, ScreeningOutcome
from app.conferences.screening_rules import (
    check_outcome,
    clean_answers,
    screening_validity,
    suggest_outcome,
    validate_answers,
)
from app.i18n import use_language

COERCION_QUESTION = "Has anyone pressured you, threatened you, or offered you something to take part?"

# Answers that fire no rule: a person the rules would call ready.
SURVIVOR_READY = {
    "motivation": "to_be_heard",
    "expectations": "some_things",
    "support": "professional",
    "emotional_readiness": "4",
    "current_crisis": "no",
    "trafficker_contact": "no",
    "debt": "no",
    "threats_to_family": "no",
    "immigration_fear": "no",
    "legal_counsel": "accepted",
    "interpreter": "not_needed",
    "understood_information": "yes",
    "under_18": "no",
    "capacity": "no_doubt",
    "dependency": "no",
    "coerced": "no",
}
RESPONSIBLE_READY = {
    "responsibility": "full",
    "motivation": "repair",
    "minimising": "no",
    "blames_survivor": "no",
    "criminal_case": "decided",
    "contact_conditions": "none",
    "legal_counsel": "own_lawyer",
    "amends": "yes",
    "interpreter": "not_needed",
    "coerced": "no",
}


def survivor() -> Instrument:
    instrument = current_instrument(ParticipantRole.survivor)
    assert instrument is not None
    return instrument


def responsible() -> Instrument:
    instrument = current_instrument(ParticipantRole.responsible_party)
    assert instrument is not None
    return instrument


INSTRUMENT_CASES = [(survivor, SURVIVOR_READY), (responsible, RESPONSIBLE_READY)]
EVERY_RULE = [
    pytest.param(get, ready, rule, value, id=f"{get().key}:{rule.id}:{value}")
    for get, ready in INSTRUMENT_CASES
    for rule in get().rules
    for value in rule.values
]


# --- the shipped instruments ---------------------------------------------------------------


@pytest.mark.parametrize("role", [ParticipantRole.survivor, ParticipantRole.responsible_party])
def test_the_survivor_and_the_responsible_party_each_have_a_current_instrument(role: ParticipantRole) -> None:
    instrument = current_instrument(role)
    assert instrument is not None
    assert instrument.role == role
    assert instrument.key == role.value and instrument.version == 1


@pytest.mark.parametrize(
    "role", [ParticipantRole.supporter, ParticipantRole.community_member, ParticipantRole.interpreter]
)
def test_other_roles_are_not_screened(role: ParticipantRole) -> None:
    assert current_instrument(role) is None


def test_an_instrument_version_loads_by_key_and_version() -> None:
    assert load_instrument("survivor", 1) == survivor()
    assert load_instrument("survivor", 99) is None
    assert load_instrument("../survivor", 1) is None


@pytest.mark.parametrize(
    "topic_question",
    [
        "motivation",
        "expectations",
        "support",
        "emotional_readiness",
        "trafficker_contact",
        "debt",
        "threats_to_family",
        "immigration_fear",
        "legal_counsel",
        "interpreter",
        "under_18",
        "capacity",
        "dependency",
        "coerced",
    ],
)
def test_the_survivor_instrument_covers_each_required_topic(topic_question: str) -> None:
    assert survivor().question(topic_question) is not None


@pytest.mark.parametrize(
    "topic_question",
    ["responsibility", "motivation", "minimising", "blames_survivor", "contact_conditions", "amends", "coerced"],
)
def test_the_responsible_party_instrument_covers_each_required_topic(topic_question: str) -> None:
    assert responsible().question(topic_question) is not None


def test_legal_counsel_records_whether_it_was_offered_accepted_or_declined() -> None:
    values = {o.value for o in survivor().question("legal_counsel").options}  # type: ignore[union-attr]
    assert {"not_offered", "accepted", "declined"} <= values


def test_the_no_contact_order_is_one_of_the_criminal_case_conditions_asked_about() -> None:
    values = {o.value for o in responsible().question("contact_conditions").options}  # type: ignore[union-attr]
    assert "no_contact_order" in values


@pytest.mark.parametrize("get", [survivor, responsible])
def test_both_parties_are_asked_whether_they_were_coerced_or_offered_something(get) -> None:  # type: ignore[no-untyped-def]
    instrument: Instrument = get()
    question = instrument.question("coerced")
    assert question is not None and question.text == COERCION_QUESTION and question.required
    hard = [r for r in instrument.rules if r.hard]
    assert [(r.id, r.question, r.values) for r in hard] == [("coercion_blocks_ready", "coerced", ("yes",))]


@pytest.mark.parametrize("get, ready", INSTRUMENT_CASES)
def test_answers_that_fire_no_rule_suggest_ready(get, ready) -> None:  # type: ignore[no-untyped-def]
    instrument: Instrument = get()
    assert validate_answers(instrument, ready) == {}
    assert suggest_outcome(instrument, ready) == (ScreeningOutcome.ready, ())


@pytest.mark.parametrize("get", [survivor, responsible])
def test_every_rule_has_an_explanation_for_people(get) -> None:  # type: ignore[no-untyped-def]
    assert all(len(rule.explanation) > 30 for rule in get().rules)


# --- every outcome rule --------------------------------------------------------------------


@pytest.mark.parametrize("get, ready, rule, value", EVERY_RULE)
def test_each_rule_fires_on_its_answer_and_suggests_its_outcome(get, ready, rule: Rule, value: str) -> None:  # type: ignore[no-untyped-def]
    answers = ready | {rule.question: value}
    outcome, fired = suggest_outcome(get(), answers)
    assert fired == (rule,)
    assert outcome == rule.outcome


def test_still_in_contact_with_the_trafficker_suggests_not_yet() -> None:
    outcome, fired = suggest_outcome(survivor(), SURVIVOR_READY | {"trafficker_contact": "in_contact"})
    assert outcome == ScreeningOutcome.not_yet
    assert [r.id for r in fired] == ["in_contact_with_trafficker"]


def test_denying_any_responsibility_suggests_not_suitable() -> None:
    outcome, fired = suggest_outcome(responsible(), RESPONSIBLE_READY | {"responsibility": "denies"})
    assert outcome == ScreeningOutcome.not_suitable
    assert [r.id for r in fired] == ["denies_responsibility"]


@pytest.mark.parametrize(
    "get, ready, changes, expected",
    [
        (survivor, SURVIVOR_READY, {"support": "nobody", "trafficker_contact": "under_control"}, "not_suitable"),
        (survivor, SURVIVOR_READY, {"support": "nobody", "debt": "yes", "coerced": "yes"}, "not_yet"),
        (responsible, RESPONSIBLE_READY, {"responsibility": "denies", "coerced": "yes"}, "not_suitable"),
        (responsible, RESPONSIBLE_READY, {"amends": "no", "blames_survivor": "yes"}, "not_suitable"),
    ],
)
def test_the_most_severe_fired_rule_wins(get, ready, changes, expected) -> None:  # type: ignore[no-untyped-def]
    outcome, fired = suggest_outcome(get(), ready | changes)
    assert outcome == ScreeningOutcome(expected)
    assert {r.question for r in fired} == set(changes)


# --- overrides and the hard rule -----------------------------------------------------------


@pytest.mark.parametrize("get, ready", INSTRUMENT_CASES)
@pytest.mark.parametrize("reason", [None, "", "They told me it is fine now."])
def test_coercion_forbids_ready_even_with_an_override_reason(get, ready, reason) -> None:  # type: ignore[no-untyped-def]
    suggested, fired = suggest_outcome(get(), ready | {"coerced": "yes"})
    check = check_outcome(suggested=suggested, fired=fired, chosen=ScreeningOutcome.ready, override_reason=reason)
    assert not check.ok
    assert [c.code for c in check.conditions] == ["coercion_blocks_ready"]


@pytest.mark.parametrize("get, ready", INSTRUMENT_CASES)
def test_coercion_still_allows_recording_not_yet_or_not_suitable(get, ready) -> None:  # type: ignore[no-untyped-def]
    suggested, fired = suggest_outcome(get(), ready | {"coerced": "yes"})
    assert suggested == ScreeningOutcome.not_yet
    assert check_outcome(suggested=suggested, fired=fired, chosen=suggested, override_reason=None).ok
    assert check_outcome(
        suggested=suggested, fired=fired, chosen=ScreeningOutcome.not_suitable, override_reason="Offered money."
    ).ok


@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_an_override_without_a_written_reason_is_refused(reason) -> None:  # type: ignore[no-untyped-def]
    suggested, fired = suggest_outcome(survivor(), SURVIVOR_READY | {"support": "nobody"})
    check = check_outcome(suggested=suggested, fired=fired, chosen=ScreeningOutcome.ready, override_reason=reason)
    assert check.conditions == ()
    assert check.field_errors is not None and "override_reason" in check.field_errors


@pytest.mark.parametrize("chosen", ["ready", "not_suitable"])
def test_an_override_with_a_written_reason_is_allowed_when_no_hard_rule_fired(chosen: str) -> None:
    suggested, fired = suggest_outcome(survivor(), SURVIVOR_READY | {"support": "nobody"})
    check = check_outcome(
        suggested=suggested,
        fired=fired,
        chosen=ScreeningOutcome(chosen),
        override_reason="A support worker starts on Monday.",
    )
    assert check.ok


def test_choosing_a_stricter_outcome_than_suggested_is_an_override_too() -> None:
    suggested, fired = suggest_outcome(survivor(), SURVIVOR_READY)
    check = check_outcome(suggested=suggested, fired=fired, chosen=ScreeningOutcome.not_yet, override_reason=None)
    assert check.field_errors is not None and "override_reason" in check.field_errors


def test_accepting_the_suggested_outcome_needs_no_reason() -> None:
    suggested, fired = suggest_outcome(responsible(), RESPONSIBLE_READY | {"minimising": "persistently"})
    assert check_outcome(suggested=suggested, fired=fired, chosen=suggested, override_reason=None).ok


# --- validation ----------------------------------------------------------------------------


COERCED = "whether anyone pressured them, threatened them or offered them something to take part"
LISTED = ": choose one of the answers listed."


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"coerced": None}, "answers.coerced", f"Answer {COERCED}."),
        ({"coerced": "  "}, "answers.coerced", f"Answer {COERCED}."),
        ({"coerced": "maybe"}, "answers.coerced", f"Answer {COERCED}{LISTED}"),
        (
            {"emotional_readiness": "6"},
            "answers.emotional_readiness",
            f"Answer how ready they feel to meet, or hear from, the person who harmed them{LISTED}",
        ),
        (
            {"trafficker_contact": "No"},
            "answers.trafficker_contact",
            f"Answer whether anyone from the situation they left is still in touch with them{LISTED}",
        ),
        (
            {"legal_counsel": 1},
            "answers.legal_counsel",
            f"Answer whether independent legal advice has been offered to them{LISTED}",
        ),
        ({"shoe_size": "42"}, "answers.shoe_size", "Leave out this answer: the question is not part of the screening."),
        (
            {"anything_else": "x" * 4001},
            "answers.anything_else",
            "Shorten the answer about anything else they want you to know: use 4,000 characters or fewer.",
        ),
    ],
)
def test_answers_that_do_not_fit_the_instrument_are_field_errors(changes, field, message) -> None:  # type: ignore[no-untyped-def]
    answers = {k: v for k, v in (SURVIVOR_READY | changes).items() if v is not None}
    assert validate_answers(survivor(), answers) == {field: message}


def test_each_missing_answer_names_its_question_in_english_and_in_spanish() -> None:
    with use_language("es"):
        spanish = validate_answers(responsible(), {})
    english = validate_answers(responsible(), {})
    assert len(set(english.values())) == len(english) == len(set(spanish.values()))
    assert english["answers.responsibility"] == "Answer how they describe their part in what happened."
    assert all(spanish[field] != message for field, message in english.items())


def test_every_missing_required_answer_is_reported_at_once() -> None:
    errors = validate_answers(responsible(), {})
    assert set(errors) == {f"answers.{q.id}" for q in responsible().questions if q.required}


def test_optional_text_answers_may_be_left_out() -> None:
    assert "answers.anything_else" not in validate_answers(survivor(), SURVIVOR_READY)
    assert survivor().question("anything_else").required is False  # type: ignore[union-attr]


def test_stored_answers_are_trimmed_and_leave_out_empty_optional_ones() -> None:
    cleaned = clean_answers(
        survivor(), SURVIVOR_READY | {"anything_else": "  A quiet room, please. ", "motivation_in_own_words": " "}
    )
    assert cleaned["anything_else"] == "A quiet room, please."
    assert "motivation_in_own_words" not in cleaned
    assert list(cleaned) == [q.id for q in survivor().questions if q.id in cleaned]


# --- validity ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "age, expired", [(timedelta(days=89), False), (timedelta(days=90), False), (timedelta(days=90, seconds=1), True)]
)
def test_a_screening_expires_after_the_validity_window(age: timedelta, expired: bool) -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    validity = screening_validity(now - age, now=now, validity_days=90)
    assert validity.expired is expired
    assert validity.valid_until == now - age + timedelta(days=90)


# --- the loader checks instrument files ----------------------------------------------------


def _raw(path: str = "survivor.v1.json") -> dict:
    return json.loads((instruments.INSTRUMENTS_DIR / path).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "break_it",
    [
        lambda raw: raw["rules"][0].update({"question": "no_such_question"}),
        lambda raw: raw["rules"][0].update({"in": ["not_an_option"]}),
        lambda raw: raw["rules"][0].update({"outcome": "ready"}),
        lambda raw: raw["rules"][0].update({"question": "anything_else", "in": ["x"]}),
        lambda raw: raw["questions"][0].update({"type": "slider"}),
        lambda raw: raw["questions"][0].update({"options": []}),
        lambda raw: raw["questions"].append(dict(raw["questions"][0])),
        lambda raw: raw["questions"][0].pop("label"),
    ],
    ids=[
        "rule-on-missing-question",
        "rule-on-missing-option",
        "rule-suggesting-ready",
        "rule-on-text",
        "unknown-type",
        "choice-without-options",
        "repeated-question",
        "question-without-label",
    ],
)
def test_an_instrument_that_does_not_hold_together_is_refused(break_it) -> None:  # type: ignore[no-untyped-def]
    raw = _raw()
    break_it(raw)
    with pytest.raises(InstrumentError):
        parse_instrument(raw)


def test_a_new_version_becomes_current_while_old_screenings_still_load_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(instruments.INSTRUMENTS_DIR / "survivor.v1.json", tmp_path / "survivor.v1.json")
    newer = _raw() | {"version": 2, "title": "Readiness screening: survivor (revised)"}
    (tmp_path / "survivor.v2.json").write_text(json.dumps(newer), encoding="utf-8")
    monkeypatch.setattr(instruments, "INSTRUMENTS_DIR", tmp_path)
    load_instrument.cache_clear()
    current_instrument.cache_clear()
    try:
        assert current_instrument(ParticipantRole.survivor).version == 2  # type: ignore[union-attr]
        assert load_instrument("survivor", 1).version == 1  # type: ignore[union-attr]
        assert current_instrument(ParticipantRole.responsible_party) is None
    finally:
        monkeypatch.undo()
        load_instrument.cache_clear()
        current_instrument.cache_clear()
