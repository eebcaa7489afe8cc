"""Request parameters the JSON API and the pages share: ids bounded like the database's integers, so that
an id no row can have is refused (422) before it reaches a query (SQLite overflows past 2**63: a 500)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path
from pydantic import BeforeValidator

from shared.schema import DB_INT_MAX, RowId


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


RowIdPath = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
RowIdForm = Annotated[int, Form(ge=1, le=DB_INT_MAX)]
# A form's select left on its empty choice ("none") or an id.
OptionalRowIdForm = Annotated[RowId | None, BeforeValidator(_blank_is_none), Form()]

# Text typed in a page's form, bounded before a service checks it (a name's own rules live in the service).
NameForm = Annotated[str, Form(max_length=500)]  # names, regions, addresses
EmailForm = Annotated[str, Form(max_length=320)]
PasswordForm = Annotated[str, Form(max_length=1000)]
