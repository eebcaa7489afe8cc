"""Reading the feed: one page of an entity set in the reader's scope, with its count and the query of the
next page. Pages follow the key (``$skiptoken`` holds the last key read), so paging through a million
observations reads each exactly once and every page costs the same; with ``$orderby`` they follow the
position instead. The first page of a read is recorded in the audit log, as an export is.

A page's rows are read from the database cursor as its JSON is written (``page_chunks``): a page is never
held whole, neither as rows nor as its JSON text, so the server's memory does not grow with the page
size, and the link to the next page comes last, as OData's streaming JSON allows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, Uuid, func
from sqlmodel import Session

from backend.audit.actions import AuditAction
from backend.audit.service import commit_audited
from backend.odata.entities import ENTITY_SETS, EntitySet, Reader, Row
from backend.odata.query import FeedQuery, filter_condition, invalid_query, read_query
from backend.privacy.pending import screen_pending
from backend.problems import not_found

PAGE_SIZE = 1000
PAGE_OPTIONS = ("$skiptoken", "$top", "$skip")


class PageRows:
    """A page's rows, one at a time from the cursor, at most ``size`` of them: one more row is read to learn
    whether another page follows, and the last row's key is kept for its ``$skiptoken``."""

    def __init__(self, rows: Iterator[Row], size: int) -> None:
        self._rows, self.size = rows, size
        self.read, self.more = 0, False
        self.last: Row | None = None
        # Read the first row now: a query the database refuses fails before the answer starts.
        first = next(self._rows, None)
        self._first = [] if first is None else [first]

    def __iter__(self) -> Iterator[Row]:
        try:
            for row in chain(self._first, self._rows):
                if self.read == self.size:
                    self.more = True
                    return
                self.read += 1
                self.last = row
                yield row
        finally:
            self.close()

    def close(self) -> None:
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()  # the cursor, when the page ends before the rows do


@dataclass(frozen=True)
class Page:
    entity: EntitySet
    rows: PageRows
    count: int | None  # with $count=true: every row the query selects, all pages together
    select: tuple[str, ...] | None
    # The query string of the next page (None: this is the last), known once the rows are read.
    next_query: Callable[[], dict[str, str] | None] = field(repr=False)


def entity_set(name: str) -> EntitySet:
    entity = ENTITY_SETS.get(name)
    if entity is None:
        raise not_found(says="odata_unknown_entity_set", name=name, known=", ".join(ENTITY_SETS))
    return entity


def _key_value(column: Any, token: str) -> object:
    try:
        if isinstance(column.type, Uuid):
            return UUID(token)
        if isinstance(column.type, Integer):
            return int(token)
    except ValueError:
        raise invalid_query("$skiptoken illisible : reprenez au lien @odata.nextLink") from None
    return token


def _position(token: str | None) -> tuple[str, str]:
    """("k", last key) or ("o", offset) from a ``$skiptoken`` this service wrote."""
    if token is None:
        return "o", "0"
    kind, value = token[:1], token[1:]
    if kind not in {"k", "o"} or (kind == "o" and not value.isdigit()):
        raise invalid_query("$skiptoken illisible : reprenez au lien @odata.nextLink")
    return kind, value


# The rows (an iterator: a page of them and one more, when there is one), the count, and what makes the
# next page's $skiptoken from the last row sent (its key, or the offset where the next page starts).
SetRows = tuple[Iterator[Row], int | None, Callable[[Row], str]]


def _sql_page(session: Session, reader: Reader, entity: EntitySet, query: FeedQuery, size: int) -> SetRows:
    assert entity.statement is not None and entity.key_column is not None
    statement = entity.statement(reader)
    if query.filter:
        statement = statement.where(filter_condition(entity, query.filter))
    count = None
    if query.count:
        counting = statement.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
        count = int(session.connection().execute(counting).scalar_one())
    key = entity.key_column()
    kind, value = _position(query.skiptoken)
    by_key = not query.orderby
    columns = entity.columns()
    # OData sorts null as less than any value (PostgreSQL would put it last going up, first going down).
    order = [
        columns[name].desc().nulls_last() if descending else columns[name].asc().nulls_first()
        for name, descending in query.orderby
    ]
    statement = statement.order_by(None).order_by(*order, key)
    offset = int(value) if kind == "o" else 0
    if query.skiptoken is None:
        offset += query.skip
    if kind == "k":
        if not by_key:
            raise invalid_query("$skiptoken illisible : reprenez au lien @odata.nextLink")
        statement = statement.where(key > _key_value(key, value))
    rows = entity.read(session, reader, statement.offset(offset).limit(size + 1))

    def token(last: Row) -> str:
        return f"k{last[entity.key]}" if by_key else f"o{offset + size}"

    return rows, count, token


def _small_page(session: Session, reader: Reader, entity: EntitySet, query: FeedQuery, size: int) -> SetRows:
    """A set read whole (the categories of a few grids): no $filter nor $orderby."""
    if query.filter:
        filter_condition(entity, query.filter)  # says it is not offered
    if query.orderby:
        raise invalid_query(f"$orderby n'est pas proposé sur {entity.name}")
    kind, value = _position(query.skiptoken)
    if kind != "o":
        raise invalid_query("$skiptoken illisible : reprenez au lien @odata.nextLink")
    every = list(entity.read(session, reader, None))
    offset = int(value) + (query.skip if query.skiptoken is None else 0)
    return (
        iter(every[offset : offset + size + 1]),
        len(every) if query.count else None,
        lambda _: f"o{offset + size}",
    )


def read_page(
    session: Session,
    reader: Reader,
    name: str,
    params: Mapping[str, str],
    *,
    page_size: int = PAGE_SIZE,
) -> Page:
    entity = entity_set(name)
    query = read_query(entity, params)
    remaining = query.top
    size = page_size if remaining is None else min(page_size, remaining)
    if query.skiptoken is None:
        _record_read(session, reader, entity, query)
    if name == "observations":
        screen_pending(session, reader.allowed_structure_ids)  # notes pushed a moment ago, in one batch
    reader_page = _sql_page if entity.statement is not None else _small_page
    source, count, token = reader_page(session, reader, entity, query, size)
    rows = PageRows(source, size)

    def next_query() -> dict[str, str] | None:
        if not rows.more or rows.last is None or (remaining is not None and remaining <= size):
            return None
        following = {key: value for key, value in params.items() if key not in PAGE_OPTIONS}
        following["$skiptoken"] = token(rows.last)
        if remaining is not None:
            following["$top"] = str(remaining - size)
        return following

    return Page(entity, rows, count, query.select, next_query)


def _record_read(session: Session, reader: Reader, entity: EntitySet, query: FeedQuery) -> None:
    """A read is recorded once, at its first page (the following ones carry a $skiptoken)."""
    details: dict[str, object] = {"entity_set": entity.name, "query": query.filter or "", "via": "odata"}
    commit_audited(session, AuditAction.EXPORT_ODATA, reader.user_id, ("odata", entity.name), details)


ROWS_PER_CHUNK = 100


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def page_chunks(page: Page, service_root: str, link: Callable[[dict[str, str]], str]) -> Iterator[bytes]:
    """The page as OData JSON (minimal metadata), written as its rows come from the cursor, a hundred
    rows a chunk; ``@odata.nextLink`` (``link`` makes it from the next page's query string) comes last."""
    selected = page.select
    context = f"{service_root}/$metadata#{page.entity.name}"
    if selected is not None:
        context += f"({','.join(selected)})"
    head = f'{{"@odata.context":{_json(context)}'
    if page.count is not None:
        head += f',"@odata.count":{page.count}'
    parts = [head + ',"value":[']
    for number, row in enumerate(page.rows):
        shown = row if selected is None else {name: row[name] for name in selected}
        parts.append(("," if number else "") + _json(shown))
        if len(parts) >= ROWS_PER_CHUNK:
            yield "".join(parts).encode()
            parts.clear()
    following = page.next_query()
    parts.append("]" if following is None else f'],"@odata.nextLink":{_json(link(following))}')
    yield ("".join(parts) + "}").encode()


def service_document(service_root: str) -> dict[str, object]:
    return {
        "@odata.context": f"{service_root}/$metadata",
        "value": [{"name": name, "kind": "EntitySet", "url": name} for name in ENTITY_SETS],
    }
