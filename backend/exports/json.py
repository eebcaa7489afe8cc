"""JSON export of the same rows, for other tools: an object with what was exported and the rows under
``observations`` (stable keys, codes and French labels). Streamed like the CSV."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from backend.exports.rows import ExportRow

ROWS_PER_CHUNK = 500


def json_chunks(rows: Iterable[ExportRow], about: dict[str, Any]) -> Iterator[bytes]:
    """``about`` (filters, export time, options) goes first, then ``"observations": [...]``."""
    head = json.dumps(about, ensure_ascii=False)
    yield (head[:-1] + (", " if about else "") + '"observations": [\n').encode("utf-8")
    pieces: list[str] = []
    first = True
    for row in rows:
        pieces.append(("" if first else ",\n") + json.dumps(row.as_dict(), ensure_ascii=False))
        first = False
        if len(pieces) == ROWS_PER_CHUNK:
            yield "".join(pieces).encode("utf-8")
            pieces.clear()
    pieces.append("\n]}\n")
    yield "".join(pieces).encode("utf-8")
