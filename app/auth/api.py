"""JSON API: the signed-in user, access tokens, and user administration."""

from fastapi import APIRouter, Depends, Request, status

from app.auth import invitations, service
from app.auth.dependencies import ActorDep, AdminDep
from app.auth.schemas import (
    AccessTokenCreate,
    AccessTokenCreated,
    AccessTokenPublic,
    InvitationCreate,
    InvitationPublic,
    PasswordChange,
    UserPublic,
    UserUpdate,
)
from app.db import RecordId, SessionDep
from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["accounts"], dependencies=[Depends(verify_csrf)])


@router.get("/me", response_model=UserPublic)
def me(request: Request, actor: ActorDep) -> UserPublic:
    """The account this request is authenticated as."""
    return UserPublic.model_validate(request.state.user)


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(data: PasswordChange, request: Request, session: SessionDep, actor: ActorDep) -> None:
    """Change your password. Every sign-in session and every access token of your account ends."""
    service.change_password(session, actor=actor, user=request.state.user, data=data)


@router.get("/tokens", response_model=list[AccessTokenPublic])
def list_tokens(session: SessionDep, actor: ActorDep) -> list[AccessTokenPublic]:
    """Your personal access tokens (never the tokens themselves)."""
    return [AccessTokenPublic.model_validate(t) for t in service.list_access_tokens(session, actor=actor)]


@router.post("/tokens", response_model=AccessTokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(data: AccessTokenCreate, session: SessionDep, actor: ActorDep) -> AccessTokenCreated:
    """Create a personal access token. The response is the only time the token is shown."""
    record, token = service.issue_access_token(session, actor=actor, data=data)
    return AccessTokenCreated(**AccessTokenPublic.model_validate(record).model_dump(), token=token)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: RecordId, session: SessionDep, actor: ActorDep) -> None:
    """Revoke one of your tokens; it stops working at once."""
    service.revoke_access_token(session, actor=actor, token_id=token_id)


@router.get("/users", response_model=list[UserPublic])
def list_users(session: SessionDep, actor: AdminDep) -> list[UserPublic]:
    """The program's accounts (admins)."""
    return [UserPublic.model_validate(u) for u in service.list_program_users(session, program_id=actor.program_id)]  # type: ignore[arg-type]


@router.get("/invitations", response_model=list[InvitationPublic])
def list_invitations(session: SessionDep, actor: AdminDep) -> list[InvitationPublic]:
    """Invitations to your program not yet accepted, cancelled or expired (admins)."""
    rows = invitations.pending_invitations(session, program_id=actor.program_id)  # type: ignore[arg-type]
    return [InvitationPublic.model_validate(i) for i in rows]


@router.post("/invitations", response_model=InvitationPublic, status_code=status.HTTP_202_ACCEPTED)
def invite(data: InvitationCreate, session: SessionDep, actor: AdminDep) -> InvitationPublic:
    """Invite someone to your program (admins): they get an e-mail with a link to choose their password.

    The answer is the same whether or not the address already has a Mend account in another program;
    such an address is told by e-mail instead. An address with an account in your program is refused.
    Inviting an address again replaces its pending invitation.
    """
    return InvitationPublic.model_validate(invitations.invite(session, actor=actor, data=data))


@router.delete("/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
def cancel_invitation(invitation_id: RecordId, session: SessionDep, actor: AdminDep) -> None:
    """Cancel a pending invitation; its link stops working (admins)."""
    invitations.cancel(session, actor=actor, invitation_id=invitation_id)


@router.patch("/users/{user_id}", response_model=UserPublic)
def update_user(user_id: RecordId, data: UserUpdate, session: SessionDep, actor: AdminDep) -> UserPublic:
    """Change an account's name, role or active flag; disabling ends its sessions (admins)."""
    user = service.get_program_user(session, actor=actor, user_id=user_id)
    return UserPublic.model_validate(service.update_user(session, actor=actor, user=user, data=data))
