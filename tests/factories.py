"""Small builders for test data: make_x(session, **overrides)."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.actor import Actor
from app.auth.models import User, UserRole
from app.auth.schemas import UserCreate
from app.auth.service import actor_for, create_user, start_session
from app.conferences.models import Case, HarmType, Participant, ParticipantRole, ReferralSource
from app.conferences.schemas import CaseCreate, ParticipantCreate
from app.conferences.service import add_participant, open_case
from app.programs.models import Program
from app.programs.schemas import ProgramCreate
from app.programs.service import create_program
from app.security import csrf_token_for

PASSWORD = "lantern orbit cobalt meadow"


def make_program(session: Session, name: str = "Test Program", *, timezone: str = "UTC") -> Program:
    return create_program(session, actor=Actor.system("tests"), data=ProgramCreate(name=name, timezone=timezone))


def make_user(
    session: Session,
    program: Program,
    role: UserRole = UserRole.facilitator,
    full_name: str = "Test User",
    *,
    email: str | None = None,
    password: str = PASSWORD,
) -> User:
    email = email or f"{full_name.lower().replace(' ', '.')}.{program.id}@example.org"
    return create_user(
        session,
        actor=Actor.system("tests", program_id=program.id),
        program_id=program.id,  # type: ignore[arg-type]
        data=UserCreate(email=email, full_name=full_name, role=role, password=password),
    )


def make_case(session: Session, by: User, **overrides: Any) -> Case:
    data = {
        "harm_type": HarmType.labour_trafficking,
        "referral_source": ReferralSource.prosecution,
        "notes": "Confidential referral note.",
    } | overrides
    return open_case(session, actor=actor_for(by), data=CaseCreate(**data))


def make_participant(
    session: Session, by: User, case: Case, role: ParticipantRole = ParticipantRole.survivor, **overrides: Any
) -> Participant:
    data = {"role": role, "display_name": "Rosa" if role == ParticipantRole.survivor else "Dan"} | overrides
    return add_participant(session, actor=actor_for(by), case=case, data=ParticipantCreate(**data))


def csrf_pair(binding: str = "b" * 43) -> tuple[str, str]:
    """A CSRF cookie value and the token that goes with it."""
    return binding, csrf_token_for(binding)


def signed_in_client(app, session: Session, user: User) -> TestClient:
    """A client holding a live session cookie for `user`, a CSRF cookie, and the CSRF header."""
    token = start_session(session, user=user)
    binding, csrf = csrf_pair()
    client = TestClient(app, raise_server_exceptions=False)
    client.cookies.set("mend_session", token)
    client.cookies.set("mend_csrf", binding)
    client.headers["X-CSRF-Token"] = csrf
    client.csrf_token = csrf  # type: ignore[attr-defined]
    return client
