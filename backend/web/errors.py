"""Errors on pages are pages: a French message and a way back, never JSON or a stack trace.

The API keeps its JSON error shape. A request is a page request when a browser asks for HTML (as it
does for every navigation and form) outside the API, the health check and the API documentation.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.errors import STATUS_MESSAGES, ApiError
from backend.web.templating import render

# The OData feed answers its clients (Excel, Power BI) in JSON, and a missing token with the Basic challenge.
NOT_PAGES = ("/api/", "/odata/", "/health", "/docs", "/redoc", "/openapi.json", "/static-offline-docs")
Handler = Callable[[Request, Any], Response | Awaitable[Response]]


def is_page(request: Request) -> bool:
    wants_html = "text/html" in request.headers.get("accept", "")
    return wants_html and not request.url.path.startswith(NOT_PAGES)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def error_page(request: Request, status_code: int, message: str) -> Response:
    title = {403: "Accès refusé", 404: "Page introuvable"}.get(status_code, HTTPStatus(status_code).phrase)
    return render(
        request,
        "error.html",
        None,
        {"status_code": status_code, "title": title, "error_message": message},
        status_code=status_code,
    )


async def _respond(handler: Handler, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    return await result if inspect.isawaitable(result) else result


def install_page_error_handlers(app: FastAPI) -> None:
    """Wrap the JSON handlers already installed: pages get HTML, the API keeps its JSON."""
    json_api_error: Handler = app.exception_handlers[ApiError]
    json_http_error: Handler = app.exception_handlers[StarletteHTTPException]
    json_validation_error: Handler = app.exception_handlers[RequestValidationError]

    async def api_error(request: Request, exc: Exception) -> Response:
        if not is_page(request) or not isinstance(exc, ApiError):
            return await _respond(json_api_error, request, exc)
        if exc.status_code == 401:
            return login_redirect(request)
        return error_page(request, exc.status_code, exc.message)

    async def http_error(request: Request, exc: Exception) -> Response:
        if not is_page(request) or not isinstance(exc, StarletteHTTPException):
            return await _respond(json_http_error, request, exc)
        _code, message = STATUS_MESSAGES.get(exc.status_code, ("", HTTPStatus(exc.status_code).phrase))
        return error_page(request, exc.status_code, message)

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not is_page(request):
            return await _respond(json_validation_error, request, exc)
        return error_page(
            request, 422, "Formulaire ou adresse invalide : vérifiez les champs et recommencez."
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
