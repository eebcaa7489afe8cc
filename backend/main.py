"""create_app(): wiring only."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

from backend import health, taxonomy
from backend.admin import api as admin
from backend.admin import pages as admin_pages
from backend.auth import api as auth
from backend.auth import pages as auth_pages
from backend.dashboards import api as dashboard
from backend.dashboards import pages as dashboard_pages
from backend.db import make_engine
from backend.errors import install_error_handlers
from backend.exports import api as exports
from backend.exports import pages as export_pages
from backend.grids import pages as grid_pages
from backend.odata import api as odata
from backend.odata import pages as odata_pages
from backend.privacy.names import load_model as load_privacy_model
from backend.privacy.pending import PendingNotesWorker
from backend.review import api as review
from backend.review import pages as review_pages
from backend.security import install_security
from backend.settings import Settings, get_settings
from backend.sync import api as sync
from backend.web.errors import install_page_error_handlers
from backend.web.templating import STATIC
from backend.workshops import pages as workshop_pages


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    owns_engine = engine is None
    engine = engine or make_engine(settings.database_url, echo=settings.sql_echo)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        pending_notes.stop()
        if owns_engine:
            engine.dispose()

    # Swagger UI is served from the package, not a CDN: hospital networks often block CDNs.
    app: FastAPI = FastAPIOffline(
        title="Vigie",
        version="0.1.0",
        description="Observation des effets des outils numériques sur le travail en santé et médico-social.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    # Started by create_served_app; elsewhere (tests, CLI) pending notes are screened when read out.
    pending_notes = app.state.pending_notes = PendingNotesWorker(engine)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(taxonomy.router)
    app.include_router(sync.router)
    # Facilitator web app: JSON API for the signed-in browser, then the pages (home "/" among them).
    install_page_error_handlers(app)
    for router in (auth.router, review.router, review.visits_router, dashboard.router, admin.router):
        app.include_router(router)
    for router in (
        auth_pages.router,
        dashboard_pages.router,
        review_pages.router,
        admin_pages.router,
        workshop_pages.router,
        grid_pages.router,
        odata_pages.router,
        export_pages.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(exports.router)
    app.include_router(odata.router)
    install_security(app, settings)

    return app


def create_served_app() -> FastAPI:
    """The app ``vigie serve`` runs, once per server process.

    What exists by now (modules, routes, validators, the privacy model) lives as long as the process:
    frozen, it is no longer rescanned by the garbage collector's full passes, which cost about 0.25 s over
    a push of 10,000 observations (bench/sync_ingest.py). Tests build many apps and keep the default.
    """
    app = create_app()
    # The privacy model (spaCy, about a second to load) is loaded now, before the first push needs it,
    # and frozen with the rest.
    load_privacy_model()
    gc.freeze()
    app.state.pending_notes.start()
    return app
