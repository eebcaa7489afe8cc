"""What the command groups share: the top-level command, the database, messages and tables."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from backend import migrate
from backend.db import make_engine
from backend.errors import ApiError
from backend.models import Observer, Programme, Structure
from backend.settings import get_settings
from backend.sync.enrolment_qr import qr_png, qr_svg

app = typer.Typer(help="Vigie : observation des effets du numérique sur le travail.", no_args_is_help=True)


def command_group(name: str, help: str) -> typer.Typer:
    """A ``vigie <name> …`` group of commands."""
    group = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


def terminal_safe(text: str) -> str:
    """``text`` without control characters (C0 and C1 controls, DEL, bidirectional overrides…): names and
    labels chosen on a tablet or typed in a page must not move the cursor, retitle the terminal or
    reorder what it shows. Newlines are kept, tabs become spaces."""
    return "".join(
        ch if ch == "\n" else " " if ch == "\t" else "" if unicodedata.category(ch) in ("Cc", "Cf") else ch
        for ch in text
    )


def say(message: object = "", *, err: bool = False, fg: str | None = None) -> None:
    """Everything the ``vigie`` command prints goes through here, cleaned of control characters."""
    typer.secho(terminal_safe(str(message)), err=err, fg=fg)


def fail(message: str) -> typer.Exit:
    say(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def database_url() -> str:
    return get_settings().database_url


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def upgrade_to(url: str, revision: str = "head") -> None:
    try:
        migrate.upgrade(url, revision)
    except OperationalError as exc:
        raise fail(f"Base de données injoignable ({safe_url(url)}) : {exc.orig}") from None


DEFAULT_SERVER_URL = "http://127.0.0.1:8000"
MAX_CODE_DAYS = 90  # an enrolment code is for setting up a tablet soon, not a standing credential
QR_WRITERS = {".svg": lambda uri: qr_svg(uri).encode("utf-8"), ".png": qr_png}


@contextmanager
def open_session() -> Iterator[Session]:
    engine = make_engine(database_url())
    try:
        with Session(engine) as session:
            yield session
    except ApiError as exc:
        raise fail(exc.message) from None
    except OperationalError as exc:
        raise fail(f"Base de données non prête : {exc.orig}. Lancez « vigie db upgrade ».") from None
    finally:
        engine.dispose()


def local_time(moment: datetime, timezone: str) -> str:
    """A stored UTC time as the structure's staff read it."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone, timezone = ZoneInfo("UTC"), "UTC"
    return f"{moment.astimezone(zone):%d/%m/%Y %H:%M} ({timezone})"


def print_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    cleaned = [tuple(terminal_safe(cell).replace("\n", " ") for cell in row) for row in (header, *rows)]
    widths = [max(len(cell) for cell in column) for column in zip(*cleaned, strict=True)]
    for row in cleaned:
        say("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def find_observer(session: Session, observer_id: int) -> Observer:
    observer = session.get(Observer, observer_id)
    if observer is None:
        raise fail(f"Observateur {observer_id} inconnu (voir « vigie observer list »).")
    return observer


def find_structure(session: Session, structure_id: int) -> Structure:
    structure = session.get(Structure, structure_id)
    if structure is None:
        raise fail(f"Structure {structure_id} inconnue.")
    return structure


def programme_name(session: Session, programme_id: int) -> str:
    programme = session.get(Programme, programme_id)
    return f"{programme.name} ({programme_id})" if programme else str(programme_id)
