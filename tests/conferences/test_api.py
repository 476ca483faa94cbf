"""Cases, participants and the case journey, through the JSON API."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.auth.models import User, UserRole
from app.conferences.models import Case, CaseFacilitator, HarmType, Participant, ParticipantRole
from app.db import utcnow
from app.programs.models import Program
from tests.factories import make_case, make_participant, make_user

NEW_CASE = {"harm_type": "labour_trafficking", "referral_source": "victim_services"}


def _open(client: TestClient, **fields) -> dict:
    response = client.post("/api/v1/cases", json=NEW_CASE | fields)
    assert response.status_code == 201, response.text
    return response.json()


def _add(client: TestClient, case_id: int, role: str, name: str, **fields) -> dict:
    response = client.post(f"/api/v1/cases/{case_id}/participants", json={"role": role, "display_name": name} | fields)
    assert response.status_code == 201, response.text
    return response.json()


def _blocker_codes(client: TestClient, case_id: int) -> list[str]:
    response = client.get(f"/api/v1/cases/{case_id}/journey")
    assert response.status_code == 200
    return [b["code"] for b in response.json()["blockers"]]


def _events(db: Session, request_id: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.request_id == request_id)).all())


# --- opening a case ------------------------------------------------------------------------


def test_a_facilitator_who_opens_a_case_is_assigned_to_it(as_facilitator: TestClient, facilitator: User) -> None:
    case = _open(as_facilitator, notes="Referred by the shelter.")
    assert [f["id"] for f in case["facilitators"]] == [facilitator.id]
    assert case["notes"] == "Referred by the shelter."
    assert case["participants"] == []
    assert case["stage"] == "preparation"


def test_a_case_opened_without_a_reference_is_numbered_by_year(as_facilitator: TestClient) -> None:
    year = utcnow().year
    first = _open(as_facilitator)
    second = _open(as_facilitator, reference="")
    assert first["reference"] == f"{year}-0001"
    assert second["reference"] == f"{year}-0002"


def test_case_numbers_count_within_each_program(
    as_facilitator: TestClient, as_other_admin: TestClient, other_admin: User
) -> None:
    _open(as_facilitator)
    theirs = _open(as_other_admin, facilitator_ids=[other_admin.id])
    assert theirs["reference"] == f"{utcnow().year}-0001"


def test_automatic_numbering_skips_a_number_already_chosen_by_hand(as_facilitator: TestClient) -> None:
    year = utcnow().year
    _open(as_facilitator, reference=f"{year}-0002")
    assert _open(as_facilitator)["reference"] == f"{year}-0003"


def test_a_reference_already_used_in_the_program_is_refused(as_facilitator: TestClient, db: Session) -> None:
    _open(as_facilitator, reference="HRB-17")
    response = as_facilitator.post("/api/v1/cases", json=NEW_CASE | {"reference": "HRB-17"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["reference"]
    assert len(db.exec(select(Case).where(Case.reference == "HRB-17")).all()) == 1


def test_the_same_reference_may_be_used_by_another_program(
    as_facilitator: TestClient, as_other_admin: TestClient, other_admin: User
) -> None:
    _open(as_facilitator, reference="HRB-17")
    assert _open(as_other_admin, reference="HRB-17", facilitator_ids=[other_admin.id])["reference"] == "HRB-17"


def test_an_admin_must_assign_a_facilitator(as_admin: TestClient) -> None:
    response = as_admin.post("/api/v1/cases", json=NEW_CASE)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["facilitator_ids"]


def test_an_admin_opens_a_case_for_a_facilitator(
    as_admin: TestClient, as_facilitator: TestClient, facilitator: User
) -> None:
    case = _open(as_admin, facilitator_ids=[facilitator.id])
    assert [f["id"] for f in case["facilitators"]] == [facilitator.id]
    assert as_facilitator.get(f"/api/v1/cases/{case['id']}").status_code == 200


def test_a_facilitator_of_another_program_cannot_be_assigned(
    as_admin: TestClient, db: Session, other_program: Program
) -> None:
    outsider = make_user(db, other_program, UserRole.facilitator, "Out Sider")
    response = as_admin.post("/api/v1/cases", json=NEW_CASE | {"facilitator_ids": [outsider.id]})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["facilitator_ids"]
    assert db.exec(select(Case)).first() is None


def test_staff_cannot_be_assigned_as_facilitators(as_admin: TestClient, staff: User) -> None:
    response = as_admin.post("/api/v1/cases", json=NEW_CASE | {"facilitator_ids": [staff.id]})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["facilitator_ids"]


def test_a_disabled_facilitator_cannot_be_assigned(as_admin: TestClient, facilitator2: User) -> None:
    as_admin.patch(f"/api/v1/users/{facilitator2.id}", json={"is_active": False})
    response = as_admin.post("/api/v1/cases", json=NEW_CASE | {"facilitator_ids": [facilitator2.id]})
    assert response.status_code == 422


# --- listing, searching, filtering, pages --------------------------------------------------


def test_a_facilitator_lists_only_the_cases_assigned_to_them(
    db: Session, as_facilitator: TestClient, facilitator: User, facilitator2: User
) -> None:
    mine = make_case(db, facilitator, reference="MINE-1")
    make_case(db, facilitator2, reference="THEIRS-1")
    page = as_facilitator.get("/api/v1/cases").json()
    assert [c["id"] for c in page["items"]] == [mine.id]
    assert page["total"] == 1


def test_admins_and_staff_list_every_case_of_their_program_only(
    db: Session, as_admin: TestClient, as_staff: TestClient, facilitator: User, facilitator2: User, other_admin: User
) -> None:
    ours = {make_case(db, facilitator).id, make_case(db, facilitator2).id}
    make_case(db, other_admin, facilitator_ids=[other_admin.id])
    for client in (as_admin, as_staff):
        assert {c["id"] for c in client.get("/api/v1/cases").json()["items"]} == ours


def test_cases_are_listed_newest_first(db: Session, as_facilitator: TestClient, facilitator: User) -> None:
    first, second, third = (make_case(db, facilitator, reference=r) for r in ("A-1", "A-2", "A-3"))
    items = as_facilitator.get("/api/v1/cases").json()["items"]
    assert [c["reference"] for c in items] == ["A-3", "A-2", "A-1"]


def test_the_list_pages_with_page_and_page_size(db: Session, as_facilitator: TestClient, facilitator: User) -> None:
    for n in range(5):
        make_case(db, facilitator, reference=f"P-{n}")
    first = as_facilitator.get("/api/v1/cases", params={"page_size": 2}).json()
    last = as_facilitator.get("/api/v1/cases", params={"page_size": 2, "page": 3}).json()
    assert (first["total"], first["pages"], first["page"], first["page_size"]) == (5, 3, 1, 2)
    assert [c["reference"] for c in first["items"]] == ["P-4", "P-3"]
    assert [c["reference"] for c in last["items"]] == ["P-0"]
    assert last["page"] == 3


def test_a_page_past_the_end_shows_the_last_page(db: Session, as_facilitator: TestClient, facilitator: User) -> None:
    for n in range(3):
        make_case(db, facilitator, reference=f"P-{n}")
    page = as_facilitator.get("/api/v1/cases", params={"page_size": 2, "page": 99}).json()
    assert page["page"] == 2
    assert [c["reference"] for c in page["items"]] == ["P-0"]


def test_an_empty_list_has_one_empty_page(as_facilitator: TestClient) -> None:
    page = as_facilitator.get("/api/v1/cases").json()
    assert page == {"items": [], "total": 0, "page": 1, "pages": 1, "page_size": 25}


def test_search_matches_part_of_the_reference_in_any_case(db: Session, as_admin: TestClient, facilitator: User) -> None:
    wanted = make_case(db, facilitator, reference="HRB-2031")
    make_case(db, facilitator, reference="HRB-1999")
    items = as_admin.get("/api/v1/cases", params={"q": "hrb-203"}).json()["items"]
    assert [c["id"] for c in items] == [wanted.id]


def test_search_matches_a_participants_name(db: Session, as_facilitator: TestClient, facilitator: User) -> None:
    wanted = make_case(db, facilitator)
    make_participant(db, facilitator, wanted, display_name="Marisol")
    other = make_case(db, facilitator)
    make_participant(db, facilitator, other, display_name="Ana")
    items = as_facilitator.get("/api/v1/cases", params={"q": "MARIS"}).json()["items"]
    assert [c["id"] for c in items] == [wanted.id]


def test_search_ignores_case_in_non_latin_names(db: Session, as_facilitator: TestClient, facilitator: User) -> None:
    wanted = make_case(db, facilitator)
    make_participant(db, facilitator, wanted, display_name="Олена Ковальчук")
    make_participant(db, facilitator, make_case(db, facilitator), display_name="Álvaro")
    items = as_facilitator.get("/api/v1/cases", params={"q": "олена"}).json()["items"]
    assert [c["id"] for c in items] == [wanted.id]
    assert len(as_facilitator.get("/api/v1/cases", params={"q": "álVARO"}).json()["items"]) == 1


def test_staff_cannot_find_cases_by_a_participants_name(db: Session, as_staff: TestClient, facilitator: User) -> None:
    case = make_case(db, facilitator, reference="HRB-5")
    make_participant(db, facilitator, case, display_name="Marisol")
    assert as_staff.get("/api/v1/cases", params={"q": "Marisol"}).json()["total"] == 0
    assert as_staff.get("/api/v1/cases", params={"q": "HRB-5"}).json()["total"] == 1


def test_the_list_filters_by_harm_type(db: Session, as_admin: TestClient, facilitator: User) -> None:
    wanted = make_case(db, facilitator, harm_type=HarmType.domestic_servitude)
    make_case(db, facilitator, harm_type=HarmType.labour_trafficking)
    page = as_admin.get("/api/v1/cases", params={"harm_type": "domestic_servitude"}).json()
    assert [c["id"] for c in page["items"]] == [wanted.id]
    assert page["total"] == 1


def test_the_list_filters_by_facilitator(
    db: Session, as_admin: TestClient, facilitator: User, facilitator2: User
) -> None:
    make_case(db, facilitator)
    wanted = make_case(db, facilitator2)
    items = as_admin.get("/api/v1/cases", params={"facilitator_id": facilitator2.id}).json()["items"]
    assert [c["id"] for c in items] == [wanted.id]


def test_filtering_by_another_programs_facilitator_finds_nothing(
    db: Session, as_admin: TestClient, facilitator: User, other_admin: User
) -> None:
    make_case(db, facilitator)
    make_case(db, other_admin, facilitator_ids=[other_admin.id])
    assert as_admin.get("/api/v1/cases", params={"facilitator_id": other_admin.id}).json()["total"] == 0


def test_search_and_filters_combine(db: Session, as_admin: TestClient, facilitator: User, facilitator2: User) -> None:
    wanted = make_case(db, facilitator, reference="X-1", harm_type=HarmType.forced_criminality)
    make_case(db, facilitator, reference="X-2", harm_type=HarmType.labour_trafficking)
    make_case(db, facilitator2, reference="X-3", harm_type=HarmType.forced_criminality)
    items = as_admin.get(
        "/api/v1/cases",
        params={
            "q": "X-",
            "harm_type": "forced_criminality",
            "facilitator_id": facilitator.id,
        },
    ).json()["items"]
    assert [c["id"] for c in items] == [wanted.id]


def test_the_list_shows_summaries_without_notes(db: Session, as_admin: TestClient, facilitator: User) -> None:
    case = make_case(db, facilitator, notes="Confidential referral note.")
    make_participant(db, facilitator, case)
    item = as_admin.get("/api/v1/cases").json()["items"][0]
    assert item["participant_count"] == 1
    assert "notes" not in item and "participants" not in item
    assert "Confidential referral note." not in as_admin.get("/api/v1/cases").text


# --- reading and changing a case -----------------------------------------------------------


def test_the_case_record_has_notes_participants_and_journey(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator, notes="Referred by the shelter.")
    make_participant(db, facilitator, case, display_name="Rosa")
    body = as_facilitator.get(f"/api/v1/cases/{case.id}").json()
    assert body["notes"] == "Referred by the shelter."
    assert [p["display_name"] for p in body["participants"]] == ["Rosa"]
    assert body["journey"]["stage"] == "preparation"


def test_staff_read_only_the_case_summary(db: Session, as_staff: TestClient, facilitator: User) -> None:
    case = make_case(db, facilitator, notes="Confidential referral note.")
    make_participant(db, facilitator, case, display_name="Rosa")
    response = as_staff.get(f"/api/v1/cases/{case.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == case.reference and body["participant_count"] == 1
    assert not {"notes", "participants", "journey"} & set(body)
    assert "Confidential referral note." not in response.text and "Rosa" not in response.text


def test_a_facilitator_updates_the_details_of_their_case(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator, notes="First note.")
    response = as_facilitator.patch(
        f"/api/v1/cases/{case.id}",
        json={
            "harm_type": "sexual_exploitation",
            "notes": "  Second note.  ",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["harm_type"] == "sexual_exploitation"
    assert response.json()["notes"] == "Second note."
    assert response.json()["referral_source"] == "prosecution"


def test_assigning_a_second_facilitator_lets_them_see_the_case(
    db: Session, as_facilitator: TestClient, as_facilitator2: TestClient, facilitator: User, facilitator2: User
) -> None:
    case = make_case(db, facilitator)
    assert as_facilitator2.get(f"/api/v1/cases/{case.id}").status_code == 404
    response = as_facilitator.patch(
        f"/api/v1/cases/{case.id}", json={"facilitator_ids": [facilitator.id, facilitator2.id]}
    )
    assert {f["id"] for f in response.json()["facilitators"]} == {facilitator.id, facilitator2.id}
    assert as_facilitator2.get(f"/api/v1/cases/{case.id}").status_code == 200


def test_a_case_cannot_be_left_without_facilitators(db: Session, as_facilitator: TestClient, facilitator: User) -> None:
    case = make_case(db, facilitator)
    response = as_facilitator.patch(f"/api/v1/cases/{case.id}", json={"facilitator_ids": []})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["facilitator_ids"]
    assert db.exec(select(CaseFacilitator).where(CaseFacilitator.case_id == case.id)).first() is not None


def test_a_case_cannot_be_handed_to_another_programs_facilitator(
    db: Session, as_admin: TestClient, facilitator: User, other_admin: User
) -> None:
    case = make_case(db, facilitator)
    response = as_admin.patch(f"/api/v1/cases/{case.id}", json={"facilitator_ids": [other_admin.id]})
    assert response.status_code == 422
    assert [f["id"] for f in as_admin.get(f"/api/v1/cases/{case.id}").json()["facilitators"]] == [facilitator.id]


# --- participants --------------------------------------------------------------------------


def test_a_participant_is_added_with_their_language_and_needs(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    body = _add(
        as_facilitator,
        case.id,
        "survivor",
        " Rosa ",
        preferred_language="pt-BR",
        interpreter_needed=True,
        support_needs="Prefers a female facilitator.",
    )
    assert body["case_id"] == case.id
    assert body["display_name"] == "Rosa"
    assert (body["role"], body["preferred_language"], body["interpreter_needed"]) == ("survivor", "pt-BR", True)
    assert as_facilitator.get(f"/api/v1/cases/{case.id}").json()["participant_count"] == 1


def test_participants_are_listed_in_the_order_they_were_added(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    _add(as_facilitator, case.id, "survivor", "Rosa")
    _add(as_facilitator, case.id, "responsible_party", "Dan")
    _add(as_facilitator, case.id, "supporter", "Lea")
    listed = as_facilitator.get(f"/api/v1/cases/{case.id}/participants").json()
    assert [(p["role"], p["display_name"]) for p in listed] == [
        ("survivor", "Rosa"),
        ("responsible_party", "Dan"),
        ("supporter", "Lea"),
    ]


def test_a_participant_is_read_by_id(db: Session, as_facilitator: TestClient, facilitator: User) -> None:
    case = make_case(db, facilitator)
    added = _add(as_facilitator, case.id, "survivor", "Rosa")
    response = as_facilitator.get(f"/api/v1/cases/{case.id}/participants/{added['id']}")
    assert response.status_code == 200
    assert response.json() == added


def test_a_participants_details_are_changed_but_not_their_role(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    added = _add(as_facilitator, case.id, "survivor", "Rosa")
    response = as_facilitator.patch(
        f"/api/v1/cases/{case.id}/participants/{added['id']}",
        json={
            "display_name": "Rosa M.",
            "preferred_language": "es",
            "interpreter_needed": True,
            "role": "responsible_party",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["display_name"], body["preferred_language"], body["interpreter_needed"]) == ("Rosa M.", "es", True)
    assert body["role"] == "survivor"


def test_a_participant_cannot_be_reached_through_another_case(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    other = make_case(db, facilitator)
    participant = make_participant(db, facilitator, other, display_name="Rosa")
    path = f"/api/v1/cases/{case.id}/participants/{participant.id}"
    assert as_facilitator.get(path).status_code == 404
    assert as_facilitator.patch(path, json={"display_name": "Changed"}).status_code == 404
    db.refresh(participant)
    assert participant.display_name == "Rosa"


def test_a_participant_needs_a_real_name_and_a_language_code(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    response = as_facilitator.post(
        f"/api/v1/cases/{case.id}/participants",
        json={
            "role": "survivor",
            "display_name": "   ",
            "preferred_language": "Portuguese",
        },
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"display_name", "preferred_language"}
    assert db.exec(select(Participant)).first() is None


# --- the journey ---------------------------------------------------------------------------


def test_a_new_case_is_in_preparation_missing_both_parties(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    journey = as_facilitator.get(f"/api/v1/cases/{case.id}/journey").json()
    assert journey["stage"] == "preparation"
    assert [b["code"] for b in journey["blockers"]] == ["survivor_missing", "responsible_party_missing"]
    states = {s["step"]: s["state"] for s in journey["steps"]}
    assert states["referral"] == "done"
    assert states["preparation"] == "current"
    assert states["ready"] == "blocked"


def test_with_only_the_survivor_added_the_responsible_party_is_still_missing(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    _add(as_facilitator, case.id, "survivor", "Rosa")
    codes = _blocker_codes(as_facilitator, case.id)
    assert "survivor_missing" not in codes
    assert "responsible_party_missing" in codes


def test_with_both_parties_added_the_preparation_gates_block_readiness(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    _add(as_facilitator, case.id, "survivor", "Rosa")
    _add(as_facilitator, case.id, "responsible_party", "Dan")
    journey = as_facilitator.get(f"/api/v1/cases/{case.id}/journey").json()
    assert journey["stage"] == "preparation"
    assert [b["code"] for b in journey["blockers"]] == [
        "screening_missing",
        "screening_missing",
        "acknowledgement_missing",
        "safety_assessment_missing",
        "consent_missing",
        "consent_missing",
    ]
    assert all(b["message"] and b["participant_id"] for b in journey["blockers"])
    assert not any("Rosa" in b["message"] or "Dan" in b["message"] for b in journey["blockers"])


def test_a_supporter_does_not_stand_in_for_a_missing_party(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    _add(as_facilitator, case.id, "supporter", "Lea")
    codes = _blocker_codes(as_facilitator, case.id)
    assert codes[:2] == ["survivor_missing", "responsible_party_missing"]
    assert codes[2:] == ["consent_missing"]  # the supporter attends too, so they must consent


def test_staff_may_read_the_journey_of_any_program_case(db: Session, as_staff: TestClient, facilitator: User) -> None:
    case = make_case(db, facilitator)
    response = as_staff.get(f"/api/v1/cases/{case.id}/journey")
    assert response.status_code == 200
    assert response.json()["stage"] == "preparation"


def test_the_list_shows_each_cases_stage(db: Session, as_facilitator: TestClient, facilitator: User) -> None:
    make_case(db, facilitator)
    assert as_facilitator.get("/api/v1/cases").json()["items"][0]["stage"] == "preparation"


# --- audit trail ---------------------------------------------------------------------------


def test_opening_a_case_is_audited_with_the_request_id(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    response = as_facilitator.post("/api/v1/cases", json=NEW_CASE)
    events = _events(db, response.headers["X-Request-ID"])
    assert [(e.action, e.case_id, e.actor_id) for e in events] == [
        ("case.opened", response.json()["id"], facilitator.id)
    ]


@pytest.mark.parametrize(
    "path, action",
    [
        ("", "case.read"),
        ("/journey", "case.journey.read"),
        ("/participants", "case.participants.read"),
    ],
)
def test_reading_a_case_record_is_audited_with_the_request_id(
    db: Session, as_facilitator: TestClient, facilitator: User, path: str, action: str
) -> None:
    case = make_case(db, facilitator)
    response = as_facilitator.get(f"/api/v1/cases/{case.id}{path}")
    assert response.status_code == 200
    events = _events(db, response.headers["X-Request-ID"])
    assert [(e.action, e.case_id, e.actor_id) for e in events] == [(action, case.id, facilitator.id)]


def test_reading_one_participant_is_audited(db: Session, as_facilitator: TestClient, facilitator: User) -> None:
    case = make_case(db, facilitator)
    participant = make_participant(db, facilitator, case)
    response = as_facilitator.get(f"/api/v1/cases/{case.id}/participants/{participant.id}")
    assert [(e.action, e.case_id) for e in _events(db, response.headers["X-Request-ID"])] == [
        ("participant.read", case.id)
    ]


def test_a_staff_read_of_the_summary_is_audited_too(
    db: Session, as_staff: TestClient, facilitator: User, staff: User
) -> None:
    case = make_case(db, facilitator)
    response = as_staff.get(f"/api/v1/cases/{case.id}")
    assert [(e.action, e.actor_id) for e in _events(db, response.headers["X-Request-ID"])] == [("case.read", staff.id)]


def test_changing_a_case_is_audited_with_what_changed(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    response = as_facilitator.patch(f"/api/v1/cases/{case.id}", json={"notes": "New note."})
    events = _events(db, response.headers["X-Request-ID"])
    assert [(e.action, e.case_id) for e in events] == [("case.updated", case.id)]
    assert events[0].detail == {"changed": ["notes"]}
    assert "New note." not in str(events[0].detail)


def test_adding_and_changing_participants_is_audited(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    added = as_facilitator.post(
        f"/api/v1/cases/{case.id}/participants", json={"role": "survivor", "display_name": "Rosa"}
    )
    changed = as_facilitator.patch(
        f"/api/v1/cases/{case.id}/participants/{added.json()['id']}", json={"display_name": "Rosa M."}
    )
    assert [(e.action, e.case_id, e.entity_id) for e in _events(db, added.headers["X-Request-ID"])] == [
        ("participant.added", case.id, str(added.json()["id"]))
    ]
    assert [e.action for e in _events(db, changed.headers["X-Request-ID"])] == ["participant.updated"]


def test_a_client_supplied_request_id_is_echoed_and_recorded(
    db: Session, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    response = as_facilitator.get(f"/api/v1/cases/{case.id}", headers={"X-Request-ID": "trace-0123456789"})
    assert response.headers["X-Request-ID"] == "trace-0123456789"
    assert [e.action for e in _events(db, "trace-0123456789")] == ["case.read"]


def test_a_malformed_client_request_id_is_replaced(as_facilitator: TestClient) -> None:
    response = as_facilitator.get("/api/v1/me", headers={"X-Request-ID": "bad id <script>"})
    assert response.headers["X-Request-ID"] != "bad id <script>"
    assert len(response.headers["X-Request-ID"]) == 32


def test_each_response_carries_its_own_request_id(as_facilitator: TestClient) -> None:
    first = as_facilitator.get("/api/v1/cases").headers["X-Request-ID"]
    second = as_facilitator.get("/api/v1/cases").headers["X-Request-ID"]
    assert first and second and first != second


def test_a_refused_write_leaves_no_audit_event_and_no_record(db: Session, as_facilitator: TestClient) -> None:
    as_facilitator.post("/api/v1/cases", json=NEW_CASE | {"reference": "HRB-1"})
    before = len(db.exec(select(AuditEvent)).all())
    response = as_facilitator.post("/api/v1/cases", json=NEW_CASE | {"reference": "HRB-1"})
    assert response.status_code == 422
    assert _events(db, response.headers["X-Request-ID"]) == []
    assert len(db.exec(select(AuditEvent)).all()) == before


def test_a_refused_read_of_another_facilitators_case_is_not_recorded_as_a_read(
    db: Session, as_facilitator2: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    response = as_facilitator2.get(f"/api/v1/cases/{case.id}")
    assert response.status_code == 404
    assert _events(db, response.headers["X-Request-ID"]) == []


def test_the_audit_api_shows_a_cases_events_to_admins(
    db: Session, as_admin: TestClient, as_facilitator: TestClient, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    read = as_facilitator.get(f"/api/v1/cases/{case.id}")
    log = as_admin.get("/api/v1/audit", params={"case_id": case.id}).json()
    assert [e["action"] for e in log["items"]] == ["case.read", "case.opened"]
    assert log["items"][0]["request_id"] == read.headers["X-Request-ID"]


def test_participant_rows_are_program_scoped(db: Session, as_facilitator: TestClient, facilitator: User) -> None:
    case = make_case(db, facilitator)
    body = _add(as_facilitator, case.id, "survivor", "Rosa")
    participant = db.get(Participant, body["id"])
    assert participant is not None and participant.program_id == case.program_id
    assert participant.role == ParticipantRole.survivor
