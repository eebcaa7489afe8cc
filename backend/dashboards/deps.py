"""What the comparison pages and routes read from the query string: empty fields (as a GET form sends them)
mean "not given"; anything else invalid is the filters' 422."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, ValidationError

from backend.dashboards.rate_comparison import PeriodsAsked, StructuresAsked
from backend.problems import invalid_filter
from shared.messages import field_errors

_Asked = TypeVar("_Asked", bound=BaseModel)


def _from_query(request: Request, model: type[_Asked]) -> _Asked:
    values = {key: value for key, value in request.query_params.items() if value.strip()}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise invalid_filter(field_errors(exc)) from None


def periods_asked(request: Request) -> PeriodsAsked:
    return _from_query(request, PeriodsAsked)


def structures_asked(request: Request) -> StructuresAsked:
    return _from_query(request, StructuresAsked)


PeriodsDep = Annotated[PeriodsAsked, Depends(periods_asked)]
StructuresDep = Annotated[StructuresAsked, Depends(structures_asked)]
# The JSON routes read them as FastAPI does (its own 422 for a wrong value).
PeriodsQuery = Annotated[PeriodsAsked, Query()]
StructuresQuery = Annotated[StructuresAsked, Query()]
