"""Signing in and out with the session cookie, for the JSON API (the pages have their own forms)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from backend.auth.deps import CsrfApiDep, SignedInDep, clear_session_cookie, set_session_cookie
from backend.auth.service import change_password, sign_in, sign_out
from backend.auth.web_sessions import COOKIE_NAME
from backend.db import SessionDep
from backend.errors import ErrorBody
from backend.models import User
from backend.security import AttemptDep
from shared.schema import StoredText

router = APIRouter(prefix="/api/v1/auth", tags=["web: accounts"])


class UserView(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    structure_id: int | None

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=user.id or 0,
            email=user.email,
            full_name=user.full_name,
            role=user.role,
            structure_id=user.structure_id,
        )


class SignedInView(BaseModel):
    user: UserView
    csrf_token: str = Field(description="Send it back as the X-CSRF-Token header on every write.")


class Credentials(BaseModel):
    email: StoredText = Field(max_length=320)
    password: str = Field(max_length=1000)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1000)
    new_password: str = Field(max_length=1000)
    confirmation: str = Field(max_length=1000)


@router.post("/login", responses={429: {"model": ErrorBody, "description": "Trop de tentatives"}})
def login(
    body: Credentials, request: Request, response: Response, session: SessionDep, attempt: AttemptDep
) -> SignedInView:
    signed_in = sign_in(
        session,
        body.email,
        body.password,
        attempt.at,
        client_ip=attempt.client_ip,
        replaces_token=request.cookies.get(COOKIE_NAME),
        policy=attempt.policy,
    )
    set_session_cookie(response, request, signed_in.token)
    return SignedInView(user=UserView.of(signed_in.user), csrf_token=signed_in.csrf_token)


@router.get("/me")
def me(signed_in: SignedInDep) -> SignedInView:
    return SignedInView(user=UserView.of(signed_in.user), csrf_token=signed_in.csrf_token)


@router.post("/logout", status_code=204)
def logout(signed_in: CsrfApiDep, response: Response, session: SessionDep) -> None:
    sign_out(session, signed_in.user, signed_in.token)
    clear_session_cookie(response)


@router.post("/password", status_code=204)
def password(body: PasswordChange, signed_in: CsrfApiDep, session: SessionDep) -> None:
    change_password(
        session, signed_in.user, body.current_password, body.new_password, body.confirmation, signed_in.token
    )
