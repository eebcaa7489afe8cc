"""Exports reopened as an outside reader's tool does: LibreOffice headless (Debian's libreoffice-calc-nogui)
opens each file, a CSV with the import options a reader picks in its dialog, and saves it again as XLSX,
which openpyxl then reads. All the files of a test in one LibreOffice run (tests/libreoffice_uno.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

UNO_SCRIPT = Path(__file__).resolve().parent / "libreoffice_uno.py"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, whose uno module (python3-uno) drives LibreOffice
CSV_FILTER = "Text - txt - csv (StarCalc)"
# Column types of LibreOffice's CSV import: standard, text, a date written year-month-day.
STANDARD, TEXT, DATE_YMD = 1, 2, 5
SEPARATOR_CODES = {";": 59, ",": 44}


@dataclass(frozen=True)
class Reopen:
    """A file to reopen: ``import_filter`` None lets LibreOffice detect the type (XLSX)."""

    source: Path
    import_filter: str | None = None
    options: str = ""


def csv_import(source: Path, separator: str, columns: list[int]) -> Reopen:
    """A UTF-8 CSV export opened with its separator, double quotes around text, from line 1, each column
    with the type given (``columns``: one of STANDARD, TEXT, DATE_YMD per column, in order)."""
    formats = "/".join(f"{number}/{kind}" for number, kind in enumerate(columns, start=1))
    return Reopen(source, CSV_FILTER, f"{SEPARATOR_CODES[separator]},34,76,1,{formats}")


def reopened_by_libreoffice(files: list[Reopen], directory: Path) -> dict[Path, Path]:
    """Each source file opened by one headless LibreOffice and saved again as XLSX: source → saved file."""
    assert shutil.which("soffice"), "LibreOffice (libreoffice-calc-nogui) is installed by scripts/test.sh"
    directory.mkdir(parents=True, exist_ok=True)
    saved = {
        item.source: directory / f"{index:02d}-{item.source.stem}.xlsx" for index, item in enumerate(files)
    }
    jobs = [
        {"source": str(item.source), "target": str(saved[item.source]), "filter": item.import_filter,
         "options": item.options}
        for item in files
    ]  # fmt: skip
    jobs_file = directory / "jobs.json"
    jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
    done = subprocess.run(
        [SYSTEM_PYTHON, str(UNO_SCRIPT), str(jobs_file), str(directory / "profile")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    missing = [str(source) for source, target in saved.items() if not target.is_file()]
    assert not missing, f"LibreOffice saved nothing for {missing}"
    return saved
