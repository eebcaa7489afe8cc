"""One error shape for the whole API: a stable ``code``, a readable ``message``, per-field ``details``."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.messages import field_error

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    field: str
    code: str
    message: str


class ErrorBody(BaseModel):
    """What every failed API call returns."""

    code: str = Field(examples=["invalid_request"])
    message: str = Field(examples=["La requête contient des champs invalides."])
    details: list[ErrorDetail] = Field(default_factory=list)


class ApiError(Exception):
    """Raised by services for a failure the caller can act on."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: list[ErrorDetail] | None = None,
        headers: dict[str, str] | None = None,  # e.g. Retry-After on a 429
    ):
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}


def error_response(status_code: int, body: ErrorBody) -> JSONResponse:
    return JSONResponse(status_code=status_code, content=body.model_dump())


# Messages for the statuses Starlette raises itself (unknown path, wrong method...).
STATUS_MESSAGES: dict[int, tuple[str, str]] = {
    404: ("not_found", "Ressource introuvable."),
    405: ("method_not_allowed", "Méthode non autorisée pour cette adresse."),
    401: ("unauthenticated", "Authentification requise."),
    403: ("forbidden", "Accès refusé."),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        response = error_response(
            exc.status_code, ErrorBody(code=exc.code, message=exc.message, details=exc.details)
        )
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for error in exc.errors():
            described = field_error(error)
            details.append(ErrorDetail(field=described.field, code=described.code, message=described.message))
        body = ErrorBody(
            code="invalid_request", message="La requête contient des champs invalides.", details=details
        )
        return error_response(422, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = STATUS_MESSAGES.get(
            exc.status_code, ("http_error", HTTPStatus(exc.status_code).phrase)
        )
        if isinstance(exc.detail, str) and exc.status_code not in STATUS_MESSAGES:
            message = exc.detail
        response = error_response(exc.status_code, ErrorBody(code=code, message=message))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    # The database restarting, or every pooled connection busy for 30 s (a burst of pushes waiting on
    # the sync lock): a retryable 503, which tablets retry and load balancers understand.
    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeoutError)
    async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__, exc_info=exc)
        body = ErrorBody(
            code="database_unavailable",
            message="Base de données momentanément indisponible ; réessayez dans un instant.",
        )
        response = error_response(503, body)
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        body = ErrorBody(code="internal_error", message="Erreur interne du serveur ; réessayez plus tard.")
        return error_response(500, body)
