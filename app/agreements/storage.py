"""Where sealed PDFs are kept. One interface; today the database, so a seal is one transaction.

Each sealed version has its English record copy and a copy in each other language its participants
prefer (app/agreements/service.seal_version); all are stored at sealing and never rendered again.
"""

import hashlib

from sqlmodel import Session, col, select

from app.agreements.models import AgreementDocument, AgreementVersion

RECORD_LANGUAGE = "en"


def store_document(
    session: Session, *, version: AgreementVersion, content: bytes, language: str = RECORD_LANGUAGE
) -> AgreementDocument:
    """Store the sealed version's PDF in one language, once, with its SHA-256."""
    document = AgreementDocument(
        program_id=version.program_id,
        version_id=version.id,
        language=language,
        content=content,  # type: ignore[arg-type]
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
    )
    session.add(document)
    session.flush()
    return document


def load_document(
    session: Session, *, version: AgreementVersion, language: str = RECORD_LANGUAGE
) -> AgreementDocument | None:
    """The stored bytes in `language`, exactly as sealed (never re-rendered); the record copy when there
    is none in that language (a version sealed before its participants' language was added)."""
    copies = {
        document.language: document
        for document in session.exec(
            select(AgreementDocument).where(
                AgreementDocument.version_id == version.id,
                col(AgreementDocument.language).in_({language, RECORD_LANGUAGE}),
            )
        ).all()
    }
    return copies.get(language) or copies.get(RECORD_LANGUAGE)


def stored_languages(session: Session, *, version: AgreementVersion) -> list[str]:
    """The languages the version's PDF is stored in, the record copy first."""
    languages = session.exec(select(AgreementDocument.language).where(AgreementDocument.version_id == version.id)).all()
    return sorted(languages, key=lambda language: (language != RECORD_LANGUAGE, language))
