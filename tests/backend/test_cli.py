"""The ``vigie`` command as a user types it: real processes where it matters."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from backend import models
from backend.cli import app
from backend.db import make_engine
from backend.migrate import head_revision
from backend.server_process import free_port, vigie_command, wait_until_up
from backend.settings import get_settings

runner = CliRunner()
PointAt = Callable[[str], None]


@pytest.fixture
def env_for(monkeypatch: pytest.MonkeyPatch) -> Iterator[PointAt]:
    """Point the in-process CLI at a database through DATABASE_URL, as a user would."""

    def point_at(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()

    yield point_at
    get_settings.cache_clear()


def test_demo_then_serve_gives_a_running_server_with_its_api_listed(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIGIE_DATABASE_URL")}
    demo = subprocess.run(
        vigie_command("demo"), cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert "Démonstration créée : 6 structures" in demo.stdout
    assert "admin@vigie.demo" in demo.stdout
    assert (tmp_path / "vigie.db").exists()  # the embedded default lives in the working directory

    port = free_port()
    server = subprocess.Popen(
        vigie_command("serve", "--port", str(port)), cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server)
        assert httpx.get(f"{base}/health").json()["schema_revision"] == head_revision()
        paths = httpx.get(f"{base}/openapi.json").json()["paths"]
        assert "/api/v1/taxonomy/{version}" in paths
        assert httpx.get(f"{base}/docs").status_code == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in output


def test_demo_twice_keeps_the_data(migrated_url: str, env_for: PointAt) -> None:
    env_for(migrated_url)
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0
    assert "déjà présentes" in second.output
    engine = make_engine(migrated_url)
    with Session(engine) as session:
        assert len(session.exec(select(models.Programme)).all()) == 1
    engine.dispose()


def test_demo_reset_rebuilds_from_scratch(tmp_path: Path, env_for: PointAt) -> None:
    env_for(f"sqlite:///{tmp_path / 'v.db'}")
    assert runner.invoke(app, ["demo"]).exit_code == 0
    assert (
        runner.invoke(
            app, ["user", "create", "--email", "a@b.fr", "--name", "A", "--password", "0123456789"]
        ).exit_code
        == 0
    )
    result = runner.invoke(app, ["demo", "--reset"])
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'v.db'}")
    with Session(engine) as session:
        assert "a@b.fr" not in {u.email for u in session.exec(select(models.User)).all()}
    engine.dispose()


def test_user_create_refuses_short_passwords_and_duplicates_with_clear_messages(
    migrated_url: str, env_for: PointAt
) -> None:
    env_for(migrated_url)
    base = ["user", "create", "--email", "Cadre@CHU.fr", "--name", "Cadre", "--role", "facilitator"]
    short = runner.invoke(app, [*base, "--password", "court"])
    assert short.exit_code == 1
    assert "Mot de passe trop court" in short.output
    created = runner.invoke(app, [*base, "--password", "un-mot-de-passe-long"])
    assert created.exit_code == 0
    assert "Compte créé : cadre@chu.fr (facilitator)" in created.output
    again = runner.invoke(app, [*base, "--password", "un-mot-de-passe-long"])
    assert again.exit_code == 1
    assert "existe déjà" in again.output
    unknown = runner.invoke(
        app, [*base[:3], "x@chu.fr", *base[4:], "--password", "0123456789", "--programme", "99"]
    )
    assert "Programme 99 inconnu" in unknown.output


def test_user_create_prompts_for_the_password_without_echoing_it(migrated_url: str, env_for: PointAt) -> None:
    env_for(migrated_url)
    result = runner.invoke(
        app,
        ["user", "create", "--email", "x@y.fr", "--name", "X", "--role", "admin"],
        input="secret-long-1\nsecret-long-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "secret-long-1" not in result.output


def test_db_upgrade_and_check(database_url: str, env_for: PointAt) -> None:
    env_for(database_url)
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0
    assert f"à la révision {head_revision()}" in upgraded.output
    assert runner.invoke(app, ["db", "check"]).exit_code == 0
    assert "base" in runner.invoke(app, ["db", "downgrade", "base"]).output


def test_serve_refuses_an_uninitialised_database(tmp_path: Path, env_for: PointAt) -> None:
    env_for(f"sqlite:///{tmp_path / 'empty.db'}")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1
    assert "La base n'est pas initialisée" in result.output


def test_unreachable_database_is_a_message_not_a_traceback(env_for: PointAt) -> None:
    env_for("postgresql://postgres@127.0.0.1:1/nowhere")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "Base de données injoignable" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
