"""create_app(): wiring only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

from backend.api import health, sync, taxonomy
from backend.db import make_engine
from backend.errors import install_error_handlers
from backend.settings import Settings, get_settings


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    owns_engine = engine is None
    engine = engine or make_engine(settings.database_url, echo=settings.sql_echo)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
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
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(taxonomy.router)
    app.include_router(sync.router)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app
