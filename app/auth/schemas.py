from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from app.auth.models import UserRole
from app.auth.passwords import password_problem
from app.i18n import N_
from app.schemas import InputModel, says

ENTER_EMAIL = N_("Enter your email address.")
ENTER_PASSWORD = N_("Enter your password.")
# Each form field says what to enter when it is missing or wrong (app.schemas.says).
NEW_PASSWORD = says(string_too_long=N_("Choose a new password of at most 256 characters."))
NEW_EMAIL = says(
    N_("Enter their email address in the right form, like name@example.org."),
    missing=N_("Enter their email address."),
)
THEIR_NAME = says(
    missing=N_("Enter their full name."), string_too_long=N_("Enter a full name of at most 120 characters.")
)
THEIR_ROLE = says(N_("Choose their role: administrator, facilitator or program staff."))


class _NewPassword(InputModel):
    @field_validator("password", check_fields=False)
    @classmethod
    def _policy(cls, password: str, info: ValidationInfo) -> str:
        problem = password_problem(password, email=info.data.get("email"), name=info.data.get("full_name"))
        if problem:
            raise ValueError(problem)
        return password


class SignIn(InputModel):
    email: str = Field(
        min_length=1,
        max_length=254,
        json_schema_extra=says(missing=ENTER_EMAIL),
    )
    password: str = Field(
        min_length=1,
        max_length=1024,
        json_schema_extra=says(missing=ENTER_PASSWORD),
    )


class UserCreate(_NewPassword):
    email: EmailStr = Field(max_length=254, json_schema_extra=NEW_EMAIL)
    full_name: str = Field(min_length=1, max_length=120, json_schema_extra=THEIR_NAME)
    role: UserRole = Field(json_schema_extra=THEIR_ROLE)
    password: str = Field(max_length=1024, json_schema_extra=NEW_PASSWORD)

    @field_validator("full_name")
    @classmethod
    def _trim(cls, value: str) -> str:
        return value.strip()


class InvitationCreate(InputModel):
    email: EmailStr = Field(max_length=254, json_schema_extra=NEW_EMAIL)
    full_name: str = Field(min_length=1, max_length=120, json_schema_extra=THEIR_NAME)
    role: UserRole = Field(json_schema_extra=THEIR_ROLE)
    language: Literal["en", "es"] = Field(
        default="en", json_schema_extra=says(N_("Choose the language of the invitation email: English or Spanish."))
    )

    @field_validator("full_name")
    @classmethod
    def _trim(cls, value: str) -> str:
        return value.strip()


class InvitationPublic(BaseModel):
    """An invitation as its program's admins see it: the same whether or not the address has an account."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: UserRole
    language: str
    created_at: datetime
    expires_at: datetime


class InvitationAccept(_NewPassword):
    password: str = Field(max_length=1024, json_schema_extra=NEW_PASSWORD)


class UserUpdate(InputModel):
    full_name: str | None = Field(default=None, min_length=1, max_length=120, json_schema_extra=THEIR_NAME)
    role: UserRole | None = Field(default=None, json_schema_extra=THEIR_ROLE)
    is_active: bool | None = None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: UserRole
    is_active: bool
    created_at: datetime


class PasswordChange(_NewPassword):
    current_password: str = Field(
        min_length=1,
        max_length=1024,
        json_schema_extra=says(
            missing=N_("Enter your current password."),
            string_too_long=N_("Enter your current password: the one typed is longer than any Mend accepts."),
        ),
    )
    password: str = Field(max_length=1024, json_schema_extra=NEW_PASSWORD)


class FirstAdminSetup(_NewPassword):
    program_name: str = Field(
        min_length=1,
        max_length=200,
        json_schema_extra=says(
            missing=N_("Enter the name of your program."),
            string_too_long=N_("Enter a program name of at most 200 characters."),
        ),
    )
    timezone: str = Field(default="UTC", max_length=64, json_schema_extra=says(N_("Choose the program's time zone.")))
    email: EmailStr = Field(
        max_length=254,
        json_schema_extra=says(
            N_("Enter your email address in the right form, like name@example.org."), missing=ENTER_EMAIL
        ),
    )
    full_name: str = Field(
        min_length=1,
        max_length=120,
        json_schema_extra=says(
            missing=N_("Enter your full name."), string_too_long=N_("Enter a full name of at most 120 characters.")
        ),
    )
    password: str = Field(max_length=1024, json_schema_extra=NEW_PASSWORD)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from app.programs.schemas import validate_timezone

        return validate_timezone(value)


# How long a new access token works unless its maker chooses (up to a year).
DEFAULT_TOKEN_LIFETIME_DAYS = 90


class AccessTokenCreate(InputModel):
    name: str = Field(
        min_length=1,
        max_length=80,
        json_schema_extra=says(
            missing=N_("Enter a name for the token, saying what it is for."),
            string_too_long=N_("Enter a token name of at most 80 characters."),
        ),
    )
    expires_in_days: int = Field(
        default=DEFAULT_TOKEN_LIFETIME_DAYS,
        ge=1,
        le=365,
        description="Days until the token stops working.",
        json_schema_extra=says(N_("Choose how long the token works, from 1 day to 1 year.")),
    )


class AccessTokenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    token_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None


class AccessTokenCreated(AccessTokenPublic):
    token: str = Field(description="The token itself. Shown once; Mend keeps only its hash.")
