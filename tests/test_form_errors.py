"""Form errors in Mend's words: every pydantic error type a form can meet becomes a plain sentence in the
page's language, with its limit filled in; pydantic's own English never reaches a page."""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, EmailStr, Field, ValidationError, field_validator

from app.auth.schemas import AccessTokenCreate
from app.i18n import use_language
from app.web import field_errors

RAW = ("Input should", "Value error", "validation error", "Field required", "String should", "value is not")


class Everything(BaseModel):
    whole: int = Field(ge=1, le=240)
    small: int = Field(lt=10)
    positive: Decimal = Field(gt=0, decimal_places=2)
    name: str = Field(min_length=3, max_length=5)
    note: str = Field(default="-", min_length=1)
    when: date
    moment: datetime
    at: time
    choice: Literal["a", "b"]
    email: EmailStr
    flag: bool
    picks: list[str] = Field(min_length=1, max_length=2)
    own: str

    @field_validator("own")
    @classmethod
    def _own(cls, value: str) -> str:
        raise ValueError("Say it in Mend's own words.")


BAD = {
    "whole": "999",
    "small": "12",
    "positive": "1.234",
    "name": "abcdefgh",
    "when": "2027-02-30",
    "moment": "soon",
    "at": "25:99",
    "choice": "c",
    "email": "tést@",
    "flag": "perhaps",
    "picks": [],
    "own": "x",
}


def _errors(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        Everything.model_validate(data)
    return field_errors(caught.value, model=Everything)


def test_each_error_is_a_plain_sentence_with_its_limit() -> None:
    errors = _errors(BAD)
    assert errors == {
        "whole": "Enter a number no more than 240.",
        "small": "Enter a number below 10.",
        "positive": "Enter a number with at most 2 decimals, for example 150.00.",
        "name": "Use at most 5 characters.",
        "when": "Enter a real date, for example 2027-03-28.",
        "moment": "Enter a real date and time, for example 2027-03-28 14:30.",
        "at": "Enter a time, for example 14:30.",
        "choice": "Choose one of the options.",
        "email": "Enter an email address in the right form, like name@example.org.",
        "flag": "Choose yes or no.",
        "picks": "Choose at least 1.",
        "own": "Say it in Mend's own words.",
    }


def test_a_missing_answer_and_a_too_short_one_are_told_apart() -> None:
    errors = _errors({**BAD, "name": "ab"})
    assert errors["name"] == "Use at least 3 characters."
    assert _errors({})["whole"] == "This is required."
    assert _errors({**BAD, "note": ""})["note"] == "This is required."  # an empty answer to a required text


def test_in_spanish_the_limits_are_filled_in_after_translating() -> None:
    with use_language("es"):
        errors = _errors(BAD)
    assert errors["whole"] == "Escriba un número que no pase de 240."
    assert errors["name"] == "Use como máximo 5 caracteres."
    assert errors["when"] == "Escriba una fecha real, por ejemplo 2027-03-28."
    assert not any(raw in message for message in errors.values() for raw in RAW)


def test_no_error_type_shows_pydantics_own_english() -> None:
    for language in ("en", "es"):
        with use_language(language):
            errors = _errors(BAD) | _errors({"whole": "1.5", "small": [1], "positive": "many"})
        assert not any(raw in message for message in errors.values() for raw in RAW), errors


def test_a_field_says_its_own_words_for_each_error_and_the_api_schema_leaves_them_out() -> None:
    def errors(data: dict[str, object]) -> dict[str, str]:
        with pytest.raises(ValidationError) as caught:
            AccessTokenCreate.model_validate(data)
        return field_errors(caught.value, model=AccessTokenCreate)

    missing = "Enter a name for the token, saying what it is for."
    lifetime = "Choose how long the token works, from 1 day to 1 year."
    assert errors({"expires_in_days": "soon"}) == {"name": missing, "expires_in_days": lifetime}
    assert errors({"name": "", "expires_in_days": 400})["name"] == missing  # empty reads as missing
    assert errors({"name": "x" * 81}) == {"name": "Enter a token name of at most 80 characters."}
    with use_language("es"):
        assert errors({})["name"] == "Escriba un nombre para el token que diga para qué sirve."
    assert "errors" not in str(AccessTokenCreate.model_json_schema())


def test_sign_in_says_which_answer_is_missing(anon: TestClient) -> None:
    anon.get("/login")
    from app.security import csrf_token_for

    token = csrf_token_for(anon.cookies.get("mend_csrf"))
    response = anon.post("/login", data={"email": "", "password": "", "csrf_token": token})
    assert response.status_code == 422
    assert "Enter your email address." in response.text and "Enter your password." in response.text
    assert "This is required." not in response.text
