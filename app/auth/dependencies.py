"""Who is asking: session cookie or bearer token, resolved once per request."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from app.actor import Actor
from app.auth.models import UserRole
from app.auth.service import actor_for, resolve_access_token, resolve_session
from app.db import SessionDep
from app.errors import NotAuthenticated, PermissionDenied
from app.programs.models import Program

SESSION_COOKIE = "mend_session"

# Declared for the OpenAPI document (each API operation lists how to sign in); `current_actor` reads
# the header and the cookie itself, so a malformed one is a 401 problem, never FastAPI's own 403.
access_token_scheme = HTTPBearer(
    scheme_name="AccessToken",
    description="A personal access token, created with POST /api/v1/tokens or on the Account page.",
    auto_error=False,
)
session_cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="StaffSession",
    description="The session cookie of a signed-in user. State-changing requests also need the X-CSRF-Token header.",
    auto_error=False,
)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as the page shell shows them."""

    full_name: str
    role: UserRole


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def current_actor(
    request: Request,
    session: SessionDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(access_token_scheme)] = None,
    _cookie: Annotated[str | None, Security(session_cookie_scheme)] = None,
) -> Actor | None:
    """The signed-in user as an Actor, or None for an anonymous request."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        user = resolve_access_token(session, token=authorization[7:].strip())
        if user is None:
            raise NotAuthenticated("The access token is not valid, or it has been revoked.")
    else:
        token = request.cookies.get(SESSION_COOKIE)
        active = resolve_session(session, token=token) if token else None
        if active is None:
            return None
        request.state.session_seconds_left = active.seconds_left
        user = active.user
    request.state.user = user
    # What the page shell shows, copied now: an error page renders after the session has rolled back
    # and closed, when the user row can no longer be read.
    request.state.viewer = Viewer(full_name=user.full_name, role=user.role)
    program = session.get(Program, user.program_id)
    request.state.timezone = program.timezone if program else "UTC"
    return actor_for(user, request_id=request.state.request_id, ip_address=client_ip(request))


def require_actor(actor: Annotated[Actor | None, Depends(current_actor, scope="function")]) -> Actor:
    if actor is None:
        raise NotAuthenticated("Sign in to continue.")
    return actor


ActorDep = Annotated[Actor, Depends(require_actor, scope="function")]
OptionalActorDep = Annotated[Actor | None, Depends(current_actor, scope="function")]


def _require_admin(actor: ActorDep) -> Actor:
    if actor.role != UserRole.admin:
        raise PermissionDenied("Only an administrator can do this.")
    return actor


AdminDep = Annotated[Actor, Depends(_require_admin, scope="function")]
