"""``vigie serve``, ``vigie demo`` and ``vigie app``: run the server, build the demo, open the tablet app."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from backend import migrate
from backend.admin.demo_data import (
    DEMO_ADMIN_EMAIL,
    DEMO_FACILITATOR_EMAIL,
    DEMO_PASSWORD,
    DEMO_VIEWER_EMAIL,
    build_demo,
    demo_present,
)
from backend.cli.common import app, database_url, fail, open_session, safe_url, say, upgrade_to
from backend.db import make_engine
from backend.models import Observer, Structure
from backend.privacy.service import rescan
from backend.settings import get_settings
from backend.sync.devices import create_enrolment_code


@app.command()
def demo(
    reset: Annotated[bool, typer.Option(help="Efface la base avant de recréer la démonstration.")] = False,
    seed: Annotated[
        int, typer.Option(help="Graine du générateur (mêmes données pour une même graine).")
    ] = 2026,
) -> None:
    """Crée la base et un programme de démonstration réaliste."""
    url = database_url()
    if reset:
        migrate.downgrade(url, "base")
    upgrade_to(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            if demo_present(session):
                say("Des données sont déjà présentes : démonstration conservée (--reset pour la recréer).")
            else:
                summary = build_demo(session, seed=seed)
                rescan(session)  # the demo's notes screened as pushed ones are
                say(
                    f"Démonstration créée : {summary.structures} structures, {summary.units} unités, "
                    f"{summary.observers} observateurs, {summary.visits} visites, "
                    f"{summary.observations} observations."
                )
    finally:
        engine.dispose()
    say(
        f"Comptes de démonstration : {DEMO_ADMIN_EMAIL}, {DEMO_FACILITATOR_EMAIL} "
        f"et {DEMO_VIEWER_EMAIL} (lecture seule)"
    )
    say(f"Mot de passe : {DEMO_PASSWORD}")


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
        raise fail(f"Base de données injoignable ({safe_url(url)}) : {exc.orig}") from None
    if revision is None:
        raise fail("La base n'est pas initialisée : lancez « vigie db upgrade » (ou « vigie demo »).")
    host = host or settings.host
    port = port or settings.port
    say(f"Vigie sur http://{host}:{port}/  (API : http://{host}:{port}/docs)  base : {safe_url(url)}")
    uvicorn.run(
        "backend.main:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        timeout_keep_alive=settings.keep_alive_seconds,
        # Named proxies only (uvicorn's FORWARDED_ALLOW_IPS is not read): the client address is the
        # rightmost X-Forwarded-For entry they did not add, whatever the client wrote before it.
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxy_list,
        log_level="info",
    )


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
        raise fail("Kivy n'est pas installé : .venv/bin/pip install -e '.[mobile]'")
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
            raise fail(f"Serveur injoignable à {url} : lancez d'abord « vigie serve » (ou scripts/start.sh).")
        time.sleep(0.5)
    with open_session() as session:
        observer = session.exec(select(Observer).order_by(col(Observer.id))).first()
        if observer is None or observer.id is None:
            raise fail("Aucun observateur : créez la démonstration avec « vigie demo ».")
        structure = session.exec(
            select(Structure)
            .where(Structure.programme_id == observer.programme_id)
            .order_by(col(Structure.id))
        ).first()
        if structure is None or structure.id is None:
            raise fail(f"Aucune structure dans le programme de {observer.display_name}.")
        # Always a fresh code: single use, valid a day; ignored by a tablet folder already enrolled.
        issued = create_enrolment_code(
            session, observer_id=observer.id, structure_id=structure.id, lifetime=timedelta(days=1)
        )
        say(
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
