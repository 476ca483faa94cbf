"""The application's error base. Domain packages subclass it; handlers render it."""

from dataclasses import dataclass

from app.i18n import N_


@dataclass(frozen=True)
class Condition:
    """One unmet condition of a gate: a stable code, a message for people, and where to fix it."""

    code: str
    message: str
    fix_path: str | None = None
    participant_id: int | None = None


class AppError(Exception):
    status_code: int = 400
    title: str = "Request refused"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        conditions: list[Condition] | None = None,
        field_errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.conditions = conditions or []
        self.field_errors = field_errors or {}


class NotFound(AppError):
    status_code = 404
    title = N_("Not found")


class PermissionDenied(AppError):
    status_code = 403
    title = N_("Not allowed")


class Conflict(AppError):
    """A refused gate or a clash with the current state: 409 with the unmet conditions."""

    status_code = 409
    title = N_("Conflict with the current state")


class InvalidInput(AppError):
    """Input that is well-formed but breaks a rule only the server can check (e.g. a taken email)."""

    status_code = 422
    title = N_("Invalid input")


class NotAuthenticated(AppError):
    status_code = 401
    title = N_("Sign-in required")
