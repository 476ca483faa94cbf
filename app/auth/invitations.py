"""Inviting people to a program: the admin names them, they choose their own password through a link.

Sign-in is by e-mail address, so an address has at most one account, in one program. Creating an
account with a given address would therefore tell an admin whether another program already uses it.
An invitation answers the admin the same way in both cases; only the mailbox learns the difference:
a free address gets a one-time link, an address that already has an account gets a note saying so.
"""

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.actor import Actor
from app.audit.service import record_event
from app.auth.models import Invitation, User
from app.auth.passwords import password_problem
from app.auth.schemas import InvitationAccept, InvitationCreate, UserCreate
from app.auth.service import _require_admin, create_user, start_session
from app.config import get_settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import N_, long_date, translator
from app.notifications.models import Notification
from app.programs.models import Program
from app.security import new_token, token_digest

ROLE_WORDS = {"admin": N_("an administrator"), "facilitator": N_("a facilitator"), "staff": N_("a staff member")}
INVITATION_SUBJECT = N_("Your invitation to Mend")
LINK_BODY = N_(
    "Hello %(name)s,\n\n"
    "%(inviter)s invited you to join %(program)s on Mend as %(role)s.\n\n"
    "To choose your password and sign in, open this link. It works once, until %(expires)s:\n\n"
    "%(link)s\n\n"
    "If you did not expect this e-mail, you can ignore it. Nobody can use the link without this mailbox."
)
TAKEN_BODY = N_(
    "Hello,\n\n"
    "%(inviter)s invited this e-mail address to join %(program)s on Mend.\n\n"
    "This address already has a Mend account, and a Mend account belongs to one program, so the "
    "invitation cannot be used. If you want to work with %(program)s, ask them to invite another "
    "e-mail address of yours.\n\n"
    "If you did not expect this e-mail, you can ignore it. Your account has not changed."
)
ALREADY_IN_PROGRAM = N_("This person already has an account in your program. Find them in the list of users.")
LINK_NO_LONGER_WORKS = N_("This invitation link no longer works")


def _account_with(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def invite(session: Session, *, actor: Actor, data: InvitationCreate) -> Invitation:
    """Invite someone to the admin's program; a pending invitation to the same address is replaced."""
    _require_admin(actor)
    assert actor.program_id is not None
    email = data.email.lower()
    existing = _account_with(session, email)
    if existing is not None and existing.program_id == actor.program_id:
        # The admin can already see this account in their own list: saying so reveals nothing.
        raise InvalidInput(ALREADY_IN_PROGRAM, field_errors={"email": ALREADY_IN_PROGRAM})
    now = utcnow()
    session.execute(
        update(Invitation)
        .where(
            col(Invitation.program_id) == actor.program_id,
            col(Invitation.email) == email,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.cancelled_at).is_(None),
        )
        .values(cancelled_at=now)
    )
    token = new_token()
    invitation = Invitation(
        program_id=actor.program_id,
        email=email,
        full_name=data.full_name,
        role=data.role,
        language=data.language,
        # An address that has an account elsewhere gets no link: its row looks the same, but no one
        # ever holds the token that matches it.
        token_hash=token_digest(token),
        invited_by_user_id=actor.user_id,
        created_at=now,
        expires_at=now + timedelta(days=get_settings().invitation_days),
    )
    session.add(invitation)
    session.flush()
    program = session.get(Program, actor.program_id)
    assert program is not None
    _ = translator(data.language)
    values = {"inviter": actor.label, "program": program.name}
    if existing is None:
        body = _(
            LINK_BODY,
            name=invitation.full_name,
            role=_(ROLE_WORDS[str(invitation.role)]),
            expires=_expiry_words(invitation, program),
            link=f"{get_settings().public_base_url}/invite/{token}",
            **values,
        )
    else:
        body = _(TAKEN_BODY, **values)
    session.add(
        Notification(
            program_id=actor.program_id,
            kind="user.invitation",
            recipient_email=email,
            subject=_(INVITATION_SUBJECT),
            body=body,
        )
    )
    record_event(
        session,
        actor=actor,
        action="user.invited",
        entity_type="invitation",
        entity_id=invitation.id,
        detail={"role": str(invitation.role)},
    )
    return invitation


def _expiry_words(invitation: Invitation, program: Program) -> str:
    return long_date(invitation.expires_at, language=invitation.language, timezone=program.timezone)


def pending_invitations(session: Session, *, program_id: int) -> list[Invitation]:
    """The program's invitations not yet accepted, cancelled or expired, newest first."""
    rows = session.exec(
        select(Invitation)
        .where(
            Invitation.program_id == program_id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.cancelled_at).is_(None),
            col(Invitation.expires_at) > utcnow(),
        )
        .order_by(col(Invitation.created_at).desc(), col(Invitation.id).desc())
    ).all()
    return list(rows)


def cancel(session: Session, *, actor: Actor, invitation_id: int) -> Invitation:
    """Cancel a pending invitation: its link stops working at once."""
    _require_admin(actor)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.program_id != actor.program_id or not invitation.pending:
        raise NotFound("No such invitation.")
    invitation.cancelled_at = utcnow()
    session.add(invitation)
    record_event(
        session, actor=actor, action="user.invitation_cancelled", entity_type="invitation", entity_id=invitation.id
    )
    return invitation


def usable_invitation(session: Session, *, token: str) -> Invitation | None:
    """The pending invitation this link belongs to, or None."""
    invitation = session.exec(select(Invitation).where(Invitation.token_hash == token_digest(token))).first()
    return invitation if invitation is not None and invitation.pending else None


def accept(
    session: Session, *, token: str, data: InvitationAccept, request_id: str | None, ip_address: str | None
) -> tuple[User, str]:
    """Use the link: create the account with the chosen password, and sign the person in."""
    invitation = usable_invitation(session, token=token)
    if invitation is None:
        raise NotFound(LINK_NO_LONGER_WORKS)
    if problem := password_problem(data.password, email=invitation.email, name=invitation.full_name):
        raise InvalidInput(problem, field_errors={"password": problem})
    if _account_with(session, invitation.email) is not None:
        # Only the mailbox holds this link, so telling it the address is taken reveals nothing new.
        raise Conflict(N_("This e-mail address already has a Mend account. Sign in with it instead."))
    invitation.accepted_at = utcnow()
    session.add(invitation)
    system = Actor(
        kind="system",
        label="invitation",
        program_id=invitation.program_id,
        request_id=request_id,
        ip_address=ip_address,
    )
    user = create_user(
        session,
        actor=system,
        program_id=invitation.program_id,
        data=UserCreate.model_construct(
            email=invitation.email, full_name=invitation.full_name, role=invitation.role, password=data.password
        ),
    )
    record_event(
        session,
        actor=system,
        action="user.invitation_accepted",
        entity_type="invitation",
        entity_id=invitation.id,
        program_id=invitation.program_id,
        detail={"user_id": user.id},
    )
    return user, start_session(session, user=user)
