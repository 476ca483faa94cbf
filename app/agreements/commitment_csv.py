"""The CSV export of the commitment list: the filtered rows, safe to open in a spreadsheet.

A cell that starts with = + - @, a tab or a carriage return is prefixed with an apostrophe, so a
spreadsheet shows it as text instead of running it as a formula. The export holds no confidential
field: no names, contact details, notes or evidence, only what the list shows about each commitment
(who owes it is given by role).
"""

import csv
import io
from collections.abc import Iterable, Iterator

from app.agreements.commitment_queries import CommitmentRow

CHUNK_ROWS = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = (
    "case_reference",
    "agreement_version",
    "term",
    "commitment",
    "kind",
    "owed_by",
    "due_on",
    "owed",
    "done",
    "status",
    "completed_on",
    "facilitators",
    "verification",
)


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cells(row: CommitmentRow) -> tuple[object, ...]:
    return (
        row.case_reference,
        row.version_number,
        row.term_number,
        row.description,
        row.kind_label,
        row.owed_by_role.replace("_", " "),
        row.due_on.isoformat() if row.due_on else "",
        row.quantity_text,
        row.done_text,
        row.status_label,
        row.completed_on.isoformat() if row.completed_on else "",
        "; ".join(row.facilitators),
        row.verification,
    )


def csv_lines(rows: Iterable[CommitmentRow]) -> Iterator[str]:
    """The header and the rows as CSV text, in chunks of CHUNK_ROWS lines, for a streaming response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow(COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(cell) for cell in _cells(row)])
        if count % CHUNK_ROWS == 0:  # a few hundred lines per chunk: one per row costs seconds
            yield flush()
    yield flush()
