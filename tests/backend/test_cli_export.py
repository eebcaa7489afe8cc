"""``vigie export`` as a facilitator types it, on the demo programme (SQLite and PostgreSQL), and one
real process end to end."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import Session, select
from typer.testing import CliRunner

from backend import models
from backend.admin.demo_data import STRUCTURES, build_demo
from backend.cli import app
from backend.db import make_engine
from backend.server_process import vigie_command
from backend.settings import get_settings

runner = CliRunner()


@pytest.fixture
def demo_url(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    engine = make_engine(migrated_url)
    with Session(engine) as session:
        build_demo(session)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def _audit(url: str) -> list[models.AuditEvent]:
    engine = make_engine(url)
    with Session(engine) as session:
        events = list(session.exec(select(models.AuditEvent)).all())
    engine.dispose()
    return events


def test_export_each_format_from_the_command_line(demo_url: str, tmp_path: Path) -> None:
    for name in ("obs.csv", "obs.xlsx", "dossier.pdf", "obs.json"):
        result = runner.invoke(app, ["export", "--programme", "1", "--output", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert "écrit" in result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "obs.csv").read_text("utf-8-sig")), delimiter=";"))
    assert (tmp_path / "obs.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    workbook = load_workbook(tmp_path / "obs.xlsx")
    assert workbook["Observations"].max_row == len(rows) + 1
    assert "Chiffres clés" in PdfReader(tmp_path / "dossier.pdf").pages[1].extract_text()
    assert (
        f"({len(rows)} observations)"
        in runner.invoke(app, ["export", "--programme", "1", "--output", str(tmp_path / "again.csv")]).output
    )
    events = _audit(demo_url)
    assert [e.action for e in events] == [
        "export.csv",
        "export.xlsx",
        "export.pdf",
        "export.json",
        "export.csv",
    ]
    assert all(e.details["via"] == "cli" and e.actor_user_id is None for e in events)


def test_export_filters_and_options(demo_url: str, tmp_path: Path) -> None:
    output = tmp_path / "tilleuls.csv"
    result = runner.invoke(
        app,
        [
            "export",
            "--programme", "1",
            "--structure", "4",
            "--category", "interruption",
            "--separator", ",",
            "--anonymous-structures",
            "--output", str(output),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(output.read_text("utf-8-sig")), delimiter=","))
    assert rows
    assert {row["Structure"] for row in rows} == {"S4"}
    assert {row["Catégorie (code)"] for row in rows} == {"interruption"}
    assert STRUCTURES[3].name not in output.read_text("utf-8-sig")
    assert _audit(demo_url)[-1].details["filters"] == {
        "programme_id": 1,
        "structure_id": 4,
        "category": "interruption",
    }


def test_export_narrowed_to_an_effect_and_a_local_weekday(demo_url: str, tmp_path: Path) -> None:
    # The demo's dates follow today's, so the weekday is the one its matching observations fall on most.
    engine = make_engine(demo_url)
    with Session(engine) as session:
        matching = [
            o.occurred_at.astimezone(ZoneInfo("Europe/Paris")).isoweekday()
            for o in session.exec(
                select(models.Observation).where(
                    models.Observation.structure_id == 4,
                    models.Observation.effect == "negative",
                    models.Observation.deleted == False,  # noqa: E712
                )
            ).all()
            if session.get(models.ObservationAttributeValue, (o.id, "dimension", "rhythm")) is not None
        ]
    engine.dispose()
    weekday, expected = Counter(matching).most_common(1)[0]
    output = tmp_path / "jour.csv"
    arguments = [
        "--structure",
        "4",
        "--effect",
        "negative",
        "--weekday",
        str(weekday),
        "--dimension",
        "rhythm",
    ]
    result = runner.invoke(app, ["export", "--programme", "1", *arguments, "--output", str(output)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(output.read_text("utf-8-sig")), delimiter=";"))
    assert rows and len(rows) == expected
    assert _audit(demo_url)[-1].details["filters"] == {
        "programme_id": 1,
        "structure_id": 4,
        "effect": "negative",
        "dimension": "rhythm",
        "weekday": weekday,
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--category", "interuption"], "Code inconnu « interuption »"),
        (["--from", "2026-13-01"], "--from « 2026-13-01 »"),
        (["--separator", "|"], "Séparateur « | » refusé"),
        (["--hour", "24"], "--hour « 24 »"),
        (["--effect", "neutre"], "Code inconnu « neutre »"),
        (["--format", "docx"], "docx"),
    ],
)
def test_bad_options_get_a_french_message_and_no_file(
    demo_url: str, tmp_path: Path, arguments: list[str], message: str
) -> None:
    output = tmp_path / "out.csv"
    result = runner.invoke(app, ["export", "--programme", "1", "--output", str(output), *arguments])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not output.exists()
    assert _audit(demo_url) == []


def test_an_unknown_programme_is_refused(demo_url: str, tmp_path: Path) -> None:
    output = tmp_path / "exports"
    output.mkdir()
    result = runner.invoke(app, ["export", "--programme", "99", "--output", str(output / "x.pdf")])
    assert result.exit_code == 1
    assert "Introuvable" in result.output
    assert list(output.iterdir()) == []


def test_vigie_export_runs_as_a_real_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIGIE_DATABASE_URL")}
    subprocess.run(vigie_command("demo"), cwd=tmp_path, env=env, check=True, capture_output=True)
    done = subprocess.run(
        vigie_command("export", "--programme", "1", "--format", "xlsx", "--output", "atelier.xlsx"),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "Export XLSX écrit" in done.stdout
    assert "Par catégorie" in load_workbook(tmp_path / "atelier.xlsx").sheetnames
