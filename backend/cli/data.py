"""``vigie backup``, ``vigie restore`` and ``vigie export``: the data, out and back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from backend import migrate
from backend.admin.backup import BackupError
from backend.admin.backup import backup as backup_database
from backend.admin.backup import restore as restore_database
from backend.cli.common import app, database_url, fail, open_session, safe_url, say
from backend.exports.csv import SEPARATORS
from backend.exports.rows import ExportScope
from backend.exports.service import ExportFormat, start_export, write_export_file
from backend.review.filters import ObservationFilter


@contextmanager
def _backup_refused() -> Iterator[None]:
    """A backup or restore that cannot be done says why and exits with status 1."""
    try:
        yield
    except BackupError as exc:
        raise fail(str(exc)) from None


@app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(help="Fichier de sauvegarde à écrire", dir_okay=False)],
    force: Annotated[bool, typer.Option(help="Remplace le fichier s'il existe déjà.")] = False,
) -> None:
    """Sauvegarde toute la base dans un fichier (SQLite : copie en ligne ; PostgreSQL : pg_dump)."""
    url = database_url()
    with _backup_refused():
        result = backup_database(url, file, overwrite=force)
    size = f"{result.size_bytes / 1_000_000:.1f}".replace(".", ",")
    say(f"Sauvegarde {result.engine} de {safe_url(url)} écrite : {file} ({size} Mo).")


@app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(help="Sauvegarde écrite par « vigie backup »", dir_okay=False)],
    force: Annotated[
        bool, typer.Option(help="Remplace une base qui contient déjà des données (elles sont perdues).")
    ] = False,
) -> None:
    """Restaure une sauvegarde dans la base (vide, sauf --force). Arrêtez le serveur avant."""
    url = database_url()
    with _backup_refused():
        revision = restore_database(url, file, force=force)
    say(f"Base {safe_url(url)} restaurée depuis {file} (schéma : révision {revision or 'aucune'}).")
    if revision != migrate.head_revision():
        say(
            f"Cette version de Vigie attend la révision {migrate.head_revision()} : "
            "lancez « vigie db upgrade » avant de relancer le serveur."
        )


EXPORT_FILTER_OPTIONS = {
    "structure_id": "--structure",
    "unit_id": "--unit",
    "category": "--category",
    "role": "--role",
    "tool": "--tool",
    "effect": "--effect",
    "dimension": "--dimension",
    "impact": "--impact",
    "hour": "--hour",
    "weekday": "--weekday",
    "review_status": "--review-status",
    "date_from": "--from",
    "date_to": "--to",
    "text": "--text",
    "tag": "--tag",
    "added": "--added",
}


@app.command("export")
def export(
    programme: Annotated[int, typer.Option(help="Programme à exporter")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Fichier à écrire")],
    export_format: Annotated[
        ExportFormat | None,
        typer.Option("--format", help="csv, xlsx, pdf (dossier d'atelier) ou json ; sinon l'extension"),
    ] = None,
    separator: Annotated[str, typer.Option(help="Séparateur CSV : ';' (Excel français) ou ','")] = ";",
    anonymous_structures: Annotated[
        bool, typer.Option("--anonymous-structures", help="Structures désignées S1, S2… au lieu de leur nom")
    ] = False,
    structure: Annotated[int | None, typer.Option(help="Seulement cette structure")] = None,
    unit: Annotated[int | None, typer.Option(help="Seulement cette unité")] = None,
    category: Annotated[str | None, typer.Option(help="Code de catégorie (ex. interruption)")] = None,
    role: Annotated[str | None, typer.Option(help="Code du professionnel observé (ex. ide)")] = None,
    tool: Annotated[str | None, typer.Option(help="Code de l'outil (ex. patient_record)")] = None,
    effect: Annotated[str | None, typer.Option(help="Code de l'effet (ex. negative)")] = None,
    dimension: Annotated[str | None, typer.Option(help="Dimension du travail touchée (ex. rhythm)")] = None,
    impact: Annotated[str | None, typer.Option(help="Code de l'impact (ex. qvt)")] = None,
    hour: Annotated[int | None, typer.Option(help="Heure, heure locale (8 : de 8 h à 9 h)")] = None,
    weekday: Annotated[int | None, typer.Option(help="Jour de la semaine, heure locale (1 : lundi)")] = None,
    review_status: Annotated[
        str | None, typer.Option(help="to_review, validated, to_discuss ou set_aside")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Premier jour inclus (AAAA-MM-JJ)")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Dernier jour inclus (AAAA-MM-JJ)")] = None,
    text: Annotated[str | None, typer.Option(help="Mots cherchés dans les notes")] = None,
    tag: Annotated[str | None, typer.Option(help="Étiquette posée en relecture")] = None,
    added: Annotated[
        str | None, typer.Option(help="Attribut ajouté par le programme et sa valeur (ex. humeur:tendue)")
    ] = None,
) -> None:
    """Exporte les observations filtrées (pseudonymisées) en CSV, XLSX, PDF ou JSON."""
    chosen = export_format
    if chosen is None:
        try:
            chosen = ExportFormat(output.suffix.lstrip(".").lower())
        except ValueError:
            raise fail("Format inconnu : précisez --format csv, xlsx, pdf ou json.") from None
    if separator not in SEPARATORS:
        raise fail(f"Séparateur « {separator} » refusé : ';' ou ','.")
    if not output.parent.is_dir():
        raise fail(f"Dossier introuvable : {output.parent}")
    raw = {
        "programme_id": programme,
        "structure_id": structure,
        "unit_id": unit,
        "category": category,
        "role": role,
        "tool": tool,
        "effect": effect,
        "dimension": dimension,
        "impact": impact,
        "hour": hour,
        "weekday": weekday,
        "review_status": review_status,
        "date_from": date_from,
        "date_to": date_to,
        "text": text,
        "tag": tag,
        "added": added,
    }
    try:
        criteria = ObservationFilter.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        wrong = ", ".join(
            f"{EXPORT_FILTER_OPTIONS.get(str(error['loc'][0]), error['loc'][0])} « {error['input']} »"
            for error in exc.errors()
        )
        raise fail(f"Option invalide : {wrong}.") from None
    scope = ExportScope(criteria=criteria, anonymous_structures=anonymous_structures)
    with open_session() as session:
        started = start_export(
            session, scope, chosen, actor_user_id=None, via="cli", separator=";" if separator == ";" else ","
        )
        write_export_file(started, str(output))
    what = "dossier d'atelier" if chosen == ExportFormat.PDF else f"{started.rows} observations"
    say(f"Export {chosen.value.upper()} écrit : {output} ({what}).")
