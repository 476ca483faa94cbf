"""Reads for the portal's agreement page and API: the version waiting for this one person, and where they are.

A portal person sees the text of their own case's agreement, whether they have answered or signed it,
how many people have signed, and the sealed copy. Never anyone's evidence, comments or contact details.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.agreements.changes import AgreementChanges, changes_since_review
from app.agreements.models import (
    AgreementVersion,
    Review,
    ReviewDecision,
    SignatureDecline,
    VersionStatus,
)
from app.agreements.service import agreement_of, required_signers, signatures_of
from app.agreements.terms import AgreementText, read_text
from app.conferences.models import Case, Participant
from app.errors import NotFound
from app.i18n import language_for
from app.portal.rules import AgreementStep


@dataclass(frozen=True)
class OwnAgreement:
    """The agreement as it concerns one portal person: their step, the text to show, the signed copy."""

    step: AgreementStep
    version: AgreementVersion | None  # the version the step is about
    text: AgreementText | None  # shown when the person has the text to read, sign or keep
    signed: int
    required: int
    in_force: AgreementVersion | None  # the newest sealed version: its stored PDF is theirs to download
    # What changed in the text since the version this person last reviewed, while they still decide on it.
    changes: AgreementChanges | None = None

    @property
    def fingerprint(self) -> str:
        """The short form of the text's SHA-256 that the page shows (the full one is on the signed copy)."""
        return self.version.text_sha256[:12] if self.version else ""


def agreement_text(version: AgreementVersion, language: str) -> AgreementText:
    """Lay out the canonical text in the person's language (English when the text is not written in it),
    line for line: nothing is reworded, so what is read is what is signed."""
    return read_text(version.canonical_text, language)


def _versions(session: Session, *, agreement_id: int) -> list[AgreementVersion]:
    return list(
        session.exec(
            select(AgreementVersion)
            .where(AgreementVersion.agreement_id == agreement_id)
            .order_by(col(AgreementVersion.number).desc())
        ).all()
    )


def _own_review(session: Session, *, version: AgreementVersion, participant: Participant) -> Review | None:
    return session.exec(
        select(Review)
        .where(Review.version_id == version.id, Review.participant_id == participant.id)
        .order_by(col(Review.id).desc())
    ).first()


def _declined(session: Session, *, version: AgreementVersion, participant: Participant) -> bool:
    return (
        session.exec(
            select(SignatureDecline.id).where(
                SignatureDecline.version_id == version.id,
                SignatureDecline.signer_key == f"participant:{participant.id}",
            )
        ).first()
        is not None
    )


def _step(session: Session, *, version: AgreementVersion, participant: Participant) -> AgreementStep:
    status = VersionStatus(version.status)
    if status == VersionStatus.in_review:
        review = _own_review(session, version=version, participant=participant)
        done = review and review.decision == ReviewDecision.accepted and review.text_sha256 == version.text_sha256
        return AgreementStep.reviewed if done else AgreementStep.review
    if status == VersionStatus.changes_requested:
        if _declined(session, version=version, participant=participant):
            return AgreementStep.declined
        review = _own_review(session, version=version, participant=participant)
        if review and review.decision == ReviewDecision.changes_requested:
            return AgreementStep.changes_asked
        return AgreementStep.nothing  # someone else's answer: theirs to tell, not the page's
    if status == VersionStatus.accepted:
        return AgreementStep.accepted
    if status == VersionStatus.signing:
        signers = {s.signer_key for s in signatures_of(session, version=version)}
        return AgreementStep.signed if f"participant:{participant.id}" in signers else AgreementStep.sign
    if status == VersionStatus.sealed:
        return AgreementStep.sealed
    return AgreementStep.nothing


_WITH_TEXT = frozenset(
    {AgreementStep.review, AgreementStep.reviewed, AgreementStep.accepted, AgreementStep.sign, AgreementStep.sealed}
)


def _reviewed(
    session: Session, *, versions: list[AgreementVersion], participant: Participant
) -> list[AgreementVersion]:
    """The versions this person reviewed (in the portal, or with their facilitator), whatever they answered."""
    ids = set(
        session.exec(
            select(Review.version_id).where(
                Review.participant_id == participant.id, col(Review.version_id).in_([v.id for v in versions])
            )
        ).all()
    )
    return [v for v in versions if v.id in ids]


def own_agreement(session: Session, *, participant: Participant) -> OwnAgreement:
    """The agreement of the person's own case as it concerns them: the newest version and their step in it."""
    case = session.get(Case, participant.case_id)
    agreement = agreement_of(session, case=case) if case else None
    versions = _versions(session, agreement_id=agreement.id) if agreement else []  # type: ignore[arg-type]
    if case is None or not versions:
        return OwnAgreement(AgreementStep.nothing, None, None, 0, 0, None)
    latest = versions[0]
    language = language_for(participant.preferred_language)
    in_force = next((v for v in versions if v.status == VersionStatus.sealed), None)
    step = _step(session, version=latest, participant=participant)
    deciding = step in _WITH_TEXT and step != AgreementStep.sealed
    reviewed = _reviewed(session, versions=versions[1:], participant=participant) if deciding else []
    counted = latest.status in (VersionStatus.signing, VersionStatus.sealed)
    signed = len(signatures_of(session, version=latest)) if counted else 0
    return OwnAgreement(
        step=step,
        version=None if step == AgreementStep.nothing else latest,
        text=agreement_text(latest, language) if step in _WITH_TEXT else None,
        signed=signed,
        required=len(required_signers(session, case=case)),
        in_force=in_force,
        changes=changes_since_review(latest, reviewed, language),
    )


@dataclass(frozen=True)
class OwnVersion:
    """A version of the person's own case, with that case."""

    case: Case
    version: AgreementVersion


def own_version(session: Session, *, participant: Participant, version_id: int | None = None) -> OwnVersion:
    """The version a portal person acts on: by default their case's newest; another case's version is 404."""
    case = session.get(Case, participant.case_id)
    agreement = agreement_of(session, case=case) if case else None
    if case is None or agreement is None:
        raise NotFound("There is no agreement for you to read yet.")
    if version_id is None:
        versions = _versions(session, agreement_id=agreement.id)  # type: ignore[arg-type]
        version = versions[0] if versions else None
    else:
        version = session.get(AgreementVersion, version_id)
        if version is not None and (version.agreement_id != agreement.id or version.program_id != case.program_id):
            version = None
    if version is None:
        raise NotFound("No such agreement.")
    return OwnVersion(case, version)


def own_sealed_version(session: Session, *, participant: Participant) -> OwnVersion:
    """The newest sealed version of the person's own case, whose stored PDF they may download; else 404."""
    case = session.get(Case, participant.case_id)
    agreement = agreement_of(session, case=case) if case else None
    versions = _versions(session, agreement_id=agreement.id) if agreement else []  # type: ignore[arg-type]
    found = next((v for v in versions if v.status == VersionStatus.sealed), None)
    if case is None or found is None:
        raise NotFound("There is no signed agreement yet.")
    return OwnVersion(case, found)
