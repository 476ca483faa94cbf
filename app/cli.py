"""The `mend` command line: programs, users, demo data, audit verification, serving."""

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlmodel import Session

from app.actor import Actor
from app.config import InsecureConfiguration, get_settings
from app.db import get_engine
from app.keys import keys_app
from app.retention import cli as retention_cli

WORKER_HEALTHCHECK_SECONDS = 60

app = typer.Typer(help="Mend: restorative-justice case management.", no_args_is_help=True, add_completion=False)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(retention_cli.app, name="retention")
app.add_typer(keys_app, name="keys")


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


DEVELOPMENT_HINT = (
    "On the development install `make run` made, run commands through ./mend in the checkout "
    "(for example `./mend audit verify`): it uses development settings, as `make run` does."
)


@app.callback()
def _settings_first(ctx: typer.Context) -> None:
    """Load the settings before any command, so a missing or weak secret is one plain message, not a
    traceback. `mend keys` works without them: it makes the keys they need."""
    if ctx.invoked_subcommand == "keys":
        return
    try:
        get_settings()
    except InsecureConfiguration as exc:
        _fail(f"{exc}\n{DEVELOPMENT_HINT}")
    except ValidationError as exc:
        problems = " ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
        _fail(f"{problems}\n{DEVELOPMENT_HINT}")


@app.command("migrate")
def migrate() -> None:
    """Apply the database migrations (alembic upgrade head)."""
    from alembic import command
    from alembic.config import Config

    from app.config import PROJECT_ROOT

    command.upgrade(Config(str(PROJECT_ROOT / "alembic.ini")), "head")


@app.command("serve")
def serve(workers: Annotated[int, typer.Option(min=1, max=32)] = 1) -> None:
    """Serve Mend at MEND_HOST:MEND_PORT (default 127.0.0.1:8000)."""
    import uvicorn

    settings = get_settings()
    print(f"Mend is running at {settings.public_base_url}/  (Ctrl+C stops it)", flush=True)
    if settings.env == "development":
        print("Commands for this install, such as demo data and the audit check: ./mend --help", flush=True)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        proxy_headers=True,
        log_level="warning",
        # A worker answers the supervisor's health check only once it has imported the app; on a busy
        # machine that takes longer than uvicorn's 5 s, and the supervisor would kill and restart it forever.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


@app.command("create-program")
def create_program(
    name: Annotated[str, typer.Argument(help="The program's name")],
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Madrid")] = "UTC",
) -> None:
    """Create a program (a tenant)."""
    from app.programs.schemas import ProgramCreate
    from app.programs.service import create_program as create

    try:
        data = ProgramCreate(name=name, timezone=timezone)
    except ValidationError as exc:
        _fail("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()))
    with Session(get_engine()) as session:
        program = create(session, actor=Actor.system(), data=data)
        session.commit()
        typer.echo(f"Created program {program.id}: {program.name} ({program.timezone})")


@app.command("create-user")
def create_user(
    program: Annotated[int, typer.Option(help="Program id")],
    email: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option(help="Full name")],
    role: Annotated[str, typer.Option(help="admin, facilitator or staff")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a user. The password is asked for at a prompt (or read from stdin), never taken as an argument."""
    from app.auth.schemas import UserCreate
    from app.auth.service import create_user as create
    from app.errors import AppError
    from app.programs.models import Program

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = UserCreate(email=email, full_name=name, role=role, password=password)  # type: ignore[arg-type]
    except ValidationError as exc:
        _fail("; ".join(f"{e['loc'][0]}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()))
    with Session(get_engine()) as session:
        if session.get(Program, program) is None:
            _fail(f"There is no program {program}.")
        try:
            user = create(session, actor=Actor.system(program_id=program), program_id=program, data=data)
        except AppError as exc:
            _fail(exc.message)
        session.commit()
        typer.echo(f"Created {user.role} {user.email} (user {user.id}) in program {program}")


@app.command("load-demo")
def load_demo(
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the demo accounts' password from stdin")
    ] = False,
) -> None:
    """Load a fictional demo program with an admin, two facilitators, staff and a few cases."""
    from app.demo import load_demo_data

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password for the demo accounts", hide_input=True, confirmation_prompt=True)
    with Session(get_engine()) as session:
        try:
            summary = load_demo_data(session, password=password)
        except ValidationError as exc:  # a weak password; pydantic's own text would echo it back
            _fail("; ".join(f"{e['loc'][0]}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()))
        except ValueError as exc:
            _fail(str(exc))
        session.commit()
    typer.echo(summary)


@audit_app.command("checkpoint")
def checkpoint(
    append: Annotated[Path | None, typer.Option(help="Append the checkpoint to this file (one JSON line each)")] = None,
) -> None:
    """Print the signed head of every audit chain, as one JSON line; keep it outside the database
    (run it hourly from cron into a file on other storage). `mend audit verify --checkpoints` compares."""
    from app.audit.service import take_checkpoint

    with Session(get_engine()) as session:
        line = json.dumps(take_checkpoint(session), sort_keys=True)
    if append is None:
        typer.echo(line)
        return
    with append.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
    typer.echo(f"Checkpoint appended to {append}.")


@audit_app.command("verify")
def verify(
    program: Annotated[int | None, typer.Option(help="Check one program's chain only")] = None,
    checkpoints: Annotated[
        Path | None, typer.Option(help="A file of checkpoints (`mend audit checkpoint`) the log must still agree with")
    ] = None,
) -> None:
    """Check every audit chain; report the first broken link and exit non-zero if there is one."""
    from app.audit.service import verify_chains

    taken: list[dict] = []
    if checkpoints is not None:
        try:
            taken = [json.loads(line) for line in checkpoints.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, ValueError) as exc:
            _fail(f"The checkpoints in {checkpoints} cannot be read: {exc}")
    with Session(get_engine()) as session:
        report = verify_chains(session, chain_key=program, checkpoints=taken)
    if program is not None and report.chains_checked == 0:
        _fail(f"There is no audit chain for program {program}.")
    if report.ok:
        against = f", agreeing with {report.checkpoints_checked} checkpoints" if checkpoints is not None else ""
        typer.echo(
            f"Audit log intact: {report.events_checked} events in {report.chains_checked} chains verified{against}."
        )
        return
    broken = report.first_break
    assert broken is not None
    where = f"event id {broken.event_id}" if broken.event_id is not None else "the chain head"
    _fail(
        f"Audit log BROKEN in chain {broken.chain_key} at sequence {broken.seq} ({where}): {broken.reason}. "
        f"{report.events_checked} events were checked."
    )


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="Drain what is due now, then stop")] = False,
    interval: Annotated[float, typer.Option(min=1, help="Seconds between rounds")] = 30.0,
    checkpoints: Annotated[
        Path | None,
        typer.Option(help="Append a signed audit checkpoint to this file when the last one is an hour old"),
    ] = None,
) -> None:
    """Queue the commitment reminders and alerts that are due, then send due notifications from the
    outbox over SMTP; several workers may run at once. With --checkpoints, also keep an hourly record
    of the audit chains' signed heads (keep that file on storage the database's administrators cannot
    rewrite; `mend audit verify --checkpoints` compares)."""
    import time

    from app.agreements.reminders import queue_commitment_reminders
    from app.audit.service import take_checkpoint
    from app.db import utcnow
    from app.notifications.worker import SmtpTransport, drain

    while True:
        with Session(get_engine()) as session:  # its own short transaction, before the drain
            queued = queue_commitment_reminders(session, now=utcnow())
            session.commit()
        typer.echo(f"queued: {queued}")
        if checkpoints is not None and _checkpoint_due(checkpoints, now=utcnow()):
            with Session(get_engine()) as session:
                line = json.dumps(take_checkpoint(session), sort_keys=True)
            with checkpoints.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
            typer.echo(f"audit checkpoint appended to {checkpoints}")
        with SmtpTransport() as transport:
            typer.echo(f"outbox: {drain(get_engine(), transport=transport)}")
        if once:
            return
        time.sleep(interval)


def _checkpoint_due(path: Path, *, now: datetime) -> bool:
    """Whether the newest checkpoint in `path` is an hour old or more (or there is none)."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        taken = datetime.fromisoformat(json.loads(lines[-1])["taken_at"].replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, IndexError):
        return True
    return now - taken >= timedelta(hours=1)


@app.command("setup-link")
def setup_link() -> None:
    """Print a new one-time first-admin link (only while no account exists)."""
    from app.main import announce_setup_link

    if announce_setup_link() is None:
        _fail("Mend already has accounts; sign in, or ask an administrator.")


if __name__ == "__main__":
    app()
