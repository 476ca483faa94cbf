"""Where sealed PDFs are kept. One interface; today the database, so a seal is one transaction."""

import hashlib

from sqlmodel import Session, select

from app.agreements.models import AgreementDocument, AgreementVersion


def store_document(session: Session, *, version: AgreementVersion, content: bytes) -> AgreementDocument:
    """Store the sealed version's PDF once, with its SHA-256."""
    document = AgreementDocument(
        program_id=version.program_id,
        version_id=version.id,
        content=content,  # type: ignore[arg-type]
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
    )
    session.add(document)
    session.flush()
    return document


def load_document(session: Session, *, version: AgreementVersion) -> AgreementDocument | None:
    """The stored bytes, exactly as sealed (never re-rendered)."""
    return session.exec(select(AgreementDocument).where(AgreementDocument.version_id == version.id)).first()
