"""The app's start-up settings, read once from the environment.

``VIGIE_APP_DATA``: the folder holding the local store (default: the platform's user data folder);
``VIGIE_SERVER_URL``: the server address the enrolment screen proposes; ``VIGIE_ENROLMENT_CODE``: a code
to propose too (``vigie app`` passes one for the demo); ``VIGIE_LANG``: ``fr`` or ``en`` (when unset, the
language last chosen in the app); ``VIGIE_SYNC_INTERVAL``: seconds between automatic syncs.
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
DEFAULT_SYNC_INTERVAL = 60.0


@dataclass(frozen=True)
class AppSettings:
    data_dir: Path | None = None  # None: App.user_data_dir, known only once Kivy runs
    server_url: str = ""
    language: Language = "fr"
    device_label: str = ""  # shown to facilitators in the list of tablets
    language_set: bool = False  # VIGIE_LANG given: it wins over the choice stored on the tablet
    enrolment_code: str = ""
    sync_interval: float = DEFAULT_SYNC_INTERVAL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AppSettings:
        data_dir = environ.get("VIGIE_APP_DATA", "").strip()
        try:
            interval = float(environ.get("VIGIE_SYNC_INTERVAL", "") or DEFAULT_SYNC_INTERVAL)
        except ValueError:
            interval = DEFAULT_SYNC_INTERVAL
        return cls(
            data_dir=Path(data_dir) if data_dir else None,
            server_url=environ.get("VIGIE_SERVER_URL", "").strip(),
            language=language_from(environ.get("VIGIE_LANG")),
            device_label=platform.node()[:100],
            language_set=bool(environ.get("VIGIE_LANG", "").strip()),
            enrolment_code=environ.get("VIGIE_ENROLMENT_CODE", "").strip(),
            sync_interval=max(1.0, interval),
        )
