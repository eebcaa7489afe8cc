"""Jinja2 environment of the pages: French formatting of numbers, dates and taxonomy labels."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from backend.audit.actions import action_label, details_in_words
from backend.auth.deps import CSRF_FIELD, SignedInBrowser
from backend.auth.users import UserRole
from shared.schema import REVIEW_STATUS_LABELS, STRUCTURE_TYPE_LABELS, ReviewStatus, StructureType
from shared.taxonomy import current_taxonomy

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
NARROW_NBSP = "\u202f"

ROLE_LABELS = {
    UserRole.ADMIN.value: "Administrateur",
    UserRole.FACILITATOR.value: "Animateur",
    UserRole.STRUCTURE_VIEWER.value: "Lecteur de structure",
}


def number(value: float | int | None, digits: int = 1) -> str:
    """French style: decimal comma, narrow no-break space between thousands."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"
    return text.replace(",", NARROW_NBSP).replace(".", ",")


def percent(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{number(value * 100, digits)}{NARROW_NBSP}%"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    total = round(seconds)
    minutes, rest = divmod(total, 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours}{NARROW_NBSP}h{NARROW_NBSP}{minutes:02d}"
    return (
        f"{minutes}{NARROW_NBSP}min{NARROW_NBSP}{rest:02d}{NARROW_NBSP}s"
        if minutes
        else f"{rest}{NARROW_NBSP}s"
    )


def local_time(moment: datetime | None, timezone: str = "Europe/Paris", fmt: str = "%d/%m/%Y %H:%M") -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(timezone)).strftime(fmt)


def label(attribute: str, code: str | None) -> str:
    """The French label of a taxonomy code; unknown or empty codes are shown as they are."""
    if not code:
        return "—"
    taxonomy = current_taxonomy()
    try:
        if attribute == "category":
            return taxonomy.category(code).label.fr
        return taxonomy.attribute(attribute).label_of(str(code))
    except KeyError:
        return code


def category_colour(code: str) -> str:
    try:
        return current_taxonomy().category(code).colour
    except KeyError:
        return "#546E7A"


def status_label(status: str) -> str:
    try:
        return REVIEW_STATUS_LABELS[ReviewStatus(status)]["fr"]
    except ValueError:
        return status


def kind_label(kind: str) -> str:
    try:
        return STRUCTURE_TYPE_LABELS[StructureType(kind)]["fr"]
    except ValueError:
        return kind


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters.update(
    number=number, percent=percent, duration=duration, local_time=local_time, label=label
)
templates.env.globals.update(
    label=label,
    category_colour=category_colour,
    status_label=status_label,
    kind_label=kind_label,
    role_label=lambda role: ROLE_LABELS.get(role, role),
    action_label=action_label,
    details_in_words=details_in_words,
    review_statuses=[(s.value, REVIEW_STATUS_LABELS[s]["fr"]) for s in ReviewStatus],
    structure_kinds=[(k.value, STRUCTURE_TYPE_LABELS[k]["fr"]) for k in StructureType],
    taxonomy=current_taxonomy,
    csrf_field=CSRF_FIELD,
    weekdays=("Lun", "Mar", "Mer", "Jeu", "Ven", "Sam", "Dim"),
    weekday_names=("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
)


def render(
    request: Request,
    name: str,
    signed_in: SignedInBrowser | None,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    values: dict[str, Any] = {
        "me": signed_in.user if signed_in else None,
        "csrf_token": signed_in.csrf_token if signed_in else "",
        "is_admin": bool(signed_in and signed_in.user.role == UserRole.ADMIN),
        "can_review": bool(signed_in and signed_in.user.role in (UserRole.ADMIN, UserRole.FACILITATOR)),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    # Pages show personal work data: never keep them in shared caches or the browser's history cache.
    response.headers["Cache-Control"] = "no-store"
    return response
