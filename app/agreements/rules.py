"""Gates G4 (review before signing) and G5 (signing and sealing): the transition table and checks. Pure."""

from collections.abc import Iterable
from dataclasses import dataclass

from app.agreements.models import ReviewDecision, VersionStatus
from app.errors import Condition
from app.i18n import N_

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
    for person, code, who in (
        (survivor_id, "survivor_acceptance_missing", "The survivor"),
        (responsible_id, "responsible_acceptance_missing", "The responsible party"),
    ):
        review = latest.get(person) if person is not None else None
        if review is None or review.decision != ReviewDecision.accepted or review.text_sha256 != text_sha256:
            conditions.append(Condition(code, f"{who} has not accepted this exact version.", participant_id=person))
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


def all_signed(*, required: Iterable[str], signed: Iterable[str]) -> bool:
    return set(required) <= set(signed)
