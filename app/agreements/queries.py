"""Reads shaped for the agreement pages and the API: versions with their reviews, signatures, declines and
stored PDF; the editor's live preview; and the line diff of two versions. Always for one case."""

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session, col, func, select

from app.actor import Actor
from app.agreements import service, storage
from app.agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementVersion,
    Review,
    Signature,
    SignatureDecline,
)
from app.agreements.service import participant_languages
from app.agreements.terms import Term, agreement_text, text_languages
from app.auth.models import UserRole
from app.conferences.models import Case, CaseSession, Participant, ParticipantRole, SessionKind, SessionStatus

PARTY_ROLES = (ParticipantRole.survivor, ParticipantRole.responsible_party)


@dataclass(frozen=True)
class ReviewRow:
    """A review with the participant who gave it."""

    review: Review
    participant: Participant


@dataclass(frozen=True)
class SignerRow:
    """One required signer of a version and whether they signed it."""

    key: str
    role: str
    name: str
    participant_id: int | None
    signed: bool


@dataclass(frozen=True)
class DocumentInfo:
    """The stored PDF's facts, without loading its bytes."""

    sha256: str
    size_bytes: int
    created_at: datetime
    translations: tuple[str, ...] = ()  # the languages of the participants' copies, beside the English record


@dataclass(frozen=True)
class VersionView:
    """One version with its reviews, signatures, declines, required signers and stored PDF."""

    version: AgreementVersion
    reviews: list[ReviewRow]
    signatures: list[Signature]
    declines: list[SignatureDecline]
    signers: list[SignerRow]
    document: DocumentInfo | None
    amends_number: int | None
    # Each party who reviewed an earlier version, with the newest such version: what the portal shows
    # them as changed is counted from there (app/agreements/changes.py).
    last_reviewed: tuple[tuple[Participant, int], ...] = ()

    @property
    def lines(self) -> list[str]:
        """The canonical text line by line: exactly what the parties read and sign."""
        return self.version.canonical_text.rstrip("\n").split("\n")


@dataclass(frozen=True)
class DiffLine:
    """One line of a diff: added, removed, or the same in both texts."""

    op: Literal["added", "removed", "unchanged"]
    text: str


def reads_sealed_only(actor: Actor) -> bool:
    """Program staff read sealed agreements only; drafts, reviews and declines are the facilitators'."""
    return actor.role == UserRole.staff


def agreement_of(session: Session, *, case: Case) -> Agreement | None:
    """The case's agreement, or None before the first draft."""
    return service.agreement_of(session, case=case)


def latest_version(session: Session, *, case: Case) -> AgreementVersion | None:
    """The newest version of the case's agreement, whatever its status, or None before the first draft."""
    agreement = agreement_of(session, case=case)
    return service.latest_version(session, agreement=agreement) if agreement else None


def versions_of(session: Session, *, case: Case, actor: Actor) -> list[AgreementVersion]:
    """The versions this actor may read, newest first (staff: those that were ever sealed)."""
    query = (
        select(AgreementVersion)
        .join(Agreement, col(Agreement.id) == AgreementVersion.agreement_id)
        .where(Agreement.case_id == case.id, AgreementVersion.program_id == case.program_id)
        .order_by(col(AgreementVersion.number).desc())
    )
    if reads_sealed_only(actor):
        query = query.where(col(AgreementVersion.sealed_at).is_not(None))
    return list(session.exec(query).all())


def get_version(session: Session, *, case: Case, number: int) -> AgreementVersion | None:
    """Version `number` of this case's agreement, or None."""
    return session.exec(
        select(AgreementVersion)
        .join(Agreement, col(Agreement.id) == AgreementVersion.agreement_id)
        .where(
            Agreement.case_id == case.id,
            AgreementVersion.program_id == case.program_id,
            AgreementVersion.number == number,
        )
    ).first()


def in_force(versions: list[AgreementVersion]) -> AgreementVersion | None:
    """The sealed version currently in force (an amendment replaces it only once sealed itself)."""
    return next((v for v in versions if v.status == "sealed"), None)


def participants(session: Session, *, case: Case) -> list[Participant]:
    """Everyone in the case, in the order they were added."""
    return list(session.exec(select(Participant).where(Participant.case_id == case.id).order_by(col(Participant.id))))


def parties(session: Session, *, case: Case) -> list[Participant]:
    """The survivor and the responsible party: who review and sign."""
    return [p for p in participants(session, case=case) if p.role in PARTY_ROLES]


def case_participant(session: Session, *, case: Case, participant_id: int) -> Participant | None:
    """A participant of this case, or None (another case's participant is not found)."""
    participant = session.get(Participant, participant_id)
    return participant if participant is not None and participant.case_id == case.id else None


def conference_held(session: Session, *, case: Case) -> bool:
    """Whether the case's conference took place: drafting starts after it."""
    return (
        session.exec(
            select(CaseSession.id).where(
                CaseSession.case_id == case.id,
                CaseSession.kind == SessionKind.conference,
                CaseSession.status == SessionStatus.held,
            )
        ).first()
        is not None
    )


def document_info(session: Session, *, version: AgreementVersion) -> DocumentInfo | None:
    """The stored record PDF's hash, size and time, and the languages of its copies; None before sealing."""
    rows = session.exec(
        select(
            AgreementDocument.language,
            AgreementDocument.sha256,
            AgreementDocument.size_bytes,
            AgreementDocument.created_at,
        ).where(AgreementDocument.version_id == version.id)
    ).all()
    record = next((row for row in rows if row[0] == storage.RECORD_LANGUAGE), None)
    if record is None:
        return None
    translations = tuple(sorted(row[0] for row in rows if row[0] != storage.RECORD_LANGUAGE))
    return DocumentInfo(*record[1:], translations=translations)


def version_view(session: Session, *, case: Case, version: AgreementVersion) -> VersionView:
    """One version with everything recorded against it, in the order it happened."""
    people = {p.id: p for p in participants(session, case=case)}
    reviews = session.exec(select(Review).where(Review.version_id == version.id).order_by(col(Review.id))).all()
    signatures = service.signatures_of(session, version=version)
    declines = session.exec(
        select(SignatureDecline).where(SignatureDecline.version_id == version.id).order_by(col(SignatureDecline.id))
    ).all()
    signed = {s.signer_key: s for s in signatures}
    signers = []
    for key, role in service.required_signers(session, case=case).items():
        participant_id = int(key.split(":", 1)[1]) if key.startswith("participant:") else None
        person = people.get(participant_id) if participant_id else None
        if person is not None:
            name = person.display_name
        else:
            name = signed[key].typed_name if key in signed else "A facilitator of the case"
        signers.append(SignerRow(key, role, name, participant_id, key in signed))
    amends = session.get(AgreementVersion, version.amends_version_id) if version.amends_version_id else None
    return VersionView(
        version=version,
        reviews=[ReviewRow(r, people[r.participant_id]) for r in reviews if r.participant_id in people],
        signatures=signatures,
        declines=list(declines),
        signers=signers,
        document=document_info(session, version=version),
        amends_number=amends.number if amends else None,
        last_reviewed=_last_reviewed(session, version=version, people=people),
    )


def _last_reviewed(
    session: Session, *, version: AgreementVersion, people: dict[int | None, Participant]
) -> tuple[tuple[Participant, int], ...]:
    rows = session.exec(
        select(Review.participant_id, func.max(AgreementVersion.number))
        .join(AgreementVersion, col(AgreementVersion.id) == Review.version_id)
        .where(AgreementVersion.agreement_id == version.agreement_id, AgreementVersion.number < version.number)
        .group_by(Review.participant_id)
    ).all()
    found = [(people[pid], number) for pid, number in rows if pid in people]
    return tuple(sorted(found, key=lambda row: (row[0].role != ParticipantRole.survivor, row[0].display_name)))


def preview_text(session: Session, *, case: Case, terms: list[Term], number: int) -> str:
    """The text a save would produce, built exactly as the service builds it, for the live preview."""
    people = participants(session, case=case)
    names = {p.id: p.display_name for p in people}
    shown = {p.id: p.display_name for p in people if p.role in PARTY_ROLES}
    terms = [t for t in terms if t.owed_by in names]
    return agreement_text(
        case_reference=case.reference,
        number=number,
        parties=shown | {t.owed_by: names[t.owed_by] for t in terms},
        terms=terms,
        languages=text_languages(terms, participant_languages(session, case=case)),
    )


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """Two texts line by line: what stayed, what was removed and what was added, in reading order."""
    a, b = old.rstrip("\n").split("\n"), new.rstrip("\n").split("\n")
    lines: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            lines += [DiffLine("unchanged", line) for line in a[i1:i2]]
            continue
        lines += [DiffLine("removed", line) for line in a[i1:i2]]
        lines += [DiffLine("added", line) for line in b[j1:j2]]
    return lines
