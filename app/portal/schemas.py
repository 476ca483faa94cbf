"""Portal input and output: sign-in links for facilitators, consent for the person in the portal."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.conferences.models import ParticipantRole
from app.db import RecordId
from app.portal.rules import LinkState, PortalStage
from app.safety.models import ConsentScope
from app.schemas import InputModel

_OWN_ID = "Optional. A portal session acts only for its own participant: any other id is refused with 404."


class PortalInput(InputModel):
    """What every portal form and request body shares: ids, if sent at all, must be the person's own."""

    participant_id: RecordId | None = Field(default=None, description=_OWN_ID)
    case_id: RecordId | None = Field(default=None, description=_OWN_ID)


class PortalConsentGive(PortalInput):
    confirmed: bool = Field(
        default=False,
        description="The person read what this consent means and how to take it back, and confirmed. Without it "
        "nothing is recorded (422): a yes is never one tap.",
    )
    sheet_version: str | None = Field(
        default=None,
        max_length=20,
        description="The information-sheet version the person was shown; defaults to the current one.",
    )
    sheet_language: str | None = Field(
        default=None,
        max_length=16,
        description="The language of the sheet shown; defaults to the person's language (English if no translation).",
    )


class PortalConsentWithdraw(PortalInput):
    reason: str | None = Field(default=None, max_length=2_000, description="Optional: why, in the person's words.")


class IssuedBy(BaseModel):
    id: int
    full_name: str


class PortalLinkPublic(BaseModel):
    """A sign-in link as the facilitator sees it later: never the link itself."""

    id: int
    participant_id: int
    issued_at: datetime
    issued_by: IssuedBy | None
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    state: LinkState


class PortalLinkIssued(PortalLinkPublic):
    url: str = Field(description="The sign-in link. Returned this once only: Mend keeps only its SHA-256 digest.")


class PortalLinkSent(BaseModel):
    """A link Mend is sending: the link's record and its message, never the link itself."""

    link: PortalLinkPublic
    notification_id: int = Field(description="The outbox message that carries the link.")
    channel: Literal["email"] = Field(description="The channel the person agreed to; Mend sends email only.")
    language: str = Field(description="The language the message is written in: the person's, where Mend has it.")
    sends_at: datetime = Field(description="When it goes out: at once, or when the person's quiet hours end.")


class SheetPublic(BaseModel):
    version: str
    language: str
    title: str


class PortalConsentPublic(BaseModel):
    scope: ConsentScope
    title: str = Field(description="The scope in plain words, in the person's language.")
    state: Literal["missing", "active", "withdrawn"]
    given_at: datetime | None
    withdrawn_at: datetime | None


class PortalActionPublic(BaseModel):
    """A link the portal home offers, labelled in the person's language."""

    href: str
    label: str


class PortalMe(BaseModel):
    """The signed-in person's own view: nothing about anyone else."""

    participant_id: int
    display_name: str
    role: ParticipantRole
    language: str = Field(description="The language the portal uses for this person.")
    status: str = Field(description="Where the person is in the process, in plain words.")
    next: str = Field(description="What happens next, in plain words.")
    stage: PortalStage = Field(description="Where the person is, as a stable code (the home page's words say it).")
    primary_action: PortalActionPublic | None = Field(
        description="The one thing to do now, as the home page's main button; none when there is nothing to do."
    )
    other_actions: list[PortalActionPublic] = Field(description="The other links the home page lists.")
    information_sheet: SheetPublic
    consents: list[PortalConsentPublic]
