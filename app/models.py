"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from app.audit.models import AuditChainHead, AuditEvent
from app.auth.models import AuthSession, LoginAttempt, PersonalAccessToken, SetupToken, User
from app.conferences.models import Case, CaseFacilitator, Participant
from app.programs.models import Program

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "AuthSession",
    "Case",
    "CaseFacilitator",
    "LoginAttempt",
    "Participant",
    "PersonalAccessToken",
    "Program",
    "SetupToken",
    "User",
]
