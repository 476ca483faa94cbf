"""JSON API: a case's agreement from the facilitator's side. Drafting with optimistic locking, sending for
review, recording a review or a signature given in person, sending for signature, declining, amendments,
the stored PDF and the diff of two versions.

Every refused gate is 409 with its `conditions` codes (not_in_review, text_changed, survivor_acceptance_missing,
responsible_acceptance_missing, not_open_for_signature, not_a_signer, already_signed, version_sealed,
edit_conflict, conference_not_held, transition_not_allowed). Signing evidence (IP address and user agent)
is shown to administrators only.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import Response
from sqlmodel import Session

from app.actor import Actor
from app.agreements import queries, service, storage
from app.agreements.dependencies import (
    ReadableVersion,
    WritableVersion,
    party_of_case,
    readable_version,
    readable_versions,
)
from app.agreements.models import AgreementVersion, Signature, SignatureDecline
from app.agreements.queries import ReviewRow, VersionView
from app.agreements.schemas import (
    AgreementPublic,
    AmendmentCreate,
    DeclineCreate,
    DeclinePublic,
    DiffLinePublic,
    DiffPublic,
    DocumentPublic,
    DraftSave,
    EvidencePublic,
    ReviewPublic,
    ReviewRecord,
    SignatureCreate,
    SignaturePublic,
    SignerPublic,
    VersionPublic,
    VersionSummary,
)
from app.auth.dependencies import ActorDep, client_ip
from app.conferences.dependencies import DetailCase, VisibleCase
from app.conferences.models import Case
from app.conferences.service import record_case_read
from app.db import RecordId, SessionDep
from app.errors import NotFound
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["agreements"], dependencies=[Depends(verify_csrf)])
BASE = "/cases/{case_id}/agreement"
ONE = BASE + "/versions/{number}"


def pdf_url(case_id: int, number: int) -> str:
    """Where the API serves a sealed version's stored PDF."""
    return f"/api/v1/cases/{case_id}/agreement/versions/{number}/pdf"


PdfLanguage = Annotated[
    Literal["en", "es"],
    Query(
        description="The copy's language: en is the record copy; es the copy stored for Spanish-speaking participants."
    ),
]


def pdf_response(session: Session, *, case: Case, version: AgreementVersion, language: str = "en") -> Response:
    """The stored bytes of a sealed version's PDF in `language`, exactly as sealed; never rendered again."""
    document = storage.load_document(session, version=version, language=language)
    if document is None or document.language != language:
        raise NotFound("This version has no signed PDF in this language: only a sealed version has one.")
    suffix = "" if language == storage.RECORD_LANGUAGE else f"-{language}"
    filename = f"agreement-{case.reference}-v{version.number}{suffix}.pdf"
    return Response(
        document.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def signature_public(signature: Signature, *, actor: Actor, version_status: str | None = None) -> SignaturePublic:
    """A signature; its evidence only for administrators (nobody else ever sees a survivor's IP address)."""
    evidence = EvidencePublic(ip_address=signature.ip_address, user_agent=signature.user_agent)
    return SignaturePublic(
        id=signature.id,  # type: ignore[arg-type]
        signer=signature.signer_key,
        participant_id=signature.participant_id,
        signer_role=signature.signer_role,
        typed_name=signature.typed_name,
        intent_statement=signature.intent_statement,
        method=signature.method,
        text_sha256=signature.text_sha256,
        signed_at=signature.signed_at,
        evidence=evidence if actor.is_admin else None,
        version_status=version_status,  # type: ignore[arg-type]
    )


def review_public(row: ReviewRow) -> ReviewPublic:
    """A review as the API shows it, with who gave it."""
    r = row.review
    return ReviewPublic(
        id=r.id,  # type: ignore[arg-type]
        participant_id=r.participant_id,
        participant_name=row.participant.display_name,
        role=row.participant.role,
        decision=r.decision,
        comment=r.comment,
        text_sha256=r.text_sha256,
        via=r.via,
        created_at=r.created_at,
    )


def decline_public(decline: SignatureDecline) -> DeclinePublic:
    """A refusal to sign, with its reason."""
    return DeclinePublic(
        id=decline.id,  # type: ignore[arg-type]
        signer=decline.signer_key,
        reason=decline.reason,
        created_at=decline.created_at,
    )


def version_summary(version: AgreementVersion) -> VersionSummary:
    """A version as the history lists it."""
    return VersionSummary(
        number=version.number,
        status=version.status,
        text_sha256=version.text_sha256,
        change_note=version.change_note,
        created_at=version.created_at,
        sealed_at=version.sealed_at,
    )


def version_public(view: VersionView, *, actor: Actor, case_id: int) -> VersionPublic:
    """A version as the API shows it; program staff get no reviews or declines, only administrators evidence."""
    v, full = view.version, not queries.reads_sealed_only(actor)
    document = view.document
    return VersionPublic(
        **version_summary(v).model_dump(),
        canonical_text=v.canonical_text,
        terms=v.terms,  # type: ignore[arg-type]
        amends_version=view.amends_number,
        reviews=[review_public(r) for r in view.reviews] if full else None,
        signatures=[signature_public(s, actor=actor) for s in view.signatures],
        declines=[decline_public(d) for d in view.declines] if full else None,
        required_signers=[SignerPublic(signer=s.key, role=s.role, name=s.name, signed=s.signed) for s in view.signers],
        document=DocumentPublic(
            sha256=document.sha256,
            size_bytes=document.size_bytes,
            created_at=document.created_at,
            url=pdf_url(case_id, v.number),
        )
        if document
        else None,
    )


def _version(session: Session, case: Case, version: AgreementVersion, actor: Actor) -> VersionPublic:
    return version_public(queries.version_view(session, case=case, version=version), actor=actor, case_id=case.id)  # type: ignore[arg-type]


@router.get(BASE, response_model=AgreementPublic)
def read_agreement(case: VisibleCase, session: SessionDep, actor: ActorDep) -> AgreementPublic:
    """The current version with its reviews and signatures, and the history of every version.

    Program staff read sealed versions only (403 before there is one)."""
    versions = readable_versions(session, case=case, actor=actor)
    if not versions:
        raise NotFound("No agreement has been drafted for this case yet.")
    record_case_read(session, actor=actor, case=case, what="agreement")
    force = queries.in_force(versions)
    return AgreementPublic(
        case_id=case.id,  # type: ignore[arg-type]
        current=_version(session, case, versions[0], actor),
        in_force=force.number if force else None,
        versions=[version_summary(v) for v in versions],
    )


@router.get(ONE, response_model=VersionPublic)
def read_version(case: VisibleCase, version: ReadableVersion, session: SessionDep, actor: ActorDep) -> VersionPublic:
    """One version: its exact text and hash, terms, reviews, signatures and declines."""
    record_case_read(session, actor=actor, case=case, what="agreement")
    return _version(session, case, version, actor)


@router.put(BASE + "/draft", response_model=VersionPublic)
def save_draft(data: DraftSave, case: DetailCase, session: SessionDep, actor: ActorDep) -> VersionPublic:
    """Save the terms as a new version, after the conference is held.

    `based_on` is the version your edit started from: if someone saved since, 409 `edit_conflict` with the
    current text in `detail`, and nothing is overwritten. A sealed agreement is changed by an amendment."""
    version = service.save_draft(
        session, actor=actor, case=case, terms=data.terms, based_on=data.based_on, change_note=data.change_note
    )
    return _version(session, case, version, actor)


@router.post(BASE + "/amendments", response_model=VersionPublic, status_code=status.HTTP_201_CREATED)
def start_amendment(data: AmendmentCreate, case: DetailCase, session: SessionDep, actor: ActorDep) -> VersionPublic:
    """Amend the sealed agreement: a new version, reviewed and signed again; the sealed one stays in force
    until the amendment is sealed."""
    version = service.start_amendment(
        session, actor=actor, case=case, terms=data.terms, change_note=data.change_note, based_on=data.based_on
    )
    return _version(session, case, version, actor)


@router.post(ONE + "/send-for-review", response_model=VersionPublic)
def send_for_review(case: DetailCase, version: WritableVersion, session: SessionDep, actor: ActorDep) -> VersionPublic:
    """Send this exact version to the survivor and the responsible party for review (G4)."""
    service.send_for_review(session, actor=actor, case=case, version=version)
    return _version(session, case, version, actor)


@router.post(ONE + "/reviews", response_model=ReviewPublic, status_code=status.HTTP_201_CREATED)
def record_review(
    data: ReviewRecord, case: DetailCase, version: WritableVersion, session: SessionDep, actor: ActorDep
) -> ReviewPublic:
    """Record a party's review given in person: acceptance of the exact text (its hash), or changes asked for."""
    participant = party_of_case(session, case=case, participant_id=data.participant_id)
    review = service.record_review(
        session,
        actor=actor,
        case=case,
        version=version,
        participant=participant,  # type: ignore[arg-type]
        decision=data.decision,
        text_sha256=data.text_sha256,
        comment=data.comment,
    )
    return review_public(ReviewRow(review, participant))  # type: ignore[arg-type]


@router.post(ONE + "/send-for-signature", response_model=VersionPublic)
def send_for_signature(
    case: DetailCase, version: WritableVersion, session: SessionDep, actor: ActorDep
) -> VersionPublic:
    """Open a version for signature: only one both parties accepted exactly as it stands (G4)."""
    service.send_for_signature(session, actor=actor, case=case, version=version)
    return _version(session, case, version, actor)


@router.post(ONE + "/signatures", response_model=SignaturePublic, status_code=status.HTTP_201_CREATED)
def sign_version(
    data: SignatureCreate,
    request: Request,
    case: DetailCase,
    version: WritableVersion,
    session: SessionDep,
    actor: ActorDep,
) -> SignaturePublic:
    """Sign the exact text (its SHA-256) as the facilitator, or record a party's signature given in person
    (`participant_id`). The last required signature seals the version and stores its PDF."""
    participant = party_of_case(session, case=case, participant_id=data.participant_id)
    signature = service.sign_version(
        session,
        actor=actor,
        case=case,
        version=version,
        text_sha256=data.text_sha256,
        typed_name=data.typed_name,
        intent_confirmed=data.intent_confirmed,
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        participant=participant,
    )
    return signature_public(signature, actor=actor, version_status=version.status)


@router.post(ONE + "/decline", response_model=DeclinePublic, status_code=status.HTTP_201_CREATED)
def decline_to_sign(
    data: DeclineCreate, case: DetailCase, version: WritableVersion, session: SessionDep, actor: ActorDep
) -> DeclinePublic:
    """Record that a signer declines, with the reason; the agreement goes back to drafting."""
    participant = party_of_case(session, case=case, participant_id=data.participant_id)
    decline = service.decline_to_sign(
        session, actor=actor, case=case, version=version, reason=data.reason, participant=participant
    )
    return decline_public(decline)


@router.get(
    ONE + "/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The stored PDF, exactly as sealed."}},
)
def download_pdf(
    case: VisibleCase, version: ReadableVersion, session: SessionDep, actor: ActorDep, language: PdfLanguage = "en"
) -> Response:
    """The sealed version's PDF: the stored bytes, never rendered again. 404 until the version is sealed,
    or when no copy was stored in `language`."""
    response = pdf_response(session, case=case, version=version, language=language)
    record_case_read(session, actor=actor, case=case, what="agreement.pdf")
    return response


@router.get(ONE + "/diff/{other}", response_model=DiffPublic)
def diff_versions(
    other: RecordId, case: VisibleCase, version: ReadableVersion, session: SessionDep, actor: ActorDep
) -> DiffPublic:
    """What changed from version `number` to version `other`, line by line in the canonical texts."""
    target = readable_version(session, case=case, actor=actor, number=other)
    record_case_read(session, actor=actor, case=case, what="agreement")
    lines = queries.diff_lines(version.canonical_text, target.canonical_text)
    return DiffPublic(
        from_version=version.number,
        to_version=target.number,
        lines=[DiffLinePublic(op=line.op, text=line.text) for line in lines],
    )
