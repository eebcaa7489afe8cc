"""Reading the feed: one page of an entity set in the reader's scope, with its count and the query of the
next page. Pages follow the key (``$skiptoken`` holds the last key read), so paging through a million
observations reads each exactly once and every page costs the same; with ``$orderby`` they follow the
position instead. The first page of a read is recorded in the audit log, as an export is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
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


@dataclass(frozen=True)
class Page:
    entity: EntitySet
    rows: list[Row]
    count: int | None  # with $count=true: every row the query selects, all pages together
    next_query: dict[str, str] | None  # the query string of the next page; None: this is the last
    select: tuple[str, ...] | None


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


PageRows = tuple[list[Row], int | None, str | None]  # the rows, the count, the next $skiptoken


def _sql_page(session: Session, reader: Reader, entity: EntitySet, query: FeedQuery, size: int) -> PageRows:
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
    rows = list(islice(entity.read(session, reader, statement.offset(offset).limit(size + 1)), size + 1))
    token = None
    if len(rows) > size:
        rows = rows[:size]
        token = f"k{rows[-1][entity.key]}" if by_key else f"o{offset + size}"
    return rows, count, token


def _small_page(session: Session, reader: Reader, entity: EntitySet, query: FeedQuery, size: int) -> PageRows:
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
    rows = every[offset : offset + size]
    token = f"o{offset + size}" if len(every) > offset + size else None
    return rows, len(every) if query.count else None, token


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
    rows, count, token = reader_page(session, reader, entity, query, size)
    next_query = None
    if token is not None and (remaining is None or remaining > size):
        next_query = {key: value for key, value in params.items() if key not in PAGE_OPTIONS}
        next_query["$skiptoken"] = token
        if remaining is not None:
            next_query["$top"] = str(remaining - size)
    return Page(entity, rows, count, next_query, query.select)


def _record_read(session: Session, reader: Reader, entity: EntitySet, query: FeedQuery) -> None:
    """A read is recorded once, at its first page (the following ones carry a $skiptoken)."""
    details: dict[str, object] = {"entity_set": entity.name, "query": query.filter or "", "via": "odata"}
    commit_audited(session, AuditAction.EXPORT_ODATA, reader.user_id, ("odata", entity.name), details)


def page_body(page: Page, service_root: str, next_link: str | None) -> dict[str, object]:
    """The page as OData JSON (minimal metadata)."""
    selected = page.select
    context = f"{service_root}/$metadata#{page.entity.name}"
    if selected is not None:
        context += f"({','.join(selected)})"
    body: dict[str, object] = {"@odata.context": context}
    if page.count is not None:
        body["@odata.count"] = page.count
    body["value"] = page.rows if selected is None else [{k: row[k] for k in selected} for row in page.rows]
    if next_link is not None:
        body["@odata.nextLink"] = next_link
    return body


def service_document(service_root: str) -> dict[str, object]:
    return {
        "@odata.context": f"{service_root}/$metadata",
        "value": [{"name": name, "kind": "EntitySet", "url": name} for name in ENTITY_SETS],
    }
