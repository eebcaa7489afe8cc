"""The ``vigie`` command: serve, demo data, users, observers, tablet enrolment, database migrations."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
import uvicorn
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from backend import migrate
from backend.admin.backup import BackupError
from backend.admin.backup import backup as backup_database
from backend.admin.backup import restore as restore_database
from backend.admin.demo_data import (
    DEMO_ADMIN_EMAIL,
    DEMO_FACILITATOR_EMAIL,
    DEMO_PASSWORD,
    DEMO_VIEWER_EMAIL,
    build_demo,
    demo_present,
)
from backend.audit.service import record_audit
from backend.auth.users import UserError, UserRole, create_user
from backend.db import make_engine
from backend.errors import ApiError
from backend.exports.csv import SEPARATORS
from backend.exports.rows import ExportScope
from backend.exports.service import ExportFormat, start_export, write_export_file
from backend.models import Device, Observer, Programme, Structure
from backend.review.filters import ObservationFilter
from backend.settings import get_settings
from backend.sync.devices import create_enrolment_code, enrolment_uri, revoke_device
from backend.sync.enrolment_qr import qr_png, qr_svg
from shared.schema import NAME_MAX_LENGTH

app = typer.Typer(help="Vigie : observation des effets du numérique sur le travail.", no_args_is_help=True)
db_app = typer.Typer(help="Schéma de la base (migrations Alembic).", no_args_is_help=True)
user_app = typer.Typer(help="Comptes de l'application web.", no_args_is_help=True)
app.add_typer(db_app, name="db")
observer_app = typer.Typer(help="Observateurs des programmes.", no_args_is_help=True)
enrolment_app = typer.Typer(help="Codes d'enrôlement des tablettes.", no_args_is_help=True)
device_app = typer.Typer(help="Tablettes enrôlées.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(observer_app, name="observer")
app.add_typer(enrolment_app, name="enrolment")
app.add_typer(device_app, name="device")


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
    typer.echo(
        f"Comptes de démonstration : {DEMO_ADMIN_EMAIL}, {DEMO_FACILITATOR_EMAIL} "
        f"et {DEMO_VIEWER_EMAIL} (lecture seule)"
    )
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
        "backend.main:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        timeout_keep_alive=settings.keep_alive_seconds,
        log_level="info",
    )


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
                structure_id=structure,
            )
            record_audit(
                session,
                "user.create",
                target_type="user",
                target_id=user.id,
                details={"role": user.role, "email": user.email, "via": "cli"},
            )
            session.commit()
            typer.echo(f"Compte créé : {user.email} ({user.role}).")
    except UserError as exc:
        raise _fail(str(exc)) from None
    except OperationalError as exc:
        raise _fail(f"Base de données non prête : {exc.orig}. Lancez « vigie db upgrade ».") from None
    finally:
        engine.dispose()


# Observers, enrolment codes and tablets. Services raise ApiError; here it becomes a message and exit code 1.

DEFAULT_SERVER_URL = "http://127.0.0.1:8000"
MAX_CODE_DAYS = 90  # an enrolment code is for setting up a tablet soon, not a standing credential
QR_WRITERS = {".svg": lambda uri: qr_svg(uri).encode("utf-8"), ".png": qr_png}


@contextmanager
def _session() -> Iterator[Session]:
    engine = make_engine(_database_url())
    try:
        with Session(engine) as session:
            yield session
    except ApiError as exc:
        raise _fail(exc.message) from None
    except OperationalError as exc:
        raise _fail(f"Base de données non prête : {exc.orig}. Lancez « vigie db upgrade ».") from None
    finally:
        engine.dispose()


def _local_time(moment: datetime, timezone: str) -> str:
    """A stored UTC time as the structure's staff read it."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone, timezone = ZoneInfo("UTC"), "UTC"
    return f"{moment.astimezone(zone):%d/%m/%Y %H:%M} ({timezone})"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _observer(session: Session, observer_id: int) -> Observer:
    observer = session.get(Observer, observer_id)
    if observer is None:
        raise _fail(f"Observateur {observer_id} inconnu (voir « vigie observer list »).")
    return observer


def _structure(session: Session, structure_id: int) -> Structure:
    structure = session.get(Structure, structure_id)
    if structure is None:
        raise _fail(f"Structure {structure_id} inconnue.")
    return structure


def _programme_name(session: Session, programme_id: int) -> str:
    programme = session.get(Programme, programme_id)
    return f"{programme.name} ({programme_id})" if programme else str(programme_id)


@observer_app.command("list")
def observer_list(
    programme: Annotated[int | None, typer.Option(help="Seulement les observateurs de ce programme")] = None,
) -> None:
    """Liste les observateurs : identifiant, nom, programme."""
    with _session() as session:
        query = select(Observer).order_by(col(Observer.id))
        if programme is not None:
            query = query.where(Observer.programme_id == programme)
        observers = session.exec(query).all()
        if not observers:
            typer.echo("Aucun observateur.")
            return
        rows = [(str(o.id), o.display_name, _programme_name(session, o.programme_id)) for o in observers]
    _table(("ID", "NOM", "PROGRAMME"), rows)


@observer_app.command("create")
def observer_create(
    programme: Annotated[int, typer.Option(help="Identifiant du programme")],
    name: Annotated[str, typer.Option(help="Nom affiché de l'observateur")],
) -> None:
    """Crée un observateur dans un programme."""
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise _fail(f"Le nom doit compter de 1 à {NAME_MAX_LENGTH} caractères.")
    with _session() as session:
        if session.get(Programme, programme) is None:
            raise _fail(f"Programme {programme} inconnu.")
        observer = Observer(programme_id=programme, display_name=name)
        session.add(observer)
        session.flush()
        record_audit(
            session, "observer.create", target_type="observer", target_id=observer.id, details={"via": "cli"}
        )
        session.commit()
        typer.echo(
            f"Observateur créé : {observer.id} {observer.display_name}, "
            f"programme {_programme_name(session, programme)}."
        )


@enrolment_app.command("create")
def enrolment_create(
    observer: Annotated[int, typer.Option(help="Identifiant de l'observateur")],
    structure: Annotated[int, typer.Option(help="Identifiant de la structure")],
    days: Annotated[int, typer.Option(help="Durée de validité du code, en jours")] = 7,
    server_url: Annotated[
        str, typer.Option(help="Adresse du serveur telle que la tablette la joint")
    ] = DEFAULT_SERVER_URL,
    qr: Annotated[
        Path | None, typer.Option(help="Écrit le QR code dans ce fichier (.svg ou .png)", dir_okay=False)
    ] = None,
) -> None:
    """Crée un code d'enrôlement (à usage unique) pour la tablette d'un observateur."""
    if not 1 <= days <= MAX_CODE_DAYS:
        raise _fail(f"Durée de validité invalide : de 1 à {MAX_CODE_DAYS} jours.")
    address = urlsplit(server_url)
    if address.scheme not in ("http", "https") or not address.hostname:
        raise _fail(f"Adresse du serveur invalide : {server_url} (exemple : http://192.168.1.10:8000).")
    if qr is not None:
        if qr.suffix.lower() not in QR_WRITERS:
            raise _fail(f"Format du QR code inconnu : {qr.name} (extensions acceptées : .svg, .png).")
        if not qr.parent.is_dir():
            raise _fail(f"Dossier introuvable pour le QR code : {qr.parent}")
    with _session() as session:
        person = _observer(session, observer)
        place = _structure(session, structure)
        if person.programme_id != place.programme_id:
            raise _fail(
                f"L'observateur {observer} ({person.display_name}) appartient au programme "
                f"{_programme_name(session, person.programme_id)}, la structure {structure} ({place.name}) "
                f"au programme {_programme_name(session, place.programme_id)} : enrôlement refusé."
            )
        issued = create_enrolment_code(
            session, observer_id=observer, structure_id=structure, lifetime=timedelta(days=days)
        )
        record_audit(
            session,
            "device.enrolment_code",
            target_type="observer",
            target_id=observer,
            details={"structure_id": structure, "expires_at": issued.expires_at.isoformat(), "via": "cli"},
        )
        session.commit()
        expiry = _local_time(issued.expires_at, place.timezone)
        summary = f"{person.display_name} ({observer}), structure {place.name} ({structure})"
    uri = enrolment_uri(server_url, issued.code)
    typer.echo(f"Code d'enrôlement : {issued.code}  (usage unique, affiché une seule fois)")
    typer.echo(f"Pour : {summary}")
    typer.echo(f"Valable jusqu'au : {expiry}")
    typer.echo(f"Adresse d'enrôlement : {uri}")
    if address.hostname in ("127.0.0.1", "localhost", "::1"):
        typer.echo(
            "Attention : cette adresse ne joint que ce poste ; pour une tablette, indiquez "
            "--server-url http://ADRESSE-DU-SERVEUR:PORT."
        )
    if qr is not None:
        try:
            qr.write_bytes(QR_WRITERS[qr.suffix.lower()](uri))
        except OSError as exc:
            raise _fail(f"QR code non écrit ({exc.strerror}) : le code ci-dessus reste valable.") from None
        typer.echo(f"QR code écrit dans : {qr}")


@device_app.command("list")
def device_list() -> None:
    """Liste les tablettes : observateur, structure, dernière synchronisation, révocation."""
    with _session() as session:
        rows = []
        for device in session.exec(select(Device).order_by(col(Device.id))).all():
            person = session.get(Observer, device.observer_id)
            place = session.get(Structure, device.structure_id)
            timezone = place.timezone if place else "UTC"
            seen = _local_time(device.last_seen_at, timezone) if device.last_seen_at else "jamais"
            state = (
                f"révoquée le {_local_time(device.revoked_at, timezone)}" if device.revoked_at else "active"
            )
            rows.append(
                (
                    str(device.id),
                    device.label or "-",
                    person.display_name if person else str(device.observer_id),
                    place.name if place else str(device.structure_id),
                    seen,
                    state,
                )
            )
    if not rows:
        typer.echo("Aucune tablette enrôlée.")
        return
    _table(("ID", "LIBELLÉ", "OBSERVATEUR", "STRUCTURE", "DERNIER CONTACT", "ÉTAT"), rows)


@device_app.command("revoke")
def device_revoke(device_id: Annotated[int, typer.Argument(help="Identifiant de la tablette")]) -> None:
    """Révoque une tablette : son jeton ne permet plus de synchroniser."""
    with _session() as session:
        already = session.get(Device, device_id)
        if already is not None and already.revoked_at is not None:
            typer.echo(f"Tablette {device_id} déjà révoquée.")
            return
        device = revoke_device(session, device_id)
        label = f" ({device.label})" if device.label else ""
        typer.echo(f"Tablette {device_id}{label} révoquée : elle ne peut plus synchroniser.")


@app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(help="Fichier de sauvegarde à écrire", dir_okay=False)],
    force: Annotated[bool, typer.Option(help="Remplace le fichier s'il existe déjà.")] = False,
) -> None:
    """Sauvegarde toute la base dans un fichier (SQLite : copie en ligne ; PostgreSQL : pg_dump)."""
    url = _database_url()
    try:
        result = backup_database(url, file, overwrite=force)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    size = f"{result.size_bytes / 1_000_000:.1f}".replace(".", ",")
    typer.echo(f"Sauvegarde {result.engine} de {_safe_url(url)} écrite : {file} ({size} Mo).")


@app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(help="Sauvegarde écrite par « vigie backup »", dir_okay=False)],
    force: Annotated[
        bool, typer.Option(help="Remplace une base qui contient déjà des données (elles sont perdues).")
    ] = False,
) -> None:
    """Restaure une sauvegarde dans la base (vide, sauf --force). Arrêtez le serveur avant."""
    url = _database_url()
    try:
        revision = restore_database(url, file, force=force)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"Base {_safe_url(url)} restaurée depuis {file} (schéma : révision {revision or 'aucune'}).")
    if revision != migrate.head_revision():
        typer.echo(
            f"Cette version de Vigie attend la révision {migrate.head_revision()} : "
            "lancez « vigie db upgrade » avant de relancer le serveur."
        )


EXPORT_FILTER_OPTIONS = {
    "structure_id": "--structure",
    "unit_id": "--unit",
    "category": "--category",
    "role": "--role",
    "tool": "--tool",
    "review_status": "--review-status",
    "date_from": "--from",
    "date_to": "--to",
    "text": "--text",
    "tag": "--tag",
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
    review_status: Annotated[
        str | None, typer.Option(help="to_review, validated, to_discuss ou set_aside")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Premier jour inclus (AAAA-MM-JJ)")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Dernier jour inclus (AAAA-MM-JJ)")] = None,
    text: Annotated[str | None, typer.Option(help="Mots cherchés dans les notes")] = None,
    tag: Annotated[str | None, typer.Option(help="Étiquette posée en relecture")] = None,
) -> None:
    """Exporte les observations filtrées (pseudonymisées) en CSV, XLSX, PDF ou JSON."""
    chosen = export_format
    if chosen is None:
        try:
            chosen = ExportFormat(output.suffix.lstrip(".").lower())
        except ValueError:
            raise _fail("Format inconnu : précisez --format csv, xlsx, pdf ou json.") from None
    if separator not in SEPARATORS:
        raise _fail(f"Séparateur « {separator} » refusé : ';' ou ','.")
    if not output.parent.is_dir():
        raise _fail(f"Dossier introuvable : {output.parent}")
    raw = {
        "programme_id": programme,
        "structure_id": structure,
        "unit_id": unit,
        "category": category,
        "role": role,
        "tool": tool,
        "review_status": review_status,
        "date_from": date_from,
        "date_to": date_to,
        "text": text,
        "tag": tag,
    }
    try:
        criteria = ObservationFilter.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        wrong = ", ".join(
            f"{EXPORT_FILTER_OPTIONS.get(str(error['loc'][0]), error['loc'][0])} « {error['input']} »"
            for error in exc.errors()
        )
        raise _fail(f"Option invalide : {wrong}.") from None
    scope = ExportScope(criteria=criteria, anonymous_structures=anonymous_structures)
    with _session() as session:
        started = start_export(
            session, scope, chosen, actor_user_id=None, via="cli", separator=";" if separator == ";" else ","
        )
        write_export_file(started, str(output))
    what = "dossier d'atelier" if chosen == ExportFormat.PDF else f"{started.rows} observations"
    typer.echo(f"Export {chosen.value.upper()} écrit : {output} ({what}).")


DEMO_TABLET_DIR = Path(".vigie-tablet")


@app.command("app")
def tablet_app(
    server_url: Annotated[
        str | None, typer.Option(help="Adresse du serveur (par défaut celle de « vigie serve »)")
    ] = None,
    data_dir: Annotated[
        Path, typer.Option(help="Dossier des données de la tablette sur ce poste", file_okay=False)
    ] = DEMO_TABLET_DIR,
    wait: Annotated[int, typer.Option(help="Secondes à attendre que le serveur réponde")] = 60,
) -> None:
    """Ouvre l'application tablette sur ce poste, code d'enrôlement de démonstration déjà saisi."""
    import importlib.util
    import os
    import subprocess
    import sys
    import time

    import httpx

    if importlib.util.find_spec("kivy") is None:
        raise _fail("Kivy n'est pas installé : .venv/bin/pip install -e '.[mobile]'")
    settings = get_settings()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104 (compared, not bound)
    url = (server_url or f"http://{host}:{settings.port}").rstrip("/")
    deadline = time.monotonic() + wait
    while True:  # started next to `vigie serve` by start.sh: the server may still be starting
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise _fail(
                f"Serveur injoignable à {url} : lancez d'abord « vigie serve » (ou scripts/start.sh)."
            )
        time.sleep(0.5)
    with _session() as session:
        observer = session.exec(select(Observer).order_by(col(Observer.id))).first()
        if observer is None or observer.id is None:
            raise _fail("Aucun observateur : créez la démonstration avec « vigie demo ».")
        structure = session.exec(
            select(Structure)
            .where(Structure.programme_id == observer.programme_id)
            .order_by(col(Structure.id))
        ).first()
        if structure is None or structure.id is None:
            raise _fail(f"Aucune structure dans le programme de {observer.display_name}.")
        # Always a fresh code: single use, valid a day; ignored by a tablet folder already enrolled.
        issued = create_enrolment_code(
            session, observer_id=observer.id, structure_id=structure.id, lifetime=timedelta(days=1)
        )
        typer.echo(
            f"Tablette de démonstration pour {observer.display_name}, structure {structure.name} "
            f"(code {issued.code} déjà saisi ; données dans {data_dir})."
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "VIGIE_APP_DATA": str(data_dir.resolve()),
        "VIGIE_SERVER_URL": url,
        "VIGIE_ENROLMENT_CODE": issued.code,
    }
    completed = subprocess.run([sys.executable, "-m", "mobile.main"], env=env, check=False)
    raise typer.Exit(code=completed.returncode)


if __name__ == "__main__":
    app()
