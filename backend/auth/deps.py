"""The signed-in user behind a browser's session cookie, for pages and JSON API calls alike.

Writes made with the cookie must also prove they come from our own pages (CSRF): forms carry a hidden
``csrf_token`` field, API calls an ``X-CSRF-Token`` header, both checked against the session's token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from pydantic import ValidationError
from sqlmodel import Session

from backend import models
from backend.auth.access import reads_flagged_notes, visible_structure_ids
from backend.auth.web_sessions import (
    COOKIE_NAME,
    SESSION_LIFETIME,
    csrf_matches,
    csrf_token_of,
    find_session,
)
from backend.db import SessionDep, release_connection
from backend.problems import forbidden, invalid_filter, unauthenticated
from backend.review.filters import ObservationFilter, check_filter_scope
from backend.review.merged_categories import follow_merged_categories
from shared.messages import field_errors

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class SignedInBrowser:
    user: models.User
    web_session: models.WebSession
    token: str  # the cookie value, needed to sign out or to keep this session on a password change

    @property
    def csrf_token(self) -> str:
        return csrf_token_of(self.token)


def signed_in_browser(request: Request, session: SessionDep) -> SignedInBrowser:
    token = request.cookies.get(COOKIE_NAME)
    found = find_session(session, token)
    release_connection(session)  # the route runs in another thread trip: see release_connection
    if found is None or token is None:
        raise unauthenticated()
    user, record = found
    return SignedInBrowser(user=user, web_session=record, token=token)


SignedInDep = Annotated[SignedInBrowser, Depends(signed_in_browser)]


def current_user(signed_in: SignedInDep) -> models.User:
    return signed_in.user


CurrentUserDep = Annotated[models.User, Depends(current_user)]


@dataclass(frozen=True)
class AskedBy:
    """Who asks, and the database session their request reads with."""

    session: Session
    user: models.User


def asked_by(session: SessionDep, user: CurrentUserDep) -> AskedBy:
    return AskedBy(session, user)


AskedByDep = Annotated[AskedBy, Depends(asked_by)]


def user_scope(session: SessionDep, user: CurrentUserDep) -> set[int] | None:
    """The signed-in user's structures (None: all), to pass as ``allowed_structure_ids``."""
    structure_ids = visible_structure_ids(session, user)
    release_connection(session)
    return structure_ids


ScopeDep = Annotated[set[int] | None, Depends(user_scope)]


def csrf_header(
    signed_in: SignedInDep,
    token: Annotated[str | None, Header(alias=CSRF_HEADER, include_in_schema=True)] = None,
) -> SignedInBrowser:
    if not csrf_matches(signed_in.web_session, token):
        raise forbidden("csrf_failed", code="csrf_failed")
    return signed_in


async def csrf_form(request: Request, signed_in: SignedInDep) -> SignedInBrowser:
    form = await request.form()  # cached on the request: the route still reads its own fields
    presented = form.get(CSRF_FIELD)
    if not csrf_matches(signed_in.web_session, presented if isinstance(presented, str) else None):
        raise forbidden("csrf_failed", code="csrf_failed")
    return signed_in


CsrfApiDep = Annotated[SignedInBrowser, Depends(csrf_header)]
CsrfFormDep = Annotated[SignedInBrowser, Depends(csrf_form)]


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site posts), Secure over https."""
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")


def reader_filter(
    values: dict[str, str], session: Session, user: models.User, allowed: set[int] | None
) -> ObservationFilter:
    """The filters as this reader may apply them: every id they name within the reader's scope (404
    otherwise), and the text searched only in notes the reader may read."""
    try:
        criteria = ObservationFilter.model_validate(values)
    except ValidationError as exc:
        raise invalid_filter(field_errors(exc)) from None
    check_filter_scope(session, criteria, allowed)
    follow_merged_categories(session, criteria, allowed)
    release_connection(session)
    return criteria.for_reader(reads_flagged_notes(user))


def observation_filter(
    request: Request, session: SessionDep, user: CurrentUserDep, allowed: ScopeDep
) -> ObservationFilter:
    """Filters from the query string; empty fields (as a GET form sends them) mean "all"."""
    values = {
        key: value for key, value in request.query_params.items() if value.strip() and key not in NOT_FILTERS
    }
    return reader_filter(values, session, user, allowed)


NOT_FILTERS = frozenset({"page", "page_size", "message"})
FilterDep = Annotated[ObservationFilter, Depends(observation_filter)]


def _filter_parameters() -> list[dict[str, object]]:
    """The filters as OpenAPI query parameters. The dependency reads them from the raw query string (a GET
    form sends empty fields, which mean "all"), so FastAPI cannot see them: routes that take them say so
    with ``openapi_extra=FILTER_QUERY_DOC``."""
    schema = ObservationFilter.model_json_schema()
    definitions = schema.get("$defs", {})
    parameters: list[dict[str, object]] = []
    for name, field_schema in schema["properties"].items():
        kinds = [
            definitions[k["$ref"].rsplit("/", 1)[1]] if "$ref" in k else k
            for k in field_schema.get("anyOf", [field_schema])
            if k.get("type") != "null"
        ]
        described = {k: v for k, v in field_schema.items() if k not in ("anyOf", "title", "default")}
        parameter: dict[str, object] = {
            "name": name,
            "in": "query",
            "required": False,
            "schema": {**kinds[0], **{k: v for k, v in described.items() if k != "description"}},
        }
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameters.append(parameter)
    return parameters


FILTER_QUERY_DOC: dict[str, object] = {"parameters": _filter_parameters()}


def filter_query_doc(path_id: str) -> dict[str, object]:
    """The same for a route whose path names the structure or programme (``path_id``): not twice."""
    return {"parameters": [p for p in _filter_parameters() if p["name"] != path_id]}
