"""invitations: an admin invites a person, who chooses their own password through an e-mailed link

Creating an account with a chosen address told an admin whether another program already used that
address (sign-in is by address, so it has one account). An invitation answers the same either way.
The outbox gains a recipient address for people who have no account yet.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by_user_id"], ["user_account.id"], name=op.f("fk_user_invitation_invited_by_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_user_invitation_program_id_program")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_invitation_token_hash")),
    )
    with op.batch_alter_table("user_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_invitation_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_invitation_program_id"), ["program_id"], unique=False)
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("recipient_email")
    with op.batch_alter_table("user_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_invitation_program_id"))
        batch_op.drop_index(batch_op.f("ix_user_invitation_email"))
    op.drop_table("user_invitation")
