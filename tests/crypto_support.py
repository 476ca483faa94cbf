"""A case whose every encrypted field holds a recognisable marker, written through the services, so a test
can look for the marker (or its ciphertext) in raw rows, exports, the audit log and error messages."""

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from app.agreements.models import AgreementVersion
from app.agreements.service import save_draft, sign_version
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import AcknowledgementMethod, Case, CaseSession, Participant, ParticipantRole
from app.conferences.preparation import record_acknowledgement, record_screening
from app.conferences.scheduling import SessionPlan, mark_session_held, schedule_session
from app.crypto import encrypted_columns
from app.db import utcnow
from app.safety.consent import give_consent, withdraw_consent
from app.safety.models import ConsentMethod, ConsentScope, ContactChannel, SessionMode
from app.safety.schemas import ContactPreferenceUpdate, SafetyPlanCreate
from app.safety.service import assess_safety, raise_concern, review_concern, save_contact_preference, save_safety_plan
from tests.agreements.test_service import Held, terms_for, to_signing
from tests.conferences.test_screening_rules import RESPONSIBLE_READY, SURVIVOR_READY
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_case, make_participant

MARKER = "zebracrossing"  # in every encrypted free-text field: must never show up outside them
MARKER_EMAIL = f"{MARKER}@example.org"
MARKER_PHONE = "+34 699 424 242"
MARKER_IP = "203.0.113.199"
CIPHERTEXT = re.compile(r"enc:v1:(?P<kid>[A-Za-z0-9-]+):[A-Za-z0-9_-]+=*")


@dataclass
class Confidential:
    case: Case
    survivor: Participant
    responsible: Participant
    conference: CaseSession
    version: AgreementVersion


def confidential_case(session: Session, by: User) -> Confidential:
    """Screened, acknowledged, assessed, planned, consented, conference held, agreement sealed; with the
    marker in each encrypted field, and one consent withdrawn with a reason."""
    actor = actor_for(by)
    case = make_case(session, by, notes=f"{MARKER} case notes")
    survivor = make_participant(session, by, case, ParticipantRole.survivor, support_needs=f"{MARKER} needs")
    responsible = make_participant(session, by, case, ParticipantRole.responsible_party)
    for person, answers in ((survivor, SURVIVOR_READY), (responsible, RESPONSIBLE_READY)):
        record_screening(
            session,
            actor=actor,
            participant=person,
            answers=answers,
            outcome="not_yet",  # type: ignore[arg-type]
            override_reason=f"{MARKER} override",
            rationale=f"{MARKER} rationale",
        )
        record_screening(
            session,
            actor=actor,
            participant=person,
            answers=answers,
            outcome=None,
            override_reason=None,
            rationale=f"{MARKER} rationale",
        )
    record_acknowledgement(
        session,
        actor=actor,
        participant=responsible,
        wording=f"{MARKER} I kept her passport.",
        method=AcknowledgementMethod.in_person,
        acknowledged_at=utcnow() - timedelta(days=1),
    )
    assess_safety(session, actor=actor, case=case, participant=survivor, factors=["isolation"], notes=f"{MARKER} n")
    concern = raise_concern(session, actor=actor, case=case, description=f"{MARKER} concern")
    review_concern(session, actor=actor, concern=concern, note=f"{MARKER} reviewed")
    save_safety_plan(
        session,
        actor=actor,
        case=case,
        data=SafetyPlanCreate(support_person=f"{MARKER} Ana", exit_plan=f"{MARKER} side door"),
    )
    save_contact_preference(
        session,
        actor=actor,
        participant=survivor,
        data=ContactPreferenceUpdate(
            channel=ContactChannel.email,
            email=MARKER_EMAIL,
            phone=MARKER_PHONE,
            code_word=MARKER,
            quiet_hours_start="22:00",
            quiet_hours_end="07:00",
        ),
    )
    for person in (survivor, responsible):
        for scope in (ConsentScope.contact, ConsentScope.preparation, ConsentScope.conference):
            give_consent(
                session,
                actor=actor,
                participant=person,
                scope=scope,
                sheet_version="2026-1",
                sheet_language="en",
                method=ConsentMethod.in_person,
            )
    give_consent(
        session,
        actor=actor,
        participant=survivor,
        scope=ConsentScope.progress_updates,
        sheet_version="2026-1",
        sheet_language="en",
        method=ConsentMethod.in_person,
    )
    withdraw_consent(
        session, actor=actor, participant=survivor, scope=ConsentScope.progress_updates, reason=f"{MARKER} why"
    )
    plan = SessionPlan(
        kind="conference",  # type: ignore[arg-type]
        mode=SessionMode.in_person,
        day=(utcnow() + timedelta(days=14)).date(),
        start=time(10),
        end=time(12),
        attendee_ids=frozenset({survivor.id, responsible.id}),  # type: ignore[arg-type]
        location="Community centre, 2nd floor",
    )
    conference = schedule_session(session, actor=actor, case=case, plan=plan)
    conference.starts_at = utcnow() - timedelta(hours=3)
    conference.ends_at = utcnow() - timedelta(hours=1)
    session.add(conference)
    session.flush()
    mark_session_held(session, actor=actor, case_session=conference, outcome_note=f"{MARKER} went well")
    held = Held(case, survivor, responsible)
    version = save_draft(session, actor=actor, case=case, terms=terms_for(held), based_on=None)
    to_signing(session, actor, held, version)
    for person in (survivor, responsible, None):
        sign_version(
            session,
            actor=actor,
            case=case,
            version=version,
            participant=person,
            text_sha256=version.text_sha256,
            typed_name=person.display_name if person else by.full_name,
            intent_confirmed=True,
            ip_address=MARKER_IP,
            user_agent="TestBrowser/1.0",
        )
    return Confidential(case, survivor, responsible, conference, version)


def raw_values(session: Session) -> dict[str, list[str]]:
    """Every stored value of every encrypted column, read as plain text (no decryption; a JSON column of
    revision 0005 is cast to text, as PostgreSQL's driver would otherwise parse it)."""
    found = {}
    for column in encrypted_columns(SQLModel.metadata):
        stored = sa.table(column.table.name, sa.column(column.name)).c[column.name]
        query = sa.select(sa.cast(stored, sa.Text)).where(stored.is_not(None))
        found[f"{column.table.name}.{column.name}"] = list(session.execute(query).scalars())
    return found


def decrypted_values(session: Session) -> dict[str, list[object]]:
    """Every value of every encrypted column, read through its type (decrypted), in id order."""
    found = {}
    for column in encrypted_columns(SQLModel.metadata):
        query = sa.select(column).where(column.is_not(None)).order_by(column.table.c.id)
        found[f"{column.table.name}.{column.name}"] = list(session.execute(query).scalars())
    return found


@contextmanager
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the test database's kind: a file for SQLite, a schema of the test database for
    PostgreSQL (dropped afterwards)."""
    parsed = make_url(TEST_DATABASE_URL)
    if parsed.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migration.db'}"
        return
    schema = f"scratch_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
