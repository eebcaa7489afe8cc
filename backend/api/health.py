"""Liveness and readiness: is the process up, can it reach its database."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from backend.db import SessionDep
from backend.services.health import database_status

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    schema_revision: str | None


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(session: SessionDep) -> Health | JSONResponse:
    database, revision = database_status(session)
    result = Health(
        status="ok" if database == "ok" else "degraded", database=database, schema_revision=revision
    )
    if database != "ok":
        return JSONResponse(status_code=503, content=result.model_dump())
    return result
