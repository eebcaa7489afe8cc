"""Sign-in, sign-out and password pages."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.auth.deps import (
    CsrfFormDep,
    clear_session_cookie,
    set_session_cookie,
    signed_in_browser,
)
from backend.auth.service import change_password, sign_in, sign_out
from backend.auth.web_sessions import COOKIE_NAME
from backend.db import SessionDep
from backend.errors import ApiError
from backend.params import EmailForm, PasswordForm
from backend.security import AttemptDep
from backend.web.layout import PageDep, PageFormDep, back_to, safe_next
from backend.web.templating import render

router = APIRouter(include_in_schema=False)

# Before sign-in there is no session to hold a CSRF token: the login form uses a double-submit cookie.
LOGIN_CSRF_COOKIE = "vigie_login_csrf"


def _login_form(
    request: Request,
    next_path: str,
    error: str | None = None,
    email: str = "",
    status_code: int = 401,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        None,
        {"login_csrf": token, "next": next_path, "login_error": error, "email": email},
        status_code=status_code if error else 200,
    )
    response.headers.update(headers or {})
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@router.get("/login")
def login_page(request: Request, session: SessionDep, next: str = "/") -> Response:
    try:
        signed_in_browser(request, session)
        return RedirectResponse(safe_next(next), status_code=303)
    except ApiError:
        return _login_form(request, safe_next(next))


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    attempt: AttemptDep,
    email: EmailForm = "",
    password: PasswordForm = "",
    login_csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, login_csrf):
        return _login_form(
            request, safe_next(next), "Formulaire expiré : saisissez à nouveau vos identifiants."
        )
    try:
        signed_in = sign_in(
            session,
            email,
            password,
            attempt.at,
            client_ip=attempt.client_ip,
            replaces_token=request.cookies.get(COOKIE_NAME),
            policy=attempt.policy,
        )
    except ApiError as exc:  # wrong credentials (401) or locked out for a while (429, says until when)
        return _login_form(request, safe_next(next), exc.message, email, exc.status_code, exc.headers)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, request, signed_in.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(signed_in: CsrfFormDep, session: SessionDep) -> Response:
    sign_out(session, signed_in.user, signed_in.token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/account/password")
def password_page(view: PageDep, message: str | None = None) -> Response:
    return view.render("password.html", {"message": message})


@router.post("/account/password")
def password(
    view: PageFormDep,
    current_password: PasswordForm = "",
    new_password: PasswordForm = "",
    confirmation: PasswordForm = "",
) -> Response:
    try:
        change_password(
            view.session, view.user, current_password, new_password, confirmation, view.signed_in.token
        )
    except ApiError as exc:
        return view.render("password.html", {"errors": exc.details}, status_code=422)
    return back_to("/account/password", "Mot de passe modifié. Vos autres sessions ont été fermées.")
