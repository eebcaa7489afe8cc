"""``vigie observer``, ``vigie enrolment`` and ``vigie device``: observers, enrolment codes, tablets."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from sqlmodel import col, select

from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.cli.common import (
    DEFAULT_SERVER_URL,
    MAX_CODE_DAYS,
    QR_WRITERS,
    command_group,
    fail,
    find_observer,
    find_structure,
    local_time,
    open_session,
    print_table,
    programme_name,
    say,
)
from backend.models import Device, Observer, Programme, Structure
from backend.sync.devices import create_enrolment_code, enrolment_uri, revoke_device
from shared.schema import NAME_MAX_LENGTH

observer_app = command_group("observer", "Observateurs des programmes.")
enrolment_app = command_group("enrolment", "Codes d'enrôlement des tablettes.")
device_app = command_group("device", "Tablettes enrôlées.")


@observer_app.command("list")
def observer_list(
    programme: Annotated[int | None, typer.Option(help="Seulement les observateurs de ce programme")] = None,
) -> None:
    """Liste les observateurs : identifiant, nom, programme."""
    with open_session() as session:
        query = select(Observer).order_by(col(Observer.id))
        if programme is not None:
            query = query.where(Observer.programme_id == programme)
        observers = session.exec(query).all()
        if not observers:
            say("Aucun observateur.")
            return
        rows = [(str(o.id), o.display_name, programme_name(session, o.programme_id)) for o in observers]
    print_table(("ID", "NOM", "PROGRAMME"), rows)


@observer_app.command("create")
def observer_create(
    programme: Annotated[int, typer.Option(help="Identifiant du programme")],
    name: Annotated[str, typer.Option(help="Nom affiché de l'observateur")],
) -> None:
    """Crée un observateur dans un programme."""
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise fail(f"Le nom doit compter de 1 à {NAME_MAX_LENGTH} caractères.")
    with open_session() as session:
        if session.get(Programme, programme) is None:
            raise fail(f"Programme {programme} inconnu.")
        observer = Observer(programme_id=programme, display_name=name)
        session.add(observer)
        session.flush()
        record_audit(
            session,
            AuditAction.OBSERVER_CREATE,
            target_type="observer",
            target_id=observer.id,
            details={"via": "cli"},
        )
        session.commit()
        say(
            f"Observateur créé : {observer.id} {observer.display_name}, "
            f"programme {programme_name(session, programme)}."
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
        raise fail(f"Durée de validité invalide : de 1 à {MAX_CODE_DAYS} jours.")
    address = urlsplit(server_url)
    if address.scheme not in ("http", "https") or not address.hostname:
        raise fail(f"Adresse du serveur invalide : {server_url} (exemple : http://192.168.1.10:8000).")
    if qr is not None:
        if qr.suffix.lower() not in QR_WRITERS:
            raise fail(f"Format du QR code inconnu : {qr.name} (extensions acceptées : .svg, .png).")
        if not qr.parent.is_dir():
            raise fail(f"Dossier introuvable pour le QR code : {qr.parent}")
    with open_session() as session:
        person = find_observer(session, observer)
        place = find_structure(session, structure)
        if person.programme_id != place.programme_id:
            raise fail(
                f"L'observateur {observer} ({person.display_name}) appartient au programme "
                f"{programme_name(session, person.programme_id)}, la structure {structure} ({place.name}) "
                f"au programme {programme_name(session, place.programme_id)} : enrôlement refusé."
            )
        issued = create_enrolment_code(
            session, observer_id=observer, structure_id=structure, lifetime=timedelta(days=days)
        )
        record_audit(
            session,
            AuditAction.ENROLMENT_CODE,
            target_type="observer",
            target_id=observer,
            details={"structure_id": structure, "expires_at": issued.expires_at.isoformat(), "via": "cli"},
        )
        session.commit()
        expiry = local_time(issued.expires_at, place.timezone)
        summary = f"{person.display_name} ({observer}), structure {place.name} ({structure})"
    uri = enrolment_uri(server_url, issued.code)
    say(f"Code d'enrôlement : {issued.code}  (usage unique, affiché une seule fois)")
    say(f"Pour : {summary}")
    say(f"Valable jusqu'au : {expiry}")
    say(f"Adresse d'enrôlement : {uri}")
    if address.hostname in ("127.0.0.1", "localhost", "::1"):
        say(
            "Attention : cette adresse ne joint que ce poste ; pour une tablette, indiquez "
            "--server-url http://ADRESSE-DU-SERVEUR:PORT."
        )
    if qr is not None:
        try:
            qr.write_bytes(QR_WRITERS[qr.suffix.lower()](uri))
        except OSError as exc:
            raise fail(f"QR code non écrit ({exc.strerror}) : le code ci-dessus reste valable.") from None
        say(f"QR code écrit dans : {qr}")


@device_app.command("list")
def device_list() -> None:
    """Liste les tablettes : observateur, structure, dernière synchronisation, révocation."""
    with open_session() as session:
        rows = []
        for device in session.exec(select(Device).order_by(col(Device.id))).all():
            person = session.get(Observer, device.observer_id)
            place = session.get(Structure, device.structure_id)
            timezone = place.timezone if place else "UTC"
            seen = local_time(device.last_seen_at, timezone) if device.last_seen_at else "jamais"
            state = (
                f"révoquée le {local_time(device.revoked_at, timezone)}" if device.revoked_at else "active"
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
        say("Aucune tablette enrôlée.")
        return
    print_table(("ID", "LIBELLÉ", "OBSERVATEUR", "STRUCTURE", "DERNIER CONTACT", "ÉTAT"), rows)


@device_app.command("revoke")
def device_revoke(device_id: Annotated[int, typer.Argument(help="Identifiant de la tablette")]) -> None:
    """Révoque une tablette : son jeton ne permet plus de synchroniser."""
    with open_session() as session:
        already = session.get(Device, device_id)
        if already is not None and already.revoked_at is not None:
            say(f"Tablette {device_id} déjà révoquée.")
            return
        device = revoke_device(session, device_id)
        label = f" ({device.label})" if device.label else ""
        say(f"Tablette {device_id}{label} révoquée : elle ne peut plus synchroniser.")
