"""``vigie db``: the database schema (Alembic migrations)."""

from __future__ import annotations

from typing import Annotated

import typer

from backend import migrate
from backend.cli.common import command_group, database_url, fail, safe_url, say, upgrade_to

db_app = command_group("db", "Schéma de la base (migrations Alembic).")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Révision cible")] = "head") -> None:
    """Met le schéma de la base à jour."""
    url = database_url()
    upgrade_to(url, revision)
    say(f"Base {safe_url(url)} à la révision {migrate.current_revision(url)}.")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Révision cible")]) -> None:
    """Ramène le schéma à une révision antérieure (« base » pour tout retirer)."""
    url = database_url()
    migrate.downgrade(url, revision)
    say(f"Base {safe_url(url)} à la révision {migrate.current_revision(url) or 'base'}.")


@db_app.command("check")
def db_check() -> None:
    """Vérifie que la base correspond exactement aux modèles."""
    drift = migrate.schema_drift(database_url())
    if drift:
        for difference in drift:
            say(f"  {difference}")
        raise fail("Le schéma de la base diffère des modèles : une migration manque.")
    say("Le schéma de la base correspond aux modèles.")
