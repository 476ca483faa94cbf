"""Portal pages: the facilitator's links page, opening a link, the portal's own pages, the quick exit,
and the walls between the portal and the staff side."""

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.audit.service import record_event
from app.auth.models import User
from app.conferences.models import Case, Participant, ParticipantRole, Screening, ScreeningOutcome
from app.db import utcnow
from app.errors import InvalidInput
from app.notifications.models import Notification
from app.portal import service
from app.portal.models import PortalLink, PortalSession
from app.programs.models import Program
from app.safety.models import Consent, ContactChannel, ContactPreference, RiskLevel, SafetyAssessment
from app.security import token_digest
from tests.factories import make_case, make_participant
from tests.portal.conftest import PortalClientFactory, browser, enter, form, issue_url, say_yes, token_of

FOCUSABLE = {"a", "button", "input", "select", "textarea", "summary"}


class _Focusables(HTMLParser):
    """The elements a keyboard reaches, in document order (tabindex=-1 and hidden inputs excluded)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("tabindex") == "-1" or (tag == "input" and values.get("type") == "hidden"):
            return
        if (tag in FOCUSABLE and (tag != "a" or "href" in values)) or "tabindex" in values:
            self.found.append({"tag": tag} | values)


def focusables(html: str) -> list[dict[str, str | None]]:
    parser = _Focusables()
    parser.feed(html)
    return parser.found


def _portal_pages(client: TestClient) -> dict[str, str]:
    pages = {path: client.get(path).text for path in ("/portal", "/portal/information", "/portal/consent")}
    pages["/portal/consent/preparation"] = client.get("/portal/consent/preparation").text
    say_yes(client, "preparation")
    pages["/portal/consent/preparation/withdraw"] = client.get("/portal/consent/preparation/withdraw").text
    client.post("/portal/consent/preparation/withdraw", data=form(client))
    pages["/portal/consent/preparation/stopped"] = client.get("/portal/consent/preparation/stopped").text
    return pages


# --- facilitators: the links page ------------------------------------------------------------


def _links_path(case: Case, participant: Participant) -> str:
    return f"/cases/{case.id}/participants/{participant.id}/portal"


def test_issuing_a_link_shows_it_once_with_how_to_hand_it_over(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/participants/{survivor.id}/portal-links", data=form(as_facilitator)
    )
    assert response.status_code == 200
    match = re.search(r'id="new-link"[^>]* value="(http[^"]+/portal/enter/([^"]+))" readonly', response.text)
    assert match, response.text
    assert db.exec(select(PortalLink)).one().token_hash == token_digest(match.group(2))
    assert "Copy this link now" in response.text and "contact channel" in response.text
    later = as_facilitator.get(_links_path(case, survivor)).text
    assert match.group(2) not in later
    assert "Fran Facilitator" in later and "Not opened yet" in later


def test_the_links_page_shows_used_and_revoked_links(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    enter(browser(as_facilitator.app), issue_url(db, facilitator, survivor))
    issue_url(db, facilitator, survivor)
    waiting = db.exec(select(PortalLink).where(PortalLink.used_at == None)).one()  # noqa: E711
    response = as_facilitator.post(
        f"/cases/{case.id}/participants/{survivor.id}/portal-links/{waiting.id}/revoke",
        data=form(as_facilitator),
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = as_facilitator.get(response.headers["location"]).text
    assert "The link is revoked. It will not open the portal." in page
    assert "Opened; portal session open" in page and "Revoked" in page


def test_admins_may_manage_links_too(as_admin: TestClient, case: Case, survivor: Participant) -> None:
    assert as_admin.get(_links_path(case, survivor)).status_code == 200


def test_staff_are_refused_and_others_do_not_see_the_page(
    as_staff: TestClient,
    as_facilitator2: TestClient,
    as_other_admin: TestClient,
    db: Session,
    case: Case,
    survivor: Participant,
) -> None:
    issue = f"/cases/{case.id}/participants/{survivor.id}/portal-links"
    assert as_staff.get(_links_path(case, survivor)).status_code == 403
    assert as_staff.post(issue, data=form(as_staff)).status_code == 403
    for outsider in (as_facilitator2, as_other_admin):
        assert outsider.get(_links_path(case, survivor)).status_code == 404
        assert outsider.post(issue, data=form(outsider)).status_code == 404
    assert db.exec(select(PortalLink)).first() is None


def test_a_supporter_gets_no_issue_button_and_issuing_is_refused(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case
) -> None:
    supporter = make_participant(db, facilitator, case, ParticipantRole.supporter, display_name="Sam")
    page = as_facilitator.get(_links_path(case, supporter)).text
    assert "Issue a new link" not in page and "Only survivors and responsible parties" in page
    response = as_facilitator.post(
        f"/cases/{case.id}/participants/{supporter.id}/portal-links", data=form(as_facilitator)
    )
    assert response.status_code == 409
    assert db.exec(select(PortalLink)).first() is None


# --- opening a link --------------------------------------------------------------------------


def test_looking_at_a_link_does_not_use_it(app, db: Session, facilitator: User, survivor: Participant) -> None:  # type: ignore[no-untyped-def]
    url = issue_url(db, facilitator, survivor)
    client = browser(app)
    path = url[url.index("/portal/enter/") :]
    events = len(db.exec(select(AuditEvent)).all())
    for _ in range(3):  # a person, their mail app's preview, a link-preview bot
        page = client.get(path)
        assert page.status_code == 200 and "Abrir mi página" in page.text
    assert db.exec(select(PortalLink)).one().used_at is None
    assert len(db.exec(select(AuditEvent)).all()) == events
    assert db.exec(select(PortalSession)).first() is None
    assert enter(client, url).status_code == 303


def test_opening_a_link_sets_a_private_session_cookie_holding_only_a_random_id(
    app, db: Session, facilitator: User, survivor: Participant
) -> None:  # type: ignore[no-untyped-def]
    client = browser(app)
    response = enter(client, issue_url(db, facilitator, survivor))
    assert response.status_code == 303 and response.headers["location"] == "/portal"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("mend_portal="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie and "Max-Age" not in cookie  # plain http here; gone when the browser closes
    value = cookie.split(";")[0].split("=", 1)[1]
    assert db.exec(select(PortalSession)).one().token_hash == token_digest(value)


def test_over_https_the_portal_cookie_is_secure(app, db: Session, facilitator: User, survivor: Participant) -> None:  # type: ignore[no-untyped-def]
    client = browser(app)
    client.base_url = client.base_url.copy_with(scheme="https")  # type: ignore[assignment]
    response = enter(client, issue_url(db, facilitator, survivor))
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("mend_portal="))
    assert "Secure" in cookie


def test_opening_a_link_needs_the_forms_csrf_token(app, db: Session, facilitator: User, survivor: Participant) -> None:  # type: ignore[no-untyped-def]
    url = issue_url(db, facilitator, survivor)
    response = browser(app).post(url[url.index("/portal/enter/") :], data={}, follow_redirects=False)
    assert response.status_code == 403
    assert "Algo no está bien" in response.text  # the portal's own page, in the person's language
    assert db.exec(select(PortalLink)).one().used_at is None


def _link_no_longer_works(app, path: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    response = browser(app).post(path, data=form(browser(app)))
    main = re.search(r"<main.*</main>", response.text, re.S)
    assert main
    return response.status_code, main.group(0)


def test_expired_used_revoked_and_unknown_links_all_get_the_same_friendly_page(
    app, as_facilitator: TestClient, db: Session, facilitator: User, survivor: Participant
) -> None:  # type: ignore[no-untyped-def]
    used, expired, revoked = (issue_url(db, facilitator, survivor) for _ in range(3))
    assert enter(browser(app), used).status_code == 303
    link = db.exec(select(PortalLink).where(PortalLink.token_hash == token_digest(token_of(expired)))).one()
    link.expires_at = utcnow()
    db.add(link)
    gone = db.exec(select(PortalLink).where(PortalLink.token_hash == token_digest(token_of(revoked)))).one()
    as_facilitator.post(
        f"/cases/{survivor.case_id}/participants/{survivor.id}/portal-links/{gone.id}/revoke", data=form(as_facilitator)
    )
    pages = {
        name: _link_no_longer_works(app, url[url.index("/portal/enter/") :])
        for name, url in (("used", used), ("expired", expired), ("revoked", revoked))
    }
    assert len(set(pages.values())) == 1
    status, main = pages["used"]
    assert status == 410 and "Esta página no está disponible" in main
    unknown = browser(app).get("/portal/enter/" + "A" * 43)
    assert unknown.status_code == 410 and "This page is not available" in unknown.text
    assert len(db.exec(select(PortalSession)).all()) == 1


# --- the portal pages ------------------------------------------------------------------------


def test_the_quick_exit_is_the_first_thing_a_keyboard_reaches_on_every_portal_page(
    app, as_survivor: TestClient, db: Session, facilitator: User, survivor: Participant
) -> None:  # type: ignore[no-untyped-def]
    pages = _portal_pages(as_survivor)
    url = issue_url(db, facilitator, survivor)
    pages["enter"] = browser(app).get(url[url.index("/portal/enter/") :]).text
    pages["error"] = as_survivor.get("/portal/consent/not-a-scope/withdraw").text
    for name, html in pages.items():
        first, second = focusables(html)[:2]
        assert first["id"] == "quick-exit", name
        assert first["rel"] == "noreferrer" and first["data-exit-url"], name
        assert second["class"] == "skip-link", name


def test_the_quick_exit_link_works_without_javascript_and_points_at_the_programs_neutral_site(
    as_survivor: TestClient, db: Session, program: Program
) -> None:
    program.quick_exit_url = "https://weather.example.org/today"
    db.add(program)
    db.commit()
    first = focusables(as_survivor.get("/portal").text)[0]
    assert first["href"] == "/portal/exit" and first["data-exit-url"] == "https://weather.example.org/today"


def test_portal_pages_use_the_persons_language_where_a_translation_exists(
    portal_client_for: PortalClientFactory, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    english = make_participant(db, facilitator, case, ParticipantRole.responsible_party, display_name="Dan")
    portuguese = make_participant(
        db,
        facilitator,
        make_case(db, facilitator),
        ParticipantRole.survivor,
        display_name="Ana",
        preferred_language="pt",
    )
    spanish_page = portal_client_for(survivor).get("/portal").text
    assert '<html lang="es">' in spanish_page and "Salida rápida" in spanish_page
    assert '<html lang="en">' in portal_client_for(english).get("/portal").text
    fallback = portal_client_for(portuguese).get("/portal").text
    assert '<html lang="en">' in fallback and "ask your facilitator for an interpreter" in fallback


def test_portal_pages_are_never_stored_and_carry_no_inline_script_or_style(as_survivor: TestClient) -> None:
    for path, html in _portal_pages(as_survivor).items():
        response = as_survivor.get(path)
        assert response.headers["cache-control"] == "no-store", path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path
        assert "<style" not in html and " style=" not in html, path


def test_the_portal_has_no_staff_navigation(as_survivor: TestClient) -> None:
    page = as_survivor.get("/portal").text
    for staff_only in ('href="/cases"', "/admin/", "/account/tokens", 'action="/logout"'):
        assert staff_only not in page


def test_home_says_where_the_person_is_in_plain_words(
    portal_client_for: PortalClientFactory, responsible: Participant
) -> None:
    page = portal_client_for(responsible).get("/portal").text
    assert "Hello, Dan." in page
    assert "Your facilitator is getting ready. Nothing will be planned without your OK." in page
    assert 'href="/portal/information"' in page and 'href="/portal/consent"' in page


def test_the_information_sheet_is_shown_in_the_persons_language_and_its_reading_recorded(
    as_survivor: TestClient, db: Session, survivor: Participant
) -> None:
    page = as_survivor.get("/portal/information").text
    assert "Reunión para reparar el daño" in page and "Versión 2026-1." in page
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "portal.information_read")).all()
    assert event.entity_id == "2026-1.es" and event.detail["participant_id"] == survivor.id


def test_saying_yes_twice_changes_nothing(as_survivor: TestClient, db: Session) -> None:
    say_yes(as_survivor, "contact")
    again = say_yes(as_survivor, "contact")
    assert again.status_code == 303 and "Ya dijo que sí a esto." in as_survivor.get(again.headers["location"]).text
    assert len(db.exec(select(Consent)).all()) == 1


def test_stopping_asks_first_reassures_and_then_says_the_process_is_paused(
    portal_client_for: PortalClientFactory,
    as_facilitator: TestClient,
    db: Session,
    facilitator: User,
    case: Case,
    responsible: Participant,
) -> None:
    client = portal_client_for(responsible)
    say_yes(client, "conference")
    confirm = client.get("/portal/consent/conference/withdraw").text
    assert "Do you want to stop?" in confirm
    assert "There is no penalty for stopping." in confirm and "Your facilitator will be told." in confirm
    assert db.exec(select(Consent)).one().withdrawn_at is None  # asking changed nothing
    response = client.post("/portal/consent/conference/withdraw", data=form(client, reason=""), follow_redirects=False)
    assert response.headers["location"] == "/portal/consent/conference/stopped"
    stopped = client.get(response.headers["location"]).text
    assert "The process is paused." in stopped
    journey = as_facilitator.get(f"/api/v1/cases/{case.id}/journey").json()
    assert "case_paused" in [b["code"] for b in journey["blockers"]]
    assert "consent_withdrawn" in [p["code"] for p in journey["pauses"]]
    assert [n.recipient_user_id for n in db.exec(select(Notification)).all()] == [facilitator.id]
    assert "You said stop. The process is paused." in client.get("/portal").text


def test_stopping_something_that_is_not_participation_does_not_say_paused(as_survivor: TestClient) -> None:
    say_yes(as_survivor, "progress_updates")
    confirm = as_survivor.get("/portal/consent/progress_updates/withdraw").text
    assert "Su facilitador verá su decisión." in confirm and "pausa" not in confirm
    as_survivor.post("/portal/consent/progress_updates/withdraw", data=form(as_survivor))
    stopped = as_survivor.get("/portal/consent/progress_updates/stopped").text
    assert "No le diremos cómo va el acuerdo." in stopped and "pausa" not in stopped


def test_there_is_nothing_to_stop_before_saying_yes(as_survivor: TestClient, db: Session) -> None:
    response = as_survivor.get("/portal/consent/conference/withdraw", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/portal/consent"
    assert as_survivor.post("/portal/consent/conference/withdraw", data=form(as_survivor)).status_code == 200
    assert db.exec(select(Consent)).first() is None


def test_a_portal_form_without_its_csrf_token_is_refused_on_a_portal_page(as_survivor: TestClient, db: Session) -> None:
    response = as_survivor.post("/portal/consent/conference", data={}, headers={"X-CSRF-Token": ""})
    assert response.status_code == 403 and "Esta página ha caducado" in response.text
    assert db.exec(select(Consent)).first() is None


# --- isolation --------------------------------------------------------------------------------


def test_ids_of_another_participant_or_case_in_a_form_or_address_are_not_found_and_change_nothing(
    as_survivor: TestClient, db: Session, facilitator: User, responsible: Participant
) -> None:
    other_case = make_case(db, facilitator, reference="HRP-8")
    attempts = [
        ("post", "/portal/consent/contact", form(as_survivor, confirmed="yes", participant_id=str(responsible.id))),
        ("post", "/portal/consent/contact", form(as_survivor, confirmed="yes", case_id=str(other_case.id))),
        ("post", "/portal/consent/contact/withdraw", form(as_survivor, participant_id=str(responsible.id))),
        ("get", f"/portal/consent?participant_id={responsible.id}", None),
        ("get", f"/portal?case_id={other_case.id}", None),
        ("get", f"/portal/information?participant_id={responsible.id}", None),
    ]
    for method, path, data in attempts:
        response = getattr(as_survivor, method)(path, **({"data": data} if data else {}))
        assert response.status_code == 404, path
        assert "No encontramos esta página." in response.text
    assert db.exec(select(Consent)).first() is None


def test_the_portal_never_shows_the_other_partys_contact_details_or_anyones_confidential_notes(
    portal_client_for: PortalClientFactory,
    db: Session,
    facilitator: User,
    case: Case,
    survivor: Participant,
    responsible: Participant,
) -> None:
    db.add(
        ContactPreference(
            program_id=case.program_id,
            participant_id=survivor.id,  # type: ignore[arg-type]
            channel=ContactChannel.phone,
            phone="+34 600 111 222",
            email="rosa.safe@example.org",
            code_word="lighthouse",
        )
    )
    for person in (survivor, responsible):
        db.add(
            Screening(
                program_id=case.program_id,
                case_id=case.id,  # type: ignore[arg-type]
                participant_id=person.id,  # type: ignore[arg-type]
                instrument_key="any",
                instrument_version=1,
                answers={"notes": f"SCREENING-ANSWER-{person.display_name}"},
                suggested_outcome=ScreeningOutcome.ready,
                outcome=ScreeningOutcome.ready,
                rationale=f"RATIONALE-{person.display_name}",
                screened_by_id=facilitator.id,  # type: ignore[arg-type]
            )
        )
    db.add(
        SafetyAssessment(
            program_id=case.program_id,
            case_id=case.id,  # type: ignore[arg-type]
            participant_id=survivor.id,  # type: ignore[arg-type]
            factors=["location_known"],
            score=4,
            level=RiskLevel.medium,
            notes="SAFETY-NOTE: lives at the shelter on Calle Mayor",
            assessed_by_id=facilitator.id,  # type: ignore[arg-type]
        )
    )
    db.commit()
    for person, other in ((responsible, survivor), (survivor, responsible)):
        client = portal_client_for(person)
        seen = "".join(_portal_pages(client).values()) + client.get("/api/v1/portal/me").text
        for secret in (
            "+34 600",
            "rosa.safe@",
            "lighthouse",
            "SCREENING-ANSWER",
            "RATIONALE",
            "SAFETY-NOTE",
            "Calle Mayor",
        ):
            assert secret not in seen, (person.display_name, secret)
        assert other.display_name not in seen


def test_a_staff_session_does_not_open_the_portal(as_facilitator: TestClient, as_admin: TestClient) -> None:
    for client in (as_facilitator, as_admin):
        for path in ("/portal", "/portal/information", "/portal/consent"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"] == "/portal/signed-out", path
        assert "This page is not available" in client.get("/portal").text


def test_the_portal_cookie_opens_no_staff_page(as_survivor: TestClient, case: Case) -> None:
    for path in ("/cases", f"/cases/{case.id}", f"/cases/{case.id}/audit", "/account/tokens", "/admin/users"):
        response = as_survivor.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path


# --- leaving ------------------------------------------------------------------------------------


def test_signing_out_ends_the_session_and_says_how_to_come_back(as_survivor: TestClient, db: Session) -> None:
    response = as_survivor.post("/portal/sign-out", data=form(as_survivor), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/portal/signed-out?lang=es"
    assert 'mend_portal=""' in response.headers["set-cookie"]
    assert db.exec(select(PortalSession)).one().revoked_at is not None
    closed = as_survivor.get(response.headers["location"]).text
    assert '<html lang="es">' in closed and "Esta página no está disponible" in closed


def test_the_quick_exit_without_javascript_ends_the_session_and_leaves_for_the_neutral_site(
    as_survivor: TestClient, db: Session, program: Program
) -> None:
    program.quick_exit_url = "https://weather.example.org/today"
    db.add(program)
    db.commit()
    response = as_survivor.get("/portal/exit", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "https://weather.example.org/today"
    assert 'mend_portal=""' in response.headers["set-cookie"]
    assert response.headers["clear-site-data"] == '"cache"'
    assert db.exec(select(PortalSession)).one().revoked_at is not None
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "portal.quick_exit")).one()
    assert as_survivor.get("/portal", follow_redirects=False).headers["location"] == "/portal/signed-out"


def test_the_quick_exit_beacon_ends_the_session(as_survivor: TestClient, db: Session) -> None:
    response = as_survivor.post("/portal/exit", data=form(as_survivor))
    assert response.status_code == 204
    assert db.exec(select(PortalSession)).one().revoked_at is not None


def test_the_quick_exit_works_with_no_session_at_all(app) -> None:  # type: ignore[no-untyped-def]
    response = browser(app).get("/portal/exit", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("https://")


def test_a_quick_exit_setting_that_is_not_a_web_address_falls_back_to_the_default_neutral_site(
    as_survivor: TestClient, db: Session, program: Program
) -> None:
    program.quick_exit_url = "javascript:alert(document.cookie)"
    db.add(program)
    db.commit()
    first = focusables(as_survivor.get("/portal").text)[0]
    assert first["data-exit-url"] == "https://www.bbc.com/weather"
    assert as_survivor.get("/portal/exit", follow_redirects=False).headers["location"] == "https://www.bbc.com/weather"


def test_a_refused_portal_request_keeps_nothing_it_wrote(
    as_survivor: TestClient, db: Session, survivor: Participant, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def write_then_refuse(session, *, actor, participant):  # type: ignore[no-untyped-def]
        record_event(session, actor=actor, action="test.half_done", entity_type="test")
        raise InvalidInput("refused after writing")

    monkeypatch.setattr(service, "record_information_read", write_then_refuse)
    response = as_survivor.get("/portal/information")
    assert response.status_code == 422 and "No entendimos esta petición" in response.text
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "test.half_done")).first() is None
