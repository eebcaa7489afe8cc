"""CSV export, streamed: the rows are written batch by batch, so memory stays flat whatever the size.

UTF-8 with a byte order mark and ``;`` by default, which is what French Excel opens correctly with a
double click; ``,`` on request for other tools.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Literal

from backend.exports.rows import COLUMN_HEADERS, ExportRow

Separator = Literal[";", ","]
SEPARATORS: tuple[Separator, ...] = (";", ",")
BOM = "\ufeff"
ROWS_PER_CHUNK = 500


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # a note typed as "=..." must not run as a formula when Excel opens the file
    return "" if value is None else value


def csv_chunks(rows: Iterable[ExportRow], separator: Separator = ";") -> Iterator[bytes]:
    """The CSV file as UTF-8 chunks of a few hundred rows: the header first, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(COLUMN_HEADERS.values())
    pending = 0
    for row in rows:
        writer.writerow([_cell(value) for value in row])
        pending += 1
        if pending == ROWS_PER_CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")
