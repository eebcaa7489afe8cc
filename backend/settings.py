"""Server configuration, read once from the environment (and an optional .env file)."""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'vigie.db'}"


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgresql://`` spelling and route it to the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default_factory=default_database_url,
        validation_alias=AliasChoices("DATABASE_URL", "VIGIE_DATABASE_URL"),
    )
    host: str = "127.0.0.1"
    port: int = 8000
    sql_echo: bool = False
    # How long an idle HTTP connection stays open. Longer than the reverse proxy keeps its upstream
    # connections (nginx: 60 s in docker/nginx.conf), so the server never closes one just as the proxy,
    # or a tablet, sends a request on it (uvicorn's default of 5 s did, under load: bench/load.py).
    keep_alive_seconds: int = Field(default=75, ge=1)
    # Lockout after repeated failures, counted in the database so every worker sees the same counts.
    login_max_failures: int = Field(default=5, ge=1)  # per e-mail address
    login_max_failures_per_ip: int = Field(default=20, ge=1)  # a hospital's staff may share one address
    enrolment_max_failures_per_ip: int = Field(default=10, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    # Web origins allowed to call the API from a browser (comma-separated); empty: none, CORS stays closed.
    cors_origins: str = ""
    # The reverse proxies in front of the server, by address or network (comma-separated), never "*": the
    # client address (for the lockout) is the rightmost X-Forwarded-For entry not added by one of them,
    # the one the outermost trusted proxy saw; whatever a client wrote there itself is ignored.
    trusted_proxies: str = "127.0.0.1"
    # The address tablets reach this server at (https://vigie.example.org), for enrolment codes; empty:
    # the facilitator types it. Never taken from the request's Host header, which the client chooses.
    public_url: str = ""
    # Exports of more observations than this, asked from a page, are built in the background (the page
    # shows progress) and kept in ``export_dir`` (empty: ./exports) for ``export_keep_hours``.
    export_async_rows: int = Field(default=20_000, ge=1)
    export_dir: str = ""
    export_keep_hours: int = Field(default=24, ge=1)

    @field_validator("database_url")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _named_proxies(cls, value: str) -> str:
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"VIGIE_TRUSTED_PROXIES: {item!r} is not an address or network; name the proxies "
                    '("*" would let any client choose the address the lockout counts)'
                ) from None
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("VIGIE_PUBLIC_URL must start with http:// or https://")
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [item.strip() for item in self.trusted_proxies.split(",") if item.strip()]

    @property
    def export_directory(self) -> Path:
        return Path(self.export_dir) if self.export_dir else Path.cwd() / "exports"

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()]


@cache
def get_settings() -> Settings:
    return Settings()
