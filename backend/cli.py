"""The ``vigie`` command: serve, demo data, users, database migrations."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from backend import migrate
from backend.db import make_engine
from backend.services.demo_data import (
    DEMO_ADMIN_EMAIL,
    DEMO_FACILITATOR_EMAIL,
    DEMO_PASSWORD,
    build_demo,
    demo_present,
)
from backend.services.users import UserError, UserRole, create_user
from backend.settings import get_settings

app = typer.Typer(help="Vigie : observation des effets du numérique sur le travail.", no_args_is_help=True)
db_app = typer.Typer(help="Schéma de la base (migrations Alembic).", no_args_is_help=True)
user_app = typer.Typer(help="Comptes de l'application web.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _database_url() -> str:
    return get_settings().database_url


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _upgrade(url: str, revision: str = "head") -> None:
    try:
        migrate.upgrade(url, revision)
    except OperationalError as exc:
        raise _fail(f"Base de données injoignable ({_safe_url(url)}) : {exc.orig}") from None


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Révision cible")] = "head") -> None:
    """Met le schéma de la base à jour."""
    url = _database_url()
    _upgrade(url, revision)
    typer.echo(f"Base {_safe_url(url)} à la révision {migrate.current_revision(url)}.")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Révision cible")]) -> None:
    """Ramène le schéma à une révision antérieure (« base » pour tout retirer)."""
    url = _database_url()
    migrate.downgrade(url, revision)
    typer.echo(f"Base {_safe_url(url)} à la révision {migrate.current_revision(url) or 'base'}.")


@db_app.command("check")
def db_check() -> None:
    """Vérifie que la base correspond exactement aux modèles."""
    drift = migrate.schema_drift(_database_url())
    if drift:
        for difference in drift:
            typer.echo(f"  {difference}")
        raise _fail("Le schéma de la base diffère des modèles : une migration manque.")
    typer.echo("Le schéma de la base correspond aux modèles.")


@app.command()
def demo(
    reset: Annotated[bool, typer.Option(help="Efface la base avant de recréer la démonstration.")] = False,
    seed: Annotated[
        int, typer.Option(help="Graine du générateur (mêmes données pour une même graine).")
    ] = 2026,
) -> None:
    """Crée la base et un programme de démonstration réaliste."""
    url = _database_url()
    if reset:
        migrate.downgrade(url, "base")
    _upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            if demo_present(session):
                typer.echo(
                    "Des données sont déjà présentes : démonstration conservée (--reset pour la recréer)."
                )
            else:
                summary = build_demo(session, seed=seed)
                typer.echo(
                    f"Démonstration créée : {summary.structures} structures, {summary.units} unités, "
                    f"{summary.observers} observateurs, {summary.visits} visites, "
                    f"{summary.observations} observations."
                )
    finally:
        engine.dispose()
    typer.echo(f"Comptes de démonstration : {DEMO_ADMIN_EMAIL} et {DEMO_FACILITATOR_EMAIL}")
    typer.echo(f"Mot de passe : {DEMO_PASSWORD}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute")] = None,
    port: Annotated[int | None, typer.Option(help="Port d'écoute")] = None,
    workers: Annotated[int, typer.Option(help="Nombre de processus")] = 1,
    reload: Annotated[bool, typer.Option(help="Recharge à chaque modification du code")] = False,
) -> None:
    """Lance le serveur."""
    settings = get_settings()
    url = settings.database_url
    try:
        revision = migrate.current_revision(url)
    except OperationalError as exc:
        raise _fail(f"Base de données injoignable ({_safe_url(url)}) : {exc.orig}") from None
    if revision is None:
        raise _fail("La base n'est pas initialisée : lancez « vigie db upgrade » (ou « vigie demo »).")
    host = host or settings.host
    port = port or settings.port
    typer.echo(f"Vigie sur http://{host}:{port}/  (API : http://{host}:{port}/docs)  base : {_safe_url(url)}")
    uvicorn.run(
        "backend.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level="info",
    )


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Adresse e-mail (identifiant de connexion)")],
    name: Annotated[str, typer.Option(help="Nom complet")],
    role: Annotated[UserRole, typer.Option(help="Rôle")] = UserRole.FACILITATOR,
    programme: Annotated[list[int] | None, typer.Option(help="Programme suivi (répétable)")] = None,
    password: Annotated[
        str,
        typer.Option(prompt="Mot de passe", hide_input=True, confirmation_prompt=True, help="Mot de passe"),
    ] = "",
) -> None:
    """Crée un compte administrateur ou facilitateur."""
    engine = make_engine(_database_url())
    try:
        with Session(engine) as session:
            user = create_user(
                session,
                email=email,
                full_name=name,
                role=role,
                password=password,
                programme_ids=programme or [],
            )
            typer.echo(f"Compte créé : {user.email} ({user.role}).")
    except UserError as exc:
        raise _fail(str(exc)) from None
    except OperationalError as exc:
        raise _fail(f"Base de données non prête : {exc.orig}. Lancez « vigie db upgrade ».") from None
    finally:
        engine.dispose()


if __name__ == "__main__":
    app()
