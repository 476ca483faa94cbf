"""A fictional demo data set: one program, its staff and a few cases. Every name is invented."""

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session, select

from app.actor import Actor
from app.auth.models import User, UserRole
from app.auth.schemas import UserCreate
from app.auth.service import actor_for, create_user
from app.conferences.models import CaseSession, HarmType, ParticipantRole, ReferralSource, SessionKind, SessionStatus
from app.conferences.schemas import CaseCreate, ParticipantCreate
from app.conferences.service import add_participant, open_case
from app.db import utcnow
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
    _monitored_case(session, actor=facilitator, facilitator=people["facilitator"])
    return f"Demo program {program.id} loaded with {len(cases) + 1} cases. Accounts: " + ", ".join(
        f"{k}@{DEMO_DOMAIN}" for k in people
    )


def _monitored_case(session: Session, *, actor: Actor, facilitator: User) -> None:
    """A case past its conference whose agreement is signed: its commitments are in monitoring, one
    instalment paid, one overdue. The conference is recorded as already held (demo history)."""
    from app.agreements.commitment_schemas import ProgressCreate
    from app.agreements.commitment_service import active_commitments, record_progress
    from app.agreements.models import ReviewDecision
    from app.agreements.service import (
        record_review,
        save_draft,
        send_for_review,
        send_for_signature,
        sign_version,
    )
    from app.agreements.terms import Instalment, NoContactTerm, RestitutionTerm, ServiceHoursTerm, TermWording

    today = utcnow().date()
    case = open_case(
        session,
        actor=actor,
        data=CaseCreate(
            harm_type=HarmType.labour_trafficking, referral_source=ReferralSource.court, notes="Fictional demo case."
        ),
    )
    survivor = add_participant(
        session,
        actor=actor,
        case=case,
        data=ParticipantCreate(role=ParticipantRole.survivor, display_name="Leila", preferred_language="es"),
    )
    responsible = add_participant(
        session,
        actor=actor,
        case=case,
        data=ParticipantCreate(role=ParticipantRole.responsible_party, display_name="T. Varga"),
    )
    session.add(
        CaseSession(
            program_id=case.program_id,
            case_id=case.id,  # type: ignore[arg-type]
            kind=SessionKind.conference,
            mode="in_person",
            starts_at=utcnow() - timedelta(days=45, hours=2),
            ends_at=utcnow() - timedelta(days=45),
            location="Riverside community room (demo)",
            status=SessionStatus.held,
            outcome_note="Fictional demo conference.",
            uid=f"demo-{uuid.uuid4()}",
            created_by_id=facilitator.id,  # type: ignore[arg-type]
        )
    )
    session.flush()
    owed = responsible.id
    terms = [
        RestitutionTerm(
            owed_by=owed,  # type: ignore[arg-type]
            currency="EUR",
            amount_cents=90_000,
            instalments=[
                Instalment(due_date=today - timedelta(days=30), amount_cents=30_000),
                Instalment(due_date=today - timedelta(days=2), amount_cents=30_000),
                Instalment(due_date=today + timedelta(days=28), amount_cents=30_000),
            ],
        ),
        ServiceHoursTerm(
            owed_by=owed,  # type: ignore[arg-type]
            hours=20,
            deadline=today + timedelta(days=10),
            where="Riverside Food Bank",
            # Leila reads Spanish: the place's name as the interpreter gave it (the rest Mend writes).
            translations={"es": TermWording(where="Banco de Alimentos de Riverside", translated_by="Demo interpreter")},
        ),
        NoContactTerm(owed_by=owed),  # type: ignore[arg-type]
    ]
    version = save_draft(session, actor=actor, case=case, terms=terms, based_on=None)
    send_for_review(session, actor=actor, case=case, version=version)
    for person in (survivor, responsible):
        record_review(
            session,
            actor=actor,
            case=case,
            version=version,
            participant=person,
            decision=ReviewDecision.accepted,
            text_sha256=version.text_sha256,
        )
    send_for_signature(session, actor=actor, case=case, version=version)
    for person, name in ((survivor, "Leila"), (responsible, "Tomas Varga"), (None, facilitator.full_name)):
        sign_version(
            session,
            actor=actor,
            case=case,
            version=version,
            participant=person,
            text_sha256=version.text_sha256,
            typed_name=name,
            intent_confirmed=True,
            ip_address=None,
            user_agent=None,
        )
    first = active_commitments(session, case=case)[0]
    record_progress(
        session,
        actor=actor,
        case=case,
        commitment=first,
        data=ProgressCreate(
            kind="payment",
            amount=Decimal("300"),
            occurred_on=today - timedelta(days=31),
            evidence_reference="Bank transfer DEMO-0001",
        ),
    )
