"""The schema comes from Alembic only: the migrations must produce exactly the models' schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import app.models  # noqa: F401


def test_migrations_produce_exactly_the_models_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_migrations_seed_the_system_audit_chain(engine: Engine) -> None:
    with engine.connect() as connection:
        row = connection.exec_driver_sql("SELECT chain_key, seq FROM audit_chain_head WHERE chain_key = 0").one()
    assert tuple(row) == (0, 0)
