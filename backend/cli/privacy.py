"""``vigie privacy``: the server's de-identification from the command line — mask notes read on standard
input exactly as an export would, explain what was found, and screen stored notes again."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from backend import models
from backend.cli.common import app, database_url, fail, open_session, say
from backend.db import make_engine
from backend.privacy.detector import find_in_notes, mask_notes
from backend.privacy.kinds import KIND_LABELS
from backend.privacy.service import programme_glossary
from backend.privacy.service import rescan as rescan_notes

privacy_app = typer.Typer(help="Confidentialité des notes : masquage des identifiants.", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")

BATCH = 512


def _lines() -> list[str]:
    return [line.rstrip("\r\n") for line in sys.stdin]


ProgrammeOption = Annotated[
    int | None,
    typer.Option(
        "--programme", help="Programme dont les mots jamais masqués s'appliquent (défaut : le premier)."
    ),
]


def _glossary(programme: int | None) -> list[str]:
    """The programme's words never masked: the demo programme's (the first one) unless one is named.

    Without ``--programme`` the command works anywhere, a database or not (checking notes on any
    machine): with no usable database it masks with the default glossary alone, and says nothing.
    """
    if programme is None:
        return _first_programme_glossary()
    with open_session() as session:
        if session.get(models.Programme, programme) is None:
            raise fail(f"Programme {programme} introuvable.")
        return programme_glossary(session, programme)


def _first_programme_glossary() -> list[str]:
    url = database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []  # no database here; do not create one
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            first = session.exec(select(models.Programme.id).order_by(col(models.Programme.id))).first()
            return programme_glossary(session, first) if first is not None else []
    except SQLAlchemyError:
        return []  # a database not set up (yet): the default glossary alone
    finally:
        engine.dispose()


@privacy_app.command("mask")
def mask(programme: ProgrammeOption = None) -> None:
    """Lit des notes sur l'entrée standard (une par ligne) et écrit chacune masquée, ligne pour ligne."""
    glossary = _glossary(programme)
    lines = _lines()
    for start in range(0, len(lines), BATCH):
        for masked in mask_notes(lines[start : start + BATCH], glossary):
            sys.stdout.write(masked.replace("\n", " ") + "\n")


@privacy_app.command("explain")
def explain(programme: ProgrammeOption = None) -> None:
    """Pour chaque ligne lue, ce qui a été trouvé et par quelle couche (une ligne JSON par note)."""
    glossary = _glossary(programme)
    lines = _lines()
    for start in range(0, len(lines), BATCH):
        chunk = lines[start : start + BATCH]
        for line, found in zip(chunk, find_in_notes(chunk, glossary), strict=True):
            items = [
                {"kind": f.kind.value, "label": KIND_LABELS[f.kind], "text": f.text, "layer": f.layer}
                for f in found
            ]
            sys.stdout.write(json.dumps({"note": line, "found": items}, ensure_ascii=False) + "\n")


@privacy_app.command("rescan")
def rescan() -> None:
    """Repasse toutes les notes enregistrées au détecteur (après une mise à jour), masquage enregistré."""
    with open_session() as session:
        report = rescan_notes(session)
    say(f"{report.scanned} notes vérifiées, {report.flagged} signalées (identifiant trouvé).")
