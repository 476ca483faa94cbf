"""Builders for the monitoring tests: a case whose agreement is sealed, so its commitments exist.

Sealing renders the real PDF (half a second); `stub_pdf` swaps in a stand-in for tests that are
about commitments, not about the PDF.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlmodel import Session

from app.agreements import pdf
from app.agreements.commitment_service import active_commitments
from app.agreements.models import AgreementVersion, Commitment
from app.agreements.service import save_draft
from app.agreements.terms import Term
from app.auth.models import User
from app.auth.service import actor_for
from tests.agreements.test_service import Held, held_case, sign_all, terms_for, to_signing

STUB_PDF = b"%PDF-1.7 stand-in for monitoring tests"


def stub_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "render_agreement_pdf", lambda session, *, case, version, language="en": STUB_PDF)


@dataclass
class Sealed:
    held: Held
    version: AgreementVersion
    commitments: list[Commitment]

    @property
    def case(self):  # type: ignore[no-untyped-def]
        return self.held.case

    def of_kind(self, kind: str) -> list[Commitment]:
        return [c for c in self.commitments if c.kind == kind]


def sealed_case(
    session: Session, by: User, *, terms: Callable[[Held], list[Term]] = terms_for, **case_fields: object
) -> Sealed:
    """A case (Rosa, survivor; Dan, responsible party) whose agreement `terms(held)` is sealed by `by`.
    The default terms: an apology (15 Jan 2027), 300 EUR in two instalments (1 Feb, 1 Mar 2027),
    40 service hours (30 Jun 2027) and an indefinite no-contact term."""
    actor = actor_for(by)
    held = held_case(session, by)
    version = save_draft(session, actor=actor, case=held.case, terms=terms(held), based_on=None)
    to_signing(session, actor, held, version)
    sign_all(session, actor, held, version)
    return Sealed(held, version, active_commitments(session, case=held.case))
