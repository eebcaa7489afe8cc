"""``vigie grid``: a programme's observation grid as a JSON file — export it, import it as a draft or a
new published version (every problem reported with its place in the file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from backend.cli.common import command_group, fail, open_session, say
from backend.errors import ApiError
from backend.grids.service import export_document, import_grid

grid_app = command_group("grid", "Grille d'observation d'un programme : export et import (JSON).")

ProgrammeOption = Annotated[int, typer.Option("--programme", help="Numéro du programme.")]


@grid_app.command("export")
def export(
    programme: ProgrammeOption,
    file: Annotated[Path, typer.Argument(help="Fichier JSON à écrire (« - » : la sortie standard).")],
    version: Annotated[
        int | None, typer.Option("--version", help="Version publiée (défaut : la version en cours).")
    ] = None,
) -> None:
    """Écrire la grille publiée du programme dans un fichier JSON, tel que l'import le relit."""
    with open_session() as session:
        document = export_document(session, programme, version)
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if str(file) == "-":
        typer.echo(text, nl=False)
        return
    file.write_text(text, encoding="utf-8")
    say(f"Grille version {document['version']} du programme {programme} écrite dans {file}.")


@grid_app.command("import")
def import_(
    programme: ProgrammeOption,
    file: Annotated[Path, typer.Argument(help="Fichier JSON de la grille (même structure que l'export).")],
    publish: Annotated[
        bool, typer.Option("--publish", help="Publier aussitôt (sinon : brouillon à relire dans l'éditeur).")
    ] = False,
) -> None:
    """Lire une grille : elle devient le brouillon du programme, ou sa nouvelle version avec --publish."""
    document = _read(file)
    with open_session() as session:
        try:
            row = import_grid(session, programme, document, publish, actor_user_id=None)
        except ApiError as exc:
            for detail in exc.details:
                say(f"{detail.field or 'fichier'} : {detail.message}", err=True)
            raise fail(exc.message) from None
        state = "publiée" if row.published_at is not None else "enregistrée comme brouillon"
        say(f"Grille version {row.number} du programme {programme} {state}.")


def _read(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"Lecture impossible de {file} : {exc.strerror}.") from None
    except json.JSONDecodeError as exc:
        raise fail(f"{file}, ligne {exc.lineno}, colonne {exc.colno} : JSON invalide ({exc.msg}).") from None
