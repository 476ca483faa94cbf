"""The agreement, end to end in a real browser: after a held conference the facilitator drafts the agreement
and sends it for review; the survivor, on her phone and in Spanish, asks for a change in the portal; the
facilitator edits and sends the new version; the survivor accepts it, then the responsible party; all three
sign (the parties in the portal, the facilitator on the case's agreement page); the survivor downloads the
sealed PDF. She reads every version in Spanish, he in English: one text, one hash. Every page visited gets
an axe-core scan with no violations.

The case is brought to a held conference through the services, in the scratch database, before the
server starts: ready (G1) -> conference scheduled -> its times moved into the past -> marked held.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.browser.conftest import MendServer, Watch, run_mend
from tests.browser.test_foundation_journey import flash, h1, sign_in
from tests.browser.test_portal_journey import PHONE, assert_quick_exit_stays_on_screen
from tests.conftest import TEST_DATABASE_URL
from tests.factories import PASSWORD, make_case, make_participant, make_program, make_user
from tests.portal.test_agreement import hold_conference
from tests.support import scratch_database

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips (or, with MEND_REQUIRE_BROWSER=1, fails) every browser test
    expect = None  # type: ignore[assignment]

Browse = Callable[..., Watch]
REFERENCE = "HRP-2026-052"
EMAIL = "fran.agreement@example.org"
CHANGE = "Quiero que no me contacte nunca, tampoco por otras personas."


@dataclass(frozen=True)
class HeldCase:
    server: MendServer
    case_id: int


@pytest.fixture(scope="module")
def held_case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeldCase]:
    """Mend with a facilitator's case whose conference is held: a Spanish-speaking survivor and a
    responsible party, both prepared, consenting, and met."""
    from app.auth.models import UserRole
    from app.conferences.models import ParticipantRole
    from app.db import make_engine

    with scratch_database(TEST_DATABASE_URL, tmp_path_factory.mktemp("agreement-db")) as url:
        engine = make_engine(url)
        with Session(engine) as session:
            program = make_program(session, "Harbour Restorative Program", timezone="Europe/Madrid")
            fran = make_user(session, program, UserRole.facilitator, "Fran Facilitator", email=EMAIL)
            case = make_case(session, fran, reference=REFERENCE)
            rosa = make_participant(
                session, fran, case, ParticipantRole.survivor, display_name="Rosa", preferred_language="es"
            )
            dan = make_participant(session, fran, case, ParticipantRole.responsible_party, display_name="Dan Novak")
            hold_conference(session, fran, case, rosa, dan)
            session.commit()
            case_id = case.id
        engine.dispose()
        with run_mend(url, expect_setup_link=False) as server:
            yield HeldCase(server, case_id)  # type: ignore[arg-type]


def issue_link(desk: Watch, case_id: int, name: str) -> str:
    """The facilitator issues a portal link on the participant's portal page, shown once."""
    page = desk.page
    desk.goto(f"/cases/{case_id}")
    desk.scan()
    page.get_by_role("link", name=f"Portal link for {name}").click()
    expect(h1(desk)).to_have_text(f"Portal link for {name}")
    desk.scan()
    page.get_by_role("button", name="Issue a new link").click()
    link = page.locator("#new-link")
    expect(link).to_have_value(re.compile("/portal/enter/"))
    desk.scan()
    url = link.input_value().strip()
    return desk.server.base_url + url[url.index("/portal/enter/") :]


def open_portal(watch: Watch, url: str, *, button: str, greeting: str) -> None:
    page = watch.page
    watch.goto(url)
    watch.scan()
    page.get_by_role("button", name=button).click()
    expect(h1(watch)).to_have_text(greeting)
    watch.scan()


def agreement_page(desk: Watch, case_id: int) -> None:
    desk.goto(f"/cases/{case_id}/agreement")
    expect(h1(desk)).to_have_text(f"Agreement, case {REFERENCE}")
    desk.scan()


def save_version(desk: Watch, number: int) -> None:
    desk.page.get_by_role("button", name=f"Save as version {number}").click()
    expect(flash(desk)).to_have_text(f"Saved as version {number}.")
    desk.scan()
    desk.page.get_by_role("button", name=f"Send version {number} for review").click()
    expect(flash(desk)).to_have_text(f"Version {number} is with the parties for review.")
    desk.scan()


def portal_sign(watch: Watch, *, name: str, name_label: str, intent: str, button: str) -> None:
    page = watch.page
    page.get_by_label(name_label).fill(name)
    page.get_by_label(intent).check()
    page.get_by_role("button", name=button, exact=True).click()


@pytest.mark.browser
def test_from_a_held_conference_to_a_sealed_agreement_the_survivor_downloads(
    held_case: HeldCase, browse: Browse, tmp_path: Path
) -> None:
    case_id = held_case.case_id
    desk = browse(held_case.server)
    page = desk.page
    sign_in(desk, EMAIL, PASSWORD)

    # The facilitator drafts a first version, an apology, and sends it for review.
    desk.goto(f"/cases/{case_id}")
    desk.scan()
    page.get_by_role("link", name="Agreement: drafting, review and signatures").click()
    expect(h1(desk)).to_have_text(f"Agreement, case {REFERENCE}")
    desk.scan()
    page.get_by_role("link", name="Draft the agreement").click()
    expect(h1(desk)).to_have_text(f"Draft the agreement, case {REFERENCE}")
    desk.scan()
    page.get_by_role("button", name="Add an apology").click()
    term = page.locator("#term-0")
    expect(term.locator("legend").first).to_have_text("Term 1: Apology")
    desk.scan()
    term.get_by_label("Who does this").select_option(label="Dan Novak (Responsible party)")
    term.get_by_label("A written apology").check()
    preview = page.locator("#agreement-preview")
    expect(preview).to_contain_text("Dan Novak will write a letter of apology.")
    desk.scan()
    save_version(desk, 1)

    # Rosa opens her link on her phone, reads version 1 in the portal, and asks for a change.
    rosa = browse(held_case.server, viewport=PHONE)
    rosa.every_rule = True  # portal pages: axe's best-practice rules too, `region` among them
    rosa_url = issue_link(desk, case_id, "Rosa")
    open_portal(rosa, rosa_url, button="Abrir mi página", greeting="Hola, Rosa.")
    rosa.page.get_by_role("link", name="Lea el acuerdo").click()
    expect(h1(rosa)).to_have_text("Su acuerdo")
    text = rosa.page.locator("#agreement-title").locator("xpath=..")
    expect(text).to_contain_text("El acuerdo, versión 1")
    # She reads the Spanish text of the agreement (the version holds both languages under one hash).
    expect(text).to_contain_text("Dan Novak escribirá una carta de disculpa.")
    expect(text).not_to_contain_text("Dan Novak will write a letter of apology.")
    assert text.locator("[lang=en]").count() == 0
    expect(rosa.page.locator(".portal-fingerprint")).to_have_text(re.compile(r"^[0-9a-f]{12}$"))
    rosa.scan()
    assert_quick_exit_stays_on_screen(rosa)
    rosa.page.get_by_role("button", name="Quiero cambios").click()  # an empty comment is refused, beside the box
    expect(rosa.page.locator("#field-comment-error")).to_have_text("Diga qué le gustaría cambiar.")
    rosa.scan()
    rosa.page.get_by_label("¿Qué le gustaría cambiar?").fill(CHANGE)
    rosa.page.get_by_role("button", name="Quiero cambios").click()
    expect(flash(rosa)).to_have_text("Gracias. Su facilitador leerá lo que usted quiere cambiar.")
    expect(rosa.page.get_by_role("heading", name="Usted pidió cambios")).to_be_visible()
    rosa.scan()

    # The facilitator reads her comment, adds a no-contact term, and sends version 2.
    agreement_page(desk, case_id)
    expect(page.get_by_role("table", name="Reviews of version 1")).to_contain_text(CHANGE)
    page.get_by_role("link", name="Edit the draft").click()
    expect(h1(desk)).to_have_text(f"Draft the agreement, case {REFERENCE}")
    desk.scan()
    page.get_by_role("button", name="Add no contact").click()
    term = page.locator("#term-1")
    expect(term.locator("legend").first).to_have_text("Term 2: No contact")
    desk.scan()
    term.get_by_label("Who does this").select_option(label="Dan Novak (Responsible party)")
    term.get_by_label("With no end date").check()
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator("#agreement-preview")).to_contain_text("Dan Novak will not contact the survivor in any way")
    desk.scan()
    save_version(desk, 2)

    # Rosa reads version 2 and accepts it.
    rosa.goto("/portal/agreement")
    expect(rosa.page.locator("#agreement-title")).to_have_text("El acuerdo, versión 2")
    expect(rosa.page.locator("main")).to_contain_text("Dan Novak no se pondrá en contacto con la sobreviviente")
    rosa.scan()
    rosa.page.get_by_role("button", name="Acepto esto").click()
    expect(flash(rosa)).to_have_text("Gracias. Usted aceptó el acuerdo.")
    expect(rosa.page.get_by_role("heading", name="Usted aceptó este acuerdo.")).to_be_visible()
    rosa.scan()

    # Dan opens his link, in English, reads the English text, and accepts it too.
    dan = browse(held_case.server, viewport=PHONE)
    dan.every_rule = True
    open_portal(dan, issue_link(desk, case_id, "Dan Novak"), button="Open my page", greeting="Hello, Dan Novak.")
    dan.page.get_by_role("link", name="Read the agreement").click()
    expect(h1(dan)).to_have_text("Your agreement")
    expect(dan.page.locator("main")).not_to_contain_text(CHANGE)
    expect(dan.page.locator("main")).to_contain_text("Dan Novak will not contact the survivor in any way")
    dan.scan()
    dan.page.get_by_role("button", name="I accept this").click()
    expect(flash(dan)).to_have_text("Thank you. You accepted the agreement.")
    dan.scan()

    # The facilitator opens version 2 for signature.
    agreement_page(desk, case_id)
    page.get_by_role("button", name="Send version 2 for signature").click()
    expect(flash(desk)).to_have_text("Version 2 is open for signature.")
    desk.scan()

    # Rosa signs in the portal: the intent statement in Spanish, kept with her signature as she read it.
    rosa.goto("/portal/agreement")
    expect(rosa.page.get_by_role("heading", name="Firme el acuerdo")).to_be_visible()
    rosa.scan()
    assert_quick_exit_stays_on_screen(rosa)
    rosa.page.get_by_label("Su nombre completo").fill("Rosa Martínez Ocampo")
    rosa.page.get_by_role("button", name="Firmar", exact=True).click()  # without ticking the box
    expect(rosa.page.locator("#field-intent_confirmed-error")).to_have_text("Marque esta casilla para firmar.")
    expect(rosa.page.get_by_label("Su nombre completo")).to_have_value("Rosa Martínez Ocampo")
    rosa.scan()
    portal_sign(
        rosa,
        name="Rosa Martínez Ocampo",
        name_label="Su nombre completo",
        intent="He leído este acuerdo y lo firmo por mi propia voluntad.",
        button="Firmar",
    )
    expect(flash(rosa)).to_have_text("Gracias. Usted firmó el acuerdo.")
    expect(rosa.page.locator("main")).to_contain_text("1 de 3 personas han firmado.")
    rosa.scan()

    # Dan signs in the portal.
    dan.goto("/portal/agreement")
    dan.scan()
    portal_sign(
        dan,
        name="Dan Novak",
        name_label="Your full name",
        intent="I have read this agreement and I sign it of my own free will.",
        button="Sign",
    )
    expect(flash(dan)).to_have_text("Thank you. You signed the agreement.")
    dan.scan()

    # The facilitator signs last, on the case's agreement page: the agreement is sealed.
    agreement_page(desk, case_id)
    page.get_by_label("Who is signing").select_option(label="You, as the facilitator of the case")
    page.get_by_label("Full name, typed by the person signing").fill("Fran Facilitator")
    page.get_by_label("I have read this agreement and I sign it of my own free will.").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(flash(desk)).to_have_text("Signed. Every signature is in: the agreement is sealed.")
    desk.scan()

    # Rosa sees it signed by everyone and downloads the stored PDF.
    rosa.goto("/portal/agreement")
    expect(rosa.page.get_by_role("heading", name="Firmado por todos")).to_be_visible()
    rosa.scan()
    assert_quick_exit_stays_on_screen(rosa)
    with rosa.page.expect_download() as download:
        rosa.page.get_by_role("link", name="Descargar el acuerdo firmado (PDF)").click()
    assert download.value.suggested_filename == f"agreement-{REFERENCE}-version-2.pdf"
    saved = tmp_path / "agreement.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    rosa.scan()

    desk.assert_clean()
    rosa.assert_clean()
    dan.assert_clean()
