"""Who is in the portal: the `mend_portal` cookie resolved into a participant Actor, once per request.

Only this module reads the portal cookie, and it reads nothing else: a staff session does not
open the portal, and (app/auth/dependencies.py reading only `mend_session` and bearer tokens)
the portal cookie opens no staff page or staff API.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyCookie

from app.actor import Actor
from app.auth.dependencies import client_ip
from app.conferences.models import Participant
from app.db import MAX_ID, SessionDep
from app.errors import NotAuthenticated, NotFound
from app.portal import service
from app.portal.text import portal_language
from app.programs.models import Program
from app.security import csrf_token_valid
from app.web import CSRF_COOKIE, SAFE_METHODS, CsrfRefused

PORTAL_COOKIE = "mend_portal"
# The neutral site for pages shown before there is a session and a program to ask (the Program default).
DEFAULT_QUICK_EXIT_URL = Program.model_fields["quick_exit_url"].default

portal_cookie = APIKeyCookie(
    name=PORTAL_COOKIE,
    scheme_name="PortalSession",
    description=(
        "The portal session cookie, set when a survivor or responsible party opens their single-use sign-in "
        "link. State-changing requests also need the X-CSRF-Token header (the token in the portal page's "
        "csrf-token meta tag)."
    ),
    auto_error=False,
)


class PortalSignInRequired(NotAuthenticated):
    """No live portal session: pages send the person to a friendly page, the API answers 401."""


@dataclass(frozen=True)
class Portal:
    """The live portal session: the one participant it is limited to, their program and language."""

    actor: Actor
    participant: Participant
    program: Program
    language: str
    seconds_left: int


def current_portal(
    request: Request, session: SessionDep, token: Annotated[str | None, Security(portal_cookie)] = None
) -> Portal | None:
    """The portal session behind the cookie, or None; staff sessions and bearer tokens are ignored."""
    # Kept for the portal's own error pages, which undo what a refused request wrote and speak the
    # person's language (see views.PortalRoute).
    request.state.portal_db = session
    active = service.resolve_portal_session(session, token=token) if token else None
    if active is None:
        return None
    actor = service.portal_actor(active.participant, request_id=request.state.request_id, ip_address=client_ip(request))
    language = portal_language(active.participant.preferred_language)
    portal = Portal(actor, active.participant, active.program, language, active.seconds_left)
    request.state.portal = portal
    request.state.timezone = active.program.timezone
    return portal


OptionalPortalDep = Annotated[Portal | None, Depends(current_portal, scope="function")]


def _foreign_id(value: str | None, own: int | None) -> bool:
    if value is None:
        return False
    return not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID and int(value) == own)


def require_portal(request: Request, portal: OptionalPortalDep) -> Portal:
    """A live portal session, or 401; an id of another participant or case in the query is 404."""
    if portal is None:
        # Neutral words: an API client may show them to whoever holds the phone.
        raise PortalSignInRequired("This page is not available.")
    query = request.query_params
    if _foreign_id(query.get("participant_id"), portal.participant.id) or _foreign_id(
        query.get("case_id"), portal.participant.case_id
    ):
        raise NotFound("No such participant.")
    return portal


PortalDep = Annotated[Portal, Depends(require_portal, scope="function")]


def verify_portal_csrf(
    request: Request,
    x_csrf_token: Annotated[
        str | None, Header(description="Required on POST with the portal cookie: the page's CSRF token.")
    ] = None,
) -> None:
    """The portal API is authenticated by a cookie, so every state-changing call must carry the CSRF header.

    (The shared check lets API calls without the staff cookie through, as bearer-token calls need none.)
    """
    if request.method in SAFE_METHODS or PORTAL_COOKIE not in request.cookies:
        return
    if not csrf_token_valid(request.cookies.get(CSRF_COOKIE), x_csrf_token):
        raise CsrfRefused("This request did not come from your portal page. Reload the page and try again.")
