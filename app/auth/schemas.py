from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from app.auth.models import UserRole
from app.auth.passwords import password_problem
from app.i18n import N_
from app.schemas import InputModel

ENTER_EMAIL = N_("Enter your email address.")
ENTER_PASSWORD = N_("Enter your password.")


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
        json_schema_extra={"errors": {"string_too_short": ENTER_EMAIL, "missing": ENTER_EMAIL}},
    )
    password: str = Field(
        min_length=1,
        max_length=1024,
        json_schema_extra={"errors": {"string_too_short": ENTER_PASSWORD, "missing": ENTER_PASSWORD}},
    )


class UserCreate(_NewPassword):
    email: EmailStr = Field(max_length=254)
    full_name: str = Field(min_length=1, max_length=120)
    role: UserRole
    password: str = Field(max_length=1024)

    @field_validator("full_name")
    @classmethod
    def _trim(cls, value: str) -> str:
        return value.strip()


class InvitationCreate(InputModel):
    email: EmailStr = Field(max_length=254)
    full_name: str = Field(min_length=1, max_length=120)
    role: UserRole
    language: Literal["en", "es"] = "en"

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
    password: str = Field(max_length=1024)


class UserUpdate(InputModel):
    full_name: str | None = Field(default=None, min_length=1, max_length=120)
    role: UserRole | None = None
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
    current_password: str = Field(min_length=1, max_length=1024)
    password: str = Field(max_length=1024)


class FirstAdminSetup(_NewPassword):
    program_name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    email: EmailStr = Field(max_length=254)
    full_name: str = Field(min_length=1, max_length=120)
    password: str = Field(max_length=1024)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from app.programs.schemas import validate_timezone

        return validate_timezone(value)


# How long a new access token works unless its maker chooses (up to a year).
DEFAULT_TOKEN_LIFETIME_DAYS = 90


class AccessTokenCreate(InputModel):
    name: str = Field(min_length=1, max_length=80)
    expires_in_days: int = Field(
        default=DEFAULT_TOKEN_LIFETIME_DAYS, ge=1, le=365, description="Days until the token stops working."
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
