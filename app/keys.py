"""`mend keys`: generate encryption keys, show which key holds each column's values, rotate to the active key.

Rotation reads and writes the stored ciphertext with plain SQL on one column at a time: rows are not
loaded as models, so no updated_at changes, nothing is hashed again, and no audit event but the
summary is written. Each batch commits; a value already under the active key is never selected again,
so an interrupted run picks up where it stopped when it is run again.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from sqlmodel import Session, SQLModel

import app.models  # noqa: F401  (every table on SQLModel.metadata, so every encrypted column is found)
from app.actor import Actor
from app.audit.service import record_event
from app.crypto import FORMAT, Keyring, KeyringError, encrypted_columns, get_keyring, key_id_of, new_key_line

PLAINTEXT = "plaintext"  # the status bucket of values that are not encrypted
DEFAULT_BATCH = 500


@dataclass(frozen=True)
class ColumnStatus:
    column: str  # "table.column"
    by_key: dict[str, int]  # key id (or PLAINTEXT) -> how many values

    @property
    def total(self) -> int:
        return sum(self.by_key.values())


@dataclass
class RotationReport:
    active_key: str
    reencrypted: dict[str, int] = field(default_factory=dict)  # "table.column" -> values rewritten
    batches: int = 0

    @property
    def total(self) -> int:
        return sum(self.reencrypted.values())


def _raw(column: sa.Column[Any]) -> tuple[sa.TableClause, sa.ColumnClause[Any], sa.ColumnClause[Any]]:
    """The column as plain TEXT (no decryption), with its table's id."""
    table = sa.table(column.table.name, sa.column("id", sa.Integer), sa.column(column.name, sa.Text))
    return table, table.c.id, table.c[column.name]


def key_status(session: Session) -> list[ColumnStatus]:
    """Per encrypted column, how many values each key id holds and how many are plaintext. No value is read
    beyond its header."""
    statuses = []
    header = len(FORMAT) + 34  # "enc:v1:" + a key id of at most 32 characters + ":"
    for column in encrypted_columns(SQLModel.metadata):
        table, _, value = _raw(column)
        counts: Counter[str] = Counter()
        rows = session.execute(
            sa.select(sa.func.substr(value, 1, header)).select_from(table).where(value.is_not(None)),
            execution_options={"yield_per": 5000},
        )
        for (start,) in rows:
            counts[key_id_of(start) or PLAINTEXT] += 1
        statuses.append(ColumnStatus(f"{column.table.name}.{column.name}", dict(sorted(counts.items()))))
    return statuses


def rotate_keys(
    session: Session,
    *,
    keyring: Keyring | None = None,
    batch_size: int = DEFAULT_BATCH,
    after_batch: Callable[[RotationReport], None] | None = None,
) -> RotationReport:
    """Re-encrypt under the active key every value that is not (plaintext included), committing each batch.

    Safe to run again at any time: it only ever selects values not yet under the active key. An update is
    conditional on the value being unchanged since it was read, so a concurrent edit (already written under
    the active key) is left alone."""
    keyring = keyring or get_keyring()
    report = RotationReport(active_key=keyring.active_id)
    current = f"{FORMAT}{keyring.active_id}:%"
    for column in encrypted_columns(SQLModel.metadata):
        name = f"{column.table.name}.{column.name}"
        table, row_id, value = _raw(column)
        last_id = 0
        while True:
            batch = session.execute(
                sa.select(row_id, value)
                .where(row_id > last_id, value.is_not(None), value.not_like(current))
                .order_by(row_id)
                .limit(batch_size)
            ).all()
            if not batch:
                break
            changes = [{"row_id": rid, "old": old, "new": keyring.reencrypt(old, column=name)} for rid, old in batch]
            session.execute(
                table.update()
                .where(row_id == sa.bindparam("row_id"), value == sa.bindparam("old"))
                .values({column.name: sa.bindparam("new")}),
                changes,
            )
            session.commit()
            report.reencrypted[name] = report.reencrypted.get(name, 0) + len(batch)
            report.batches += 1
            last_id = batch[-1][0]
            if after_batch is not None:
                after_batch(report)
    record_event(
        session,
        actor=Actor.system("mend keys rotate"),
        action="encryption.rotated",
        entity_type="encryption_key",
        entity_id=keyring.active_id,
        detail={"active_key": keyring.active_id, "reencrypted": report.reencrypted, "batches": report.batches},
    )
    session.commit()
    return report


keys_app = typer.Typer(help="Field-encryption keys: generate, status, rotate.", no_args_is_help=True)


@keys_app.command("generate")
def generate(key_id: Annotated[str, typer.Option("--id", help="The new key's id")] = "") -> None:
    """Print a new random key as a `kid:key` entry for MEND_ENCRYPTION_KEYS. Nothing is stored."""
    import datetime

    try:
        line = new_key_line(key_id or datetime.date.today().strftime("k%Y%m%d"))
    except KeyringError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    typer.echo(line)


@keys_app.command("status")
def status() -> None:
    """Per encrypted column: how many values each key id holds, and how many are still plaintext."""
    from app.db import get_engine

    active = get_keyring().active_id
    with Session(get_engine()) as session:
        statuses = key_status(session)
    typer.echo(f"Active key: {active}")
    for s in statuses:
        counts = ", ".join(f"{kid}: {n}" for kid, n in s.by_key.items()) or "no values"
        typer.echo(f"{s.column:40} {counts}")
    stale = sum(n for s in statuses for kid, n in s.by_key.items() if kid != active)
    typer.echo(f"Values not under the active key: {stale}" + (" (run: mend keys rotate)" if stale else ""))


@keys_app.command("rotate")
def rotate(
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=100_000)] = DEFAULT_BATCH,
) -> None:
    """Re-encrypt every value not under the active key (MEND_ENCRYPTION_KEY_ID), batch by batch; rerun to resume."""
    from app.db import get_engine

    def progress(report: RotationReport) -> None:
        typer.echo(f"  batch {report.batches}: {report.total} values re-encrypted so far")

    with Session(get_engine()) as session:
        report = rotate_keys(session, batch_size=batch_size, after_batch=progress)
    typer.echo(f"Re-encrypted {report.total} values under key {report.active_key} in {report.batches} batches.")
    for name, n in report.reencrypted.items():
        typer.echo(f"  {name}: {n}")
