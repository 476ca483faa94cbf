"""Who is acting in a request: passed to every service so rules and audit know."""

from dataclasses import dataclass

from app.auth.models import UserRole


@dataclass(frozen=True)
class Actor:
    kind: str  # "user", "system" or "anonymous"
    label: str
    program_id: int | None
    user_id: int | None = None
    participant_id: int | None = None  # set for a survivor or responsible party in the portal
    case_id: int | None = None  # the one case a portal actor may touch
    role: UserRole | None = None
    request_id: str | None = None
    ip_address: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == UserRole.admin

    @classmethod
    def system(cls, label: str = "mend command line", program_id: int | None = None) -> "Actor":
        return cls(kind="system", label=label, program_id=program_id)
