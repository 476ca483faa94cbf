"""Benchmark: field encryption throughput, and `mend keys rotate` rows per second.

    uv run --frozen python bench/crypto_bench.py [--values 20000] [--rows 20000] [--batch-size 500]
    MEND_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/mend_bench \\
        uv run --frozen python bench/crypto_bench.py

1. Encrypt and decrypt `--values` values of 300 characters (a typical note) with the keyring, in process.
2. Rotation: a fresh migrated database (a SQLite file in a temporary folder; with MEND_BENCH_DATABASE_URL,
   also a scratch schema in that PostgreSQL database, dropped afterwards) gets `--rows` participants
   whose support needs are encrypted under key bench-1, plus `--rows` / 10 contact preferences (email,
   phone, code word); then `rotate_keys` moves every value to key bench-2, `--batch-size` rows per
   committed batch, and the time is reported as values re-encrypted per second.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="mend-crypto-bench-"))
KEY_1 = "bench-1:YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE"
KEY_2 = "bench-2:c2Vjb25kLWJlbmNoLW9ubHktZmllbGQtZW5jcnlwdGk"
os.environ["MEND_ENV"] = "test"
os.environ.setdefault("MEND_SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnop")
os.environ["MEND_ENCRYPTION_KEYS"] = f"{KEY_1},{KEY_2}"
os.environ["MEND_ENCRYPTION_KEY_ID"] = "bench-1"
os.environ["MEND_DATABASE_URL"] = f"sqlite:///{_TMP / 'unused.db'}"  # never the development database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.conferences.models import Case, Participant  # noqa: E402
from app.crypto import Keyring, get_keyring  # noqa: E402
from app.db import make_engine, utcnow  # noqa: E402
from app.keys import key_status, rotate_keys  # noqa: E402
from app.programs.models import Program  # noqa: E402
from app.safety.models import ContactPreference  # noqa: E402
from tests.support import migrate  # noqa: E402

NOTE = ("Needs a quiet room and breaks every hour; prefers a female facilitator. " * 5)[:300]


def bench_keyring(values: int) -> None:
    keyring = get_keyring()
    column = "participant.support_needs"
    started = time.perf_counter()
    stored = [keyring.encrypt(NOTE, column=column) for _ in range(values)]
    encrypt_s = time.perf_counter() - started
    started = time.perf_counter()
    for value in stored:
        keyring.decrypt(value, column=column)
    decrypt_s = time.perf_counter() - started
    megabytes = values * len(NOTE) / 1e6
    print(f"Keyring, {values:,} values of {len(NOTE)} characters (stored as {len(stored[0])}):")
    print(f"  encrypt {values / encrypt_s:,.0f} values/s ({megabytes / encrypt_s:.1f} MB/s)")
    print(f"  decrypt {values / decrypt_s:,.0f} values/s ({megabytes / decrypt_s:.1f} MB/s)")


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """A scratch database: a SQLite file, or a schema of the given PostgreSQL database."""
    if url is None:
        yield f"sqlite:///{_TMP / f'rotate-{uuid.uuid4().hex[:8]}.db'}"
        return
    schema = f"crypto_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed(engine: sa.Engine, rows: int) -> None:
    now = utcnow()
    with engine.begin() as connection:
        program_id = connection.execute(
            sa.insert(Program).values(name="Bench", created_at=now).returning(Program.id)  # type: ignore[arg-type]
        ).scalar_one()
        case_id = connection.execute(
            sa.insert(Case)
            .values(
                program_id=program_id,
                reference="B-1",
                harm_type="other_serious_harm",
                referral_source="other",
                created_at=now,
                updated_at=now,
            )
            .returning(Case.id)  # type: ignore[arg-type]
        ).scalar_one()
        people = Participant.__table__  # type: ignore[attr-defined]
        for start in range(0, rows, 5000):
            connection.execute(
                people.insert(),
                [
                    {
                        "program_id": program_id,
                        "case_id": case_id,
                        "role": "survivor",
                        "display_name": f"P{n}",
                        "preferred_language": "en",
                        "interpreter_needed": False,
                        "support_needs": NOTE,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(start, min(rows, start + 5000))
                ],
            )
        ids = list(connection.execute(sa.select(people.c.id).limit(rows // 10)).scalars())
        connection.execute(
            ContactPreference.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "program_id": program_id,
                    "participant_id": pid,
                    "channel": "email",
                    "email": f"person{pid}@example.org",
                    "phone": "+34 600 000 000",
                    "code_word": "sunflower",
                    "voicemail_ok": False,
                    "text_ok": False,
                    "others_may_see_messages": True,
                    "discreet": True,
                    "updated_at": now,
                }
                for pid in ids
            ],
        )


def bench_rotation(label: str, url: str | None, rows: int, batch_size: int) -> None:
    with database(url) as scratch:
        engine = make_engine(scratch)
        try:
            migrate(engine)
            started = time.perf_counter()
            seed(engine, rows)
            seed_s = time.perf_counter() - started
            with Session(engine) as session:
                started = time.perf_counter()
                report = rotate_keys(
                    session, keyring=Keyring.parse(f"{KEY_1},{KEY_2}", "bench-2"), batch_size=batch_size
                )
                rotate_s = time.perf_counter() - started
                stale = sum(n for s in key_status(session) for kid, n in s.by_key.items() if kid != "bench-2")
        finally:
            engine.dispose()
    print(f"Rotation on {label}: {report.total:,} values in {report.batches} batches of {batch_size}")
    print(f"  seeding (encrypting through the column type) {report.total / seed_s:,.0f} values/s")
    print(f"  rotate {rotate_s:.2f} s, {report.total / rotate_s:,.0f} values/s; left under the old key: {stale}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load}, Python {platform.python_version()}"
    )
    bench_keyring(args.values)
    bench_rotation("SQLite", None, args.rows, args.batch_size)
    pg_url = os.environ.get("MEND_BENCH_DATABASE_URL")
    if pg_url:
        bench_rotation("PostgreSQL", pg_url, args.rows, args.batch_size)
    else:
        print("PostgreSQL: skipped (set MEND_BENCH_DATABASE_URL)")


if __name__ == "__main__":
    main()
