"""The agreement API from the facilitator's side, and the attempts to break it: signing an old hash,
signing before the survivor accepted, changing a sealed version, signing twice, signing as someone else,
accepting a text nobody reviewed, and two editors saving from the same version."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.agreements.models import AgreementDocument, AgreementVersion, Signature
from app.agreements.service import save_draft
from app.auth.models import User
from app.auth.service import actor_for
from app.conferences.models import ParticipantRole
from tests.agreements.test_service import Held, held_case, pdf_renderer, terms_for, terms_json  # noqa: F401
from tests.agreements.test_service import to_signing as service_to_signing
from tests.factories import make_participant
from tests.portal.conftest import browser, enter, issue_url

pytestmark = pytest.mark.usefixtures("pdf_renderer")


def base(held: Held) -> str:
    return f"/api/v1/cases/{held.case.id}/agreement"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: Any, status: int = 409) -> list[str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [c["code"] for c in response.json().get("conditions", [])]


def draft(client: TestClient, held: Held, based_on: int | None = None, **changes: int) -> dict:
    return ok(client.put(base(held) + "/draft", json={"terms": terms_json(held, **changes), "based_on": based_on}))


def review(client: TestClient, held: Held, version: dict, who: Any, *, sha: str | None = None, **extra: str) -> Any:
    body = {"participant_id": who.id, "decision": "accepted", "text_sha256": sha or version["text_sha256"]} | extra
    return client.post(f"{base(held)}/versions/{version['number']}/reviews", json=body)


def sign(client: TestClient, held: Held, version: dict, who: Any = None, *, sha: str | None = None) -> Any:
    body = {
        "text_sha256": sha or version["text_sha256"],
        "typed_name": who.display_name if who else "Fran Facilitator",
        "intent_confirmed": True,
        "participant_id": who.id if who else None,
    }
    return client.post(f"{base(held)}/versions/{version['number']}/signatures", json=body)


def post(client: TestClient, held: Held, version: dict, action: str) -> Any:
    return client.post(f"{base(held)}/versions/{version['number']}/{action}")


def to_signing(client: TestClient, held: Held, version: dict) -> dict:
    ok(post(client, held, version, "send-for-review"))
    ok(review(client, held, version, held.survivor), 201)
    ok(review(client, held, version, held.responsible), 201)
    return ok(post(client, held, version, "send-for-signature"))


def seal(client: TestClient, held: Held, version: dict) -> dict:
    to_signing(client, held, version)
    ok(sign(client, held, version, held.survivor), 201)
    ok(sign(client, held, version, held.responsible), 201)
    assert ok(sign(client, held, version), 201)["version_status"] == "sealed"
    return ok(client.get(f"{base(held)}/versions/{version['number']}"))


@pytest.fixture
def held(db: Session, facilitator: User) -> Held:
    return held_case(db, facilitator)


def test_a_held_conference_goes_to_a_sealed_agreement_with_its_stored_pdf(
    as_facilitator: TestClient, held: Held, db: Session
) -> None:
    version = draft(as_facilitator, held)
    assert (version["number"], version["status"]) == (1, "draft")
    assert (
        "1. Dan will write a letter of apology, passed on through the program by 15 January 2027."
        in (version["canonical_text"])
    )
    sealed = seal(as_facilitator, held, version)
    assert sealed["status"] == "sealed" and sealed["sealed_at"]
    assert [s["signed"] for s in sealed["required_signers"]] == [True, True, True]
    assert [s["method"] for s in sealed["signatures"]] == ["in_person"] * 3
    pdf = as_facilitator.get(sealed["document"]["url"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == f'attachment; filename="agreement-{held.case.reference}-v1.pdf"'
    assert pdf.headers["cache-control"] == "no-store"
    stored = db.exec(select(AgreementDocument)).one()
    assert pdf.content == stored.content and sealed["document"]["sha256"] == stored.sha256
    agreement = ok(as_facilitator.get(base(held)))
    assert agreement["in_force"] == 1 and [v["number"] for v in agreement["versions"]] == [1]


def test_the_draft_waits_for_the_conference(as_facilitator: TestClient, db: Session, facilitator: User) -> None:
    held = held_case(db, facilitator, held=False)
    response = as_facilitator.put(base(held) + "/draft", json={"terms": terms_json(held), "based_on": None})
    assert refused(response) == ["conference_not_held"]
    assert as_facilitator.get(base(held)).status_code == 404


def test_signing_with_the_hash_of_an_older_text_is_refused(as_facilitator: TestClient, held: Held) -> None:
    first = draft(as_facilitator, held)
    to_signing(as_facilitator, held, first)
    ok(sign(as_facilitator, held, first, held.survivor), 201)
    second = draft(as_facilitator, held, based_on=1, hours=30)
    to_signing(as_facilitator, held, second)
    assert refused(sign(as_facilitator, held, second, held.responsible, sha=first["text_sha256"])) == ["text_changed"]
    assert refused(sign(as_facilitator, held, first, held.responsible)) == ["not_open_for_signature"]
    current = ok(as_facilitator.get(f"{base(held)}/versions/2"))
    assert current["signatures"] == [] and not any(s["signed"] for s in current["required_signers"])


def test_signing_before_the_survivor_accepted_is_refused(as_facilitator: TestClient, held: Held) -> None:
    version = draft(as_facilitator, held)
    ok(post(as_facilitator, held, version, "send-for-review"))
    ok(review(as_facilitator, held, version, held.responsible), 201)
    assert refused(sign(as_facilitator, held, version, held.survivor)) == ["not_open_for_signature"]
    assert refused(post(as_facilitator, held, version, "send-for-signature")) == [
        "survivor_acceptance_missing",
        "transition_not_allowed",
    ]


def test_a_sealed_version_cannot_be_edited_and_stays_exactly_as_sealed(as_facilitator: TestClient, held: Held) -> None:
    sealed = seal(as_facilitator, held, draft(as_facilitator, held))
    pdf_before = as_facilitator.get(sealed["document"]["url"]).content
    edit = as_facilitator.put(base(held) + "/draft", json={"terms": terms_json(held, hours=1), "based_on": 1})
    assert refused(edit) == ["version_sealed"]
    assert refused(post(as_facilitator, held, sealed, "send-for-review")) == ["version_sealed"]
    assert refused(post(as_facilitator, held, sealed, "send-for-signature")) == ["version_sealed"]
    assert refused(review(as_facilitator, held, sealed, held.survivor, decision="changes_requested", comment="No")) == [
        "not_in_review"
    ]
    assert refused(sign(as_facilitator, held, sealed)) == ["not_open_for_signature", "already_signed"]
    decline = as_facilitator.post(f"{base(held)}/versions/1/decline", json={"reason": "Changed my mind"})
    assert refused(decline) == ["version_sealed"]
    after = ok(as_facilitator.get(f"{base(held)}/versions/1"))
    assert (after["status"], after["canonical_text"], after["text_sha256"]) == (
        "sealed",
        sealed["canonical_text"],
        sealed["text_sha256"],
    )
    assert as_facilitator.get(sealed["document"]["url"]).content == pdf_before
    assert [v["number"] for v in ok(as_facilitator.get(base(held)))["versions"]] == [1]


def test_an_amendment_is_a_new_version_while_the_sealed_one_stays_in_force(
    as_facilitator: TestClient, held: Held
) -> None:
    seal(as_facilitator, held, draft(as_facilitator, held))
    body = {"terms": terms_json(held, hours=20), "based_on": 1, "change_note": "Fewer hours: he found work."}
    amendment = ok(as_facilitator.post(base(held) + "/amendments", json=body), 201)
    assert (amendment["number"], amendment["status"], amendment["amends_version"]) == (2, "draft", 1)
    agreement = ok(as_facilitator.get(base(held)))
    assert agreement["in_force"] == 1 and agreement["current"]["number"] == 2
    seal(as_facilitator, held, amendment)
    statuses = [(v["number"], v["status"]) for v in ok(as_facilitator.get(base(held)))["versions"]]
    assert statuses == [(2, "sealed"), (1, "superseded")]


def test_an_amendment_of_an_unsealed_draft_is_refused(as_facilitator: TestClient, held: Held) -> None:
    draft(as_facilitator, held)
    body = {"terms": terms_json(held, hours=20), "based_on": 1, "change_note": "Fewer hours"}
    assert refused(as_facilitator.post(base(held) + "/amendments", json=body)) == ["transition_not_allowed"]
    assert [v["number"] for v in ok(as_facilitator.get(base(held)))["versions"]] == [1]


def test_nobody_signs_twice(as_facilitator: TestClient, as_admin: TestClient, held: Held) -> None:
    version = to_signing(as_facilitator, held, draft(as_facilitator, held))
    ok(sign(as_facilitator, held, version), 201)
    ok(sign(as_facilitator, held, version, held.survivor), 201)
    assert refused(sign(as_facilitator, held, version)) == ["already_signed"]
    assert refused(sign(as_admin, held, version)) == ["already_signed"]  # one facilitator signature per version
    assert refused(sign(as_facilitator, held, version, held.survivor)) == ["already_signed"]
    assert len(ok(as_facilitator.get(f"{base(held)}/versions/1"))["signatures"]) == 2


def test_another_cases_participant_is_not_found_and_a_supporter_is_not_a_signer(
    as_facilitator: TestClient, held: Held, db: Session, facilitator: User
) -> None:
    other = held_case(db, facilitator)
    supporter = make_participant(db, facilitator, held.case, ParticipantRole.supporter, display_name="Ana")
    version = to_signing(as_facilitator, held, draft(as_facilitator, held))
    assert refused(sign(as_facilitator, held, version, other.survivor), 404) == []
    assert refused(review(as_facilitator, held, version, other.responsible), 404) == []
    assert refused(sign(as_facilitator, held, version, supporter)) == ["not_a_signer"]
    second = draft(as_facilitator, held, based_on=1, hours=5)
    ok(post(as_facilitator, held, second, "send-for-review"))
    assert refused(review(as_facilitator, held, second, supporter)) == ["not_a_signer"]
    assert ok(as_facilitator.get(f"{base(held)}/versions/1"))["signatures"] == []
    assert ok(as_facilitator.get(f"{base(held)}/versions/2"))["reviews"] == []


def test_a_portal_session_opens_no_facilitator_api_to_sign_as_anyone(
    app, held: Held, db: Session, facilitator: User
) -> None:  # type: ignore[no-untyped-def]
    actor = actor_for(facilitator)
    version = service_to_signing(
        db, actor, held, save_draft(db, actor=actor, case=held.case, terms=terms_for(held), based_on=None)
    )
    survivor = browser(app)
    assert enter(survivor, issue_url(db, facilitator, held.survivor)).status_code == 303
    survivor.headers["X-CSRF-Token"] = survivor.csrf_token  # type: ignore[attr-defined]
    body = {"text_sha256": version.text_sha256, "typed_name": "Dan", "intent_confirmed": True}
    response = survivor.post(f"{base(held)}/versions/1/signatures", json=body | {"participant_id": held.responsible.id})
    assert response.status_code == 401
    assert survivor.get(base(held)).status_code == 401
    assert db.exec(select(Signature)).all() == []


def test_an_acceptance_counts_only_for_the_text_that_was_reviewed(as_facilitator: TestClient, held: Held) -> None:
    first = draft(as_facilitator, held)
    assert refused(review(as_facilitator, held, first, held.survivor)) == ["not_in_review"]
    ok(post(as_facilitator, held, first, "send-for-review"))
    second_hash = "0" * 64
    assert refused(review(as_facilitator, held, first, held.survivor, sha=second_hash)) == ["text_changed"]
    malformed = review(as_facilitator, held, first, held.survivor, sha="not-a-hash")
    assert malformed.status_code == 422
    changes = review(as_facilitator, held, first, held.survivor, decision="changes_requested")
    assert changes.status_code == 422 and changes.json()["errors"][0]["field"] == "comment"
    assert ok(as_facilitator.get(f"{base(held)}/versions/1"))["reviews"] == []


def test_a_version_edited_after_acceptance_needs_acceptance_again(as_facilitator: TestClient, held: Held) -> None:
    first = draft(as_facilitator, held)
    ok(post(as_facilitator, held, first, "send-for-review"))
    ok(review(as_facilitator, held, first, held.survivor), 201)
    ok(review(as_facilitator, held, first, held.responsible), 201)
    assert ok(as_facilitator.get(f"{base(held)}/versions/1"))["status"] == "accepted"
    second = draft(as_facilitator, held, based_on=1, hours=45)
    assert refused(post(as_facilitator, held, second, "send-for-signature")) == [
        "survivor_acceptance_missing",
        "responsible_acceptance_missing",
        "transition_not_allowed",
    ]
    assert refused(post(as_facilitator, held, first, "send-for-signature")) == ["version_superseded"]


def test_two_editors_from_the_same_version_the_second_is_refused_with_the_current_text(
    as_facilitator: TestClient, as_admin: TestClient, held: Held, db: Session
) -> None:
    draft(as_facilitator, held)
    mine = draft(as_facilitator, held, based_on=1, hours=60)
    theirs = as_admin.put(base(held) + "/draft", json={"terms": terms_json(held, hours=10), "based_on": 1})
    assert refused(theirs) == ["edit_conflict"]
    problem = theirs.json()
    assert mine["canonical_text"].strip() in problem["detail"] and "nothing was overwritten" in problem["detail"]
    versions = db.exec(select(AgreementVersion).order_by(col(AgreementVersion.number))).all()
    assert [(v.number, v.status) for v in versions] == [(1, "superseded"), (2, "draft")]
    assert "60 hours" in versions[1].canonical_text and "10 hours" not in versions[1].canonical_text


def test_declining_sends_the_agreement_back_to_drafting(as_facilitator: TestClient, held: Held) -> None:
    version = to_signing(as_facilitator, held, draft(as_facilitator, held))
    body = {"reason": "She wants the no-contact term to name her workplace.", "participant_id": held.survivor.id}
    decline = ok(as_facilitator.post(f"{base(held)}/versions/1/decline", json=body), 201)
    assert decline["signer"] == f"participant:{held.survivor.id}"
    after = ok(as_facilitator.get(f"{base(held)}/versions/1"))
    assert after["status"] == "changes_requested" and after["declines"][0]["reason"].startswith("She wants")
    assert refused(sign(as_facilitator, held, version)) == ["not_open_for_signature"]


def test_the_pdf_is_not_found_until_the_version_is_sealed(as_facilitator: TestClient, held: Held) -> None:
    draft(as_facilitator, held)
    assert as_facilitator.get(f"{base(held)}/versions/1/pdf").status_code == 404
    assert as_facilitator.get(f"{base(held)}/versions/9/pdf").status_code == 404


def test_the_diff_shows_removed_and_added_lines(as_facilitator: TestClient, held: Held) -> None:
    draft(as_facilitator, held)
    draft(as_facilitator, held, based_on=1, hours=25)
    diff = ok(as_facilitator.get(f"{base(held)}/versions/1/diff/2"))
    changed = [(line["op"], line["text"]) for line in diff["lines"] if line["op"] != "unchanged"]
    assert changed == [
        ("removed", f"Reparation agreement, case {held.case.reference}, version 1"),
        ("added", f"Reparation agreement, case {held.case.reference}, version 2"),
        ("removed", "3. Dan will do 40 hours of community service at Harbour Food Bank by 30 June 2027."),
        ("added", "3. Dan will do 25 hours of community service at Harbour Food Bank by 30 June 2027."),
    ]
    assert ("unchanged", "Parties: Rosa; Dan") in [(line["op"], line["text"]) for line in diff["lines"]]


def test_staff_read_only_sealed_versions_and_never_the_evidence(
    as_facilitator: TestClient, as_staff: TestClient, as_admin: TestClient, held: Held
) -> None:
    draft(as_facilitator, held)
    assert as_staff.get(base(held)).status_code == 403
    assert as_staff.get(f"{base(held)}/versions/1").status_code == 403
    assert as_staff.put(base(held) + "/draft", json={"terms": terms_json(held), "based_on": 1}).status_code == 403
    sealed = seal(as_facilitator, held, ok(as_facilitator.get(f"{base(held)}/versions/1")))
    staff_view = ok(as_staff.get(base(held)))["current"]
    assert staff_view["number"] == 1 and staff_view["reviews"] is None and staff_view["declines"] is None
    assert [s["evidence"] for s in staff_view["signatures"]] == [None, None, None]
    assert as_staff.get(sealed["document"]["url"]).status_code == 200
    assert [s["evidence"] for s in sealed["signatures"]] == [None, None, None]  # the facilitator's view
    admin_view = ok(as_admin.get(f"{base(held)}/versions/1"))
    assert {s["evidence"]["ip_address"] for s in admin_view["signatures"]} == {"testclient"}


def test_other_programs_and_unassigned_facilitators_find_nothing(
    as_facilitator: TestClient, as_facilitator2: TestClient, as_other_admin: TestClient, held: Held
) -> None:
    draft(as_facilitator, held)
    for client in (as_facilitator2, as_other_admin):
        assert client.get(base(held)).status_code == 404
        assert client.get(f"{base(held)}/versions/1").status_code == 404
        assert client.put(base(held) + "/draft", json={"terms": terms_json(held), "based_on": 1}).status_code == 404
        assert client.post(f"{base(held)}/versions/1/send-for-review").status_code == 404
