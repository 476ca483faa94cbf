"""Database helpers for tests: reset, migrate, and scratch databases for out-of-process tools; reading
PDF metadata."""

import re
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from app.config import PROJECT_ROOT


def alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logging"] = False
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.connect() as connection:  # migrations/env.py runs and commits its own transaction
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def reset_database(url: str) -> None:
    """Start each run from an empty database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and Path(parsed.database).exists():
            Path(parsed.database).unlink()
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@contextmanager
def scratch_database(base_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of the same kind as the test database, for a separate process."""
    parsed = make_url(base_url)
    if parsed.get_backend_name() == "sqlite":
        url = f"sqlite:///{tmp_path / f'scratch-{uuid.uuid4().hex}.db'}"
        from app.db import make_engine

        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    name = f"mend_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = parsed.set(database=name).render_as_string(hide_password=False)
    try:
        from app.db import make_engine

        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pdf_languages(pdf: bytes) -> set[str]:
    """The /Lang entries of a PDF, looked up in its raw and its deflated streams."""
    found = set(re.findall(rb"/Lang \((\w+)\)", pdf))
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            found |= set(re.findall(rb"/Lang \((\w+)\)", zlib.decompress(stream.group(1))))
        except zlib.error:
            continue
    return {language.decode() for language in found}
