from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    actor_kind: str
    actor_id: int | None
    actor_label: str
    action: str
    entity_type: str
    entity_id: str | None
    case_id: int | None
    request_id: str | None
    detail: dict[str, Any]
    hash: str


class AuditPagePublic(BaseModel):
    items: list[AuditEventPublic]
    total: int
    page: int
    pages: int


class ChainHead(BaseModel):
    seq: int
    hash: str


class AuditCheckpoint(BaseModel):
    """A signed checkpoint: `mac` is an HMAC-SHA256, under the audit key `key_id`, of the other fields."""

    taken_at: str
    key_id: str
    chains: dict[str, ChainHead]
    mac: str
