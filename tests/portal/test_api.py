"""Portal links and the portal's own API: the same rules as the pages, and the walls between portal and staff."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import User
from app.auth.schemas import AccessTokenCreate
from app.auth.service import actor_for, issue_access_token
from app.conferences.models import Case, Participant
from app.notifications.models import Notification
from app.portal.models import PortalLink, PortalSession
from app.safety.models import Consent
from app.security import token_digest
from tests.factories import make_case
from tests.portal.conftest import PortalClientFactory, browser, enter, token_of


def _links(case: Case, participant: Participant) -> str:
    return f"/api/v1/cases/{case.id}/participants/{participant.id}/portal-links"


# --- links ------------------------------------------------------------------------------------


def test_issuing_a_link_returns_its_url_once_and_listing_never_does(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(_links(case, survivor))
    assert response.status_code == 201, response.text
    issued = response.json()
    assert issued["state"] == "waiting" and issued["issued_by"] == {
        "id": facilitator.id,
        "full_name": "Fran Facilitator",
    }
    token = token_of(issued["url"])
    assert db.exec(select(PortalLink)).one().token_hash == token_digest(token)
    listed = as_facilitator.get(_links(case, survivor))
    assert listed.status_code == 200
    [row] = listed.json()
    assert "url" not in row and token not in listed.text
    assert row["id"] == issued["id"] and row["used_at"] is None


def test_the_api_link_opens_the_portal_once_and_the_list_shows_it_used(
    app, as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:  # type: ignore[no-untyped-def]
    url = as_facilitator.post(_links(case, survivor)).json()["url"]
    assert enter(browser(app), url).status_code == 303
    assert enter(browser(app), url).status_code == 410
    [row] = as_facilitator.get(_links(case, survivor)).json()
    assert row["state"] == "in_use" and row["used_at"] is not None


def test_revoking_a_link_through_the_api(
    app, as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:  # type: ignore[no-untyped-def]
    issued = as_facilitator.post(_links(case, survivor)).json()
    response = as_facilitator.post(f"{_links(case, survivor)}/{issued['id']}/revoke")
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    assert enter(browser(app), issued["url"]).status_code == 410
    again = as_facilitator.post(f"{_links(case, survivor)}/{issued['id']}/revoke")
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"


def test_a_link_cannot_be_revoked_through_another_participants_address(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant, responsible: Participant
) -> None:
    issued = as_facilitator.post(_links(case, survivor)).json()
    assert as_facilitator.post(f"{_links(case, responsible)}/{issued['id']}/revoke").status_code == 404
    assert db.exec(select(PortalLink)).one().revoked_at is None


def test_who_may_issue_list_and_revoke_links(
    as_staff: TestClient,
    as_facilitator2: TestClient,
    as_other_admin: TestClient,
    as_admin: TestClient,
    as_facilitator: TestClient,
    db: Session,
    case: Case,
    survivor: Participant,
) -> None:
    link_id = as_facilitator.post(_links(case, survivor)).json()["id"]
    for client, status in ((as_staff, 403), (as_facilitator2, 404), (as_other_admin, 404)):
        assert client.post(_links(case, survivor)).status_code == status
        assert client.get(_links(case, survivor)).status_code == status
        assert client.post(f"{_links(case, survivor)}/{link_id}/revoke").status_code == status
    assert len(db.exec(select(PortalLink)).all()) == 1
    assert as_admin.post(_links(case, survivor)).status_code == 201


def test_a_facilitator_can_issue_a_link_with_a_bearer_token(
    app, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:  # type: ignore[no-untyped-def]
    _, token = issue_access_token(db, actor=actor_for(facilitator), data=AccessTokenCreate(name="scripts"))
    client = TestClient(app, raise_server_exceptions=False)
    response = client.post(_links(case, survivor), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201


def test_a_supporter_cannot_get_a_link(as_facilitator: TestClient, case: Case) -> None:
    supporter = as_facilitator.post(
        f"/api/v1/cases/{case.id}/participants", json={"role": "supporter", "display_name": "Sam"}
    ).json()
    response = as_facilitator.post(f"/api/v1/cases/{case.id}/participants/{supporter['id']}/portal-links")
    assert response.status_code == 409


# --- the portal's own API -----------------------------------------------------------------------


def test_me_is_the_persons_own_view_and_nothing_else(
    portal_client_for: PortalClientFactory, survivor: Participant, responsible: Participant
) -> None:
    response = portal_client_for(survivor).get("/api/v1/portal/me")
    assert response.status_code == 200
    me = response.json()
    assert (me["participant_id"], me["display_name"], me["role"], me["language"]) == (
        survivor.id,
        "Rosa",
        "survivor",
        "es",
    )
    assert me["information_sheet"]["language"] == "es"
    assert [c["state"] for c in me["consents"]] == ["missing"] * 6
    assert "Dan" not in response.text and str(responsible.id) not in [str(v) for v in me.values()]


def test_consent_and_withdrawal_through_the_api_pause_the_case_and_tell_the_facilitators(
    portal_client_for: PortalClientFactory,
    as_facilitator: TestClient,
    db: Session,
    facilitator: User,
    case: Case,
    responsible: Participant,
) -> None:
    client = portal_client_for(responsible)
    unconfirmed = client.post("/api/v1/portal/consents/conference")
    assert unconfirmed.status_code == 422 and [e["field"] for e in unconfirmed.json()["errors"]] == ["confirmed"]
    assert db.exec(select(Consent)).first() is None  # a yes is never one call without a confirmation
    given = client.post("/api/v1/portal/consents/conference", json={"confirmed": True})
    assert given.status_code == 201 and given.json()["state"] == "active"
    assert db.exec(select(Consent)).one().sheet_language == "en"
    assert client.post("/api/v1/portal/consents/conference", json={"confirmed": True}).status_code == 409
    withdrawn = client.post("/api/v1/portal/consents/conference/withdraw", json={"reason": "I need time."})
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    journey = as_facilitator.get(f"/api/v1/cases/{case.id}/journey").json()
    assert "case_paused" in [b["code"] for b in journey["blockers"]]
    assert "consent_withdrawn" in [p["code"] for p in journey["pauses"]]
    [note] = db.exec(select(Notification).where(Notification.kind == "consent_withdrawn")).all()
    assert note.recipient_user_id == facilitator.id
    assert client.post("/api/v1/portal/consents/conference/withdraw").status_code == 409
    me = client.get("/api/v1/portal/me").json()
    assert me["status"].startswith("You said stop.")


def test_an_unknown_scope_or_sheet_is_malformed(as_survivor: TestClient, db: Session) -> None:
    assert as_survivor.post("/api/v1/portal/consents/everything").status_code == 422
    bad_sheet = as_survivor.post("/api/v1/portal/consents/contact", json={"sheet_version": "../../etc"})
    assert bad_sheet.status_code == 422
    assert db.exec(select(Consent)).first() is None


def test_the_portal_api_needs_the_csrf_header_for_changes(as_survivor: TestClient, db: Session) -> None:
    del as_survivor.headers["X-CSRF-Token"]
    response = as_survivor.post("/api/v1/portal/consents/contact")
    assert response.status_code == 403 and response.headers["content-type"] == "application/problem+json"
    wrong = as_survivor.post("/api/v1/portal/consents/contact", headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    assert db.exec(select(Consent)).first() is None
    assert as_survivor.get("/api/v1/portal/me").status_code == 200


def test_without_a_portal_session_the_portal_api_answers_401(app, as_facilitator: TestClient) -> None:  # type: ignore[no-untyped-def]
    for client in (browser(app), as_facilitator):
        assert client.get("/api/v1/portal/me").status_code == 401
        assert client.post("/api/v1/portal/consents/contact").status_code == 401


def test_ids_of_another_participant_or_case_in_the_body_or_query_are_not_found(
    as_survivor: TestClient, db: Session, facilitator: User, responsible: Participant
) -> None:
    other_case = make_case(db, facilitator, reference="HRP-8")
    for body in ({"participant_id": responsible.id}, {"case_id": other_case.id}):
        assert as_survivor.post("/api/v1/portal/consents/contact", json=body).status_code == 404
        assert as_survivor.post("/api/v1/portal/consents/contact/withdraw", json=body).status_code == 404
    assert as_survivor.get(f"/api/v1/portal/me?participant_id={responsible.id}").status_code == 404
    assert as_survivor.get(f"/api/v1/portal/me?case_id={other_case.id}").status_code == 404
    assert db.exec(select(Consent)).first() is None


def test_ones_own_ids_in_the_body_are_accepted(as_survivor: TestClient, survivor: Participant) -> None:
    body = {"participant_id": survivor.id, "case_id": survivor.case_id, "confirmed": True}
    assert as_survivor.post("/api/v1/portal/consents/contact", json=body).status_code == 201


def test_the_portal_cookie_opens_no_staff_endpoint(
    as_survivor: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    for path in (
        "/api/v1/cases",
        f"/api/v1/cases/{case.id}",
        f"/api/v1/cases/{case.id}/journey",
        _links(case, survivor),
    ):
        assert as_survivor.get(path).status_code == 401, path
    assert as_survivor.post(_links(case, survivor)).status_code == 401
    assert len(db.exec(select(PortalLink)).all()) == 1  # only the one that opened this session


def test_a_revoked_session_can_do_nothing_more(
    as_survivor: TestClient, as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    [row] = as_facilitator.get(_links(case, survivor)).json()
    as_facilitator.post(f"{_links(case, survivor)}/{row['id']}/revoke")
    assert db.exec(select(PortalSession)).one().revoked_at is not None
    assert as_survivor.get("/api/v1/portal/me").status_code == 401
    assert as_survivor.post("/api/v1/portal/consents/contact").status_code == 401


def test_the_portal_api_is_documented_with_its_cookie(app) -> None:  # type: ignore[no-untyped-def]
    spec = TestClient(app).get("/api/v1/openapi.json").json()
    assert spec["components"]["securitySchemes"]["PortalSession"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "mend_portal",
        "description": spec["components"]["securitySchemes"]["PortalSession"]["description"],
    }
    for path in ("/api/v1/portal/me", "/api/v1/portal/consents/{scope}", "/api/v1/portal/consents/{scope}/withdraw"):
        operation = next(iter(spec["paths"][path].values()))
        assert operation["security"] == [{"PortalSession": []}] and operation["description"]
    issue = spec["paths"]["/api/v1/cases/{case_id}/participants/{participant_id}/portal-links"]["post"]
    assert "url" in spec["components"]["schemas"]["PortalLinkIssued"]["properties"] and issue["description"]
