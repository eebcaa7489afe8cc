"""``vigie feed-token``: personal tokens with which Excel and Power BI read the OData feed."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session, select

from backend import models
from backend.auth.users import normalise_email
from backend.cli.common import command_group, fail, open_session, print_table, say
from backend.odata.tokens import create_feed_token, feed_tokens_of, revoke_feed_token

feed_token_app = command_group("feed-token", "Jetons du flux OData (Excel, Power BI).")
UserOption = Annotated[str, typer.Option("--user", help="Adresse e-mail du compte")]


def _user(session: Session, email: str) -> models.User:
    user = session.exec(select(models.User).where(models.User.email == normalise_email(email))).first()
    if user is None:
        raise fail(f"Aucun compte {email} (voir « vigie user list »).")
    return user


@feed_token_app.command("create")
def feed_token_create(
    user: UserOption, name: Annotated[str, typer.Option(help="Nom du jeton (l'outil qui l'utilise)")]
) -> None:
    """Crée un jeton et l'affiche une seule fois (mot de passe de l'authentification de base). Un nom
    refusé ou un jeton d'un autre compte : message d'erreur (open_session), code de sortie 1."""
    with open_session() as session:
        owner = _user(session, user)
        token, record = create_feed_token(session, owner, name, actor_user_id=None, via="cli")
        say(f"Jeton n° {record.id} « {record.name} » créé pour {owner.email}.")
        say("Copiez-le maintenant, il ne sera plus affiché :")
        say(token)


@feed_token_app.command("list")
def feed_token_list(user: UserOption) -> None:
    """Les jetons d'un compte, actifs et révoqués (jamais leur valeur, que seul son hachage garde)."""
    with open_session() as session:
        owner = _user(session, user)
        rows = [
            (
                str(t.id),
                t.name,
                t.created_at.strftime("%d/%m/%Y %H:%M"),
                t.last_used_at.strftime("%d/%m/%Y %H:%M") if t.last_used_at else "jamais",
                f"révoqué le {t.revoked_at:%d/%m/%Y}" if t.revoked_at else "actif",
            )
            for t in feed_tokens_of(session, owner)
        ]
        if not rows:
            say(f"Aucun jeton pour {owner.email}.")
            return
        print_table(("N°", "Nom", "Créé (UTC)", "Dernière lecture (UTC)", "État"), rows)


@feed_token_app.command("revoke")
def feed_token_revoke(
    user: UserOption, token_id: Annotated[int, typer.Argument(help="Numéro du jeton (vigie feed-token list)")]
) -> None:
    """Révoque un jeton : le flux ne s'ouvre plus avec lui."""
    with open_session() as session:
        owner = _user(session, user)
        record = revoke_feed_token(session, owner, token_id, actor_user_id=None, via="cli")
        say(f"Jeton n° {record.id} « {record.name} » révoqué.")
