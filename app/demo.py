"""A fictional demo data set: one program, its staff and a few cases. Every name is invented."""

from sqlmodel import Session, select

from app.actor import Actor
from app.auth.models import User, UserRole
from app.auth.schemas import UserCreate
from app.auth.service import actor_for, create_user
from app.conferences.models import HarmType, ParticipantRole, ReferralSource
from app.conferences.schemas import CaseCreate, ParticipantCreate
from app.conferences.service import add_participant, open_case
from app.programs.schemas import ProgramCreate
from app.programs.service import create_program

DEMO_DOMAIN = "demo.mend.example"


def load_demo_data(session: Session, *, password: str) -> str:
    """Create the demo program. Refuses to run twice."""
    if session.exec(select(User.id).where(User.email == f"admin@{DEMO_DOMAIN}")).first() is not None:
        raise ValueError("The demo data is already loaded.")
    program = create_program(
        session,
        actor=Actor.system("demo loader"),
        data=ProgramCreate(name="Riverside Restorative Practice (demo)", timezone="Europe/Madrid"),
    )
    system = Actor.system("demo loader", program_id=program.id)
    people = {}
    for key, name, role in [
        ("admin", "Alex Moreno", UserRole.admin),
        ("facilitator", "Sam Okafor", UserRole.facilitator),
        ("facilitator2", "Lucía Ferreira", UserRole.facilitator),
        ("staff", "Jordan Lee", UserRole.staff),
    ]:
        people[key] = create_user(
            session,
            actor=system,
            program_id=program.id,  # type: ignore[arg-type]
            data=UserCreate(email=f"{key}@{DEMO_DOMAIN}", full_name=name, role=role, password=password),
        )
    facilitator = actor_for(people["facilitator"])
    cases = [
        (
            HarmType.labour_trafficking,
            ReferralSource.prosecution,
            [
                ("Ana (chosen name)", ParticipantRole.survivor, "es", True),
                ("R. Duarte", ParticipantRole.responsible_party, "en", False),
            ],
        ),
        (
            HarmType.domestic_servitude,
            ReferralSource.victim_services,
            [("Mira", ParticipantRole.survivor, "en", False)],
        ),
        (HarmType.sexual_exploitation, ReferralSource.court, []),
    ]
    for harm, source, participants in cases:
        case = open_case(
            session,
            actor=facilitator,
            data=CaseCreate(harm_type=harm, referral_source=source, notes="Fictional demo case."),
        )
        for display_name, role, language, interpreter in participants:
            add_participant(
                session,
                actor=facilitator,
                case=case,
                data=ParticipantCreate(
                    role=role, display_name=display_name, preferred_language=language, interpreter_needed=interpreter
                ),
            )
    return f"Demo program {program.id} loaded with {len(cases)} cases. Accounts: " + ", ".join(
        f"{k}@{DEMO_DOMAIN}" for k in people
    )
