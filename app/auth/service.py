"""Accounts, sign-in sessions, access tokens and the first-admin setup link."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.actor import Actor
from app.audit.service import record_event
from app.auth.models import (
    AuthSession,
    LoginAttempt,
    PersonalAccessToken,
    SetupToken,
    User,
    UserRole,
)
from app.auth.passwords import (
    burn_verification_time,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from app.auth.schemas import (
    AccessTokenCreate,
    FirstAdminSetup,
    PasswordChange,
    UserCreate,
    UserUpdate,
)
from app.config import get_settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.i18n import N_
from app.programs.models import Program
from app.programs.schemas import ProgramCreate
from app.programs.service import create_program
from app.security import keyed_digest, new_token, token_digest

ACCESS_TOKEN_PREFIX = "mend_pat_"  # noqa: S105 (a public prefix, not a secret)
SIGN_IN_FAILED = N_("Sign-in failed. Check your email address and password.")
SIGN_IN_THROTTLED = "Too many unsuccessful attempts. For your security, wait {minutes} minutes and try again."


def actor_for(user: User, *, request_id: str | None = None, ip_address: str | None = None) -> Actor:
    return Actor(
        kind="user",
        label=user.full_name,
        program_id=user.program_id,
        user_id=user.id,
        role=UserRole(user.role),
        request_id=request_id,
        ip_address=ip_address,
    )


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator can manage accounts.")


def _email_taken(session: Session, email: str) -> bool:
    return session.exec(select(User.id).where(User.email == email)).first() is not None


# --- accounts -----------------------------------------------------------------------------


def create_user(session: Session, *, actor: Actor, program_id: int, data: UserCreate) -> User:
    """Create an account in a program. Admins, or the command line."""
    if actor.kind != "system":
        _require_admin(actor)
        if actor.program_id != program_id:
            raise NotFound("No such program.")
    email = data.email.lower()
    if _email_taken(session, email):
        raise InvalidInput(
            "An account with this email address already exists.",
            field_errors={"email": N_("An account with this email address already exists.")},
        )
    user = User(
        program_id=program_id,
        email=email,
        full_name=data.full_name,
        role=data.role,
        password_hash=hash_password(data.password),
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        program_id=program_id,
        detail={"role": str(user.role)},
    )
    return user


def update_user(session: Session, *, actor: Actor, user: User, data: UserUpdate) -> User:
    """Change a user's name, role or active flag; disabling ends all their sessions and access tokens."""
    _require_admin(actor)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if user.id == actor.user_id and (changes.get("is_active") is False or changes.get("role", "admin") != "admin"):
        raise Conflict("You cannot disable your own account or remove your own administrator role.")
    for name, value in changes.items():
        setattr(user, name, value)
    if changes.get("is_active") is False:
        user.disabled_at = utcnow()
        _revoke_credentials(session, user_id=user.id)  # type: ignore[arg-type]
    elif changes.get("is_active") is True:
        user.disabled_at = None
    session.add(user)
    record_event(
        session,
        actor=actor,
        action="user.updated",
        entity_type="user",
        entity_id=user.id,
        detail={"changed": {k: str(v) for k, v in changes.items()}},
    )
    return user


def change_password(session: Session, *, actor: Actor, user: User, data: PasswordChange) -> None:
    """Change one's own password; every other session and every access token of the account ends."""
    if not verify_password(user.password_hash, data.current_password):
        raise InvalidInput(
            "Your current password is not right.",
            field_errors={"current_password": N_("This is not your current password.")},
        )
    # The schema checks strength alone; only here is it known whose password it is.
    if problem := password_problem(data.password, email=user.email, name=user.full_name):
        raise InvalidInput(problem, field_errors={"password": problem})
    user.password_hash = hash_password(data.password)
    session.add(user)
    _revoke_credentials(session, user_id=user.id)  # type: ignore[arg-type]
    record_event(session, actor=actor, action="user.password_changed", entity_type="user", entity_id=user.id)


def get_program_user(session: Session, *, actor: Actor, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.program_id != actor.program_id:
        raise NotFound("No such user.")
    return user


def list_program_users(session: Session, *, program_id: int, role: UserRole | None = None) -> list[User]:
    query = select(User).where(User.program_id == program_id).order_by(col(User.full_name))
    if role is not None:
        query = query.where(User.role == role)
    return list(session.exec(query).all())


# --- sign-in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    session_token: str | None
    error: str | None


def sign_in(session: Session, *, email: str, password: str, ip_address: str, request_id: str | None) -> SignInResult:
    """Check a password, throttling repeated failures without revealing whether the account exists.

    Failures are returned, not raised, so the attempt and its audit event are kept.

    Unlike other services this one commits, twice, for two reasons:
    - The attempt is recorded and committed before the failures are counted. Attempts sent
      together then each count every attempt committed before them, so no more than the limit
      reach the password check (counting first and recording afterwards let 18 of 40 through).
    - The password is checked with no transaction open. On SQLite every transaction holds the
      database's one write lock, and argon2 takes a tenth of a second: a flood of wrong passwords
      held everyone else's requests behind it.
    """
    settings = get_settings()
    email = email.strip().lower()
    digest = keyed_digest("email:" + email)
    window_start = utcnow() - timedelta(minutes=settings.login_window_minutes)
    anonymous = Actor(
        kind="anonymous", label="anonymous", program_id=None, request_id=request_id, ip_address=ip_address
    )

    attempt = LoginAttempt(email_digest=digest, ip_address=ip_address, succeeded=False)  # until proven right
    session.add(attempt)
    session.commit()
    throttled = _throttled(session, digest=digest, ip_address=ip_address, since=window_start, excluding=attempt.id)  # type: ignore[arg-type]
    user = None if throttled else session.exec(select(User).where(User.email == email)).first()
    session.commit()  # no transaction, and so no lock, while the password is checked

    if throttled:
        burn_verification_time(password)
        record_event(
            session,
            actor=anonymous,
            action="auth.sign_in_throttled",
            entity_type="login",
            detail={"email_digest": digest[:16]},
        )
        return SignInResult(None, None, SIGN_IN_THROTTLED.format(minutes=settings.login_window_minutes))

    if user is None:
        burn_verification_time(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and user.is_active

    if not ok or user is None:
        record_event(
            session,
            actor=anonymous,
            action="auth.sign_in_failed",
            entity_type="login",
            program_id=user.program_id if user else None,
            detail={"email_digest": digest[:16]},
        )
        return SignInResult(None, None, SIGN_IN_FAILED)

    attempt.succeeded = True
    session.add(attempt)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    token = start_session(session, user=user)
    record_event(
        session,
        actor=actor_for(user, request_id=request_id, ip_address=ip_address),
        action="auth.signed_in",
        entity_type="user",
        entity_id=user.id,
    )
    return SignInResult(user, token, None)


def _throttled(session: Session, *, digest: str, ip_address: str, since, excluding: int) -> bool:  # type: ignore[no-untyped-def]
    """Whether the failed attempts before this one (`excluding`) reach a limit, for the email or the address."""
    settings = get_settings()
    last_success = session.exec(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.email_digest == digest, col(LoginAttempt.succeeded).is_(True)
        )
    ).one()
    email_since = max(since, last_success) if last_success else since
    failed = (col(LoginAttempt.succeeded).is_(False), col(LoginAttempt.id) != excluding)
    email_failures = session.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.email_digest == digest, col(LoginAttempt.attempted_at) > email_since, *failed)
    ).one()
    ip_failures = session.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.ip_address == ip_address, col(LoginAttempt.attempted_at) > since, *failed)
    ).one()
    return email_failures >= settings.login_max_failures or ip_failures >= settings.login_max_failures_per_ip


def start_session(session: Session, *, user: User) -> str:
    """A new server-side session; returns the id for the cookie (the database keeps its hash)."""
    token = new_token()
    now = utcnow()
    session.add(
        AuthSession(
            token_hash=token_digest(token),
            user_id=user.id,  # type: ignore[arg-type]
            program_id=user.program_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=get_settings().session_absolute_hours),
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class ActiveSession:
    auth_session: AuthSession
    user: User
    seconds_left: int


def resolve_session(session: Session, *, token: str, touch: bool = True) -> ActiveSession | None:
    """The live session for a cookie, or None when unknown, revoked, idle too long or past 12 hours."""
    found = session.exec(
        select(AuthSession, User)
        .join(User, col(User.id) == AuthSession.user_id)
        .where(AuthSession.token_hash == token_digest(token))
    ).first()
    if found is None:
        return None
    auth_session, user = found
    now = utcnow()
    idle_limit = timedelta(minutes=get_settings().session_idle_minutes)
    if (
        auth_session.revoked_at is not None
        or not user.is_active
        or now >= auth_session.expires_at
        or now - auth_session.last_seen_at >= idle_limit
    ):
        return None
    if touch:
        auth_session.last_seen_at = now
        session.add(auth_session)
    idle_end = auth_session.last_seen_at + idle_limit
    seconds_left = int((min(idle_end, auth_session.expires_at) - now).total_seconds())
    return ActiveSession(auth_session, user, seconds_left)


def end_session(session: Session, *, actor: Actor, token: str) -> None:
    """Sign out: revoke this session."""
    auth_session = session.exec(select(AuthSession).where(AuthSession.token_hash == token_digest(token))).first()
    if auth_session is None or auth_session.revoked_at is not None:
        return
    auth_session.revoked_at = utcnow()
    session.add(auth_session)
    record_event(session, actor=actor, action="auth.signed_out", entity_type="user", entity_id=auth_session.user_id)


def _revoke_credentials(session: Session, *, user_id: int) -> None:
    """End every session and every access token of a user: a new password or a disabled account must
    not leave a browser or a script holding the old credentials. Re-enabling brings none of them back."""
    for credential in (AuthSession, PersonalAccessToken):
        session.execute(
            update(credential)
            .where(col(credential.user_id) == user_id, col(credential.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )


# --- personal access tokens ---------------------------------------------------------------


def issue_access_token(session: Session, *, actor: Actor, data: AccessTokenCreate) -> tuple[PersonalAccessToken, str]:
    """Create an API token for the acting user; the plain token is returned once and never stored."""
    if actor.user_id is None or actor.program_id is None:
        raise PermissionDenied("Only a signed-in user can create access tokens.")
    token = new_token(ACCESS_TOKEN_PREFIX)
    record = PersonalAccessToken(
        user_id=actor.user_id,
        program_id=actor.program_id,
        name=data.name.strip(),
        token_prefix=token[: len(ACCESS_TOKEN_PREFIX) + 4],
        token_hash=token_digest(token),
        expires_at=utcnow() + timedelta(days=data.expires_in_days),
    )
    session.add(record)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="token.created",
        entity_type="access_token",
        entity_id=record.id,
        detail={"name": record.name, "expires_in_days": data.expires_in_days},
    )
    return record, token


def list_access_tokens(session: Session, *, actor: Actor) -> list[PersonalAccessToken]:
    return list(
        session.exec(
            select(PersonalAccessToken)
            .where(PersonalAccessToken.user_id == actor.user_id)
            .order_by(col(PersonalAccessToken.created_at).desc())
        ).all()
    )


def revoke_access_token(session: Session, *, actor: Actor, token_id: int) -> PersonalAccessToken:
    record = session.get(PersonalAccessToken, token_id)
    if record is None or record.user_id != actor.user_id:
        raise NotFound("No such access token.")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        session.add(record)
        record_event(session, actor=actor, action="token.revoked", entity_type="access_token", entity_id=record.id)
    return record


def resolve_access_token(session: Session, *, token: str) -> User | None:
    """The user behind a bearer token, or None when unknown, expired, revoked or the user is disabled."""
    if not token.startswith(ACCESS_TOKEN_PREFIX):
        return None
    found = session.exec(
        select(PersonalAccessToken, User)
        .join(User, col(User.id) == PersonalAccessToken.user_id)
        .where(PersonalAccessToken.token_hash == token_digest(token))
    ).first()
    if found is None:
        return None
    record, user = found
    if record.revoked_at is not None or record.expired or not user.is_active:
        return None
    record.last_used_at = utcnow()
    session.add(record)
    return user


# --- first-admin setup --------------------------------------------------------------------


def has_users(session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is not None


def issue_setup_token(session: Session) -> str | None:
    """A one-time link token for the first admin; None once any account exists."""
    if has_users(session):
        return None
    token = new_token()
    now = utcnow()
    session.add(
        SetupToken(
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + timedelta(hours=get_settings().setup_link_hours),
        )
    )
    record_event(session, actor=Actor.system("mend start-up"), action="setup.link_issued", entity_type="setup")
    return token


def setup_token_usable(session: Session, *, token: str) -> bool:
    record = session.exec(select(SetupToken).where(SetupToken.token_hash == token_digest(token))).first()
    return record is not None and record.used_at is None and record.expires_at > utcnow() and not has_users(session)


def complete_setup(
    session: Session, *, token: str, data: FirstAdminSetup, request_id: str | None, ip_address: str | None
) -> tuple[User, str]:
    """Use the setup link: create the program and its first admin, and sign them in."""
    if not setup_token_usable(session, token=token):
        raise NotFound("This setup link has expired or has already been used.")
    now = utcnow()
    session.execute(update(SetupToken).where(col(SetupToken.used_at).is_(None)).values(used_at=now))
    system = Actor(
        kind="system", label="first-admin setup", program_id=None, request_id=request_id, ip_address=ip_address
    )
    program = create_program(session, actor=system, data=ProgramCreate(name=data.program_name, timezone=data.timezone))
    assert program.id is not None
    admin = create_user(
        session,
        actor=Actor(
            kind="system",
            label="first-admin setup",
            program_id=program.id,
            request_id=request_id,
            ip_address=ip_address,
        ),
        program_id=program.id,
        data=UserCreate(email=data.email, full_name=data.full_name, role=UserRole.admin, password=data.password),
    )
    return admin, start_session(session, user=admin)


def get_program(session: Session, program_id: int) -> Program:
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound("No such program.")
    return program
