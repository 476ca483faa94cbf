"""field encryption: confidential columns become TEXT holding AES-GCM ciphertext; existing rows are encrypted

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 14:30:00

Upgrade encrypts every existing value with the active key of MEND_ENCRYPTION_KEYS (batch by batch);
downgrade decrypts them with the same keyring. None of these columns has an index or a unique constraint,
and no query filters or sorts on them, so there is nothing to drop.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.crypto import FORMAT, get_keyring

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_ROWS = 500

# Every encrypted column as of this revision (app.crypto.encrypted_columns lists the live set).
ENCRYPTED = (
    ("acknowledgement", "wording"),
    ("case_file", "notes"),
    ("case_session", "outcome_note"),
    ("consent", "withdrawal_reason"),
    ("contact_preference", "code_word"),
    ("contact_preference", "email"),
    ("contact_preference", "phone"),
    ("notification", "attachment_body"),
    ("notification", "body"),
    ("participant", "support_needs"),
    ("safety_assessment", "factors"),
    ("safety_assessment", "notes"),
    ("safety_concern", "description"),
    ("safety_concern", "review_note"),
    ("safety_plan", "exit_plan"),
    ("safety_plan", "support_person"),
    ("screening", "answers"),
    ("screening", "override_reason"),
    ("screening", "rationale"),
    ("signature", "ip_address"),
)

# Columns that were not TEXT before: (table, column, old type, nullable). Ciphertext is longer than
# the plaintext limits, so they become TEXT; the length limits stay in the input schemas.
RETYPED = (
    ("contact_preference", "email", sqlmodel.sql.sqltypes.AutoString(length=254), True),
    ("contact_preference", "phone", sqlmodel.sql.sqltypes.AutoString(length=40), True),
    ("contact_preference", "code_word", sqlmodel.sql.sqltypes.AutoString(length=60), True),
    ("safety_plan", "support_person", sqlmodel.sql.sqltypes.AutoString(length=120), False),
    ("signature", "ip_address", sqlmodel.sql.sqltypes.AutoString(length=64), True),
    ("screening", "answers", sa.JSON(), False),
    ("safety_assessment", "factors", sa.JSON(), False),
)


def upgrade() -> None:
    for table, column, old_type, nullable in RETYPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=old_type, type_=sa.Text(), existing_nullable=nullable)
    keyring = get_keyring()
    for table, column in ENCRYPTED:
        name = f"{table}.{column}"
        _rewrite(
            table,
            column,
            lambda value, name=name: value if value.startswith(FORMAT) else keyring.encrypt(value, column=name),
        )


def downgrade() -> None:
    keyring = get_keyring()
    for table, column in ENCRYPTED:
        name = f"{table}.{column}"
        _rewrite(
            table,
            column,
            lambda value, name=name: keyring.decrypt(value, column=name) if value.startswith(FORMAT) else value,
        )
    for table, column, old_type, nullable in RETYPED:
        using = f"{column}::json" if isinstance(old_type, sa.JSON) else None
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.Text(), type_=old_type, existing_nullable=nullable, postgresql_using=using
            )


def _rewrite(table: str, column: str, convert: Callable[[str], str]) -> None:
    """Rewrite every non-null value of one column, BATCH_ROWS rows at a time in id order."""
    connection = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.Text))
    value = rows.c[column]
    last_id = 0
    while True:
        batch = connection.execute(
            sa.select(rows.c.id, value)
            .where(rows.c.id > last_id, value.is_not(None))
            .order_by(rows.c.id)
            .limit(BATCH_ROWS)
        ).all()
        if not batch:
            return
        changed = [{"row_id": row_id, "new": convert(old)} for row_id, old in batch]
        changed = [c for c, (_, old) in zip(changed, batch, strict=True) if c["new"] != old]
        if changed:
            connection.execute(
                rows.update().where(rows.c.id == sa.bindparam("row_id")).values({column: sa.bindparam("new")}),
                changed,
            )
        last_id = batch[-1][0]
