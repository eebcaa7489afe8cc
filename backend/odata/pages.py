"""The account's feed tokens page: create a token for Excel or Power BI (shown once), see and revoke them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from backend import models
from backend.auth.deps import CsrfFormDep, SignedInDep
from backend.db import SessionDep
from backend.errors import ApiError
from backend.odata.api import PREFIX
from backend.odata.tokens import create_feed_token, feed_tokens_of, revoke_feed_token
from backend.params import RowIdPath
from backend.web.layout import back_to, page

router = APIRouter(include_in_schema=False)
PAGE = "/account/feed-tokens"


def _context(request: Request, session: Session, user: models.User) -> dict[str, object]:
    """The user's tokens, and what to type in Excel or Power BI."""
    return {
        "tokens": feed_tokens_of(session, user),
        "feed_url": str(request.base_url).rstrip("/") + PREFIX + "/",
        "email": user.email,
    }


@router.get(PAGE)
def feed_tokens_page(
    request: Request, session: SessionDep, signed_in: SignedInDep, message: str | None = None
) -> Response:
    user = signed_in.user
    context = _context(request, session, user)
    return page(request, session, signed_in, "feed_tokens.html", {**context, "message": message})


@router.post(PAGE)
def create_token(
    request: Request,
    session: SessionDep,
    signed_in: CsrfFormDep,
    name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    user = signed_in.user
    try:
        token, _record = create_feed_token(session, user, name, actor_user_id=user.id, via="web")
    except ApiError as exc:
        context = _context(request, session, user)
        return page(request, session, signed_in, "feed_tokens.html", {**context, "errors": exc.details}, 422)
    # Shown in this answer only: the page does not keep it, the database holds its hash.
    context = _context(request, session, user)
    return page(request, session, signed_in, "feed_tokens.html", {**context, "new_token": token})


@router.post(PAGE + "/{token_id}/revoke")
def revoke_token(session: SessionDep, signed_in: CsrfFormDep, token_id: RowIdPath) -> Response:
    user = signed_in.user
    record = revoke_feed_token(session, user, token_id, actor_user_id=user.id, via="web")
    return back_to(PAGE, f"Jeton « {record.name} » révoqué : il n'ouvre plus le flux.")
