"""Readiness-screening instruments: versioned data files, loaded and checked here.

Each instrument lives in `<key>.v<version>.json` beside this module. A new version is a new
file; old files stay, so a screening taken with an older version still displays with the
questions it was answered against. The current instrument for a role is its highest version.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from app.conferences.models import ParticipantRole, ScreeningOutcome

INSTRUMENTS_DIR = Path(__file__).parent
QUESTION_TYPES = frozenset({"yes_no", "choice", "text", "scale"})
RULE_OUTCOMES = frozenset({ScreeningOutcome.not_yet, ScreeningOutcome.not_suitable})
SCREENED_ROLES = frozenset({ParticipantRole.survivor, ParticipantRole.responsible_party})
YES_NO_OPTIONS = (("yes", "Yes"), ("no", "No"))


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    text: str
    help: str
    type: str
    options: tuple[Option, ...]
    required: bool
    # What the question asks, as it reads inside a sentence ("whether they need an interpreter"), so that an
    # error names its question: "Answer whether they need an interpreter." Translated in the catalogs.
    label: str = ""

    @property
    def choices(self) -> list[tuple[str, str]]:
        """The options as (value, label) pairs, as form fields take them."""
        return [(o.value, o.label) for o in self.options]

    def label_for(self, value: str) -> str:
        """The option's label for an answer, or the answer itself (free text, or a value since removed)."""
        return next((o.label for o in self.options if o.value == value), value)


@dataclass(frozen=True)
class Rule:
    """When the answer to `question` is one of `values`, suggest `outcome`. A hard rule also forbids "ready"."""

    id: str
    question: str
    values: tuple[str, ...]
    outcome: ScreeningOutcome
    explanation: str
    hard: bool = False


@dataclass(frozen=True)
class Instrument:
    key: str
    version: int
    role: ParticipantRole
    title: str
    intro: str
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def rules_for(self, question_id: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.question == question_id)


class InstrumentError(ValueError):
    """An instrument file that does not hold together: a bug in the shipped data, caught at load."""


def _question(raw: dict[str, Any]) -> Question:
    kind = raw["type"]
    if kind not in QUESTION_TYPES:
        raise InstrumentError(f"question {raw['id']}: unknown type {kind!r}")
    options = tuple(Option(str(o["value"]), o["label"]) for o in raw.get("options", []))
    if kind == "yes_no" and not options:
        options = tuple(Option(v, label) for v, label in YES_NO_OPTIONS)
    if kind in ("choice", "scale", "yes_no") and not options:
        raise InstrumentError(f"question {raw['id']}: a {kind} question needs options")
    if kind == "text" and options:
        raise InstrumentError(f"question {raw['id']}: a text question has no options")
    label = str(raw.get("label", "")).strip()
    if not label:
        raise InstrumentError(f"question {raw['id']}: a question needs a short label for its errors")
    return Question(
        id=raw["id"],
        topic=raw.get("topic", ""),
        text=raw["text"],
        help=raw.get("help", ""),
        type=kind,
        options=options,
        required=bool(raw.get("required", False)),
        label=label,
    )


def _rule(raw: dict[str, Any], questions: dict[str, Question]) -> Rule:
    question = questions.get(raw["question"])
    if question is None:
        raise InstrumentError(f"rule {raw['id']}: no question {raw['question']!r}")
    values = tuple(str(v) for v in raw["in"])
    allowed = {o.value for o in question.options}
    if question.type == "text" or not values or not set(values) <= allowed:
        raise InstrumentError(f"rule {raw['id']}: its answers are not options of {question.id}")
    outcome = ScreeningOutcome(raw["outcome"])
    if outcome not in RULE_OUTCOMES:
        raise InstrumentError(f"rule {raw['id']}: a rule suggests not_yet or not_suitable, never {outcome}")
    return Rule(raw["id"], question.id, values, outcome, raw["explanation"], bool(raw.get("hard", False)))


def parse_instrument(raw: dict[str, Any]) -> Instrument:
    """An instrument from its JSON form, checked: rules must point at real questions and options."""
    questions = tuple(_question(q) for q in raw["questions"])
    by_id = {q.id: q for q in questions}
    if len(by_id) != len(questions):
        raise InstrumentError(f"instrument {raw['key']}: question ids repeat")
    rules = tuple(_rule(r, by_id) for r in raw.get("rules", []))
    if len({r.id for r in rules}) != len(rules):
        raise InstrumentError(f"instrument {raw['key']}: rule ids repeat")
    return Instrument(
        key=raw["key"],
        version=int(raw["version"]),
        role=ParticipantRole(raw["role"]),
        title=raw["title"],
        intro=raw.get("intro", ""),
        questions=questions,
        rules=rules,
    )


@lru_cache(maxsize=32)
def load_instrument(key: str, version: int) -> Instrument | None:
    """One version of an instrument, or None when no such file ships with the app."""
    if not key.replace("_", "").isalnum():
        return None
    path = INSTRUMENTS_DIR / f"{key}.v{int(version)}.json"
    if not path.is_file():
        return None
    instrument = parse_instrument(json.loads(path.read_text(encoding="utf-8")))
    if (instrument.key, instrument.version) != (key, version):
        raise InstrumentError(f"{path.name} declares {instrument.key} version {instrument.version}")
    return instrument


@lru_cache(maxsize=8)
def current_instrument(role: ParticipantRole) -> Instrument | None:
    """The instrument used for new screenings of this role (its highest version), or None: not screened."""
    if role not in SCREENED_ROLES:
        return None
    found = [load_instrument(*_key_version(path)) for path in INSTRUMENTS_DIR.glob("*.v*.json")]
    mine = [i for i in found if i is not None and i.role == role]
    return max(mine, key=lambda i: i.version) if mine else None


def extract_labels(
    fileobj: BinaryIO, keywords: object, comment_tags: object, options: object
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel's extraction of an instrument file (babel.cfg): each question's label, for the catalogs."""
    text = fileobj.read().decode("utf-8")
    for question in json.loads(text).get("questions", []):
        if label := question.get("label"):
            yield text[: text.find(json.dumps(label))].count("\n") + 1, None, label, []


def _key_version(path: Path) -> tuple[str, int]:
    key, _, version = path.name.removesuffix(".json").rpartition(".v")
    return key, int(version)
