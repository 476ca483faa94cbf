"""The TechEmpower "Fortunes" test as a minimal FastAPI + SQLAlchemy + Jinja2 app: the yardstick that
`load_bench.py` compares Mend's case list with.

    FORTUNES_DATABASE_URL=postgresql+psycopg://... uvicorn bench.fortunes_app:create_app --factory

GET /fortunes selects every row of its own table (`bench_fortune`, created and filled by
`seed_fortunes`), adds one fortune in memory, sorts by message and renders an HTML table with
autoescaping. It is written the way Mend is: a plain `def` route (FastAPI's thread pool), a sync
SQLAlchemy session per request, an engine made as `app.db.make_engine` makes one for PostgreSQL.
"""

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.orm import Session

TEMPLATES = Path(__file__).resolve().parent / "templates"
metadata = MetaData()
fortune = Table(
    "bench_fortune", metadata, Column("id", Integer, primary_key=True), Column("message", String(2048), nullable=False)
)

# The twelve rows of the TechEmpower benchmark (one with markup, to show it is escaped).
FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]
EXTRA = "Additional fortune added at request time."


def seed_fortunes(url: str) -> int:
    """(Re)create the fortune table in the database at `url` and fill it; returns the row count."""
    engine = create_engine(url)
    with engine.begin() as connection:
        fortune.drop(connection, checkfirst=True)
        fortune.create(connection)
        connection.execute(insert(fortune), [{"id": n, "message": m} for n, m in enumerate(FORTUNES, start=1)])
    engine.dispose()
    return len(FORTUNES)


def create_app() -> FastAPI:
    """The app factory (uvicorn --factory), one engine per worker process."""
    engine = create_engine(os.environ["FORTUNES_DATABASE_URL"], pool_pre_ping=True)
    template = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape()).get_template(
        "fortunes.html"
    )
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/fortunes", response_class=HTMLResponse)
    def fortunes() -> HTMLResponse:
        with Session(engine) as session:
            rows = [(row.id, row.message) for row in session.execute(select(fortune.c.id, fortune.c.message))]
        rows.append((0, EXTRA))
        rows.sort(key=lambda row: row[1])
        return HTMLResponse(template.render(fortunes=[{"id": i, "message": m} for i, m in rows]))

    return app
