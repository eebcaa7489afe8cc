"""``vigie user``: web-app accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.auth.users import UserError, UserRole, create_user
from backend.cli.common import command_group, database_url, fail, say
from backend.db import make_engine

user_app = command_group("user", "Comptes de l'application web.")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Adresse e-mail (identifiant de connexion)")],
    name: Annotated[str, typer.Option(help="Nom complet")],
    role: Annotated[UserRole, typer.Option(help="Rôle")] = UserRole.FACILITATOR,
    programme: Annotated[list[int] | None, typer.Option(help="Programme suivi (répétable)")] = None,
    structure: Annotated[int | None, typer.Option(help="Structure lue (rôle viewer)")] = None,
    password: Annotated[
        str,
        typer.Option(prompt="Mot de passe", hide_input=True, confirmation_prompt=True, help="Mot de passe"),
    ] = "",
) -> None:
    """Crée un compte administrateur, facilitateur ou lecteur d'une structure (viewer)."""
    engine = make_engine(database_url())
    try:
        with Session(engine) as session:
            user = create_user(
                session,
                email=email,
                full_name=name,
                role=role,
                password=password,
                programme_ids=programme or [],
                structure_id=structure,
            )
            record_audit(
                session,
                AuditAction.USER_CREATE,
                target_type="user",
                target_id=user.id,
                details={"role": user.role, "email": user.email, "via": "cli"},
            )
            session.commit()
            say(f"Compte créé : {user.email} ({user.role}).")
    except UserError as exc:
        raise fail(str(exc)) from None
    except OperationalError as exc:
        raise fail(f"Base de données non prête : {exc.orig}. Lancez « vigie db upgrade ».") from None
    finally:
        engine.dispose()


# Observers, enrolment codes and tablets. Services raise ApiError; here it becomes a message and exit code 1.
