"""languages: a sealed agreement's PDF is stored once per language (the English record copy and a copy in each participant's language)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agreement_document", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), server_default="en", nullable=False)
        )
        batch_op.drop_constraint(batch_op.f("uq_agreement_document_version_id"), type_="unique")
        batch_op.create_unique_constraint("uq_agreement_document_version_language", ["version_id", "language"])


def downgrade() -> None:
    op.execute("DELETE FROM agreement_document WHERE language <> 'en'")
    with op.batch_alter_table("agreement_document", schema=None) as batch_op:
        batch_op.drop_constraint("uq_agreement_document_version_language", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_agreement_document_version_id"), ["version_id"])
        batch_op.drop_column("language")
