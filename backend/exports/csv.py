"""CSV export, streamed: the rows are written batch by batch, so memory stays flat whatever the size.

UTF-8 with a byte order mark and ``;`` by default, which is what French Excel opens correctly with a
double click; ``,`` on request for other tools.

Cells hold the same text as in the JSON and XLSX exports, with one exception: text a spreadsheet would
run as a formula that calls something (see ``neutralised``) gets a leading ``'``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import Literal

from backend.exports.rows import COLUMN_HEADERS, ExportRow

Separator = Literal[";", ","]
SEPARATORS: tuple[Separator, ...] = (";", ",")
BOM = "\ufeff"
ROWS_PER_CHUNK = 500


# What a spreadsheet opening the file would run: a cell starting with "=" (after any blanks) is a
# formula in Excel and LibreOffice; Excel also reads a cell starting with "+", "-" or "@" as one, and
# such a formula does harm only when it calls something: a function ("+HYPERLINK(", "@SUM(") or another
# program through DDE ("-cmd|' /C calc'!A0"). Ordinary notes starting with "- ", "-> ", "+33 6…" or
# "@Marie" call nothing and are left as typed: a leading "'" would show in LibreOffice as typed.
_RUNS_AS_FORMULA = re.compile(r"[ \t\r\n]*(?:=|[+\-@].*?(?:[A-Za-z_][\w.]*\(|\|))", re.DOTALL)

_MAY_RUN = frozenset("=+-@ \t\r\n")


def neutralised(text: str) -> str:
    """``text``, with a leading ``'`` if a spreadsheet would run it as a formula calling something."""
    if text[:1] not in _MAY_RUN:  # nearly every cell: no regular expression for it
        return text
    return "'" + text if _RUNS_AS_FORMULA.match(text) else text


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, str):
        return neutralised(value)
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
