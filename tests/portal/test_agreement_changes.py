"""What changed: when a person asked for changes to one version and the facilitator sends a new one, the portal
page and API list what changed since the version that person last reviewed, in their language; a person who
never reviewed an earlier version sees no list, and nobody sees the comments or the facilitator's note."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.agreements import service as agreements
from app.agreements.models import AgreementVersion
from app.agreements.terms import Instalment, NoContactTerm, RestitutionTerm, Term
from app.auth.models import User
from app.conferences.models import Case, Participant
from app.db import utcnow
from app.i18n import money
from tests.portal.conftest import PortalClientFactory, form
from tests.portal.test_agreement import API, PAGE, Desk, accept, first_terms, hold_conference

COMMENT = "Please make it smaller, he cannot pay that much. And he must stay away from me."
CHANGE_NOTE = "Rosa said on the phone that he waits outside her work."


@pytest.fixture
def desk(db: Session, facilitator: User, case: Case, survivor: Participant, responsible: Participant) -> Desk:
    """The facilitator's side, after a held conference."""
    hold_conference(db, facilitator, case, survivor, responsible)
    db.commit()
    return Desk(db, facilitator, case, responsible)


@pytest.fixture
def as_responsible(portal_client_for: PortalClientFactory, responsible: Participant) -> TestClient:
    return portal_client_for(responsible)


def second_terms(responsible: Participant) -> list[Term]:
    """Version 2: the apology kept, the payment made smaller (two instalments), a no-contact term added."""
    today = utcnow().date()
    payment = RestitutionTerm(
        owed_by=responsible.id,  # type: ignore[arg-type]
        currency="EUR",
        amount_cents=50_000,
        instalments=[
            Instalment(due_date=today + timedelta(days=30), amount_cents=25_000),
            Instalment(due_date=today + timedelta(days=60), amount_cents=25_000),
        ],
    )
    return [first_terms(responsible)[0], payment, NoContactTerm(owed_by=responsible.id)]  # type: ignore[arg-type]


def resend(desk: Desk, terms: list[Term]) -> AgreementVersion:
    """The facilitator saves a new version, with a private note on why, and sends it for review."""
    version = agreements.save_draft(
        desk.db, actor=desk.actor, case=desk.case, terms=terms, based_on=desk.latest().number, change_note=CHANGE_NOTE
    )
    agreements.send_for_review(desk.db, actor=desk.actor, case=desk.case, version=version)
    desk.db.commit()
    return version


def ask_for_changes(client: TestClient, version: AgreementVersion) -> None:
    response = client.post(
        f"{PAGE}/review",
        data=form(client, decision="changes_requested", text_sha256=version.text_sha256, comment=COMMENT),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def changes_section(page: str) -> str:
    start = page.index('<section aria-labelledby="changes-since-title"')
    return page[start : page.index("</section>", start)]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "es",
            {
                "heading": "Qué cambió desde la versión 1</h2>",
                "added": "Nuevo: punto 3 (Sin contacto)",
                "changed": "Cambiado: punto 2 (Pago)",
                "amount": "Cantidad",
                "before": "Antes:",
                "now": "Ahora:",
                "no_contact": "Dan no se pondrá en contacto con la sobreviviente de ninguna forma",
            },
        ),
        (
            "en",
            {
                "heading": "What changed since version 1</h2>",
                "added": "New: part 3 (No contact)",
                "changed": "Changed: part 2 (Payment)",
                "amount": "Amount",
                "before": "Before:",
                "now": "Now:",
                "no_contact": "Dan will not contact the survivor in any way",
            },
        ),
    ],
)
def test_after_asking_for_changes_she_reads_what_changed_in_version_2_in_her_language(
    portal_client_for: PortalClientFactory,
    db: Session,
    desk: Desk,
    survivor: Participant,
    language: str,
    words: dict[str, str],
) -> None:
    survivor.preferred_language = language
    db.add(survivor)
    db.commit()
    as_survivor = portal_client_for(survivor)
    first = desk.send_for_review()
    ask_for_changes(as_survivor, first)
    resend(desk, second_terms(desk.responsible))

    page = as_survivor.get(PAGE).text
    section = changes_section(page)
    assert words["heading"] in section
    assert page.index("changes-since-title") < page.index("agreement-title")  # read before the new text
    # The new term in the words of the text she will sign: her language's section of it.
    assert words["added"] in section and f"{words['now']} <ins>{words['no_contact']}" in section
    assert language == "en" or "Dan will not contact" not in section
    assert words["changed"] in section and f"<p>{words['amount']}</p>" in section
    assert f"{words['before']} <del>{money(60_000, 'EUR', language=language)}</del>" in section
    assert f"{words['now']} <ins>{money(50_000, 'EUR', language=language)}</ins>" in section
    assert "apology" not in section.lower() and "disculpa" not in section.lower()  # kept word for word
    assert COMMENT not in page and CHANGE_NOTE not in page


def test_changes_count_from_the_version_she_last_reviewed_not_the_one_before(
    as_survivor: TestClient, as_responsible: TestClient, desk: Desk
) -> None:
    first = desk.send_for_review()
    ask_for_changes(as_survivor, first)
    second = resend(desk, second_terms(desk.responsible))
    accept(as_responsible, second)  # the responsible party reads version 2; she has not yet
    agreements.save_draft(  # the facilitator edits again before she answers version 2: version 3
        desk.db, actor=desk.actor, case=desk.case, terms=second_terms(desk.responsible)[1:], based_on=2
    )
    agreements.send_for_review(desk.db, actor=desk.actor, case=desk.case, version=desk.latest())
    desk.db.commit()

    section = changes_section(as_survivor.get(PAGE).text)
    assert "Qué cambió desde la versión 1" in section
    assert "Quitado: punto 1 (Disculpa)" in section and "Nuevo: punto 2 (Sin contacto)" in section
    theirs = changes_section(as_responsible.get(PAGE).text)  # he accepted version 2: his list starts there
    assert "What changed since version 2" in theirs and "Taken out: part 1 (Apology)" in theirs
    assert "No contact" not in theirs


def test_a_person_who_never_reviewed_an_earlier_version_sees_no_list(
    as_survivor: TestClient, as_responsible: TestClient, desk: Desk
) -> None:
    ask_for_changes(as_survivor, desk.send_for_review())  # he never answered version 1
    resend(desk, second_terms(desk.responsible))
    page = as_responsible.get(PAGE).text
    assert "agreement-title" in page and "changes-since-title" not in page and "What changed" not in page
    assert as_responsible.get(API).json()["changes"] is None


def test_a_version_with_the_same_words_says_nothing_changed(as_survivor: TestClient, desk: Desk) -> None:
    ask_for_changes(as_survivor, desk.send_for_review())
    resend(desk, first_terms(desk.responsible))
    section = changes_section(as_survivor.get(PAGE).text)
    assert "El acuerdo dice lo mismo que en la versión 1." in section and "<ul>" not in section


def test_the_api_lists_the_same_changes_in_her_language(as_survivor: TestClient, desk: Desk) -> None:
    ask_for_changes(as_survivor, desk.send_for_review())
    resend(desk, second_terms(desk.responsible))
    body = as_survivor.get(API).json()
    assert body["step"] == "review" and body["version"]["number"] == 2
    changes = body["changes"]
    assert changes["since_version"] == 1 and changes["nothing_changed"] is False
    assert [(item["change"], item["title"]) for item in changes["items"]] == [
        ("changed", "Cambiado: punto 2 (Pago)"),
        ("added", "Nuevo: punto 3 (Sin contacto)"),
    ]
    amount = changes["items"][0]["lines"][0]
    assert amount == {
        "label": "Cantidad",
        "before": money(60_000, "EUR", language="es"),
        "after": money(50_000, "EUR", language="es"),
        "wording": False,
    }
    [added] = changes["items"][1]["lines"]
    assert added["before"] is None and added["wording"] is True
    assert added["after"] == body["version"]["terms"][2]
    assert COMMENT not in str(body) and CHANGE_NOTE not in str(body)
