"""Safety, consent and contact pages: forms with errors beside fields, HTMX fragments, who may see them."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import User
from app.conferences.models import Case, Participant, ParticipantRole
from app.programs.models import Program
from app.safety.models import Consent, ContactPreference, SafetyAssessment, SafetyConcern, SafetyPlan
from tests.factories import make_case, make_participant


def _form(client: TestClient, **fields) -> dict:  # type: ignore[no-untyped-def]
    return fields | {"csrf_token": client.csrf_token}  # type: ignore[attr-defined]


@pytest.fixture
def case(db: Session, facilitator: User) -> Case:
    return make_case(db, facilitator, reference="SAFE-1")


@pytest.fixture
def survivor(db: Session, facilitator: User, case: Case) -> Participant:
    return make_participant(
        db, facilitator, case, ParticipantRole.survivor, display_name="Rosa", preferred_language="es"
    )


# --- safety page -----------------------------------------------------------------------------


def test_the_safety_page_shows_each_factor_with_its_weight_and_explanation(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    page = as_facilitator.get(f"/cases/{case.id}/safety")
    assert page.status_code == 200
    assert "Still in contact with, or controlled by, the trafficker" in page.text
    assert "weight 5" in page.text and "weight 10" in page.text
    assert "Ongoing control means the process could be used" in page.text
    assert f'hx-post="/cases/{case.id}/safety/preview"' in page.text
    assert "has not been assessed yet" in page.text


def test_ticking_boxes_returns_the_level_fragment(as_facilitator: TestClient, case: Case, survivor) -> None:  # type: ignore[no-untyped-def]
    response = as_facilitator.post(
        f"/cases/{case.id}/safety/preview",
        data=_form(as_facilitator, factors=["recent_threats", "threats_to_family"]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="risk-level"' in response.text
    assert "High" in response.text and "score 8" in response.text
    assert "needs a safety plan" in response.text


def test_the_level_fragment_warns_that_a_critical_level_pauses_the_case(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/safety/preview",
        data=_form(as_facilitator, factors="trafficker_contact"),
        headers={"HX-Request": "true"},
    )
    assert "Critical" in response.text and "pauses the case" in response.text


def test_the_level_preview_saves_nothing(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    as_facilitator.post(f"/cases/{case.id}/safety/preview", data=_form(as_facilitator, factors="imminent_danger"))
    assert db.exec(select(SafetyAssessment)).first() is None


def test_saving_an_assessment_shows_the_level_and_pauses_a_critical_case(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/safety/assessments",
        data=_form(
            as_facilitator,
            participant_id=str(survivor.id),
            factors=["trafficker_contact", "isolation"],
            notes="Brother-in-law still calls her",
        ),
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case.id}/safety"
    page = as_facilitator.get(response.headers["location"]).text
    assert "the risk level is critical" in page
    assert "This case is paused" in page and "Brother-in-law still calls her" in page
    assert "This case is paused" in as_facilitator.get(f"/cases/{case.id}").text


def test_an_unknown_factor_comes_back_beside_the_factors_and_keeps_the_notes(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/safety/assessments",
        data=_form(as_facilitator, factors=["recent_threats", "bad_luck"], notes="Keep me"),
    )
    assert response.status_code == 422
    assert 'id="field-factors-error"' in response.text and "Keep me" in response.text
    assert db.exec(select(SafetyAssessment)).first() is None


def test_an_htmx_assessment_with_errors_returns_only_the_page_content(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/safety/assessments",
        data=_form(as_facilitator, participant_id="999999", factors=[]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "<html" not in response.text and 'id="field-participant_id-error"' not in response.text
    assert "There is a problem" in response.text and "Choose a survivor of this case" in response.text


def test_a_concern_without_a_description_is_shown_beside_the_field(
    as_facilitator: TestClient, db: Session, case: Case
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/safety/concerns", data=_form(as_facilitator, description="  ", urgent="true")
    )
    assert response.status_code == 422
    assert 'id="field-description-error"' in response.text
    assert db.exec(select(SafetyConcern)).first() is None


def test_an_urgent_concern_pauses_the_case_and_its_review_releases_it(
    as_facilitator: TestClient, db: Session, case: Case
) -> None:
    raised = as_facilitator.post(
        f"/cases/{case.id}/safety/concerns",
        data=_form(as_facilitator, description="Someone asked for her at the shelter", urgent="true"),
        follow_redirects=False,
    )
    assert raised.status_code == 303
    page = as_facilitator.get(f"/cases/{case.id}/safety").text
    assert "This case is paused" in page and "Waiting for review" in page
    concern = db.exec(select(SafetyConcern)).one()
    empty = as_facilitator.post(
        f"/cases/{case.id}/safety/concerns/{concern.id}/review", data=_form(as_facilitator, note="")
    )
    assert empty.status_code == 422 and f'id="field-review_note_{concern.id}-error"' in empty.text
    reviewed = as_facilitator.post(
        f"/cases/{case.id}/safety/concerns/{concern.id}/review",
        data=_form(as_facilitator, note="Shelter staff warned; new entry code"),
        follow_redirects=False,
    )
    assert reviewed.status_code == 303
    page = as_facilitator.get(f"/cases/{case.id}/safety").text
    assert "This case is paused" not in page and "Shelter staff warned; new entry code" in page


def test_a_case_without_a_survivor_asks_for_one_instead_of_an_assessment_form(
    as_facilitator: TestClient, case: Case
) -> None:
    page = as_facilitator.get(f"/cases/{case.id}/safety").text
    assert "Add the survivor to the case before assessing" in page
    assert f'action="/cases/{case.id}/safety/assessments"' not in page


# --- safety plan page ------------------------------------------------------------------------


def test_the_plan_form_is_filled_in_from_the_latest_version(
    as_facilitator: TestClient, db: Session, case: Case
) -> None:
    for name in ("Ana", "Bea"):
        response = as_facilitator.post(
            f"/cases/{case.id}/safety/plan",
            data=_form(as_facilitator, support_person=name, preferred_mode="video", security_present="true"),
            follow_redirects=False,
        )
        assert response.status_code == 303
    page = as_facilitator.get(f"/cases/{case.id}/safety/plan").text
    assert 'value="Bea"' in page and "Showing version 2" in page
    assert 'value="video" checked' in page
    assert len(db.exec(select(SafetyPlan)).all()) == 2


def test_staggering_without_minutes_is_shown_beside_the_box(
    as_facilitator: TestClient, db: Session, case: Case
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/safety/plan",
        data=_form(as_facilitator, staggered_arrival="true", support_person="Ana", preferred_mode="in_person"),
    )
    assert response.status_code == 422
    assert 'id="field-staggered_arrival-error"' in response.text and 'value="Ana"' in response.text
    assert db.exec(select(SafetyPlan)).first() is None


def test_a_plan_with_a_bad_mode_or_minutes_is_refused_beside_the_fields(as_facilitator: TestClient, case: Case) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/safety/plan",
        data=_form(as_facilitator, staggered_arrival="true", arrival_gap_minutes="lots", preferred_mode="teleport"),
    )
    assert response.status_code == 422
    assert 'id="field-arrival_gap_minutes-error"' in response.text
    assert 'id="field-preferred_mode-error"' in response.text
    assert "Enter how many minutes apart the arrivals are, from 0 to 240, for example 15." in response.text
    assert "Choose how the survivor prefers to take part." in response.text


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Enter how many minutes apart the arrivals are, from 0 to 240, for example 15."),
        ("es", "Escriba cuántos minutos separan las llegadas, de 0 a 240, por ejemplo 15."),
    ],
)
def test_minutes_over_the_limit_say_the_limit_in_plain_words(
    as_facilitator: TestClient, case: Case, language: str, message: str
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/safety/plan",
        data=_form(as_facilitator, staggered_arrival="true", arrival_gap_minutes="10000", preferred_mode="letter"),
        headers={"Accept-Language": language},
    )
    assert response.status_code == 422
    assert message in response.text
    assert "Input should" not in response.text


def test_an_unticked_address_box_is_saved_as_not_confidential(
    as_facilitator: TestClient, db: Session, case: Case
) -> None:
    as_facilitator.post(f"/cases/{case.id}/safety/plan", data=_form(as_facilitator, preferred_mode="letter"))
    assert db.exec(select(SafetyPlan)).one().address_confidential is False


# --- consent page ----------------------------------------------------------------------------


def test_the_consent_page_lists_every_participant_and_scope(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    make_participant(db, facilitator, case, ParticipantRole.responsible_party, display_name="Dan")
    page = as_facilitator.get(f"/cases/{case.id}/consent").text
    assert "Rosa" in page and "Dan" in page
    assert page.count("Taking part in the conference") >= 2
    assert page.count("Not given") == 12


def test_recording_and_withdrawing_consent_through_the_page_keeps_the_history(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    given = as_facilitator.post(
        f"/cases/{case.id}/consent",
        data=_form(
            as_facilitator,
            participant_id=str(survivor.id),
            scope="preparation",
            sheet_version="2026-1",
            sheet_language="es",
            method="written",
            witnessed_by="Luis",
        ),
        follow_redirects=False,
    )
    assert given.status_code == 303
    page = as_facilitator.get(f"/cases/{case.id}/consent").text
    assert "Given" in page and "Spanish" in page and "Luis" in page
    assert f'action="/cases/{case.id}/participants/{survivor.id}/consents/preparation/withdraw"' in page
    withdrawn = as_facilitator.post(
        f"/cases/{case.id}/participants/{survivor.id}/consents/preparation/withdraw",
        data=_form(as_facilitator, reason="Wants a break"),
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    page = as_facilitator.get(f"/cases/{case.id}/consent").text
    assert "This case is paused" in page and "Withdrawn" in page and "Wants a break" in page
    assert "Record consent again" in page
    assert db.exec(select(Consent)).one().withdrawn_at is not None


def test_a_consent_form_with_errors_shows_them_beside_the_fields(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/consent",
        data=_form(as_facilitator, participant_id="", scope="", sheet_version="2026-1", sheet_language="es", method=""),
    )
    assert response.status_code == 422
    for field in ("participant_id", "scope", "method"):
        assert f'id="field-{field}-error"' in response.text
    assert db.exec(select(Consent)).first() is None


def test_a_sheet_language_that_does_not_exist_is_shown_beside_the_language(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/consent",
        data=_form(
            as_facilitator,
            participant_id=str(survivor.id),
            scope="contact",
            sheet_version="2026-1",
            sheet_language="fr",
            method="in_person",
        ),
    )
    assert response.status_code == 422 and 'id="field-sheet_language-error"' in response.text


def test_consenting_twice_through_the_page_is_shown_beside_the_scope(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    fields = {
        "participant_id": str(survivor.id),
        "scope": "contact",
        "sheet_version": "2026-1",
        "sheet_language": "en",
        "method": "in_person",
    }
    as_facilitator.post(f"/cases/{case.id}/consent", data=_form(as_facilitator, **fields))
    again = as_facilitator.post(f"/cases/{case.id}/consent", data=_form(as_facilitator, **fields))
    assert again.status_code == 422 and 'id="field-scope-error"' in again.text and "already consented" in again.text
    assert len(db.exec(select(Consent)).all()) == 1


def test_a_participant_of_another_case_cannot_be_chosen_in_the_consent_form(
    as_facilitator: TestClient, db: Session, facilitator: User, case: Case, survivor: Participant
) -> None:
    stranger = make_participant(db, facilitator, make_case(db, facilitator))
    response = as_facilitator.post(
        f"/cases/{case.id}/consent",
        data=_form(
            as_facilitator,
            participant_id=str(stranger.id),
            scope="contact",
            sheet_version="2026-1",
            sheet_language="en",
            method="in_person",
        ),
    )
    assert response.status_code == 422 and 'id="field-participant_id-error"' in response.text
    assert db.exec(select(Consent)).first() is None


def test_withdrawing_what_was_not_given_through_the_page_is_refused(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/participants/{survivor.id}/consents/conference/withdraw", data=_form(as_facilitator)
    )
    assert response.status_code == 409 and "no active consent" in response.text


def test_the_record_link_prefills_the_person_scope_and_their_language(
    as_facilitator: TestClient, case: Case, survivor: Participant
) -> None:
    page = as_facilitator.get(f"/cases/{case.id}/consent", params={"participant": survivor.id, "scope": "contact"}).text
    assert f'<option value="{survivor.id}" selected>' in page
    assert '<option value="contact" selected>' in page
    assert '<option value="es" selected>' in page


# --- information sheet -----------------------------------------------------------------------


def test_the_information_sheet_is_shown_in_spanish_with_its_language_marked(
    as_facilitator: TestClient, case: Case
) -> None:
    page = as_facilitator.get(f"/cases/{case.id}/information-sheet", params={"lang": "es"}).text
    assert '<article lang="es"' in page and "Participar es su decisión" in page
    assert "2026-1" in page


def test_a_language_without_a_translation_falls_back_to_english_and_says_so(
    as_facilitator: TestClient, case: Case
) -> None:
    page = as_facilitator.get(f"/cases/{case.id}/information-sheet", params={"lang": "ti"}).text
    assert '<article lang="en"' in page and "no translation" in page and "Taking part is your choice" in page


@pytest.mark.parametrize("params", [{"version": "1999-1"}, {"version": "../x"}, {"version": "*"}])
def test_an_unknown_sheet_version_is_not_found(as_facilitator: TestClient, case: Case, params: dict) -> None:
    assert as_facilitator.get(f"/cases/{case.id}/information-sheet", params=params).status_code == 404


def test_a_strange_language_code_shows_the_english_sheet(as_facilitator: TestClient, case: Case) -> None:
    page = as_facilitator.get(f"/cases/{case.id}/information-sheet", params={"lang": "../../etc"})
    assert page.status_code == 200 and '<article lang="en"' in page.text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_each_sheet_covers_what_a_person_must_know_before_consenting(as_facilitator: TestClient, lang: str) -> None:
    sheet = as_facilitator.get(f"/api/v1/information-sheets/2026-1/{lang}").json()
    text = " ".join(sheet["paragraphs"]).lower()
    words = {
        "en": [
            "restorative justice",
            "your choice",
            "stop at any time",
            "private",
            "limits",
            "safety plan",
            "support person",
            "interpreter",
            "facilitator",
        ],
        "es": [
            "justicia restaurativa",
            "su decisión",
            "parar en cualquier momento",
            "privado",
            "límites",
            "plan de seguridad",
            "persona de apoyo",
            "intérprete",
            "facilitador",
        ],
    }[lang]
    for phrase in words:
        assert phrase in text, phrase
    sentences = [s for p in sheet["paragraphs"] for s in re.split(r"(?<=[.?!:])\s+", p)]
    assert max(len(s.split()) for s in sentences) <= 25  # plain language: short sentences


# --- contact preferences page ----------------------------------------------------------------


def test_contact_preferences_are_saved_through_the_page(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    page = as_facilitator.get(f"/cases/{case.id}/participants/{survivor.id}/contact").text
    assert "Nothing is recorded yet" in page
    response = as_facilitator.post(
        f"/cases/{case.id}/participants/{survivor.id}/contact",
        data=_form(
            as_facilitator,
            channel="phone",
            phone="+34 611 222 333",
            text_ok="true",
            quiet_hours_start="21:00",
            quiet_hours_end="08:00",
            code_word="sunflower",
            others_may_see_messages="false",
        ),
        follow_redirects=False,
    )
    assert response.status_code == 303
    pref = db.exec(select(ContactPreference)).one()
    assert (pref.channel, pref.text_ok, pref.voicemail_ok, pref.discreet) == ("phone", True, False, False)
    assert pref.others_may_see_messages is False
    page = as_facilitator.get(response.headers["location"]).text
    assert 'value="+34 611 222 333"' in page and 'value="sunflower"' in page


def test_contact_form_errors_are_shown_beside_the_fields(
    as_facilitator: TestClient, db: Session, case: Case, survivor: Participant
) -> None:
    response = as_facilitator.post(
        f"/cases/{case.id}/participants/{survivor.id}/contact",
        data=_form(as_facilitator, channel="email", quiet_hours_start="21:00", code_word="keep-this"),
    )
    assert response.status_code == 422
    assert 'id="field-email-error"' in response.text and 'id="field-quiet_hours_end-error"' in response.text
    assert 'value="keep-this"' in response.text
    assert db.exec(select(ContactPreference)).first() is None


# --- who may see these pages -----------------------------------------------------------------


def _pages(case: Case, participant: Participant) -> list[str]:
    return [
        f"/cases/{case.id}/safety",
        f"/cases/{case.id}/safety/plan",
        f"/cases/{case.id}/consent",
        f"/cases/{case.id}/information-sheet",
        f"/cases/{case.id}/participants/{participant.id}/contact",
    ]


def test_staff_are_refused_every_safety_consent_and_contact_page(
    as_staff: TestClient, case: Case, survivor: Participant
) -> None:
    for url in _pages(case, survivor):
        assert as_staff.get(url).status_code == 403, url
    response = as_staff.post(f"/cases/{case.id}/safety/concerns", data=_form(as_staff, description="x", urgent="true"))
    assert response.status_code == 403


def test_unassigned_facilitators_and_other_programs_find_nothing(
    as_facilitator2: TestClient, as_other_admin: TestClient, case: Case, survivor: Participant
) -> None:
    for client in (as_facilitator2, as_other_admin):
        for url in _pages(case, survivor):
            assert client.get(url).status_code == 404, url
        response = client.post(f"/cases/{case.id}/safety/plan", data=_form(client, preferred_mode="video"))
        assert response.status_code == 404


def test_a_form_without_the_csrf_token_is_refused(as_facilitator: TestClient, db: Session, case: Case) -> None:
    del as_facilitator.headers["X-CSRF-Token"]
    response = as_facilitator.post(f"/cases/{case.id}/safety/plan", data={"preferred_mode": "video"})
    assert response.status_code == 403
    assert db.exec(select(SafetyPlan)).first() is None


# --- program setting -------------------------------------------------------------------------


def test_an_admin_turns_on_the_plan_requirement_at_medium_on_the_settings_page(
    as_admin: TestClient, db: Session, program: Program
) -> None:
    page = as_admin.get("/admin/program").text
    assert 'name="safety_plan_required_at_medium" value="false" checked' in page
    response = as_admin.post(
        "/admin/program",
        data=_form(
            as_admin,
            name=program.name,
            timezone=program.timezone,
            screening_validity_days="90",
            safety_plan_required_at_medium="true",
        ),
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.refresh(program)
    assert program.safety_plan_required_at_medium is True
    assert 'name="safety_plan_required_at_medium" value="true" checked' in as_admin.get("/admin/program").text
