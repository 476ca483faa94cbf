"""`mend retention`: anonymise cases whose retention period ran out."""

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from app.retention.service import CaseChanges

app = typer.Typer(help="Retention: anonymise ended cases past their program's retention period.", no_args_is_help=True)


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("Give the date as YYYY-MM-DD, for example 2032-01-31.") from None


@app.command("run")
def run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would change; write nothing")] = False,
    program: Annotated[int | None, typer.Option(help="Only this program's cases")] = None,
    today: Annotated[
        str | None, typer.Option(help="Take this day (YYYY-MM-DD) as today; default: each program's today")
    ] = None,
) -> None:
    """Anonymise every case that ended (closed, or completed) more than its program's retention_years ago,
    unless it is on legal hold. Each case is its own transaction; a second run finds nothing new."""
    from sqlmodel import Session

    from app.db import get_engine
    from app.programs.models import Program
    from app.retention.service import Skipped, run_retention

    day = _parse_day(today)
    engine = get_engine()
    if program is not None:
        with Session(engine) as session:
            if session.get(Program, program) is None:
                typer.secho(f"There is no program {program}.", fg=typer.colors.RED, err=True)
                raise typer.Exit(code=1)
    heading = "Dry run: nothing is written." if dry_run else "Anonymising cases past retention."
    typer.echo(heading)
    done = 0
    for item in run_retention(engine, dry_run=dry_run, today=day, program_id=program):
        if isinstance(item, Skipped):
            typer.echo(
                f"Left alone: {item.open} open (including cases never closed that have no agreement), "
                f"{item.within_retention} within retention, {item.legal_hold} on legal hold, "
                f"{item.anonymised} already anonymised."
            )
            continue
        done += 1
        typer.echo(_describe(item, dry_run=dry_run))
    verb = "would be anonymised" if dry_run else "anonymised"
    typer.echo(f"{done} case{'' if done == 1 else 's'} {verb}.")


def _describe(changes: "CaseChanges", *, dry_run: bool) -> str:
    verb = "would clear" if dry_run else "cleared"
    lines = [f"Case {changes.reference} (ended {changes.ended_on.isoformat()}): {verb} {changes.fields_cleared} fields"]
    for name, count in sorted(changes.fields.items()):
        lines.append(f"    {name}: {count}")
    if changes.deleted:
        deleted = ", ".join(f"{count} {table}" for table, count in sorted(changes.deleted.items()))
        lines.append(f"  {'would delete' if dry_run else 'deleted'}: {deleted}")
    if changes.documents_bytes:
        lines.append(f"  stored PDFs: {changes.documents_bytes} bytes")
    kept = changes.kept
    roles = ", ".join(f"{count} {role.replace('_', ' ')}" for role, count in kept["participants_by_role"].items())
    lines.append(
        f"  kept: participants {roles or 'none'}; {kept['sessions']} sessions, {kept['commitments']} commitments, "
        f"{kept['progress_entries']} progress entries"
    )
    return "\n".join(lines)
