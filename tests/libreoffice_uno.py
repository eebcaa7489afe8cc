"""Run by Debian's python3 (its ``uno`` module, package python3-uno), not by the project's venv: one headless
LibreOffice opens every file of a list, each with its own import filter and options (the CSV dialog's
separator, character set and column types), and saves it again as XLSX. One LibreOffice for all the files
of a test run, where ``soffice --convert-to`` would take one import filter for all of them.

    /usr/bin/python3 tests/libreoffice_uno.py JOBS.json PROFILE_DIR

JOBS.json: a list of {"source", "target", "filter" (or null: LibreOffice detects the type), "options"}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

SAVE_AS = "Calc MS Excel 2007 XML"


def _property(name: str, value: Any) -> Any:
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _desktop(pipe: str, office: subprocess.Popen[bytes]) -> Any:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 120
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        except NoConnectException:
            if office.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"LibreOffice did not start (exit code {office.poll()})") from None
            time.sleep(0.1)


def main() -> None:
    jobs_file, profile = sys.argv[1], sys.argv[2]
    with open(jobs_file, encoding="utf-8") as jobs_in:
        jobs = json.load(jobs_in)
    pipe = f"vigie_read_back_{os.getpid()}"
    office = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ]
    )
    failed = []
    try:
        desktop = _desktop(pipe, office)
        for job in jobs:
            opening = [_property("Hidden", True), _property("ReadOnly", True)]
            if job.get("filter"):
                opening += [
                    _property("FilterName", job["filter"]),
                    _property("FilterOptions", job["options"]),
                ]
            url = uno.systemPathToFileUrl(job["source"])
            document = desktop.loadComponentFromURL(url, "_blank", 0, tuple(opening))
            if document is None:
                failed.append(job["source"])
                continue
            try:
                target = uno.systemPathToFileUrl(job["target"])
                document.storeToURL(target, (_property("FilterName", SAVE_AS),))
            finally:
                document.close(True)
        desktop.terminate()
    finally:
        try:
            office.wait(60)
        except subprocess.TimeoutExpired:
            office.kill()
    if failed:
        raise SystemExit("LibreOffice could not open: " + ", ".join(failed))


if __name__ == "__main__":
    main()
