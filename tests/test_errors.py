"""Problem details (RFC 9457), role limits, bad input, the OpenAPI schema and security headers."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import Invitation, User
from app.conferences.models import Case, Participant
from tests.factories import make_case, make_participant

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}
NEW_CASE = {"harm_type": "labour_trafficking", "referral_source": "victim_services"}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert PROBLEM_FIELDS <= set(body)
    assert body["status"] == status
    assert body["type"].startswith("urn:mend:problem:")
    assert body["title"] and body["detail"]
    return body


def _fields(body: dict) -> list[str]:
    return [e["field"] for e in body["errors"]]


@pytest.fixture
def case(db: Session, facilitator: User) -> Case:
    return make_case(db, facilitator, notes="Confidential referral note.")


# --- the problem details shape -------------------------------------------------------------


def test_a_problem_names_the_path_it_answers_for(as_admin: TestClient) -> None:
    body = _problem(as_admin.get("/api/v1/cases/424242"), 404)
    assert body["instance"] == "/api/v1/cases/424242"
    assert body["title"] == "Not found"


def test_a_problem_carries_the_request_id_of_its_response(as_admin: TestClient) -> None:
    response = as_admin.get("/api/v1/cases/424242")
    assert _problem(response, 404)["request_id"] == response.headers["X-Request-ID"]


def test_an_unknown_api_address_is_a_404_problem(as_admin: TestClient) -> None:
    _problem(as_admin.get("/api/v1/no-such-thing"), 404)


def test_a_wrong_method_is_a_405_problem(as_admin: TestClient) -> None:
    _problem(as_admin.put("/api/v1/cases", json=NEW_CASE), 405)


def test_a_conflict_is_a_409_problem(as_admin: TestClient, admin: User) -> None:
    body = _problem(as_admin.patch(f"/api/v1/users/{admin.id}", json={"role": "staff"}), 409)
    assert "administrator" in body["detail"]


# --- 422 only for malformed input, naming the field ----------------------------------------


def test_an_unknown_enum_value_is_422_naming_the_field(as_facilitator: TestClient, db: Session) -> None:
    body = _problem(as_facilitator.post("/api/v1/cases", json=NEW_CASE | {"harm_type": "burglary"}), 422)
    assert _fields(body) == ["harm_type"]
    assert db.exec(select(Case)).first() is None


def test_a_missing_field_is_422_naming_the_field(as_facilitator: TestClient) -> None:
    body = _problem(as_facilitator.post("/api/v1/cases", json={"harm_type": "labour_trafficking"}), 422)
    assert _fields(body) == ["referral_source"]
    assert body["title"] == "Malformed request"


def test_a_wrong_type_is_422_naming_the_field(as_facilitator: TestClient) -> None:
    body = _problem(as_facilitator.post("/api/v1/cases", json=NEW_CASE | {"facilitator_ids": "me"}), 422)
    assert _fields(body) == ["facilitator_ids"]


def test_a_wrong_type_inside_a_list_names_the_item(as_facilitator: TestClient) -> None:
    body = _problem(as_facilitator.post("/api/v1/cases", json=NEW_CASE | {"facilitator_ids": [1, "two"]}), 422)
    assert _fields(body) == ["facilitator_ids.1"]


def test_a_body_that_is_not_json_is_422(as_facilitator: TestClient) -> None:
    response = as_facilitator.post(
        "/api/v1/cases", content=b'{"harm_type": "labour_trafficking",', headers={"Content-Type": "application/json"}
    )
    body = _problem(response, 422)
    assert body["errors"] and all(e["message"] for e in body["errors"])


def test_a_body_that_is_not_utf8_is_a_422_problem_like_any_malformed_body(as_facilitator: TestClient) -> None:
    # Found by schemathesis: FastAPI answered an undecodable body with an undocumented 400.
    response = as_facilitator.post(
        "/api/v1/cases", content=b'{"notes": "\xff"}', headers={"Content-Type": "application/json"}
    )
    body = _problem(response, 422)
    assert body["type"] == "urn:mend:problem:malformed-request"
    assert _fields(body) == ["body"]


def test_a_json_body_that_is_not_an_object_is_422(as_facilitator: TestClient) -> None:
    _problem(as_facilitator.post("/api/v1/cases", json=["labour_trafficking", "court"]), 422)


def test_a_missing_body_is_422(as_facilitator: TestClient) -> None:
    body = _problem(as_facilitator.post("/api/v1/cases"), 422)
    assert body["errors"]


def test_a_bad_query_parameter_is_422_naming_it(as_admin: TestClient) -> None:
    body = _problem(as_admin.get("/api/v1/cases", params={"harm_type": "burglary", "page": "first"}), 422)
    assert sorted(_fields(body)) == ["harm_type", "page"]
    assert {e["location"] for e in body["errors"]} == {"query"}


def test_a_path_id_that_is_not_a_number_is_422_naming_it(as_admin: TestClient) -> None:
    body = _problem(as_admin.get("/api/v1/cases/first"), 422)
    assert _fields(body) == ["case_id"]
    assert body["errors"][0]["location"] == "path"


def test_a_well_formed_request_the_rules_refuse_is_422_with_the_field(as_facilitator: TestClient) -> None:
    as_facilitator.post("/api/v1/cases", json=NEW_CASE | {"reference": "R-1"})
    body = _problem(as_facilitator.post("/api/v1/cases", json=NEW_CASE | {"reference": "R-1"}), 422)
    assert _fields(body) == ["reference"]
    assert body["errors"][0]["message"] == body["detail"]


def test_a_validation_message_reads_as_a_sentence(as_facilitator: TestClient, case: Case) -> None:
    body = _problem(
        as_facilitator.post(
            f"/api/v1/cases/{case.id}/participants",
            json={"role": "survivor", "display_name": "Rosa", "preferred_language": "xx1"},
        ),
        422,
    )
    assert _fields(body) == ["preferred_language"]
    assert "a code such as en, es or pt-BR" in body["errors"][0]["message"]


# --- 404: unknown, another program's and not assigned look the same ------------------------


def test_another_programs_case_is_indistinguishable_from_an_unknown_one(as_other_admin: TestClient, case: Case) -> None:
    theirs = _problem(as_other_admin.get(f"/api/v1/cases/{case.id}"), 404)
    unknown = _problem(as_other_admin.get("/api/v1/cases/987654"), 404)
    assert {k: theirs[k] for k in ("type", "title", "status", "detail")} == {
        k: unknown[k] for k in ("type", "title", "status", "detail")
    }
    assert set(theirs) == set(unknown)


@pytest.mark.parametrize(
    "method, suffix, body",
    [
        ("GET", "", None),
        ("GET", "/journey", None),
        ("GET", "/participants", None),
        ("PATCH", "", {"notes": "Overwritten"}),
        ("POST", "/participants", {"role": "survivor", "display_name": "Intruder"}),
    ],
)
def test_another_programs_case_is_404_for_every_endpoint(
    db: Session, as_other_admin: TestClient, case: Case, method: str, suffix: str, body: dict | None
) -> None:
    response = as_other_admin.request(method, f"/api/v1/cases/{case.id}{suffix}", json=body)
    assert _problem(response, 404)["detail"] == "No such case."
    db.refresh(case)
    assert case.notes == "Confidential referral note."
    assert db.exec(select(Participant)).first() is None


def test_another_programs_participant_is_404(
    db: Session, as_other_admin: TestClient, case: Case, facilitator: User
) -> None:
    participant = make_participant(db, facilitator, case)
    _problem(as_other_admin.get(f"/api/v1/cases/{case.id}/participants/{participant.id}"), 404)


def test_an_unassigned_facilitator_gets_404_for_a_colleagues_case(as_facilitator2: TestClient, case: Case) -> None:
    unassigned = _problem(as_facilitator2.get(f"/api/v1/cases/{case.id}"), 404)
    unknown = _problem(as_facilitator2.get("/api/v1/cases/987654"), 404)
    assert (unassigned["title"], unassigned["detail"]) == (unknown["title"], unknown["detail"])


@pytest.mark.parametrize(
    "method, suffix, body",
    [
        ("GET", "/journey", None),
        ("GET", "/participants", None),
        ("PATCH", "", {"notes": "Overwritten"}),
        ("POST", "/participants", {"role": "survivor", "display_name": "Intruder"}),
    ],
)
def test_an_unassigned_facilitator_gets_404_for_every_case_endpoint(
    db: Session, as_facilitator2: TestClient, case: Case, method: str, suffix: str, body: dict | None
) -> None:
    _problem(as_facilitator2.request(method, f"/api/v1/cases/{case.id}{suffix}", json=body), 404)
    db.refresh(case)
    assert case.notes == "Confidential referral note."


def test_an_unassigned_facilitator_does_not_see_the_case_in_the_list(as_facilitator2: TestClient, case: Case) -> None:
    assert as_facilitator2.get("/api/v1/cases", params={"q": case.reference}).json()["total"] == 0


def test_another_programs_audit_events_are_not_shown(as_other_admin: TestClient, case: Case) -> None:
    assert as_other_admin.get("/api/v1/audit", params={"case_id": case.id}).json()["items"] == []


# --- 401 without credentials ---------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/cases"),
        ("GET", "/api/v1/cases/1"),
        ("GET", "/api/v1/tokens"),
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/program"),
        ("GET", "/api/v1/audit"),
        ("POST", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/1"),
    ],
)
def test_without_credentials_every_endpoint_is_401(anon: TestClient, method: str, path: str) -> None:
    response = anon.request(method, path, json={"name": "x"} if method == "POST" else None)
    _problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_expired_session_cookie_is_401_on_the_api(app, db: Session, facilitator: User) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    client.cookies.set("mend_session", "not-a-live-session-id")
    _problem(client.get("/api/v1/cases"), 401)


# --- 403 for role limits -------------------------------------------------------------------


def test_staff_cannot_open_a_case(as_staff: TestClient, db: Session) -> None:
    body = _problem(as_staff.post("/api/v1/cases", json=NEW_CASE), 403)
    assert body["title"] == "Not allowed"
    assert db.exec(select(Case)).first() is None


def test_staff_cannot_change_a_case(db: Session, as_staff: TestClient, case: Case) -> None:
    _problem(as_staff.patch(f"/api/v1/cases/{case.id}", json={"notes": "Changed by staff"}), 403)
    db.refresh(case)
    assert case.notes == "Confidential referral note."


def test_staff_cannot_list_participants(as_staff: TestClient, case: Case) -> None:
    _problem(as_staff.get(f"/api/v1/cases/{case.id}/participants"), 403)


def test_staff_cannot_read_a_participant(db: Session, as_staff: TestClient, case: Case, facilitator: User) -> None:
    participant = make_participant(db, facilitator, case, display_name="Rosa")
    response = as_staff.get(f"/api/v1/cases/{case.id}/participants/{participant.id}")
    _problem(response, 403)
    assert "Rosa" not in response.text


def test_staff_cannot_add_a_participant(db: Session, as_staff: TestClient, case: Case) -> None:
    _problem(
        as_staff.post(f"/api/v1/cases/{case.id}/participants", json={"role": "survivor", "display_name": "Rosa"}), 403
    )
    assert db.exec(select(Participant)).first() is None


def test_staff_reading_a_case_get_the_summary_without_notes_or_participants(
    db: Session, as_staff: TestClient, case: Case, facilitator: User
) -> None:
    make_participant(db, facilitator, case, display_name="Rosa")
    response = as_staff.get(f"/api/v1/cases/{case.id}")
    assert response.status_code == 200
    assert "notes" not in response.json() and "participants" not in response.json()
    assert response.json()["participant_count"] == 1


def test_staff_get_404_not_403_for_another_programs_case(db: Session, as_staff: TestClient, other_admin: User) -> None:
    theirs = make_case(db, other_admin, facilitator_ids=[other_admin.id])
    _problem(as_staff.patch(f"/api/v1/cases/{theirs.id}", json={"notes": "x"}), 404)
    _problem(as_staff.get(f"/api/v1/cases/{theirs.id}/participants"), 404)


def test_facilitators_cannot_list_users(as_facilitator: TestClient) -> None:
    _problem(as_facilitator.get("/api/v1/users"), 403)


def test_facilitators_cannot_invite_users(as_facilitator: TestClient, db: Session) -> None:
    _problem(
        as_facilitator.post(
            "/api/v1/invitations", json={"email": "new@example.org", "full_name": "New", "role": "admin"}
        ),
        403,
    )
    assert db.exec(select(Invitation).where(Invitation.email == "new@example.org")).first() is None


def test_facilitators_cannot_change_users(as_facilitator: TestClient, facilitator: User) -> None:
    _problem(as_facilitator.patch(f"/api/v1/users/{facilitator.id}", json={"role": "admin"}), 403)


def test_facilitators_cannot_change_the_program(as_facilitator: TestClient) -> None:
    _problem(as_facilitator.patch("/api/v1/program", json={"name": "Renamed"}), 403)
    assert as_facilitator.get("/api/v1/program").json()["name"] == "Harbour Restorative Program"


def test_staff_cannot_change_the_program(as_staff: TestClient) -> None:
    _problem(as_staff.patch("/api/v1/program", json={"screening_validity_days": 30}), 403)


def test_facilitators_cannot_read_the_audit_log(as_facilitator: TestClient) -> None:
    _problem(as_facilitator.get("/api/v1/audit"), 403)


def test_an_admin_changes_the_program_settings(as_admin: TestClient) -> None:
    response = as_admin.patch("/api/v1/program", json={"timezone": "Europe/Lisbon", "screening_validity_days": 60})
    assert response.status_code == 200
    assert (response.json()["timezone"], response.json()["screening_validity_days"]) == ("Europe/Lisbon", 60)


def test_changing_the_program_is_audited_with_the_request_id(db: Session, as_admin: TestClient) -> None:
    from app.audit.models import AuditEvent

    response = as_admin.patch("/api/v1/program", json={"name": "Harbour Program"})
    events = db.exec(select(AuditEvent).where(AuditEvent.request_id == response.headers["X-Request-ID"])).all()
    assert [e.action for e in events] == ["program.updated"]


def test_an_unknown_time_zone_is_refused_naming_the_field(as_admin: TestClient) -> None:
    assert _fields(_problem(as_admin.patch("/api/v1/program", json={"timezone": "Mars/Olympus"}), 422)) == ["timezone"]


# --- never a 500 for bad input -------------------------------------------------------------

HUGE = 10**30
BAD_CASE_BODIES = {
    "reference too long": NEW_CASE | {"reference": "R" * 41},
    "reference with unicode": NEW_CASE | {"reference": "Ref-✓"},
    "reference with spaces": NEW_CASE | {"reference": "HRB 17"},
    "notes too long": NEW_CASE | {"notes": "x" * 20_001},
    "huge facilitator id": NEW_CASE | {"facilitator_ids": [HUGE]},
    "negative facilitator id": NEW_CASE | {"facilitator_ids": [-1]},
    "facilitator ids as objects": NEW_CASE | {"facilitator_ids": [{"id": 1}]},
    "null harm type": NEW_CASE | {"harm_type": None},
    "number as harm type": NEW_CASE | {"harm_type": 3},
    "nul byte in notes": NEW_CASE | {"notes": "before\x00after"},
    "nul byte in reference": NEW_CASE | {"reference": "R\x001"},
}


@pytest.mark.parametrize("body", BAD_CASE_BODIES.values(), ids=BAD_CASE_BODIES.keys())
def test_bad_case_input_is_refused_with_422(as_facilitator: TestClient, db: Session, body: dict) -> None:
    _problem(as_facilitator.post("/api/v1/cases", json=body), 422)
    assert db.exec(select(Case)).first() is None


BAD_PARTICIPANT_BODIES = {
    "name too long": {"role": "survivor", "display_name": "R" * 121},
    "empty name": {"role": "survivor", "display_name": ""},
    "unknown role": {"role": "judge", "display_name": "Rosa"},
    "language too long": {"role": "survivor", "display_name": "Rosa", "preferred_language": "e" * 17},
    "support needs too long": {"role": "survivor", "display_name": "Rosa", "support_needs": "x" * 5_001},
    "interpreter as text": {"role": "survivor", "display_name": "Rosa", "interpreter_needed": "perhaps"},
    "nul byte in name": {"role": "survivor", "display_name": "Ro\x00sa"},
    "nul byte in support needs": {"role": "survivor", "display_name": "Rosa", "support_needs": "\x00"},
}


@pytest.mark.parametrize("body", BAD_PARTICIPANT_BODIES.values(), ids=BAD_PARTICIPANT_BODIES.keys())
def test_bad_participant_input_is_refused_with_422(
    as_facilitator: TestClient, db: Session, case: Case, body: dict
) -> None:
    response = as_facilitator.post(f"/api/v1/cases/{case.id}/participants", json=body)
    _problem(response, 422)
    assert db.exec(select(Participant)).first() is None


GOOD_UNICODE_NAMES = ["Олена", "María José", "Nguyễn Thị Hoa", "أمينة", "李华", "Zoë 🌻", "O'Brien-Smith"]


@pytest.mark.parametrize("name", GOOD_UNICODE_NAMES)
def test_names_in_any_script_are_kept_exactly(as_facilitator: TestClient, case: Case, name: str) -> None:
    response = as_facilitator.post(
        f"/api/v1/cases/{case.id}/participants", json={"role": "survivor", "display_name": name}
    )
    assert response.status_code == 201
    listed = as_facilitator.get(f"/api/v1/cases/{case.id}/participants").json()
    assert [p["display_name"] for p in listed] == [name]


BAD_LIST_QUERIES = {
    "negative page": {"page": -1},
    "page zero": {"page": 0},
    "huge page": {"page": HUGE},
    "page as text": {"page": "last"},
    "page as float": {"page": 1.5},
    "page size zero": {"page_size": 0},
    "page size too big": {"page_size": 10_000},
    "search too long": {"q": "x" * 101},
    "unknown harm type": {"harm_type": "burglary"},
    "facilitator id as text": {"facilitator_id": "fran"},
    "huge facilitator id": {"facilitator_id": HUGE},
    "facilitator id past the 32-bit range": {"facilitator_id": 2**31},
    "negative facilitator id": {"facilitator_id": -5},
    "nul byte in search": {"q": "\x00"},
}


@pytest.mark.parametrize("params", BAD_LIST_QUERIES.values(), ids=BAD_LIST_QUERIES.keys())
def test_bad_list_parameters_are_422(as_admin: TestClient, params: dict) -> None:
    _problem(as_admin.get("/api/v1/cases", params=params), 422)


ODD_BUT_VALID_QUERIES = {
    "unicode search": {"q": "Олена 李华 🌻"},
    "wildcard characters": {"q": "%_\\"},
    "quote characters": {"q": "'; DROP TABLE case_file; --"},
    "empty search": {"q": ""},
    "largest page": {"page": 100_000, "page_size": 100},
    "largest id": {"facilitator_id": 2**31 - 1},
}


@pytest.mark.parametrize("params", ODD_BUT_VALID_QUERIES.values(), ids=ODD_BUT_VALID_QUERIES.keys())
def test_odd_but_valid_list_parameters_are_answered(as_admin: TestClient, case: Case, params: dict) -> None:
    response = as_admin.get("/api/v1/cases", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["total"] in (0, 1)


BAD_CASE_IDS = ["0", "-1", str(HUGE), str(2**63), str(2**31), "1.5", "1e3", "%F0%9F%8C%BB", "²", "abc", "1;2"]


@pytest.mark.parametrize("case_id", BAD_CASE_IDS)
def test_a_case_id_that_cannot_be_a_record_is_422(as_admin: TestClient, case_id: str) -> None:
    assert _fields(_problem(as_admin.get(f"/api/v1/cases/{case_id}"), 422)) == ["case_id"]


def test_the_largest_possible_case_id_is_simply_not_found(as_admin: TestClient) -> None:
    _problem(as_admin.get(f"/api/v1/cases/{2**31 - 1}"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/{case_id}/participants/{huge}",
        "/api/v1/cases/{huge}/journey",
        "/api/v1/tokens/{huge}",
        "/api/v1/users/{huge}",
        "/api/v1/audit?case_id={huge}",
    ],
)
def test_huge_ids_anywhere_are_422(as_admin: TestClient, case: Case, path: str) -> None:
    url = path.format(case_id=case.id, huge=HUGE)
    method = "DELETE" if "tokens" in path else "PATCH" if "users" in path else "GET"
    _problem(as_admin.request(method, url, json={"full_name": "x"} if method == "PATCH" else None), 422)


def test_a_token_name_with_a_nul_byte_is_422(as_facilitator: TestClient) -> None:
    assert _fields(_problem(as_facilitator.post("/api/v1/tokens", json={"name": "script\x00"}), 422)) == ["name"]


def test_a_too_long_token_name_is_422(as_facilitator: TestClient) -> None:
    assert _fields(_problem(as_facilitator.post("/api/v1/tokens", json={"name": "t" * 81}), 422)) == ["name"]


def test_a_program_name_with_a_nul_byte_is_422(as_admin: TestClient) -> None:
    assert _fields(_problem(as_admin.patch("/api/v1/program", json={"name": "Harbour\x00"}), 422)) == ["name"]


def test_a_nul_byte_in_a_patched_participant_name_is_422(
    db: Session, as_facilitator: TestClient, case: Case, facilitator: User
) -> None:
    participant = make_participant(db, facilitator, case, display_name="Rosa")
    response = as_facilitator.patch(
        f"/api/v1/cases/{case.id}/participants/{participant.id}", json={"display_name": "Ro\x00sa"}
    )
    assert _fields(_problem(response, 422)) == ["display_name"]


def test_a_form_encoded_body_on_a_json_endpoint_is_422(app, as_facilitator: TestClient) -> None:
    response = as_facilitator.post(
        "/api/v1/cases",
        data={"harm_type": "labour_trafficking", "referral_source": "ngo", "csrf_token": as_facilitator.csrf_token},
    )
    _problem(response, 422)


def test_a_body_over_the_size_limit_is_a_413_problem(as_facilitator: TestClient) -> None:
    response = as_facilitator.post("/api/v1/cases", json=NEW_CASE | {"notes": "x" * 2_000_000})
    body = _problem(response, 413)
    assert body["title"] == "Too much was sent"


def test_a_field_too_long_in_a_body_within_the_limit_is_422_naming_it(as_facilitator: TestClient) -> None:
    response = as_facilitator.post("/api/v1/cases", json=NEW_CASE | {"notes": "x" * 900_000})
    assert _fields(_problem(response, 422)) == ["notes"]


def test_deeply_nested_json_is_refused_without_a_server_error(as_facilitator: TestClient) -> None:
    nested = "[" * 5_000 + "]" * 5_000
    response = as_facilitator.post(
        "/api/v1/cases", content=nested.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    _problem(response, response.status_code)


@pytest.mark.parametrize(
    "path",
    [
        "/cases?facilitator=²",
        "/cases?facilitator=999999999999",
        "/cases?q=%00",
        "/cases/2147483648",
        "/admin/users/99999999999999999999",
        "/admin/audit?case=²",
        "/admin/audit?case=999999999999",
    ],
)
def test_odd_values_in_page_addresses_never_cause_a_server_error(as_admin: TestClient, path: str) -> None:
    response = as_admin.get(path)
    assert response.status_code in (200, 404, 422), response.text
    assert response.headers["content-type"].startswith("text/html")


# --- the OpenAPI schema and docs -----------------------------------------------------------


def test_the_openapi_schema_lists_every_api_endpoint(anon: TestClient) -> None:
    response = anon.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/cases"])
    assert {"get", "patch"} <= set(paths["/api/v1/cases/{case_id}"])
    assert "get" in paths["/api/v1/cases/{case_id}/journey"]
    assert {"get", "post"} <= set(paths["/api/v1/cases/{case_id}/participants"])
    assert {"get", "patch"} <= set(paths["/api/v1/cases/{case_id}/participants/{participant_id}"])
    assert {"get", "post"} <= set(paths["/api/v1/tokens"])
    assert "delete" in paths["/api/v1/tokens/{token_id}"]
    assert "get" in paths["/api/v1/users"]
    assert {"get", "post"} <= set(paths["/api/v1/invitations"])
    assert "patch" in paths["/api/v1/users/{user_id}"]
    assert {"get", "patch"} <= set(paths["/api/v1/program"])
    assert "get" in paths["/api/v1/audit"]
    assert "get" in paths["/api/v1/me"]


def test_the_openapi_schema_leaves_out_the_html_pages(anon: TestClient) -> None:
    paths = anon.get("/api/v1/openapi.json").json()["paths"]
    assert all(p.startswith("/api/v1/") for p in paths)


def test_the_openapi_schema_describes_endpoints_from_their_docstrings(anon: TestClient) -> None:
    operation = anon.get("/api/v1/openapi.json").json()["paths"]["/api/v1/tokens"]["post"]
    assert "only time the token is shown" in operation["description"]


def test_every_api_operation_documents_its_problem_responses(anon: TestClient) -> None:
    # Found by schemathesis: only 200 and FastAPI's own 422 (as application/json) were declared, so
    # every refusal the API gives (as application/problem+json) broke the schema.
    paths = anon.get("/api/v1/openapi.json").json()["paths"]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403"} <= set(responses), (method, path)
            assert all(responses[code]["content"] == problem for code in responses if code[0] == "4"), (method, path)
            assert ("404" in responses) == (
                "{" in path
                or path.startswith("/api/v1/portal/")
                or "_id" in str([p["name"] for p in operation.get("parameters", []) if p["in"] == "query"])
            ), (method, path)
            assert ("409" in responses) >= (method != "get"), (method, path)
    assert "409" in paths["/api/v1/cases/{case_id}/participants/{participant_id}/screenings"]["get"]["responses"]
    assert "404" in paths["/api/v1/schedule/week"]["get"]["responses"]


def test_the_openapi_schema_says_how_to_sign_in(anon: TestClient) -> None:
    document = anon.get("/api/v1/openapi.json").json()
    assert {"AccessToken", "StaffSession", "PortalSession"} <= set(document["components"]["securitySchemes"])
    assert document["paths"]["/api/v1/cases"]["get"]["security"] == [{"AccessToken": []}, {"StaffSession": []}]
    assert document["paths"]["/api/v1/portal/me"]["get"]["security"] == [{"PortalSession": []}]


def test_a_malformed_bearer_header_is_a_401_problem(anon: TestClient) -> None:
    response = anon.get("/api/v1/me", headers={"Authorization": "Bearer"})
    _problem(response, 401)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect", "/api/v1/docs"])
def test_no_docs_page_is_served(anon: TestClient, path: str) -> None:
    response = anon.get(path)
    assert response.status_code == 404
    assert "cdn" not in response.text.lower()


def test_the_openapi_schema_loads_nothing_from_another_site(anon: TestClient) -> None:
    text = anon.get("/api/v1/openapi.json").text.lower()
    assert "cdn" not in text and "https://" not in text


# --- security headers ----------------------------------------------------------------------


def _assert_security_headers(response) -> None:
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/me", "/api/v1/openapi.json"])
def test_api_responses_carry_the_security_headers(as_facilitator: TestClient, path: str) -> None:
    response = as_facilitator.get(path)
    assert response.status_code == 200
    _assert_security_headers(response)


def test_api_problem_responses_carry_the_security_headers(anon: TestClient, as_admin: TestClient) -> None:
    _assert_security_headers(anon.get("/api/v1/cases"))
    _assert_security_headers(as_admin.get("/api/v1/cases/987654"))
    _assert_security_headers(as_admin.get("/api/v1/cases/abc"))


def test_a_csrf_refusal_carries_the_security_headers(as_facilitator: TestClient) -> None:
    del as_facilitator.headers["X-CSRF-Token"]
    response = as_facilitator.post("/api/v1/cases", json=NEW_CASE)
    assert response.status_code == 403
    _assert_security_headers(response)


@pytest.mark.parametrize("path", ["/login", "/cases", "/no-such-page"])
def test_pages_carry_the_security_headers(as_facilitator: TestClient, path: str) -> None:
    response = as_facilitator.get(path, follow_redirects=False)
    assert response.headers["content-type"].startswith("text/html")
    _assert_security_headers(response)


def test_an_unexpected_error_is_a_500_problem_with_the_security_headers(app, as_admin: TestClient, monkeypatch) -> None:
    from app.conferences import queries

    def broken(*args, **kwargs):
        raise RuntimeError("database fell over: secret detail")

    monkeypatch.setattr(queries, "list_cases", broken)
    response = as_admin.get("/api/v1/cases")
    body = _problem(response, 500)
    assert "secret detail" not in response.text
    assert "Nothing was changed" in body["detail"]
    _assert_security_headers(response)
