"""access tokens expire: every personal access token gets an expiry, chosen at creation (a year at most)

Tokens made before this had none; they expire a year after they were created (already expired if
older), the longest lifetime a new token may have.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, timedelta

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_LIFETIME = timedelta(days=365)


def upgrade() -> None:
    with op.batch_alter_table("personal_access_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=True))
    tokens = sa.table(
        "personal_access_token",
        sa.column("id", sa.Integer),
        sa.column("created_at", app.db.UTCDateTime(timezone=True)),
        sa.column("expires_at", app.db.UTCDateTime(timezone=True)),
    )
    connection = op.get_bind()
    for token_id, created_at in connection.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        created = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        connection.execute(
            tokens.update().where(tokens.c.id == token_id).values(expires_at=created + MAX_LIFETIME)
        )
    with op.batch_alter_table("personal_access_token", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=app.db.UTCDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("personal_access_token", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
