"""Case pages: list, search and filters, HTMX fragments, forms with errors beside fields, roles."""

from sqlmodel import Session, select

from app.auth.models import User
from app.conferences.models import Case, HarmType, Participant, ParticipantRole
from tests.factories import make_case, make_participant


def _form(client, **fields):  # type: ignore[no-untyped-def]
    return fields | {"csrf_token": client.csrf_token}


def test_facilitator_opens_a_case_through_the_form(as_facilitator, db: Session, facilitator: User) -> None:
    response = as_facilitator.post(
        "/cases",
        data=_form(
            as_facilitator, harm_type="labour_trafficking", referral_source="court", notes="Referred after trial."
        ),
        follow_redirects=False,
    )
    assert response.status_code == 303
    case = db.exec(select(Case)).one()
    assert response.headers["location"] == f"/cases/{case.id}"
    page = as_facilitator.get(response.headers["location"])
    assert f"Case {case.reference}" in page.text
    assert "Fran Facilitator" in page.text
    assert "Referred after trial." in page.text


def test_open_case_form_shows_errors_beside_fields_and_keeps_what_was_typed(as_facilitator, db: Session) -> None:
    response = as_facilitator.post(
        "/cases",
        data=_form(as_facilitator, harm_type="", referral_source="court", reference="bad ref!", notes="Keep this note"),
    )
    assert response.status_code == 422
    assert 'id="field-harm_type-error"' in response.text
    assert 'id="field-reference-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Keep this note" in response.text
    assert db.exec(select(Case)).first() is None


def test_htmx_form_post_with_errors_returns_only_the_form_fragment(as_facilitator) -> None:
    response = as_facilitator.post(
        "/cases", data=_form(as_facilitator, harm_type="", referral_source=""), headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "<html" not in response.text
    assert "There is a problem" in response.text
    assert response.headers["vary"] == "HX-Request"


def test_htmx_successful_post_redirects_with_hx_redirect(as_facilitator, db: Session) -> None:
    response = as_facilitator.post(
        "/cases",
        data=_form(as_facilitator, harm_type="domestic_servitude", referral_source="ngo"),
        headers={"HX-Request": "true"},
    )
    case = db.exec(select(Case)).one()
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"/cases/{case.id}"


def test_case_list_searches_by_reference_and_participant_name(as_facilitator, db: Session, facilitator: User) -> None:
    first = make_case(db, facilitator, reference="NORTH-1")
    second = make_case(db, facilitator, reference="SOUTH-2")
    make_participant(db, facilitator, second, display_name="Marisol")
    by_reference = as_facilitator.get("/cases", params={"q": "north"}).text
    by_name = as_facilitator.get("/cases", params={"q": "maris"}).text
    assert first.reference in by_reference and second.reference not in by_reference
    assert second.reference in by_name and first.reference not in by_name


def test_case_list_filters_by_harm_type_and_facilitator(
    as_admin, db: Session, facilitator: User, facilitator2: User
) -> None:
    make_case(db, facilitator, reference="LAB-1", harm_type=HarmType.labour_trafficking)
    make_case(db, facilitator2, reference="DOM-1", harm_type=HarmType.domestic_servitude)
    by_harm = as_admin.get("/cases", params={"harm_type": "domestic_servitude"}).text
    by_facilitator = as_admin.get("/cases", params={"facilitator": str(facilitator.id)}).text
    assert "DOM-1" in by_harm and "LAB-1" not in by_harm
    assert "LAB-1" in by_facilitator and "DOM-1" not in by_facilitator


def test_case_list_filter_via_htmx_returns_the_results_fragment(as_facilitator, db: Session, facilitator: User) -> None:
    make_case(db, facilitator, reference="FRAG-1")
    response = as_facilitator.get(
        "/cases", params={"q": "frag"}, headers={"HX-Request": "true", "HX-Target": "case-results"}
    )
    assert "FRAG-1" in response.text
    assert "1 case found" in response.text
    assert "<form" not in response.text and "<html" not in response.text


def test_case_list_is_paginated(as_facilitator, db: Session, facilitator: User) -> None:
    for number in range(27):
        make_case(db, facilitator, reference=f"PG-{number:02d}")
    first = as_facilitator.get("/cases").text
    second = as_facilitator.get("/cases", params={"page": 2}).text
    assert "Page 1 of 2" in first and "PG-26" in first and "PG-00" not in first
    assert "Page 2 of 2" in second and "PG-00" in second and "PG-26" not in second


def test_odd_filter_values_are_not_errors(as_facilitator) -> None:
    response = as_facilitator.get("/cases", params={"harm_type": "nonsense", "facilitator": "abc", "page": 999})
    assert response.status_code == 200


def test_facilitator_does_not_see_cases_they_are_not_assigned_to(
    as_facilitator2, db: Session, facilitator: User
) -> None:
    case = make_case(db, facilitator, reference="PRIVATE-1")
    assert "PRIVATE-1" not in as_facilitator2.get("/cases").text
    assert as_facilitator2.get(f"/cases/{case.id}").status_code == 404


def test_case_of_another_program_is_not_found(as_other_admin, db: Session, facilitator: User) -> None:
    case = make_case(db, facilitator)
    missing = as_other_admin.get("/cases/999999")
    foreign = as_other_admin.get(f"/cases/{case.id}")
    assert foreign.status_code == missing.status_code == 404
    assert case.reference not in foreign.text


def test_staff_see_the_case_summary_without_notes_or_participants(as_staff, db: Session, facilitator: User) -> None:
    case = make_case(db, facilitator, notes="Confidential: survivor moved recently")
    make_participant(db, facilitator, case, display_name="Lucinda")
    page = as_staff.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert case.reference in page.text and "Journey" in page.text
    assert "Confidential: survivor moved recently" not in page.text
    assert "Lucinda" not in page.text
    assert as_staff.get(f"/cases/{case.id}/edit").status_code == 403
    assert as_staff.get("/cases/new").status_code == 403


def test_staff_cannot_search_cases_by_participant_name(as_staff, db: Session, facilitator: User) -> None:
    case = make_case(db, facilitator, reference="STAFF-1")
    make_participant(db, facilitator, case, display_name="Valentina")
    assert "STAFF-1" not in as_staff.get("/cases", params={"q": "valentina"}).text


def test_adding_participants_updates_the_journey_panel(as_facilitator, db: Session, facilitator: User) -> None:
    case = make_case(db, facilitator)
    before = as_facilitator.get(f"/cases/{case.id}").text
    assert "Add the survivor as a participant." in before
    for role, name in (("survivor", "Amaia"), ("responsible_party", "Tomas")):
        response = as_facilitator.post(
            f"/cases/{case.id}/participants",
            data=_form(
                as_facilitator, role=role, display_name=name, preferred_language="es", interpreter_needed="true"
            ),
            follow_redirects=False,
        )
        assert response.status_code == 303
    after = as_facilitator.get(f"/cases/{case.id}").text
    assert "Add the survivor as a participant." not in after
    assert "Record a readiness screening for the survivor." in after
    assert "Record a readiness screening for the responsible party." in after
    assert "Amaia" in after and "Tomas" in after


def test_participant_form_errors_are_shown_beside_the_field(as_facilitator, db: Session, facilitator: User) -> None:
    case = make_case(db, facilitator)
    response = as_facilitator.post(
        f"/cases/{case.id}/participants",
        data=_form(as_facilitator, role="survivor", display_name="   ", preferred_language="english!"),
    )
    assert response.status_code == 422
    assert 'id="field-display_name-error"' in response.text
    assert 'id="field-preferred_language-error"' in response.text
    assert db.exec(select(Participant)).first() is None


def test_editing_a_participant_keeps_their_role_and_can_clear_support_needs(
    as_facilitator, db: Session, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    participant = make_participant(db, facilitator, case, ParticipantRole.survivor, support_needs="Wheelchair access")
    response = as_facilitator.post(
        f"/cases/{case.id}/participants/{participant.id}",
        data=_form(
            as_facilitator, display_name="Rosa M.", preferred_language="pt", support_needs="", role="responsible_party"
        ),
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.refresh(participant)
    assert participant.display_name == "Rosa M."
    assert participant.support_needs == ""
    assert participant.role == ParticipantRole.survivor


def test_editing_a_case_can_clear_notes_and_reassign(
    as_facilitator, db: Session, facilitator: User, facilitator2: User
) -> None:
    case = make_case(db, facilitator, notes="Old note")
    response = as_facilitator.post(
        f"/cases/{case.id}",
        data=_form(
            as_facilitator,
            harm_type="forced_criminality",
            referral_source="police",
            notes="",
            facilitator_ids=[str(facilitator.id), str(facilitator2.id)],
        ),
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.refresh(case)
    assert case.notes == "" and case.harm_type == "forced_criminality"


def test_a_case_needs_at_least_one_facilitator(as_admin) -> None:
    response = as_admin.post("/cases", data=_form(as_admin, harm_type="labour_trafficking", referral_source="court"))
    assert response.status_code == 422
    assert "Assign at least one facilitator." in response.text


def test_case_pages_are_not_cached(as_facilitator, db: Session, facilitator: User) -> None:
    case = make_case(db, facilitator)
    assert as_facilitator.get(f"/cases/{case.id}").headers["cache-control"] == "no-store"


def test_signed_out_visitor_is_sent_to_sign_in(anon) -> None:
    response = anon.get("/cases/1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/cases/1"
