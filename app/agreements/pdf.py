"""Rendering a sealed agreement version to PDF (being built)."""

from sqlmodel import Session

from app.agreements.models import AgreementVersion
from app.conferences.models import Case


def render_agreement_pdf(session: Session, *, case: Case, version: AgreementVersion) -> bytes:
    """The sealed version as PDF/A-3b with its machine-readable JSON attached."""
    raise NotImplementedError("PDF rendering is being built")
