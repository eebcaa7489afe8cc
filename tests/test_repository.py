"""The promises the README makes to a newcomer, checked against the files that keep them."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands_that_exist() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    for command in commands:
        script = ROOT / command.removeprefix("./")
        assert script.is_file(), command
        assert os.access(script, os.X_OK), f"{command} is not executable"


def test_ci_runs_the_readme_test_command() -> None:
    test_command = readme_commands()[1]
    ci_lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert f"exec {test_command}" in ci_lines
