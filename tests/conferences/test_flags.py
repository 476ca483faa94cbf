"""Case flags: derived once from the case's records, shown on the case list, the case page and in the API,
filterable, and never telling program staff more than a case summary."""

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.agreements.models import CommitmentKind
from app.auth.models import User
from app.conferences.flags import CaseFlag, derive_flags
from app.conferences.models import Case, ParticipantRole
from app.conferences.rules import AgreementFact, CaseFacts, CommitmentFact, ConcernFact
from app.db import utcnow
from app.safety.models import Consent, ConsentMethod, ConsentScope, SafetyConcern
from app.safety.rules import ConsentFact
from tests.factories import make_case, make_participant

NOW = utcnow()


def _codes(facts: CaseFacts, *, confidential: bool = True) -> list[CaseFlag]:
    return [f.code for f in derive_flags(facts, confidential=confidential)]


def test_a_case_with_nothing_wrong_has_no_flags() -> None:
    assert _codes(CaseFacts(case_id=1, now=NOW)) == []


def test_changes_asked_for_on_the_latest_version_is_flagged_with_a_link_to_the_agreement() -> None:
    facts = CaseFacts(case_id=7, now=NOW, agreement=AgreementFact("changes_requested", ever_sealed=False))
    (flag,) = derive_flags(facts, confidential=True)
    assert (flag.code, flag.fix_path) == (CaseFlag.changes_requested, "/cases/7/agreement")
    assert _codes(CaseFacts(case_id=7, now=NOW, agreement=AgreementFact("in_review", ever_sealed=False))) == []


def test_a_withdrawn_consent_flags_the_case_and_pauses_it() -> None:
    consent = ConsentFact(3, ConsentScope.conference, NOW - timedelta(days=5), NOW - timedelta(days=1))
    assert _codes(CaseFacts(case_id=1, now=NOW, consents=(consent,))) == [CaseFlag.consent_withdrawn, CaseFlag.paused]


def test_an_urgent_unreviewed_concern_is_flagged_but_a_reviewed_one_is_not() -> None:
    open_concern = CaseFacts(case_id=1, now=NOW, concerns=(ConcernFact(1, urgent=True, reviewed=False),))
    reviewed = CaseFacts(case_id=1, now=NOW, concerns=(ConcernFact(1, urgent=True, reviewed=True),))
    assert _codes(open_concern) == [CaseFlag.paused, CaseFlag.safety_concern]
    assert _codes(reviewed) == []


def test_an_overdue_commitment_is_flagged_and_a_completed_one_is_not() -> None:
    yesterday = NOW.date() - timedelta(days=2)
    overdue = CommitmentFact(CommitmentKind.payment, yesterday, None, None, waived=False)
    done = CommitmentFact(CommitmentKind.payment, yesterday, yesterday, None, waived=False)
    assert _codes(CaseFacts(case_id=1, now=NOW, commitments=(overdue,))) == [CaseFlag.commitment_overdue]
    assert _codes(CaseFacts(case_id=1, now=NOW, commitments=(done,))) == []


def test_staff_see_paused_and_overdue_only_and_no_link_into_safety() -> None:
    facts = CaseFacts(
        case_id=1,
        now=NOW,
        concerns=(ConcernFact(1, urgent=True, reviewed=False),),
        agreement=AgreementFact("changes_requested", ever_sealed=False),
        commitments=(CommitmentFact(CommitmentKind.other, date(2020, 1, 1), None, None, waived=False),),
    )
    flags = derive_flags(facts, confidential=False)
    assert [f.code for f in flags] == [CaseFlag.paused, CaseFlag.commitment_overdue]
    assert flags[0].fix_path is None


def test_a_closed_case_has_no_flags() -> None:
    facts = CaseFacts(case_id=1, now=NOW, concerns=(ConcernFact(1, True, False),), closure_reason="withdrawn")
    assert _codes(facts) == []


# --- through the pages and the API -------------------------------------------------------------


@pytest.fixture
def cases(db: Session, facilitator: User) -> tuple[Case, Case, Case]:
    """A case whose survivor withdrew consent, one with an urgent concern, and a quiet one."""
    withdrawn, concerned, quiet = (make_case(db, facilitator) for _ in range(3))
    survivor = make_participant(db, facilitator, withdrawn, ParticipantRole.survivor)
    db.add(
        Consent(
            program_id=withdrawn.program_id,
            case_id=withdrawn.id,
            participant_id=survivor.id,
            scope=ConsentScope.conference,
            sheet_version="1",
            sheet_language="en",
            method=ConsentMethod.written,
            given_at=NOW - timedelta(days=3),
            withdrawn_at=NOW - timedelta(days=1),
        )
    )
    db.add(
        SafetyConcern(
            program_id=concerned.program_id,
            case_id=concerned.id,
            description="He was seen outside her workplace.",
            urgent=True,
            raised_by_id=facilitator.id,
        )
    )
    db.flush()
    return withdrawn, concerned, quiet  # type: ignore[return-value]


def _row_of(html: str, reference: str) -> str:
    start = html.index(f">{reference}</a>")
    return html[start : html.index("</tr>", start)]


def test_the_case_list_shows_each_flag_on_its_case_only(as_facilitator: TestClient, cases) -> None:
    withdrawn, concerned, quiet = cases
    html = as_facilitator.get("/cases").text
    assert "Consent withdrawn" in _row_of(html, withdrawn.reference)
    assert "Urgent safety concern" not in _row_of(html, withdrawn.reference)
    assert "Urgent safety concern" in _row_of(html, concerned.reference)
    assert "Consent withdrawn" not in _row_of(html, concerned.reference)
    assert "Paused" not in _row_of(html, quiet.reference)


def test_the_flag_filter_keeps_only_flagged_cases_without_javascript(as_facilitator: TestClient, cases) -> None:
    withdrawn, concerned, quiet = cases
    html = as_facilitator.get("/cases", params={"flag": "consent_withdrawn"}).text
    assert withdrawn.reference in html and concerned.reference not in html and quiet.reference not in html
    assert "1 case found." in html
    paused = as_facilitator.get("/cases", params={"flag": "paused"}).text
    assert withdrawn.reference in paused and concerned.reference in paused and quiet.reference not in paused


def test_the_flag_filter_swaps_the_results_for_htmx(as_facilitator: TestClient, cases) -> None:
    withdrawn, concerned, _ = cases
    response = as_facilitator.get(
        "/cases", params={"flag": "safety_concern"}, headers={"HX-Request": "true", "HX-Target": "case-results"}
    )
    assert "<h1>" not in response.text
    assert concerned.reference in response.text and withdrawn.reference not in response.text


def test_the_case_page_lists_each_flag_with_a_link_to_where_it_is_handled(
    as_facilitator: TestClient, cases, db: Session
) -> None:
    withdrawn, concerned, _ = cases
    html = as_facilitator.get(f"/cases/{withdrawn.id}").text
    assert "Needs attention" in html
    assert f'href="/cases/{withdrawn.id}/consent">See the consents</a>' in html
    html = as_facilitator.get(f"/cases/{concerned.id}").text
    assert f'href="/cases/{concerned.id}/safety">Review the concern</a>' in html


def test_staff_see_a_paused_case_but_not_its_safety_concern(as_staff: TestClient, cases) -> None:
    withdrawn, concerned, _ = cases
    html = as_staff.get("/cases").text
    assert "Paused" in _row_of(html, concerned.reference)
    assert "Urgent safety concern" not in html and "Consent withdrawn" not in html
    page = as_staff.get(f"/cases/{concerned.id}").text
    assert "Urgent safety concern" not in page and "Review the concern" not in page
    assert "Paused" in page
    # The journey panel says the case is paused, not why, and links nowhere confidential.
    assert "until the facilitator resolves what paused it" in page
    panel = page[page.index('class="journey-panel"') : page.index("</section>", page.index('class="journey-panel"'))]
    assert "/safety" not in panel and "/consent" not in panel and "safety concern" not in panel.lower()
    # The filter is not offered to staff, and asking for it anyway does not single the case out.
    filtered = as_staff.get("/cases", params={"flag": "safety_concern"}).text
    assert 'value="safety_concern"' not in filtered
    assert withdrawn.reference in filtered and concerned.reference in filtered


def test_the_api_returns_flags_and_filters_by_them(as_facilitator: TestClient, as_staff: TestClient, cases) -> None:
    withdrawn, concerned, _ = cases
    body = as_facilitator.get("/api/v1/cases", params={"flag": "consent_withdrawn"}).json()
    assert [c["reference"] for c in body["items"]] == [withdrawn.reference]
    assert [f["code"] for f in body["items"][0]["flags"]] == ["consent_withdrawn", "paused"]
    detail = as_facilitator.get(f"/api/v1/cases/{concerned.id}").json()
    assert [f["code"] for f in detail["flags"]] == ["paused", "safety_concern"]
    summary = as_staff.get(f"/api/v1/cases/{concerned.id}").json()
    assert [f["code"] for f in summary["flags"]] == ["paused"]
    assert as_staff.get("/api/v1/cases", params={"flag": "safety_concern"}).json()["items"] == []


def test_an_unknown_flag_in_the_api_is_a_problem(as_facilitator: TestClient) -> None:
    response = as_facilitator.get("/api/v1/cases", params={"flag": "on_fire"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def _statements(db: Session, run) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_filtering_by_a_flag_takes_the_same_number_of_queries_however_many_cases_match(
    db: Session, facilitator: User, cases
) -> None:
    from app.auth.service import actor_for
    from app.conferences.queries import list_cases

    actor = actor_for(facilitator)
    few = _statements(db, lambda: list_cases(db, actor=actor, flag=CaseFlag.paused))
    assert 0 < few <= 20
    for _ in range(4):
        more = make_case(db, facilitator)
        db.add(
            SafetyConcern(
                program_id=more.program_id, case_id=more.id, description="x", urgent=True, raised_by_id=facilitator.id
            )
        )
    db.flush()
    assert list_cases(db, actor=actor, flag=CaseFlag.paused).total == 6
    assert _statements(db, lambda: list_cases(db, actor=actor, flag=CaseFlag.paused)) == few
