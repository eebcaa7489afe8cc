"""The app's words in French (the default) and English; ``VIGIE_LANG=en`` switches to English.

A plain table rather than gettext: no build step, and a test checks that both languages have every
string with the same placeholders. Server error messages arrive in French; in English they are
re-rendered from their stable ``code`` by ``shared.messages``, the one table of error wording.
"""

from __future__ import annotations

from typing import Any

from shared.messages import message
from shared.taxonomy import LANGUAGES, Language

STRINGS: dict[str, dict[Language, str]] = {
    "enrolment.title": {"fr": "Enrôler la tablette", "en": "Enrol this tablet"},
    "enrolment.intro": {
        "fr": "Saisissez l'adresse du serveur et le code d'enrôlement remis par l'animateur du programme.",
        "en": "Type the server address and the enrolment code given by the programme facilitator.",
    },
    "enrolment.server_label": {"fr": "Adresse du serveur", "en": "Server address"},
    "enrolment.server_hint": {"fr": "http://192.168.1.10:8000", "en": "http://192.168.1.10:8000"},
    "enrolment.code_label": {"fr": "Code d'enrôlement", "en": "Enrolment code"},
    "enrolment.code_hint": {"fr": "ABCD-EFGH", "en": "ABCD-EFGH"},
    "enrolment.submit": {"fr": "Enrôler la tablette", "en": "Enrol the tablet"},
    "enrolment.submitting": {"fr": "Enrôlement en cours…", "en": "Enrolling…"},
    "enrolment.pending": {"fr": "Connexion au serveur…", "en": "Contacting the server…"},
    "form.server_missing": {
        "fr": "Saisissez l'adresse du serveur (exemple : http://192.168.1.10:8000).",
        "en": "Type the server address (for example http://192.168.1.10:8000).",
    },
    "form.server_invalid": {
        "fr": "Adresse du serveur invalide : « {value} » (exemple : http://192.168.1.10:8000).",
        "en": "Invalid server address: '{value}' (for example http://192.168.1.10:8000).",
    },
    "form.code_missing": {
        "fr": "Saisissez le code d'enrôlement (exemple : ABCD-EFGH).",
        "en": "Type the enrolment code (for example ABCD-EFGH).",
    },
    "form.code_length": {
        "fr": "Le code d'enrôlement compte {length} lettres ou chiffres (exemple : ABCD-EFGH).",
        "en": "The enrolment code has {length} letters or digits (for example ABCD-EFGH).",
    },
    "error.unexpected": {
        "fr": "Erreur inattendue ({detail}) : réessayez, puis prévenez l'animateur du programme.",
        "en": "Unexpected error ({detail}): try again, then tell the programme facilitator.",
    },
    "home.title": {"fr": "Vigie", "en": "Vigie"},
    "home.enrolled_for": {"fr": "Tablette enrôlée pour {observer}", "en": "Tablet enrolled for {observer}"},
    "home.pending": {
        "fr": "Modifications en attente d'envoi : {count}",
        "en": "Changes waiting to be sent: {count}",
    },
    "home.server": {"fr": "Serveur : {url}", "en": "Server: {url}"},
}

_language: Language = "fr"


def language_from(value: str | None) -> Language:
    """The language a setting names; anything unknown falls back to French."""
    normalised = (value or "").strip().lower()[:2]
    return "en" if normalised == "en" else "fr"


def use_language(language: Language) -> None:
    global _language
    if language not in LANGUAGES:
        raise ValueError(language)
    _language = language


def current_language() -> Language:
    return _language


def tr(key: str, /, **values: Any) -> str:
    return STRINGS[key][_language].format(**values)


def error_text(code: str, french_message: str) -> str:
    """What to show for an error that came with a French message and a stable code."""
    if _language == "fr":
        return french_message
    try:
        return message(code, _language)
    except (KeyError, IndexError):  # a code this app version does not know, or one needing context
        return french_message
