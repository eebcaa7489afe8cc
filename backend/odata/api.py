"""The OData v4 feed under /odata/v4/: service document, $metadata, and one route per entity set.

Excel and Power BI sign in with HTTP Basic: any user name (the e-mail address, say), a personal feed
token as the password (created on the account page or with ``vigie feed-token create``)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from sqlmodel import Session

from backend.auth.access import visible_structure_ids
from backend.db import SessionDep
from backend.errors import ApiError
from backend.odata.csdl import metadata_xml
from backend.odata.entities import Reader
from backend.odata.service import PAGE_SIZE, page_chunks, read_page, service_document
from backend.odata.tokens import user_for_feed_token
from backend.problems import problem

PREFIX = "/odata/v4"
# Not in the OpenAPI schema: the feed describes itself in $metadata, for the tools that read it.
router = APIRouter(prefix=PREFIX, include_in_schema=False)
HEADERS = {"OData-Version": "4.0"}
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false"


def _unauthenticated() -> ApiError:
    return problem(
        401, "feed_token_invalid", headers={"WWW-Authenticate": 'Basic realm="Vigie OData", charset="UTF-8"'}
    )


def _token(request: Request) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise _unauthenticated()
    try:
        _user, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _unauthenticated() from None
    return password


def feed_reader(request: Request, session: SessionDep) -> Reader:
    user = user_for_feed_token(session, _token(request))
    if user is None or user.id is None:
        raise _unauthenticated()
    allowed = visible_structure_ids(session, user)
    return Reader(user.id, None if allowed is None else frozenset(allowed))


ReaderDep = Annotated[Reader, Depends(feed_reader)]


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


@router.get("/")
@router.get("")
def service(request: Request, _reader: ReaderDep) -> JSONResponse:
    return JSONResponse(service_document(_root(request)), headers=HEADERS, media_type=JSON_TYPE)


@router.get("/$metadata")
def metadata(_reader: ReaderDep) -> Response:
    return Response(metadata_xml(), media_type="application/xml", headers=HEADERS)


def _max_page_size(request: Request) -> int | None:
    """A client's ``Prefer: odata.maxpagesize=N`` (Power BI sends none; a smaller page is its right)."""
    for preference in request.headers.get("Prefer", "").split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() == "odata.maxpagesize" and value.strip().isdigit() and int(value) > 0:
            return int(value)
    return None


@router.get("/{name}")
def entity_set(name: str, request: Request, reader: ReaderDep) -> StreamingResponse:
    """A page of the set, streamed as its rows are read (``service.page_chunks``): the body is written
    after this function returns, with a session of its own, closed at the end."""
    preferred = _max_page_size(request)
    size = PAGE_SIZE if preferred is None else min(preferred, PAGE_SIZE)
    database = Session(request.app.state.engine)
    try:
        page = read_page(database, reader, name, request.query_params, page_size=size)
    except BaseException:
        database.close()
        raise
    root = _root(request)

    def body() -> Iterator[bytes]:
        try:
            yield from page_chunks(page, root, lambda following: f"{root}/{name}?{urlencode(following)}")
        finally:
            page.rows.close()
            database.close()

    headers = dict(HEADERS)
    if preferred is not None:
        headers["Preference-Applied"] = f"odata.maxpagesize={size}"
    return StreamingResponse(body(), headers=headers, media_type=JSON_TYPE)
