"""Protections at the HTTP edge: security headers, request body size limits, CORS (closed unless
configured), and who and when a sign-in or enrolment attempt is, for the lockout.

The middlewares are plain ASGI: streamed responses (CSV exports) pass through untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.auth.deps import CSRF_HEADER
from backend.auth.rate_limits import LockoutPolicy
from backend.db_types import utcnow
from backend.errors import ErrorBody, error_response
from backend.settings import Settings
from backend.web.errors import error_page, is_page
from shared.sync import MAX_PUSH_BYTES, PROTOCOL_HEADER

MIB = 1024 * 1024
# Forms, sign-in, review and administration calls are a few kilobytes: 1 MiB is plenty.
MAX_BODY_BYTES = 1 * MIB
PUSH_PATH = "/api/v1/sync/push"
MAX_PUSH_BODY_BYTES = MAX_PUSH_BYTES  # part of the sync protocol: shared/sync.py says why 6 MiB

# Pages use only their own stylesheet and script; the inline style attributes they carry are computed
# bar widths and category colours (style-src-attr), never a <style> element or an inline script.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc (served from the package) start from an inline script and style.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
# API answers and SVG: nothing in them may run or load anything if opened as a document.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
DATA_TYPES = ("application/json", "image/svg+xml")
DOCS_PATHS = ("/docs", "/redoc")
STATIC_PREFIX = "/static/"


def content_security_policy(path: str, content_type: str) -> str:
    if content_type.startswith("text/html"):
        return DOCS_POLICY if path.startswith(DOCS_PATHS) else PAGE_POLICY
    if content_type.startswith(DATA_TYPES):
        return DATA_POLICY
    return "frame-ancestors 'none'"  # files (exports, stylesheet, script) are never framed either


def security_headers(path: str, content_type: str, https: bool) -> dict[str, str]:
    headers = {
        # Answers carry what a signed-in reader may see (observations, exports, CSRF tokens): no cache,
        # the browser's or a shared proxy's, keeps them. Only the static files may be cached.
        **({} if path.startswith(STATIC_PREFIX) else {"Cache-Control": "no-store"}),
        "Content-Security-Policy": content_security_policy(path, content_type),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


class _HttpMiddleware:
    """An ASGI middleware that acts on HTTP requests only; anything else (lifespan) passes through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class SecurityHeadersMiddleware(_HttpMiddleware):
    """Adds the security headers to every response (a route's own value for a header wins)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in security_headers(path, headers.get("content-type", ""), https).items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def body_limit(path: str) -> int:
    return MAX_PUSH_BODY_BYTES if path == PUSH_PATH else MAX_BODY_BYTES


class RequestTooLarge(StarletteHTTPException):
    """Raised while reading a body that grows past the limit (no Content-Length, or a false one).

    An HTTPException so that FastAPI lets it through its body parsing instead of turning it into a 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))
        self.limit = limit


def too_large_message(limit: int) -> str:
    size = f"{limit / MIB:.1f}".removesuffix(".0").replace(".", ",")
    return f"Requête trop volumineuse : {size} Mio au plus (pour un envoi de la tablette, découpez-le)."


def too_large_response(request: Request, limit: int) -> Response:
    if is_page(request):
        return error_page(request, 413, too_large_message(limit))
    return error_response(413, ErrorBody(code="request_too_large", message=too_large_message(limit)))


class BodySizeLimitMiddleware(_HttpMiddleware):
    """Refuses with 413 a body over the limit: at once when Content-Length says so, otherwise as soon as
    the bytes received pass it; the application never holds more than the limit in memory."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = body_limit(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await too_large_response(Request(scope, receive), limit)(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        await self.app(scope, receive_within_limit, send)


async def _request_too_large(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestTooLarge)
    return too_large_response(request, exc.limit)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Body limits inside, headers outside (so a 413 carries them too); CORS only for listed origins."""
    app.add_exception_handler(RequestTooLarge, _request_too_large)
    app.add_middleware(BodySizeLimitMiddleware)
    origins = settings.cors_origin_list
    if origins:
        # Bearer tokens and the CSRF header only: cross-origin calls never carry the session cookie.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", CSRF_HEADER, PROTOCOL_HEADER],
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware)


def request_time() -> datetime:
    """When the request is handled; tests override this dependency to move the clock."""
    return utcnow()


@dataclass(frozen=True)
class Attempt:
    """A sign-in or enrolment attempt: from where, when, and the lockout policy that applies."""

    client_ip: str | None
    at: datetime
    policy: LockoutPolicy


def attempt(request: Request, at: Annotated[datetime, Depends(request_time)]) -> Attempt:
    # Behind a reverse proxy named in VIGIE_TRUSTED_PROXIES, uvicorn's proxy headers (as `vigie serve`
    # sets them) make this the address the proxy saw, the browser's or the tablet's.
    settings: Settings = request.app.state.settings
    return Attempt(
        client_ip=request.client.host if request.client else None,
        at=at,
        policy=LockoutPolicy.from_settings(settings),
    )


AttemptDep = Annotated[Attempt, Depends(attempt)]
