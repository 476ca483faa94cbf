"""retention: the program's retention period, a case's legal hold and when it was anonymised

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 14:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_years", sa.Integer(), nullable=False, server_default="6"))
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_hold_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("legal_hold_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("legal_hold_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("anonymised_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_case_file_legal_hold_by_id_user_account"), "user_account", ["legal_hold_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_case_file_legal_hold_by_id_user_account"), type_="foreignkey")
        batch_op.drop_column("anonymised_at")
        batch_op.drop_column("legal_hold_by_id")
        batch_op.drop_column("legal_hold_reason")
        batch_op.drop_column("legal_hold_at")
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("retention_years")
