"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from app.agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementVersion,
    Review,
    Signature,
    SignatureDecline,
)
from app.audit.models import AuditChainHead, AuditEvent
from app.auth.models import AuthSession, LoginAttempt, PersonalAccessToken, SetupToken, User
from app.conferences.models import (
    Acknowledgement,
    Case,
    CaseFacilitator,
    CaseSession,
    Participant,
    Screening,
    SessionAttendee,
    SessionFacilitator,
)
from app.notifications.models import Notification
from app.portal.models import PortalLink, PortalSession
from app.programs.models import Program
from app.safety.models import Consent, ContactPreference, SafetyAssessment, SafetyConcern, SafetyPlan

__all__ = [
    "Agreement",
    "AgreementDocument",
    "AgreementVersion",
    "Review",
    "Signature",
    "SignatureDecline",
    "Acknowledgement",
    "Consent",
    "ContactPreference",
    "Notification",
    "PortalLink",
    "PortalSession",
    "SafetyAssessment",
    "SafetyConcern",
    "SafetyPlan",
    "Screening",
    "AuditChainHead",
    "AuditEvent",
    "AuthSession",
    "Case",
    "CaseFacilitator",
    "CaseSession",
    "SessionAttendee",
    "SessionFacilitator",
    "LoginAttempt",
    "Participant",
    "PersonalAccessToken",
    "Program",
    "SetupToken",
    "User",
]
