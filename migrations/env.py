"""Alembic environment: the URL comes from Mend's settings; tests may hand in a connection."""

from logging.config import fileConfig

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.config import get_settings
from app.db import make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or get_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    """Run the migrations. On SQLite, batch mode rebuilds a table by copy, drop and rename; with foreign
    keys enforced, dropping a table that other rows point at fails (so would any upgrade of a populated
    database), so enforcement is off while migrating and the result is checked before it is back on."""
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        # On the driver connection: the pragma is ignored inside a transaction, and SQLAlchemy's
        # first statement would begin one (app/db.py emits BEGIN itself).
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"Migration left rows whose foreign keys point nowhere: {broken[:5]}")
    finally:
        if sqlite:
            connection.rollback()  # end the check's transaction, if one is open, so the pragma applies
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
