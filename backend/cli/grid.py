"""``vigie grid``: a programme's observation grid as a file — JSON (the structure the editor edits) or an
XLSX workbook laid out like XLSForm — exported, or imported as a draft or a new published version, every
problem reported with its place in the file."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Annotated, Any

import typer

from backend.cli.common import command_group, fail, open_session, say
from backend.errors import ApiError
from backend.grids.service import export_document, import_grid
from backend.grids.xlsx import in_sheet, read_grid_xlsx, write_grid_xlsx

grid_app = command_group("grid", "Grille d'observation d'un programme : export et import (JSON ou XLSX).")

ProgrammeOption = Annotated[int, typer.Option("--programme", help="Numéro du programme.")]


def _is_xlsx(file: Path) -> bool:
    return file.suffix.lower() == ".xlsx"


@grid_app.command("export")
def export(
    programme: ProgrammeOption,
    file: Annotated[
        Path, typer.Argument(help="Fichier à écrire : .json, .xlsx, ou « - » (JSON, sortie standard).")
    ],
    version: Annotated[
        int | None, typer.Option("--version", help="Version publiée (défaut : la version en cours).")
    ] = None,
) -> None:
    """Écrire la grille publiée du programme dans un fichier, tel que l'import le relit."""
    with open_session() as session:
        document = export_document(session, programme, version)
    if _is_xlsx(file):
        write_grid_xlsx(document, file)
    elif str(file) == "-":
        say(json.dumps(document, ensure_ascii=False, indent=2))
        return
    else:
        file.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    say(f"Grille version {document['version']} du programme {programme} écrite dans {file}.")


@grid_app.command("import")
def import_(
    programme: ProgrammeOption,
    file: Annotated[
        Path, typer.Argument(help="Fichier de la grille : .json (structure de l'export) ou .xlsx.")
    ],
    publish: Annotated[
        bool, typer.Option("--publish", help="Publier aussitôt (sinon : brouillon à relire dans l'éditeur).")
    ] = False,
) -> None:
    """Lire une grille : elle devient le brouillon du programme, ou sa nouvelle version avec --publish."""
    document, places = _read(file)
    with open_session() as session:
        try:
            row = import_grid(session, programme, document, publish, actor_user_id=None)
        except ApiError as exc:
            for detail in exc.details:
                say(f"{in_sheet(detail.field, places) or 'fichier'} : {detail.message}", err=True)
            raise fail(exc.message) from None
        state = "publiée" if row.published_at is not None else "enregistrée comme brouillon"
        say(f"Grille version {row.number} du programme {programme} {state}.")


def _read(file: Path) -> tuple[Any, dict[str, str]]:
    """The document and, for a workbook, where each part of it comes from."""
    try:
        if _is_xlsx(file):
            document, problems, places = read_grid_xlsx(file)
            for problem in problems:
                say(f"{problem.field} : {problem.message}", err=True)
            if problems:
                raise fail(f"Classeur {file} illisible comme grille.")
            return document, places
        return json.loads(file.read_text(encoding="utf-8")), {}
    except OSError as exc:
        raise fail(f"Lecture impossible de {file} : {exc.strerror}.") from None
    except (zipfile.BadZipFile, KeyError):
        raise fail(f"{file} n'est pas un classeur XLSX.") from None
    except json.JSONDecodeError as exc:
        raise fail(f"{file}, ligne {exc.lineno}, colonne {exc.colno} : JSON invalide ({exc.msg}).") from None
