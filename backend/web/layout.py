"""What every signed-in page shows around its content: the programmes and structures one may open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from backend import models
from backend.auth.access import visible_programmes, visible_structures
from backend.auth.deps import CsrfFormDep, SignedInBrowser, SignedInDep
from backend.db import SessionDep
from backend.grids.terms import grid_terms
from backend.web.templating import render


def navigation(session: Session, user: models.User) -> dict[str, Any]:
    structures = visible_structures(session, user)
    # Codes are named and coloured with the grids of the programmes the reader reads, every version of them.
    terms = grid_terms(session, {s.programme_id for s in structures})
    return {
        "nav_programmes": visible_programmes(session, user),
        "nav_structures": structures,
        "label": terms.label,
        "attribute_name": terms.attribute_name,
        "category_colour": terms.colour,
        "taxonomy": lambda: terms.taxonomy,
    }


def page(
    request: Request,
    session: Session,
    signed_in: SignedInBrowser,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        name,
        signed_in,
        {**navigation(session, signed_in.user), "path": request.url.path, **(context or {})},
        status_code,
    )


@dataclass(frozen=True)
class SignedInPage:
    """What a signed-in page route answers with: its request, database session and browser session."""

    request: Request
    session: Session
    signed_in: SignedInBrowser

    @property
    def user(self) -> models.User:
        return self.signed_in.user

    def render(
        self, name: str, context: dict[str, Any] | None = None, status_code: int = 200
    ) -> HTMLResponse:
        return page(self.request, self.session, self.signed_in, name, context, status_code)


def signed_in_page(request: Request, session: SessionDep, signed_in: SignedInDep) -> SignedInPage:
    return SignedInPage(request, session, signed_in)


def signed_in_form(request: Request, session: SessionDep, signed_in: CsrfFormDep) -> SignedInPage:
    """A form posted from one of our pages: the CSRF token is checked before the route runs."""
    return SignedInPage(request, session, signed_in)


PageDep = Annotated[SignedInPage, Depends(signed_in_page)]
PageFormDep = Annotated[SignedInPage, Depends(signed_in_form)]


def back_to(path: str, message: str | None = None) -> RedirectResponse:
    """After a form: go back to the page (303, so a reload does not post again), with a notice."""
    separator = "&" if "?" in path else "?"
    return RedirectResponse(
        path + (f"{separator}{urlencode({'message': message})}" if message else ""), status_code=303
    )


def safe_next(target: str | None) -> str:
    """Only our own pages: ``next=//evil.example`` or an absolute address would send people elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
