"""The staff interface speaks the browser's language (Accept-Language: English or Spanish), the API English."""

import re

import pytest

from app.i18n import negotiate
from tests.factories import make_case, make_participant
from tests.route_world import app_routes


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("es", "es"),
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("en-GB,en;q=0.9,es;q=0.5", "en"),
        ("fr-FR,es;q=0.5", "es"),
        ("fr", "en"),
        ("es;q=0, en", "en"),
        ("*", "en"),
    ],
)
def test_the_browser_language_is_negotiated_with_english_by_default(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_a_staff_page_is_in_spanish_when_the_browser_asks_for_it(as_admin) -> None:
    page = as_admin.get("/cases", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="es">' in page.text
    assert ">Casos</a>" in page.text and ">Cerrar sesión</button>" in page.text
    assert ">Sign out</button>" not in page.text


def test_a_staff_page_is_in_english_without_the_header(as_admin) -> None:
    page = as_admin.get("/cases")
    assert '<html lang="en">' in page.text
    assert ">Cases</a>" in page.text and ">Sign out</button>" in page.text


def test_the_next_request_does_not_inherit_the_language_of_the_one_before(as_admin) -> None:
    as_admin.get("/cases", headers={"Accept-Language": "es"})
    assert '<html lang="en">' in as_admin.get("/cases").text


def test_error_pages_follow_the_browser_and_api_problems_stay_in_english(as_admin) -> None:
    page = as_admin.get("/no-such-page", headers={"Accept-Language": "es"})
    assert page.status_code == 404
    assert "No hay nada en esta dirección." in page.text
    problem = as_admin.get("/api/v1/no-such-thing", headers={"Accept-Language": "es"})
    assert problem.status_code == 404
    assert problem.json()["detail"] == "There is nothing at this address."


def test_form_errors_and_flash_messages_are_in_the_page_language(as_admin) -> None:
    spanish = {"Accept-Language": "es"}
    form = {"csrf_token": as_admin.csrf_token, "name": "", "timezone": "Nowhere/Else"}
    page = as_admin.post("/admin/program", data=form, headers=spanish)
    assert page.status_code == 422
    assert "Hay un problema" in page.text and "Elija una zona horaria de la lista" in page.text
    assert "Configuración del programa" in page.text
    english = as_admin.post("/admin/program", data=form)
    assert "Choose a time zone from the list" in english.text


def test_the_sign_in_page_is_in_spanish(anon) -> None:
    page = anon.get("/login", headers={"Accept-Language": "es"})
    assert "Iniciar sesión en Mend" in page.text and "Contraseña" in page.text


def test_a_case_page_shows_labels_and_the_journey_in_spanish_but_not_the_data(as_admin, db, admin, facilitator) -> None:
    case = make_case(db, admin, reference="2026-0042", facilitator_ids=[facilitator.id])
    make_participant(db, admin, case, display_name="Ana")
    page = as_admin.get(f"/cases/{case.id}", headers={"Accept-Language": "es"})
    assert "Caso 2026-0042" in page.text and "Participantes" in page.text and "Ana" in page.text
    assert "Trafficking for" not in page.text and "Referral" not in page.text
    assert "Valore la seguridad de la sobreviviente." in page.text  # a blocker of the journey, from the rules
    english = as_admin.get(f"/cases/{case.id}")
    assert "Case 2026-0042" in english.text and "Caso" not in english.text


def test_every_staff_page_renders_in_spanish(app, as_admin, db, admin, facilitator) -> None:
    """Each staff page (from the router) answers in Spanish without error: a broken message fails here."""
    case = make_case(db, admin, reference="2026-0077", facilitator_ids=[facilitator.id])
    survivor = make_participant(db, admin, case)
    ids = {"case_id": case.id, "participant_id": survivor.id}
    paths = [
        path
        for method, path in app_routes(app)
        if method == "GET"
        and not path.startswith(("/api/", "/portal", "/static", "/docs", "/redoc", "/openapi"))
        and set(re.findall(r"{(\w+)}", path)) <= set(ids)
    ]
    assert "/cases/{case_id}/safety" in paths and "/monitoring" in paths
    for path in paths:
        page = as_admin.get(path.format(**ids), headers={"Accept-Language": "es"}, follow_redirects=False)
        assert page.status_code < 500, path
        if page.status_code == 200 and page.headers["content-type"].startswith("text/html"):
            assert '<html lang="es">' in page.text, path
