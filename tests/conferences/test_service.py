"""Case services: the rules they enforce and the audit events they write."""

import pytest
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.auth.models import User, UserRole
from app.auth.service import actor_for
from app.conferences.models import CaseFacilitator, HarmType, ParticipantRole, ReferralSource
from app.conferences.schemas import CaseCreate, CaseUpdate
from app.conferences.service import open_case, update_case
from app.errors import InvalidInput, PermissionDenied
from tests.factories import make_case, make_participant, make_user


def _facilitators(db: Session, case_id: int) -> set[int]:
    return set(db.exec(select(CaseFacilitator.user_id).where(CaseFacilitator.case_id == case_id)).all())


def test_the_facilitator_who_opens_a_case_is_assigned_to_it(db: Session, facilitator: User) -> None:
    case = make_case(db, facilitator)
    assert _facilitators(db, case.id) == {facilitator.id}


def test_cases_are_numbered_per_program_when_no_reference_is_given(
    db: Session, facilitator: User, other_admin: User, other_program
) -> None:
    first, second = make_case(db, facilitator), make_case(db, facilitator)
    other_facilitator = make_user(db, other_program, UserRole.facilitator, "Other Fac")
    elsewhere = make_case(db, other_facilitator)
    assert first.reference.endswith("-0001") and second.reference.endswith("-0002")
    assert elsewhere.reference.endswith("-0001")


def test_staff_cannot_open_or_change_cases(db: Session, staff: User, facilitator: User) -> None:
    case = make_case(db, facilitator)
    with pytest.raises(PermissionDenied):
        open_case(
            db,
            actor=actor_for(staff),
            data=CaseCreate(harm_type=HarmType.other_serious_harm, referral_source=ReferralSource.other),
        )
    with pytest.raises(PermissionDenied):
        update_case(db, actor=actor_for(staff), case=case, data=CaseUpdate(notes="changed"))


def test_facilitators_of_another_program_cannot_be_assigned(db: Session, admin: User, other_program) -> None:
    outsider = make_user(db, other_program, UserRole.facilitator, "Outsider")
    with pytest.raises(InvalidInput) as refused:
        open_case(
            db,
            actor=actor_for(admin),
            data=CaseCreate(
                harm_type=HarmType.other_serious_harm,
                referral_source=ReferralSource.other,
                facilitator_ids=[outsider.id],
            ),
        )
    assert "facilitator_ids" in refused.value.field_errors


def test_staff_cannot_be_assigned_as_facilitators(db: Session, admin: User, staff: User) -> None:
    with pytest.raises(InvalidInput):
        open_case(
            db,
            actor=actor_for(admin),
            data=CaseCreate(
                harm_type=HarmType.other_serious_harm, referral_source=ReferralSource.other, facilitator_ids=[staff.id]
            ),
        )


def test_every_case_write_is_audited_without_copying_confidential_text(db: Session, facilitator: User) -> None:
    case = make_case(db, facilitator, notes="Lives at 12 Hidden Street")
    make_participant(db, facilitator, case, ParticipantRole.survivor, support_needs="Panic attacks")
    update_case(db, actor=actor_for(facilitator), case=case, data=CaseUpdate(notes="Moved"))
    events = db.exec(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == ["case.opened", "participant.added", "case.updated"]
    assert all(e.actor_id == facilitator.id for e in events)
    serialised = " ".join(str(e.detail) for e in events)
    assert "Hidden Street" not in serialised and "Panic attacks" not in serialised and "Moved" not in serialised
