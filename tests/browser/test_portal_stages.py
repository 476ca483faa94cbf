"""Every stage of the portal home, in a real browser, for both parties (issue #12, "Done when", first line).

Rosa (the survivor) reads Spanish on a phone set to es-ES; Dan (the responsible party) reads English on a
phone. From their sign-in links to the sealed copy and into monitoring, the home page (`/portal`) is read
at every stage: the message, what happens next, and the one primary action, for each of them, in their
own words (app/portal/rules.py decides them; this test reads what the page shows, and checks the stage
code the portal API gives for the same moment). Each page either of them lands on gets an axe-core scan,
best-practice rules included, with no violation.

The facilitator's side (consents recorded in person, preparation, scheduling, the conference held,
drafting with a Spanish translation of the written words, review, signature, progress, a waiver) goes
through the domain services in this process, on the server's own database: the app keeps no state in
memory, so the next page shows it. Dates are relative to now, so the test holds with the clock moved.

The stages, in order: consent_asked, preparation, ready, paused (Dan stopped: Rosa is told only that it is
on hold) and withdrawn (Dan, who says yes again on his page), meeting_scheduled (each their own arrival
time: the safety plan staggers them), conference_held, drafting, paused (an urgent safety concern, never
named), review (each reads their own language), changes_asked (Rosa, on the page; Dan back to drafting),
review of version 2 (Rosa sees what changed), reviewed (accepted, waiting for the other, then for the
signatures), ready_to_sign, waiting_for_signatures, then sealed: monitoring at once, since sealing creates
the commitments in the same transaction (Rosa downloads her Spanish copy from the home page; Dan sees what
is due next; Rosa, not opted in, is told how to opt in, and after saying yes on her page sees the
progress), withdrawn after signing (Dan: what he still owes; Rosa's home unchanged), a waiver question
for Rosa, and completed. A second case is closed before any agreement (closed: no action, no reason).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.browser.conftest import MendServer, Watch, run_mend
from tests.browser.test_portal_journey import PHONE, assert_quick_exit_stays_on_screen, h1
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_case, make_participant, make_program, make_user
from tests.support import pdf_languages, scratch_database

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips (or, with MEND_REQUIRE_BROWSER=1, fails) every browser test
    expect = None  # type: ignore[assignment]
if TYPE_CHECKING:
    from app.actor import Actor
    from app.agreements.models import AgreementVersion, Commitment
    from app.conferences.models import Case, Participant

Browse = Callable[..., Watch]
FACILITATOR = "fran.stages@example.org"
REFERENCE = "HRP-2026-077"
CLOSED_REFERENCE = "HRP-2026-078"
INTERPRETER = "Inés Ortega (interpreter)"
TASK_EN = "Return her passport and papers to the program office."
TASK_ES = "Devolver su pasaporte y sus papeles a la oficina del programa."
CHANGE = "Quiero que no me contacte nunca, ni a través de otras personas."
CONCERN = "A stranger asked for Rosa at the shelter."

# Dates as each reader writes them, spelled out here rather than by the app's own formatting.
MESES = ("enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre").split()
DIAS = "lunes martes miércoles jueves viernes sábado domingo".split()


def es_day(value: date) -> str:
    return f"{value.day} de {MESES[value.month - 1]} de {value.year}"


def es_weekday(value: date) -> str:
    return f"{DIAS[value.weekday()]} {es_day(value)}"


def en_day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def en_weekday(value: date) -> str:
    return f"{value:%A} {en_day(value)}"


# --- the program, and the facilitator's desk ----------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    """The facilitator's work on the case, done through the domain services in this process."""

    session: Session
    actor: "Actor"
    case: "Case"
    rosa: "Participant"
    dan: "Participant"

    def consent(self, person: "Participant", *scopes: str) -> None:
        from app.safety.consent import give_consent
        from app.safety.models import ConsentMethod, ConsentScope

        for scope in scopes:
            give_consent(
                self.session,
                actor=self.actor,
                participant=person,
                scope=ConsentScope(scope),
                sheet_version="2026-1",
                sheet_language=person.preferred_language,
                method=ConsentMethod.in_person,
            )

    def version(self, number: int) -> "AgreementVersion":
        from app.agreements.models import AgreementVersion
        from app.agreements.service import agreement_of

        agreement = agreement_of(self.session, case=self.case)
        assert agreement is not None
        return self.session.exec(
            select(AgreementVersion).where(
                AgreementVersion.agreement_id == agreement.id, AgreementVersion.number == number
            )
        ).one()

    def commitment(self, kind: str, sequence: int = 1) -> "Commitment":
        from app.agreements.commitment_service import active_commitments

        return next(
            c for c in active_commitments(self.session, case=self.case) if c.kind == kind and c.sequence == sequence
        )


@dataclass(frozen=True)
class StagesProgram:
    server: MendServer
    engine: Engine
    case_id: int
    rosa_id: int
    dan_id: int
    closing: tuple[int, int, int]  # another case (its id, its survivor's, its responsible party's), to be closed

    @contextmanager
    def desk(self) -> Iterator[Desk]:
        """A unit of the facilitator's work, committed at the end: the pages show it at once."""
        from app.auth.models import User
        from app.auth.service import actor_for
        from app.conferences.models import Case, Participant

        with Session(self.engine) as session:
            fran = session.exec(select(User).where(User.email == FACILITATOR)).one()
            case, rosa, dan = (
                session.get(Case, self.case_id),
                session.get(Participant, self.rosa_id),
                session.get(Participant, self.dan_id),
            )
            assert case is not None and rosa is not None and dan is not None
            yield Desk(session, actor_for(fran), case, rosa, dan)
            session.commit()

    def link(self, participant_id: int) -> str:
        """A fresh sign-in link, issued as the facilitator's page does, on the server's address."""
        from app.conferences.models import Participant
        from app.portal.service import issue_portal_link

        with self.desk() as desk:
            person = desk.session.get(Participant, participant_id)
            assert person is not None
            url = issue_portal_link(desk.session, actor=desk.actor, participant=person).url
        return self.server.base_url + url[url.index("/portal/enter/") :]


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StagesProgram]:
    """Mend with a facilitator's new case: Rosa (survivor, Spanish) and Dan Novak (responsible party, English);
    and another new case, Lucía's and Tom's, that will close before any agreement."""
    from app.auth.models import UserRole
    from app.conferences.models import ParticipantRole
    from app.db import make_engine

    with scratch_database(TEST_DATABASE_URL, tmp_path_factory.mktemp("stages-db")) as url:
        engine = make_engine(url)
        with Session(engine) as session:
            program = make_program(session, "Harbour Restorative Program", timezone="Europe/Madrid")
            fran = make_user(session, program, UserRole.facilitator, "Fran Facilitator", email=FACILITATOR)
            case = make_case(session, fran, reference=REFERENCE)
            rosa = make_participant(
                session, fran, case, ParticipantRole.survivor, display_name="Rosa", preferred_language="es"
            )
            dan = make_participant(
                session,
                fran,
                case,
                ParticipantRole.responsible_party,
                display_name="Dan Novak",
                preferred_language="en",
            )
            other = make_case(session, fran, reference=CLOSED_REFERENCE)
            lucia = make_participant(
                session, fran, other, ParticipantRole.survivor, display_name="Lucía", preferred_language="es"
            )
            tom = make_participant(session, fran, other, ParticipantRole.responsible_party, display_name="Tom Reyes")
            session.commit()
            ids = (case.id, rosa.id, dan.id, (other.id, lucia.id, tom.id))
        try:
            with run_mend(url, expect_setup_link=False) as server:
                yield StagesProgram(server, engine, *ids)  # type: ignore[arg-type]
        finally:
            engine.dispose()


# --- the two phones -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One party's phone, and the words of their portal home's frame."""

    watch: Watch
    name: str
    status_title: str  # the heading of the home's "where are you now" region

    @property
    def page(self):  # type: ignore[no-untyped-def]
        return self.watch.page

    def open_link(self, url: str, *, button: str, greeting: str) -> None:
        """Open the sign-in link and press its one button: the portal home."""
        response = self.watch.goto(url)
        assert response is not None and response.status == 200
        self.watch.scan()
        self.page.get_by_role("button", name=button).click()
        expect(self.page).to_have_url(f"{self.watch.server.base_url}/portal")
        expect(h1(self.watch)).to_have_text(greeting)
        self.watch.scan()

    def home(self, stage: str, now: str, next_: str, primary: str | None) -> None:
        """The portal home says `now` and `next_`, with `primary` as its one primary action; the API agrees."""
        page = self.page
        self.watch.goto("/portal")
        status = page.get_by_role("region", name=self.status_title)
        expect(status.locator("p").nth(0)).to_have_text(now)
        expect(status.locator("p").nth(1)).to_have_text(next_)
        buttons = page.locator("main .portal-primary")
        if primary is None:
            expect(buttons).to_have_count(0)
        else:
            expect(buttons).to_have_count(1)
            expect(status.locator(".portal-primary")).to_have_text(primary)
        # Every other action on the page is a secondary one: the primary is the only filled button.
        expect(page.locator("main a.button, main button.button")).to_have_count(1 if primary else 0)
        me = page.request.get("/api/v1/portal/me")
        assert me.ok, me.text()
        assert me.json()["stage"] == stage, (self.name, me.json())
        self.watch.scan()

    def primary(self) -> None:
        self.page.locator("main .portal-primary").click()


def phone(browse: Browse, server: MendServer, *, locale: str, name: str, status_title: str) -> Person:
    watch = browse(server, viewport=PHONE, locale=locale)
    watch.every_rule = True  # portal pages: axe's best-practice rules too, `region` among them
    return Person(watch, name, status_title)


def flash(person: Person):  # type: ignore[no-untyped-def]
    return person.page.locator("main > p.notice-success[role=status]")


# --- the walk -----------------------------------------------------------------------------------------


@pytest.mark.browser
def test_rosa_and_dan_read_the_right_message_and_one_primary_action_at_every_stage(
    stages: StagesProgram, browse: Browse, tmp_path: Path
) -> None:
    from app.agreements import commitment_service
    from app.agreements.commitment_schemas import ProgressCreate, WaiverCreate
    from app.agreements.models import ProgressKind
    from app.agreements.service import save_draft, send_for_review, send_for_signature, sign_version
    from app.agreements.terms import Instalment, NoContactTerm, OtherTerm, RestitutionTerm, TermWording
    from app.conferences.models import AcknowledgementMethod, CaseSession
    from app.conferences.preparation import record_acknowledgement, record_screening
    from app.conferences.scheduling import SessionPlan, mark_session_held, schedule_session
    from app.db import utcnow
    from app.safety.consent import withdraw_consent
    from app.safety.models import ConsentScope, SafetyConcern, SessionMode
    from app.safety.schemas import SafetyPlanCreate
    from app.safety.service import assess_safety, raise_concern, review_concern, save_safety_plan
    from tests.conferences.test_screening_rules import RESPONSIBLE_READY, SURVIVOR_READY

    server = stages.server
    rosa = phone(browse, server, locale="es-ES", name="Rosa", status_title="¿En qué punto está?")
    dan = phone(browse, server, locale="en-GB", name="Dan", status_title="Where are you now?")
    today = utcnow().date()
    first_due, task_due, second_due = today + timedelta(days=30), today + timedelta(days=45), today + timedelta(days=60)
    second_due_v2 = today + timedelta(days=75)
    meeting_day = today + timedelta(days=14)

    # consent_asked: both open their links; nobody has said yes to the meeting yet.
    rosa.open_link(stages.link(stages.rosa_id), button="Abrir mi página", greeting="Hola, Rosa.")
    assert_quick_exit_stays_on_screen(rosa.watch)
    dan.open_link(stages.link(stages.dan_id), button="Open my page", greeting="Hello, Dan Novak.")
    rosa.home(
        "consent_asked",
        "Su facilitador está preparando todo. No se programará nada sin su permiso.",
        "Lo siguiente: lea la hoja de información. Después díganos sus decisiones.",
        "Lea la hoja de información",
    )
    dan.home(
        "consent_asked",
        "Your facilitator is getting ready. Nothing will be planned without your OK.",
        "Next: read the information sheet. Then tell us your choices.",
        "Read the information sheet",
    )
    rosa.primary()
    expect(h1(rosa.watch)).to_have_text("Reunión para reparar el daño: lo que necesita saber")
    rosa.watch.scan()

    # preparation: both said yes to taking part, in person with the facilitator; nothing screened yet.
    with stages.desk() as desk:
        for person in (desk.rosa, desk.dan):
            desk.consent(person, "contact", "preparation", "conference")
    rosa.home(
        "preparation",
        "Su facilitador está preparando todo. No se programará nada sin su permiso.",
        "Lo siguiente: su facilitador le contactará para reunirse y hablar.",
        "Lea la hoja de información",
    )
    dan.home(
        "preparation",
        "Your facilitator is getting ready. Nothing will be planned without your OK.",
        "Next: your facilitator will contact you to meet and talk.",
        "Read the information sheet",
    )

    # ready: screened, Dan acknowledged the facts, Rosa's safety assessed; the arrivals are to be staggered.
    with stages.desk() as desk:
        for person, answers in ((desk.rosa, SURVIVOR_READY), (desk.dan, RESPONSIBLE_READY)):
            record_screening(
                desk.session,
                actor=desk.actor,
                participant=person,
                answers=answers,
                outcome=None,
                override_reason=None,
                rationale="Prepared and supported.",
            )
        record_acknowledgement(
            desk.session,
            actor=desk.actor,
            participant=desk.dan,
            wording="I kept her passport and paid her nothing.",
            method=AcknowledgementMethod.in_person,
            acknowledged_at=utcnow() - timedelta(days=1),
        )
        assess_safety(desk.session, actor=desk.actor, case=desk.case, participant=desk.rosa, factors=["isolation"])
        save_safety_plan(
            desk.session,
            actor=desk.actor,
            case=desk.case,
            data=SafetyPlanCreate(staggered_arrival=True, arrival_gap_minutes=30, departure_gap_minutes=15),
        )
    rosa.home(
        "ready",
        "La preparación está hecha. Su facilitador hablará con usted sobre una fecha. "
        "No se programará nada sin su permiso.",
        "Lo siguiente: su facilitador le contactará sobre una fecha.",
        "Lea la hoja de información",
    )

    # Dan stops taking part (he tells his facilitator): he sees his own choice; Rosa only that it is on hold.
    with stages.desk() as desk:
        withdraw_consent(
            desk.session, actor=desk.actor, participant=desk.dan, scope=ConsentScope.conference, reason="Needs time."
        )
    dan.home(
        "withdrawn",
        "You said stop. The process is paused. Nothing will be planned without your OK.",
        "If you change your mind, you can say yes again on the page Your choices.",
        "See and change your choices",
    )
    rosa.home(
        "paused",
        "El proceso está en espera por ahora. Usted no tiene que hacer nada.",
        "Su facilitador se pondrá en contacto con usted.",
        "Lea la hoja de información",
    )
    expect(rosa.page.get_by_role("region", name="¿En qué punto está?")).not_to_contain_text("parar")
    for giveaway in ("Dan", "la otra persona", "retir", "Needs time"):
        expect(rosa.page.locator("main")).not_to_contain_text(giveaway)

    # Dan changes his mind on his own page: the primary action leads to his choices.
    dan.primary()
    expect(h1(dan.watch)).to_have_text("Your choices")
    dan.watch.scan()
    dan.page.get_by_role("link", name="I want to say yes again (Taking part in the meeting)").click()
    expect(h1(dan.watch)).to_have_text("Do you want to say yes?")
    dan.watch.scan()
    dan.page.get_by_role("button", name="Yes, I agree").click()
    expect(flash(dan)).to_have_text("You said yes.")
    dan.watch.scan()
    dan.home(
        "ready",
        "Getting ready is done. Your facilitator will talk with you about a date. Nothing will be scheduled "
        "without your OK.",
        "Next: your facilitator will contact you about a date.",
        "Read the information sheet",
    )

    # meeting_scheduled: the conference at 10:00 (Madrid); the safety plan has Dan arrive 30 minutes before
    # Rosa. Each sees their own arrival time and the place, never the other's time.
    with stages.desk() as desk:
        plan = SessionPlan(
            kind="conference",  # type: ignore[arg-type]
            mode=SessionMode.in_person,
            day=meeting_day,
            start=time(10),
            end=time(12),
            attendee_ids=frozenset({stages.rosa_id, stages.dan_id}),
            location="Community centre, 2nd floor",
        )
        conference_id = schedule_session(desk.session, actor=desk.actor, case=desk.case, plan=plan).id
    rosa.home(
        "meeting_scheduled",
        f"Su próxima reunión es el {es_weekday(meeting_day)} a las 10:00. El lugar es: Community centre, 2nd floor.",
        "Un facilitador estará con usted todo el tiempo. Puede parar en cualquier momento.",
        "Lea la hoja de información",
    )
    expect(rosa.page.locator("main")).not_to_contain_text("9:30")
    dan.home(
        "meeting_scheduled",
        f"Your next meeting is on {en_weekday(meeting_day)} at 09:30. The place is: Community centre, 2nd floor.",
        "A facilitator will be with you the whole time. You can stop at any time.",
        "Read the information sheet",
    )
    expect(dan.page.locator("main")).not_to_contain_text("10:00")

    # conference_held: it took place (its times moved into the past), and the facilitator marked it held.
    with stages.desk() as desk:
        conference = desk.session.get(CaseSession, conference_id)
        assert conference is not None
        conference.starts_at, conference.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
        desk.session.add(conference)
        desk.session.flush()
        mark_session_held(desk.session, actor=desk.actor, case_session=conference, outcome_note="Apology given.")
    rosa.home(
        "conference_held",
        "La reunión terminó. Gracias por participar.",
        "Lo siguiente: su facilitador escribe lo que se acordó. Usted lo leerá aquí antes de que nadie firme.",
        "Lea la hoja de información",
    )
    dan.home(
        "conference_held",
        "The meeting is over. Thank you for taking part.",
        "Next: your facilitator writes down what was agreed. You will read it here before anyone signs.",
        "Read the information sheet",
    )

    # drafting: version 1, a payment in two instalments and a task in the facilitator's words, which the
    # interpreter gave in Spanish.
    def task() -> OtherTerm:
        return OtherTerm(
            owed_by=stages.dan_id,
            text=TASK_EN,
            due_date=task_due,
            translations={"es": TermWording(text=TASK_ES, translated_by=INTERPRETER)},
        )

    def payment(second: date) -> RestitutionTerm:
        return RestitutionTerm(
            owed_by=stages.dan_id,
            currency="EUR",
            amount_cents=30_000,
            instalments=[
                Instalment(due_date=first_due, amount_cents=10_000),
                Instalment(due_date=second, amount_cents=20_000),
            ],
        )

    with stages.desk() as desk:
        save_draft(desk.session, actor=desk.actor, case=desk.case, terms=[payment(second_due), task()], based_on=None)
    rosa.home(
        "drafting",
        "Su facilitador está trabajando en el acuerdo.",
        "Usted leerá la nueva versión aquí antes de que nadie firme.",
        "Lea el acuerdo",
    )
    dan.home(
        "drafting",
        "Your facilitator is working on the agreement.",
        "You will read the new version here before anyone signs.",
        "Read the agreement",
    )

    # paused: an urgent safety concern. Both are told only that it is on hold, never why.
    with stages.desk() as desk:
        concern_id = raise_concern(desk.session, actor=desk.actor, case=desk.case, description=CONCERN, urgent=True).id
    rosa.home(
        "paused",
        "El proceso está en espera por ahora. Usted no tiene que hacer nada.",
        "Su facilitador se pondrá en contacto con usted.",
        "Lea la hoja de información",
    )
    for giveaway in ("segur", "preocupa", "urgente", "riesgo", "stranger", "shelter"):
        expect(rosa.page.locator("body")).not_to_contain_text(giveaway, ignore_case=True)
    dan.home(
        "paused",
        "The process is on hold for now. You do not need to do anything.",
        "Your facilitator will contact you.",
        "Read the information sheet",
    )
    for giveaway in ("safety", "concern", "urgent", "risk", "Rosa"):
        expect(dan.page.locator("body")).not_to_contain_text(giveaway, ignore_case=True)
    with stages.desk() as desk:
        concern = desk.session.get(SafetyConcern, concern_id)
        assert concern is not None
        review_concern(desk.session, actor=desk.actor, concern=concern, note="A caseworker; no risk.")

    # review: version 1 goes to both. Rosa reads the Spanish text, Dan the English.
    with stages.desk() as desk:
        send_for_review(desk.session, actor=desk.actor, case=desk.case, version=desk.version(1))
    rosa.home(
        "review",
        "El acuerdo está listo para que usted lo lea.",
        "Tómese su tiempo. Después elija: aceptarlo o pedir cambios. Todavía no se firma nada.",
        "Lea el acuerdo",
    )
    dan.home(
        "review",
        "The agreement is ready for you to read.",
        "Take your time. Then choose: accept it, or ask for changes. Nothing is signed yet.",
        "Read the agreement",
    )
    rosa.primary()
    expect(h1(rosa.watch)).to_have_text("Su acuerdo")
    text = rosa.page.locator("article.portal-agreement")
    expect(text.get_by_role("heading")).to_have_text("El acuerdo, versión 1")
    expect(text).to_contain_text(f"Acuerdo de reparación, caso {REFERENCE}, versión 1")
    expect(text.locator("ol.portal-terms > li")).to_have_text(
        [
            f"Dan Novak pagará 300,00 € en 2 plazos: 100,00 € antes del {es_day(first_due)}; "
            f"200,00 € antes del {es_day(second_due)}.",
            f"Dan Novak hará lo siguiente antes del {es_day(task_due)}: {TASK_ES}",
        ]
    )
    expect(text.locator("[lang]")).to_have_count(0)  # all of it in her language: no English passage
    rosa.watch.scan()
    assert_quick_exit_stays_on_screen(rosa.watch)
    dan.primary()
    expect(h1(dan.watch)).to_have_text("Your agreement")
    expect(dan.page.locator("article.portal-agreement ol.portal-terms > li")).to_have_text(
        [
            f"Dan Novak will pay 300.00 EUR in 2 instalments: 100.00 EUR by {en_day(first_due)}; "
            f"200.00 EUR by {en_day(second_due)}.",
            f"Dan Novak will do the following by {en_day(task_due)}: {TASK_EN}",
        ]
    )
    dan.watch.scan()

    # changes_asked: Rosa asks for a change on the page. Dan, who had not answered, is back to waiting.
    rosa.page.get_by_label("¿Qué le gustaría cambiar?").fill(CHANGE)
    rosa.page.get_by_role("button", name="Quiero cambios").click()
    expect(flash(rosa)).to_have_text("Gracias. Su facilitador leerá lo que usted quiere cambiar.")
    rosa.watch.scan()
    rosa.home(
        "changes_asked",
        "Usted pidió cambios en el acuerdo. Gracias.",
        "Su facilitador leerá su comentario y cambiará el acuerdo. Usted leerá la nueva versión aquí.",
        "Lea el acuerdo",
    )
    dan.home(
        "drafting",
        "Your facilitator is working on the agreement.",
        "You will read the new version here before anyone signs.",
        "Read the agreement",
    )
    expect(dan.page.locator("body")).not_to_contain_text("cambi")  # her comment is hers

    # review of version 2: a no-contact term (Mend writes it in Spanish itself) and the second payment later.
    with stages.desk() as desk:
        terms = [payment(second_due_v2), task(), NoContactTerm(owed_by=stages.dan_id)]
        version = save_draft(desk.session, actor=desk.actor, case=desk.case, terms=terms, based_on=1)
        send_for_review(desk.session, actor=desk.actor, case=desk.case, version=version)
    rosa.home(
        "review",
        "El acuerdo está listo para que usted lo lea.",
        "Tómese su tiempo. Después elija: aceptarlo o pedir cambios. Todavía no se firma nada.",
        "Lea el acuerdo",
    )
    rosa.primary()
    changes = rosa.page.get_by_role("region", name="Qué cambió desde la versión 1")
    expect(changes).to_contain_text("Usted leyó la versión 1 antes. Esto es lo que cambió.")
    expect(changes).to_contain_text(es_day(second_due))
    expect(changes).to_contain_text(es_day(second_due_v2))
    expect(changes).to_contain_text(
        "Dan Novak no se pondrá en contacto con la sobreviviente de ninguna forma, ni directamente ni a través "
        "de otras personas, sin fecha de fin."
    )
    expect(rosa.page.locator("article.portal-agreement").get_by_role("heading")).to_have_text("El acuerdo, versión 2")
    rosa.watch.scan()

    # reviewed: Rosa accepts; she waits for the others. Dan, who never read version 1, sees no "what changed".
    rosa.page.get_by_role("button", name="Acepto esto").click()
    expect(flash(rosa)).to_have_text("Gracias. Usted aceptó el acuerdo.")
    rosa.watch.scan()
    rosa.home(
        "reviewed",
        "Usted aceptó el acuerdo. Gracias.",
        "Lo siguiente: cuando esté aceptado, su facilitador pedirá a todos que lo firmen.",
        "Lea el acuerdo",
    )
    dan.home(
        "review",
        "The agreement is ready for you to read.",
        "Take your time. Then choose: accept it, or ask for changes. Nothing is signed yet.",
        "Read the agreement",
    )
    dan.primary()
    expect(dan.page.locator("#agreement-title")).to_have_text("The agreement, version 2")
    expect(dan.page.get_by_role("heading", name="What changed since version 1")).to_have_count(0)
    dan.watch.scan()
    dan.page.get_by_role("button", name="I accept this").click()
    expect(flash(dan)).to_have_text("Thank you. You accepted the agreement.")
    dan.watch.scan()
    for person, next_ in (
        (rosa, "Lo siguiente: su facilitador pedirá a todos que lo firmen."),
        (dan, "Next: your facilitator will ask everyone to sign it."),
    ):
        now = "Usted aceptó el acuerdo. Gracias." if person is rosa else "You accepted the agreement. Thank you."
        person.home("reviewed", now, next_, "Lea el acuerdo" if person is rosa else "Read the agreement")

    # ready_to_sign: the facilitator opens version 2 for signature. Rosa signs on the page, ticking the
    # intent statement in Spanish.
    with stages.desk() as desk:
        send_for_signature(desk.session, actor=desk.actor, case=desk.case, version=desk.version(2))
    rosa.home(
        "ready_to_sign",
        "El acuerdo está listo para que usted lo firme.",
        "Léalo otra vez antes de firmar. No tiene que firmar.",
        "Firme el acuerdo",
    )
    dan.home(
        "ready_to_sign",
        "The agreement is ready for you to sign.",
        "Read it again before you sign. You do not have to sign.",
        "Sign the agreement",
    )
    rosa.primary()
    expect(rosa.page.get_by_role("heading", name="Firme el acuerdo")).to_be_visible()
    rosa.watch.scan()
    rosa.page.get_by_label("Su nombre completo").fill("Rosa Martínez Ocampo")
    rosa.page.get_by_label("He leído este acuerdo y lo firmo por mi propia voluntad.").check()
    rosa.page.get_by_role("button", name="Firmar", exact=True).click()
    expect(flash(rosa)).to_have_text("Gracias. Usted firmó el acuerdo.")
    expect(rosa.page.locator("main")).to_contain_text("1 de 3 personas han firmado.")
    rosa.watch.scan()

    # waiting_for_signatures: Rosa has signed; Dan signs on his page too; the facilitator has not.
    rosa.home(
        "waiting_for_signatures",
        "Usted firmó el acuerdo. Gracias.",
        "Lo siguiente: los demás también lo firman. Después podrá descargar su copia aquí.",
        "Lea el acuerdo",
    )
    dan.primary()
    expect(dan.page.get_by_role("heading", name="Sign the agreement")).to_be_visible()
    dan.watch.scan()
    dan.page.get_by_label("Your full name").fill("Dan Novak")
    dan.page.get_by_label("I have read this agreement and I sign it of my own free will.").check()
    dan.page.get_by_role("button", name="Sign", exact=True).click()
    expect(flash(dan)).to_have_text("Thank you. You signed the agreement.")
    expect(dan.page.locator("main")).to_contain_text("2 of 3 people have signed.")
    dan.watch.scan()
    dan.home(
        "waiting_for_signatures",
        "You signed the agreement. Thank you.",
        "Next: the others sign it too. Then you can download your copy here.",
        "Read the agreement",
    )

    # Sealed by the facilitator's signature. Sealing creates the commitments in the same transaction, so
    # the home moves on to monitoring at once. Rosa has not asked for news: her copy is her primary action.
    with stages.desk() as desk:
        version = desk.version(2)
        sign_version(
            desk.session,
            actor=desk.actor,
            case=desk.case,
            version=version,
            text_sha256=version.text_sha256,
            typed_name="Fran Facilitator",
            intent_confirmed=True,
            ip_address="198.51.100.7",
            user_agent="Desk/1.0",
        )
    rosa.home(
        "monitoring",
        "El acuerdo está en marcha. Su facilitador comprueba cómo va.",
        "Si quiere noticias sobre cómo va, puede decir que sí en la página Sus decisiones.",
        "Descargue su copia firmada",
    )
    with rosa.page.expect_download() as download:
        rosa.primary()
    assert download.value.suggested_filename == f"agreement-{REFERENCE}-version-2.pdf"
    saved = tmp_path / "rosa.pdf"
    download.value.save_as(saved)
    copy = saved.read_bytes()
    assert copy.startswith(b"%PDF") and "es" in pdf_languages(copy), "Rosa's copy is not her Spanish PDF"
    rosa.watch.scan()

    # monitoring, Dan: what is due next, and the list of what he agreed to do.
    dan.home(
        "monitoring",
        "The agreement is in place. Your facilitator checks how it is going.",
        f"The next thing you agreed to do is due by {en_weekday(first_due)}.",
        "See what is due next",
    )
    dan.primary()
    expect(h1(dan.watch)).to_have_text("What you agreed to do")
    expect(dan.page.locator("main")).to_contain_text("Payment 1 of 2: 100.00 EUR")
    dan.watch.scan()

    # The first payment comes in; Rosa says yes to news about the agreement on her page, and sees it.
    with stages.desk() as desk:
        paid_on = commitment_service.today_for(desk.session, desk.case)
        commitment_service.record_progress(
            desk.session,
            actor=desk.actor,
            case=desk.case,
            commitment=desk.commitment("payment", 1),
            data=ProgressCreate(
                kind=ProgressKind.payment,
                amount=Decimal("100.00"),
                occurred_on=paid_on,
                evidence_reference="Transfer 4471",
            ),
        )
    rosa.page.get_by_role("link", name="Sus decisiones", exact=True).click()
    expect(h1(rosa.watch)).to_have_text("Sus decisiones")
    rosa.watch.scan()
    rosa.page.get_by_role("link", name="Quiero decir que sí (Noticias sobre el acuerdo)").click()
    expect(h1(rosa.watch)).to_have_text("¿Quiere decir que sí?")
    rosa.watch.scan()
    rosa.page.get_by_role("button", name="Sí, estoy de acuerdo").click()
    expect(flash(rosa)).to_have_text("Dijo que sí.")
    rosa.watch.scan()
    rosa.home(
        "monitoring",
        "El acuerdo está en marcha. Su facilitador comprueba cómo va.",
        "Puede ver cómo va.",
        "Vea cómo va el acuerdo",
    )
    rosa.primary()
    expect(h1(rosa.watch)).to_have_text("Cómo va el acuerdo")
    paid = rosa.page.locator("li.portal-choice", has_text="Pago 1 de 2: 100,00 €")
    expect(paid).to_contain_text("Hasta ahora: 100,00 € de 100,00 €")
    expect(paid).to_contain_text("Estado: Hecho")
    expect(paid).to_contain_text(f"{es_day(paid_on)}: Pago recibido, 100,00 €")
    expect(rosa.page.locator("li.portal-choice", has_text=TASK_ES)).to_be_visible()
    rosa.watch.scan()
    assert_quick_exit_stays_on_screen(rosa.watch)

    # withdrawn after signing: Dan stops; what he agreed still stands. Rosa's home does not change.
    with stages.desk() as desk:
        withdraw_consent(desk.session, actor=desk.actor, participant=desk.dan, scope=ConsentScope.conference)
    dan.home(
        "withdrawn",
        "You said stop. Your meetings are cancelled. But the signed agreement still stands.",
        "You still need to do what you agreed, like payments. Your facilitator will contact you.",
        "See what is due next",
    )
    rosa.home(
        "monitoring",
        "El acuerdo está en marcha. Su facilitador comprueba cómo va.",
        "Puede ver cómo va.",
        "Vea cómo va el acuerdo",
    )
    with stages.desk() as desk:
        desk.consent(desk.dan, "conference")

    # The task is done; the facilitator asks Rosa whether the second payment can be dropped.
    with stages.desk() as desk:
        commitment_service.record_progress(
            desk.session,
            actor=desk.actor,
            case=desk.case,
            commitment=desk.commitment("other"),
            data=ProgressCreate(
                kind=ProgressKind.done,
                occurred_on=commitment_service.today_for(desk.session, desk.case),
                evidence_reference="Receipt 88",
            ),
        )
        commitment_service.waive(
            desk.session,
            actor=desk.actor,
            case=desk.case,
            commitment=desk.commitment("payment", 2),
            data=WaiverCreate(reason="Dan lost his job; the first payment covers the documents' costs."),
        )
    rosa.home(
        "monitoring",
        "El acuerdo está en marcha. Su facilitador comprueba cómo va.",
        "Hay una pregunta para usted sobre el acuerdo.",
        "Responda a la pregunta",
    )
    dan.home(
        "monitoring",
        "The agreement is in place. Your facilitator checks how it is going.",
        f"The next thing you agreed to do is due by {en_weekday(second_due_v2)}.",
        "See what is due next",
    )
    rosa.primary()
    question = rosa.page.get_by_role("region", name="Su facilitador tiene una pregunta")
    # The commitment in her words, as in the agreement she signed (the reason is the facilitator's own).
    expect(question.locator("p").first).to_have_text("Pago: Pago 2 de 2: 200,00 €")
    expect(question.locator("p").first.locator("[lang]")).to_have_count(0)
    rosa.watch.scan()
    question.get_by_role("button", name="Sí, quitarla").click()
    expect(flash(rosa)).to_have_text("Gracias. Usted dijo que sí. Ya no hay que hacer esta parte del acuerdo.")
    expect(rosa.page.locator("li.portal-choice", has_text="Pago 2 de 2: 200,00 €")).to_contain_text(
        "Estado: Ya no hace falta"
    )
    rosa.watch.scan()

    # completed: every commitment met or waived with her consent (no contact stays, without holding it open).
    rosa.home(
        "completed",
        "Todo lo del acuerdo está hecho.",
        "Todavía puede descargar su copia firmada.",
        "Descargue su copia firmada",
    )
    dan.home(
        "completed",
        "Everything in the agreement is done.",
        "You can still download your signed copy.",
        "Download your signed copy",
    )
    with dan.page.expect_download() as download:
        dan.primary()
    saved = tmp_path / "dan.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    dan.watch.scan()

    rosa.watch.assert_clean()
    dan.watch.assert_clean()


@pytest.mark.browser
def test_a_case_closed_before_any_agreement_says_only_that_it_is_closed(stages: StagesProgram, browse: Browse) -> None:
    """closed: the facilitator closes the other case for the survivor's safety. Both are told it is closed,
    with no action to take and no reason given."""
    from app.agreements.commitment_schemas import ClosureCreate
    from app.agreements.commitment_service import close_case
    from app.conferences.models import Case, ClosureReason

    case_id, lucia_id, tom_id = stages.closing
    lucia = phone(browse, stages.server, locale="es-ES", name="Lucía", status_title="¿En qué punto está?")
    tom = phone(browse, stages.server, locale="en-GB", name="Tom", status_title="Where are you now?")
    lucia.open_link(stages.link(lucia_id), button="Abrir mi página", greeting="Hola, Lucía.")
    tom.open_link(stages.link(tom_id), button="Open my page", greeting="Hello, Tom Reyes.")
    with stages.desk() as desk:
        case = desk.session.get(Case, case_id)
        assert case is not None
        note = "Risk to the survivor: she moved away from him."
        close_case(
            desk.session, actor=desk.actor, case=case, data=ClosureCreate(reason=ClosureReason.safety, note=note)
        )

    lucia.home("closed", "Este caso está cerrado.", "Si tiene preguntas, hable con su facilitador.", None)
    for giveaway in ("segur", "riesgo", "Risk", "moved", "Tom"):
        expect(lucia.page.locator("body")).not_to_contain_text(giveaway, ignore_case=True)
    tom.home("closed", "This case is closed.", "If you have questions, ask your facilitator.", None)
    for giveaway in ("safety", "risk", "moved", "Lucía"):
        expect(tom.page.locator("body")).not_to_contain_text(giveaway, ignore_case=True)

    lucia.watch.assert_clean()
    tom.watch.assert_clean()
