"""keyed audit chain: every event's hash becomes an HMAC-SHA256 under a key held outside the database

The existing chains are first verified as plain SHA-256 (the upgrade stops on a broken one), then every
event is re-linked under the current audit key, in order, and each chain head follows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 11:00:00
"""

import hashlib
import hmac
from collections.abc import Sequence
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

import app.db
from app.audit.service import GENESIS_HASH, audit_keys, canonical_payload

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS = sa.table(
    "audit_event",
    sa.column("id", sa.Integer),
    sa.column("chain_key", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("program_id", sa.Integer),
    sa.column("occurred_at", app.db.UTCDateTime(timezone=True)),
    sa.column("actor_kind", sa.String),
    sa.column("actor_id", sa.Integer),
    sa.column("actor_label", sa.String),
    sa.column("action", sa.String),
    sa.column("entity_type", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("case_id", sa.Integer),
    sa.column("request_id", sa.String),
    sa.column("ip_address", sa.String),
    sa.column("detail", sa.JSON),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
    sa.column("key_id", sa.String),
)
HEADS = sa.table("audit_chain_head", sa.column("chain_key", sa.Integer), sa.column("last_hash", sa.String))


def _relink(*, keyed: bool) -> None:
    """Check each chain under its old links, then write it again under the new ones."""
    connection = op.get_bind()
    key_id, keys = audit_keys()
    chains = connection.execute(sa.select(EVENTS.c.chain_key).distinct()).scalars().all()
    for chain in chains:
        old_prev = new_prev = GENESIS_HASH
        rows = connection.execute(sa.select(EVENTS).where(EVENTS.c.chain_key == chain).order_by(EVENTS.c.seq)).all()
        for row in rows:
            event = SimpleNamespace(**row._mapping)
            payload = b"\n" + canonical_payload(event)  # type: ignore[arg-type]
            if keyed:
                expected = hashlib.sha256(old_prev.encode() + payload).hexdigest()
                new_hash = hmac.new(keys[key_id], new_prev.encode() + payload, hashlib.sha256).hexdigest()
            else:
                expected = hmac.new(keys[row.key_id], old_prev.encode() + payload, hashlib.sha256).hexdigest()
                new_hash = hashlib.sha256(new_prev.encode() + payload).hexdigest()
            if row.prev_hash != old_prev or row.hash != expected:
                raise RuntimeError(f"audit chain {chain} is broken at sequence {row.seq}: run `mend audit verify`")
            values = {"prev_hash": new_prev, "hash": new_hash, "key_id": key_id if keyed else None}
            connection.execute(EVENTS.update().where(EVENTS.c.id == row.id).values(**values))
            old_prev, new_prev = row.hash, new_hash
        connection.execute(HEADS.update().where(HEADS.c.chain_key == chain).values(last_hash=new_prev))


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
    _relink(keyed=True)
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("key_id", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("key_id", existing_type=sa.String(length=32), nullable=True)
    _relink(keyed=False)
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("key_id")
