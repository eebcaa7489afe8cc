"""The observation grid, as tablets and pages read it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backend.errors import ErrorBody
from backend.problems import problem
from shared.taxonomy import UnknownTaxonomyVersionError, available_versions, current_taxonomy, load_taxonomy

router = APIRouter(prefix="/api/v1/taxonomy", tags=["taxonomy"])


@router.get("")
def taxonomy_versions() -> dict[str, Any]:
    return {"current": current_taxonomy().version, "versions": available_versions()}


@router.get("/{version}", responses={404: {"model": ErrorBody}})
def taxonomy(version: str) -> dict[str, Any]:
    try:
        return load_taxonomy(version).as_dict()
    except UnknownTaxonomyVersionError:
        raise problem(404, "unknown_taxonomy_version", version=version) from None
