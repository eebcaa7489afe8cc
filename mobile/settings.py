"""The app's start-up settings, read once from the environment.

``VIGIE_APP_DATA``: the folder holding the local store (default: the platform's user data folder);
``VIGIE_SERVER_URL``: the server address the enrolment screen proposes; ``VIGIE_LANG``: ``fr`` or ``en``.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mobile.i18n import language_from
from shared.taxonomy import Language

STORE_FILE = "vigie.db"


@dataclass(frozen=True)
class AppSettings:
    data_dir: Path | None = None  # None: App.user_data_dir, known only once Kivy runs
    server_url: str = ""
    language: Language = "fr"
    device_label: str = ""  # shown to facilitators in the list of tablets

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AppSettings:
        data_dir = environ.get("VIGIE_APP_DATA", "").strip()
        return cls(
            data_dir=Path(data_dir) if data_dir else None,
            server_url=environ.get("VIGIE_SERVER_URL", "").strip(),
            language=language_from(environ.get("VIGIE_LANG")),
            device_label=platform.node()[:100],
        )
