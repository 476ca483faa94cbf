"""Gates G4 (review before signing) and G5 (signing and sealing): the transition table and checks. Pure."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.agreements.models import ReviewDecision, TermKind, VersionStatus
from app.agreements.terms import Term, untranslated
from app.conferences.models import ParticipantRole
from app.errors import Condition
from app.i18n import N_, Filled

# Which status a version may move to from each status. Sealed versions move only to superseded,
# and only when a sealed amendment replaces them; nothing else ever changes a sealed version.
ALLOWED_TRANSITIONS: dict[VersionStatus, frozenset[VersionStatus]] = {
    VersionStatus.draft: frozenset({VersionStatus.in_review, VersionStatus.superseded}),
    VersionStatus.in_review: frozenset(
        {VersionStatus.accepted, VersionStatus.changes_requested, VersionStatus.superseded}
    ),
    VersionStatus.changes_requested: frozenset({VersionStatus.superseded}),
    VersionStatus.accepted: frozenset({VersionStatus.signing, VersionStatus.superseded}),
    VersionStatus.signing: frozenset({VersionStatus.sealed, VersionStatus.changes_requested, VersionStatus.superseded}),
    VersionStatus.sealed: frozenset({VersionStatus.superseded}),
    VersionStatus.superseded: frozenset(),
}

EDITABLE = frozenset(
    {
        VersionStatus.draft,
        VersionStatus.in_review,
        VersionStatus.changes_requested,
        VersionStatus.accepted,
        VersionStatus.signing,
    }
)

# Who may owe each kind of term. What repairs the harm (an apology, a payment, service, a program,
# keeping away) is owed by the responsible party. Another commitment may be taken on by any party to the
# agreement: the survivor too (choosing the charity a donation goes to), a supporter, or a community
# member. Never the interpreter, whose part is to carry words.
OWER_ROLES: dict[TermKind, frozenset[ParticipantRole]] = {
    kind: frozenset({ParticipantRole.responsible_party}) for kind in TermKind if kind != TermKind.other
} | {
    TermKind.other: frozenset(
        {
            ParticipantRole.responsible_party,
            ParticipantRole.survivor,
            ParticipantRole.supporter,
            ParticipantRole.community_member,
        }
    )
}
OWER_MESSAGES: dict[TermKind, str] = {
    kind: N_("Choose the responsible party: only they can owe this kind of term.")
    for kind in TermKind
    if kind != TermKind.other
} | {TermKind.other: N_("Choose who will do this. The interpreter cannot owe anything.")}


def ower_problems(terms: Sequence[Term], roles: dict[int, ParticipantRole]) -> dict[int, str]:
    """The terms (by index from 0) owed by someone who cannot owe that kind of term, with what to do."""
    return {
        index: OWER_MESSAGES[term.kind]
        for index, term in enumerate(terms)
        if term.owed_by in roles and roles[term.owed_by] not in OWER_ROLES[term.kind]
    }


INTENT_STATEMENT = N_("I have read this agreement and I sign it of my own free will.")


def can_move(current: VersionStatus, target: VersionStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def transition_conditions(current: VersionStatus, target: VersionStatus) -> list[Condition]:
    if can_move(current, target):
        return []
    if current == VersionStatus.sealed:
        return [Condition("version_sealed", N_("This version is sealed: change it with an amendment."))]
    if current == VersionStatus.superseded:
        return [Condition("version_superseded", N_("A newer version replaced this one."))]
    return [
        Condition(
            "transition_not_allowed",
            N_("This step does not fit where the agreement stands now. Reload the page to see what to do next."),
        )
    ]


@dataclass(frozen=True)
class ReviewFact:
    participant_id: int
    decision: ReviewDecision
    text_sha256: str


def review_conditions(
    *, reviews: Iterable[ReviewFact], text_sha256: str, survivor_id: int | None, responsible_id: int | None
) -> list[Condition]:
    """G4: before signing, the survivor and the responsible party accepted this exact text."""
    latest: dict[int, ReviewFact] = {}
    for review in reviews:
        latest[review.participant_id] = review
    conditions = []
    for person, code, message in (
        (survivor_id, "survivor_acceptance_missing", N_("The survivor has not accepted this exact version.")),
        (
            responsible_id,
            "responsible_acceptance_missing",
            N_("The responsible party has not accepted this exact version."),
        ),
    ):
        review = latest.get(person) if person is not None else None
        if review is None or review.decision != ReviewDecision.accepted or review.text_sha256 != text_sha256:
            conditions.append(Condition(code, message, participant_id=person))
    return conditions


def signing_conditions(
    *,
    status: VersionStatus,
    version_sha256: str,
    offered_sha256: str,
    signer_key: str,
    required: Iterable[str],
    signed: Iterable[str],
) -> list[Condition]:
    """G5: a signature is for the version being signed, bound to its exact text, once per required signer."""
    conditions = []
    if status != VersionStatus.signing:
        conditions.append(Condition("not_open_for_signature", N_("This version is not open for signature.")))
    if offered_sha256 != version_sha256:
        conditions.append(
            Condition(
                "text_changed",
                N_(
                    "The text you were shown is not the current text of this version. "
                    "Read the current text and sign that."
                ),
            )
        )
    if signer_key not in set(required):
        conditions.append(Condition("not_a_signer", N_("You are not one of the people who sign this agreement.")))
    if signer_key in set(signed):
        conditions.append(Condition("already_signed", N_("You have already signed this version.")))
    return conditions


def language_conditions(*, terms: Sequence[Term], written_in: Iterable[str], readers: Iterable[str]) -> list[Condition]:
    """Each person reads the agreement in their own language: a version goes to review and to signing only
    when its text is written in every language a participant of the case reads (every term translated)."""
    written = set(written_in)
    conditions = []
    for language in sorted(set(readers) - written):
        missing = [number for number, term in enumerate(terms, start=1) if untranslated(term, language)]
        for number in missing or [0]:
            conditions.append(
                Condition(
                    "translation_missing",
                    Filled(
                        N_("Term %(number)s has no wording in %(language)s yet. Add it, say who translated it."),
                        number=number,
                        language=language,
                    )
                    if number
                    else Filled(
                        N_(
                            "The text has no %(language)s version yet, the language a participant reads. Save it again."
                        ),
                        language=language,
                    ),
                )
            )
    return conditions


def all_signed(*, required: Iterable[str], signed: Iterable[str]) -> bool:
    return set(required) <= set(signed)
