"""An interpreter's working languages: chosen on the participant form from a list named in the page's language,
shown on the case page beside the interpreter, in the API, and refused for unknown codes or other roles."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.conferences.models import Case, Participant, ParticipantRole
from app.conferences.schemas import MAX_INTERPRETER_LANGUAGES
from tests.factories import make_case, make_participant

SPANISH = {"Accept-Language": "es"}


def _form(client: TestClient, **fields: object) -> dict[str, object]:
    return fields | {"csrf_token": client.csrf_token}  # type: ignore[attr-defined]


def _row(page: str, name: str) -> str:
    """The case page's table row of one participant."""
    match = re.search(rf"<tr>\s*<td>(?:<a [^>]*>)?{re.escape(name)}(?:</a>)?</td>.*?</tr>", page, flags=re.DOTALL)
    assert match, page
    return match.group(0)


def _interpreter(db: Session, by: User, case: Case, languages: list[str]) -> Participant:
    return make_participant(
        db, by, case, ParticipantRole.interpreter, display_name="Leila", interpreter_languages=languages
    )


# --- the pages -----------------------------------------------------------------------------------


def test_an_interpreter_is_added_with_languages_chosen_from_the_list_and_the_case_page_shows_them(
    as_facilitator: TestClient, db: Session, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    make_participant(db, facilitator, case, ParticipantRole.survivor, display_name="Rosa", preferred_language="ar")
    form = as_facilitator.get(f"/cases/{case.id}/participants/new").text
    assert 'type="checkbox" id="field-interpreter_languages' in form and ">Arabic</label>" in form

    response = as_facilitator.post(
        f"/cases/{case.id}/participants",
        data=_form(
            as_facilitator,
            role="interpreter",
            display_name="Leila",
            preferred_language="en",
            interpreter_languages=["fr", "ar"],
        ),
        follow_redirects=False,
    )

    assert response.status_code == 303
    interpreter = db.exec(select(Participant).where(Participant.role == ParticipantRole.interpreter)).one()
    assert interpreter.interpreter_languages == ["fr", "ar"]
    page = as_facilitator.get(f"/cases/{case.id}").text
    assert "Works in French, Arabic" in _row(page, "Leila")
    assert "Works in" not in _row(page, "Rosa")


def test_in_spanish_the_languages_are_named_in_spanish(
    as_facilitator: TestClient, db: Session, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    interpreter = _interpreter(db, facilitator, case, ["ar", "fr"])
    form = as_facilitator.get(f"/cases/{case.id}/participants/{interpreter.id}/edit", headers=SPANISH).text
    assert "Idiomas que interpreta" in form and ">Árabe</label>" in form and ">Wólof</label>" in form
    labels = re.findall(r'name="interpreter_languages" value="[a-z]+"[^>]*>\s*<label[^>]*>([^<]+)</label>', form)
    assert labels.index("Árabe") < labels.index("Búlgaro") < labels.index("Español")  # accents sort with their letter
    assert "Trabaja en árabe, francés" in _row(as_facilitator.get(f"/cases/{case.id}", headers=SPANISH).text, "Leila")


def test_an_interpreter_without_languages_says_so(as_facilitator: TestClient, db: Session, facilitator: User) -> None:
    case = make_case(db, facilitator)
    _interpreter(db, facilitator, case, [])
    assert "Languages not recorded" in _row(as_facilitator.get(f"/cases/{case.id}").text, "Leila")


def test_an_unknown_language_is_refused_beside_the_field_keeping_what_was_chosen(
    as_facilitator: TestClient, db: Session, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    response = as_facilitator.post(
        f"/cases/{case.id}/participants",
        data=_form(
            as_facilitator,
            role="interpreter",
            display_name="Leila",
            preferred_language="en",
            interpreter_languages=["ar", "klingon"],
        ),
    )
    assert response.status_code == 422
    error = re.search(r'id="field-interpreter_languages-error">(.*?)</p>', response.text, flags=re.DOTALL)
    assert error and "Choose the languages from the list." in error.group(1)
    assert re.search(r'value="ar"\s+checked', response.text)
    assert "<details" in response.text and '<details class="form-details" open' in response.text
    assert db.exec(select(Participant)).first() is None


def test_only_an_interpreter_may_have_working_languages(
    as_facilitator: TestClient, db: Session, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    added = as_facilitator.post(
        f"/cases/{case.id}/participants",
        data=_form(
            as_facilitator, role="supporter", display_name="Sam", preferred_language="en", interpreter_languages=["ar"]
        ),
    )
    assert added.status_code == 422 and 'id="field-interpreter_languages-error"' in added.text
    assert "Only an interpreter has working languages." in added.text
    assert db.exec(select(Participant)).first() is None

    survivor = make_participant(db, facilitator, case, ParticipantRole.survivor)
    assert (
        'name="interpreter_languages"'
        not in as_facilitator.get(f"/cases/{case.id}/participants/{survivor.id}/edit").text
    )
    tampered = as_facilitator.post(
        f"/cases/{case.id}/participants/{survivor.id}",
        data=_form(as_facilitator, display_name="Rosa", preferred_language="es", interpreter_languages=["ar"]),
    )
    assert tampered.status_code == 422 and "Only an interpreter has working languages." in tampered.text
    db.refresh(survivor)
    assert survivor.interpreter_languages == []


def test_editing_an_interpreter_changes_or_clears_their_languages(
    as_facilitator: TestClient, db: Session, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    interpreter = _interpreter(db, facilitator, case, ["ar"])
    path = f"/cases/{case.id}/participants/{interpreter.id}"
    form = as_facilitator.get(f"{path}/edit").text
    assert re.search(r'value="ar"\s+checked', form) and "<details" not in form

    fields = {"display_name": "Leila", "preferred_language": "en"}
    changed = as_facilitator.post(path, data=_form(as_facilitator, **fields, interpreter_languages=["ro", "bg"]))
    assert changed.status_code == 200
    db.refresh(interpreter)
    assert interpreter.interpreter_languages == ["ro", "bg"]
    as_facilitator.post(path, data=_form(as_facilitator, **fields))  # every box unticked
    db.refresh(interpreter)
    assert interpreter.interpreter_languages == []
    events = db.exec(
        select(AuditEvent).where(AuditEvent.action == "participant.updated").order_by(col(AuditEvent.id))
    ).all()
    assert ["interpreter_languages" in e.detail["changed"] for e in events] == [True, True]


# --- the API -------------------------------------------------------------------------------------


def test_the_api_records_reads_and_changes_an_interpreters_languages(
    as_facilitator: TestClient, db: Session, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    created = as_facilitator.post(
        f"/api/v1/cases/{case.id}/participants",
        json={"role": "interpreter", "display_name": "Leila", "interpreter_languages": ["ar", "fr", "ar"]},
    )
    assert created.status_code == 201 and created.json()["interpreter_languages"] == ["ar", "fr"]
    path = f"/api/v1/cases/{case.id}/participants/{created.json()['id']}"
    assert as_facilitator.patch(path, json={"interpreter_languages": ["ti"]}).json()["interpreter_languages"] == ["ti"]
    assert as_facilitator.patch(path, json={"display_name": "Leila H."}).json()["interpreter_languages"] == ["ti"]
    assert as_facilitator.get(path).json()["interpreter_languages"] == ["ti"]
    survivor = make_participant(db, facilitator, case, ParticipantRole.survivor)
    assert (
        as_facilitator.get(f"/api/v1/cases/{case.id}/participants/{survivor.id}").json()["interpreter_languages"] == []
    )


def test_the_api_refuses_unknown_codes_too_many_and_other_roles_with_the_field_named(
    as_facilitator: TestClient, db: Session, facilitator: User
) -> None:
    case = make_case(db, facilitator)
    base = f"/api/v1/cases/{case.id}/participants"
    for body in (
        {"role": "interpreter", "display_name": "Leila", "interpreter_languages": ["xx"]},
        {"role": "interpreter", "display_name": "Leila", "interpreter_languages": ["AR"]},
        {"role": "survivor", "display_name": "Rosa", "interpreter_languages": ["ar"]},
        {"role": "interpreter", "display_name": "Leila", "interpreter_languages": "ar"},
    ):
        refused = as_facilitator.post(base, json=body)
        assert refused.status_code == 422, body
        assert refused.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in refused.json()["errors"]][0].startswith("interpreter_languages"), refused.json()
    assert db.exec(select(Participant)).first() is None

    survivor = make_participant(db, facilitator, case, ParticipantRole.survivor)
    interpreter = _interpreter(db, facilitator, case, ["ar"])
    refused = as_facilitator.patch(f"{base}/{survivor.id}", json={"interpreter_languages": ["ar"]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "interpreter_languages"
    many = ["en", "es", "fr", "pt", "ar", "ro", "bg", "uk", "ru", "vi", "zh", "tl", "th"]
    assert len(many) > MAX_INTERPRETER_LANGUAGES
    assert as_facilitator.patch(f"{base}/{interpreter.id}", json={"interpreter_languages": many}).status_code == 422
    db.refresh(survivor)
    db.refresh(interpreter)
    assert (survivor.interpreter_languages, interpreter.interpreter_languages) == ([], ["ar"])


def test_the_schema_lists_the_known_codes(as_facilitator: TestClient) -> None:
    schema = as_facilitator.get("/api/v1/openapi.json").json()["components"]["schemas"]
    items = schema["ParticipantCreate"]["properties"]["interpreter_languages"]["items"]
    assert {"ar", "ti", "wo", "pcm"} <= set(items["enum"]) and "xx" not in items["enum"]
