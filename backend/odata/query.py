"""The query options of a feed request ($filter, $select, $orderby, $top, $skip, $count, $skiptoken), read
from the query string and checked against the entity set. ``$filter`` is parsed by the maintained
``odata-query`` library and translated to a SQLAlchemy condition on the set's own columns only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from odata_query import ast as odata_ast
from odata_query import exceptions as odata_errors
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.sqlalchemy.core import AstToSqlAlchemyCoreVisitor
from sqlalchemy import Uuid, bindparam
from sqlalchemy.sql.elements import BindParameter

from backend.errors import ApiError
from backend.odata.entities import EntitySet
from backend.problems import problem

SUPPORTED = frozenset({"$filter", "$select", "$orderby", "$top", "$skip", "$count", "$skiptoken", "$format"})
TOP_MAX = 10_000_000


@dataclass(frozen=True)
class FeedQuery:
    filter: str | None = None
    select: tuple[str, ...] | None = None  # None: every property
    orderby: tuple[tuple[str, bool], ...] = ()  # (property, descending)
    top: int | None = None
    skip: int = 0
    count: bool = False
    skiptoken: str | None = None


def invalid_query(reason: str) -> ApiError:
    """400 with what is wrong in the request's query options."""
    return problem(400, "odata_invalid_query", reason=reason)


def _number(name: str, text: str) -> int:
    if not text.isdigit() or int(text) > TOP_MAX:
        raise invalid_query(f"{name} attend un entier positif, pas « {text} »")
    return int(text)


def _property(entity: EntitySet, name: str, option: str) -> str:
    if name not in entity.properties:
        raise invalid_query(f"{option} : « {name} » n'est pas une propriété de {entity.name}")
    return name


def read_query(entity: EntitySet, params: Mapping[str, str]) -> FeedQuery:
    unknown = sorted(key for key in params if key.startswith("$") and key not in SUPPORTED)
    if unknown:
        raise invalid_query(f"option non prise en charge : {', '.join(unknown)}")
    if params.get("$format", "json").split(";")[0].strip().lower() not in {"json", "application/json"}:
        raise invalid_query("seul le format JSON est proposé ($format=json)")
    select = None
    if params.get("$select", "").strip() not in {"", "*"}:
        select = tuple(
            _property(entity, name.strip(), "$select")
            for name in params["$select"].split(",")
            if name.strip()
        )
    orderby: list[tuple[str, bool]] = []
    for clause in filter(None, (part.strip() for part in params.get("$orderby", "").split(","))):
        name, _, direction = clause.partition(" ")
        direction = direction.strip().lower() or "asc"
        if direction not in {"asc", "desc"}:
            raise invalid_query(f"$orderby : sens « {direction} » inconnu (asc ou desc)")
        if name not in entity.columns():
            raise invalid_query(f"$orderby : {entity.name} ne se trie pas par « {name} »")
        orderby.append((name, direction == "desc"))
    count = params.get("$count", "false").lower()
    if count not in {"true", "false"}:
        raise invalid_query("$count attend true ou false")
    return FeedQuery(
        filter=params.get("$filter") or None,
        select=select,
        orderby=tuple(orderby),
        top=_number("$top", params["$top"]) if "$top" in params else None,
        skip=_number("$skip", params["$skip"]) if "$skip" in params else 0,
        count=count == "true",
        skiptoken=params.get("$skiptoken") or None,
    )


class _OnColumns(AstToSqlAlchemyCoreVisitor):
    """The library's SQLAlchemy translation, on the entity set's columns by property name; a literal
    takes the type of the column it is compared with (UTC times, UUIDs as the database stores them)."""

    def __init__(self, columns: dict[str, Any]) -> None:
        self.columns = columns

    def visit_Identifier(  # noqa: N802 (the library's visitor names)
        self, node: odata_ast.Identifier
    ) -> Any:
        if node.name not in self.columns:
            raise odata_errors.InvalidFieldException(node.name)
        return self.columns[node.name]

    def visit_Compare(  # noqa: N802
        self, node: odata_ast.Compare
    ) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(right, BindParameter) and hasattr(left, "type"):
            value = right.value
            if isinstance(left.type, Uuid) and isinstance(value, str):
                value = UUID(value)
            right = bindparam(None, value, type_=left.type)
        return self.visit(node.comparator)(left, right)


def filter_condition(entity: EntitySet, text: str) -> Any:
    """The SQL condition of a ``$filter``; a 400 that says what is wrong otherwise."""
    columns = entity.columns()
    if not columns:
        raise invalid_query(f"$filter n'est pas proposé sur {entity.name}")
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
        return _OnColumns(columns).visit(tree)
    except odata_errors.InvalidFieldException as exc:
        filterable = ", ".join(columns)
        raise invalid_query(f"$filter : {exc} — filtrables : {filterable}") from None
    except (odata_errors.ODataException, ValueError, TypeError, NotImplementedError) as exc:
        raise invalid_query(f"$filter : {exc or type(exc).__name__}") from None
