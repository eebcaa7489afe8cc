"""The app's string table and its start-up settings (no window needed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mobile import i18n
from mobile.i18n import STRINGS, error_text, language_from, tr, use_language
from mobile.settings import AppSettings
from shared.taxonomy import LANGUAGES

PLACEHOLDER = re.compile(r"{(\w+)}")
MOBILE = Path(__file__).resolve().parents[2] / "mobile"


@pytest.fixture(autouse=True)
def _french_again() -> Iterator[None]:
    yield
    use_language("fr")


def test_every_string_exists_in_both_languages_with_the_same_placeholders() -> None:
    for key, texts in STRINGS.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key
        assert set(PLACEHOLDER.findall(texts["fr"])) == set(PLACEHOLDER.findall(texts["en"])), key


def test_every_key_the_screens_use_is_in_the_table() -> None:
    used = set()
    for path in [*MOBILE.glob("screens/*.kv"), *MOBILE.glob("screens/*.py"), MOBILE / "forms.py"]:
        used |= set(re.findall(r"""(?:tr\(|FormError\()"([a-z_]+\.[a-z_]+)\"""", path.read_text()))
    assert used, "no string keys found: the pattern no longer matches the code"
    assert used <= set(STRINGS)


def test_french_is_the_default_and_english_is_selectable() -> None:
    assert i18n.current_language() == "fr"
    assert tr("home.enrolled_for", observer="Claire Martin") == "Tablette enrôlée pour Claire Martin"
    use_language("en")
    assert tr("home.enrolled_for", observer="Claire Martin") == "Tablet enrolled for Claire Martin"


@pytest.mark.parametrize(
    ("setting", "language"),
    [(None, "fr"), ("", "fr"), ("en", "en"), ("EN_gb", "en"), ("fr_FR.UTF-8", "fr"), ("de", "fr")],
)
def test_language_setting_falls_back_to_french(setting: str | None, language: str) -> None:
    assert language_from(setting) == language


def test_server_errors_keep_their_french_message_or_are_rendered_in_english_by_code() -> None:
    french = "Code d'enrôlement inconnu : vérifiez la saisie."
    assert error_text("enrolment_code_invalid", french) == french
    use_language("en")
    assert error_text("enrolment_code_invalid", french) == "Unknown enrolment code: check what you typed."
    assert error_text("some_new_code", "Message du serveur.") == "Message du serveur."
    locked = "Trop de codes d'enrôlement refusés depuis ce réseau : réessayez dans 15 minutes."
    assert error_text("too_many_attempts", locked) == "Too many refused attempts: try again in a few minutes."


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = AppSettings.from_env(
        {"VIGIE_APP_DATA": str(tmp_path), "VIGIE_SERVER_URL": " http://vigie.local:8000 ", "VIGIE_LANG": "en"}
    )
    assert settings.data_dir == tmp_path
    assert settings.server_url == "http://vigie.local:8000"
    assert settings.language == "en"
    defaults = AppSettings.from_env({})
    assert (defaults.data_dir, defaults.server_url, defaults.language) == (None, "", "fr")
