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
    "common.back": {"fr": "Retour", "en": "Back"},
    "common.lasted": {"fr": "durée {elapsed}", "en": "lasted {elapsed}"},
    "home.new_visit": {"fr": "Commencer une visite", "en": "Start a visit"},
    "home.resume_visit": {"fr": "Reprendre la visite en cours", "en": "Resume the visit under way"},
    "home.switch_language": {"fr": "English", "en": "Français"},
    "home.sync_title": {"fr": "Synchronisation", "en": "Sync"},
    "home.sync_now": {"fr": "Synchroniser maintenant", "en": "Sync now"},
    "home.sync_running": {"fr": "Synchronisation en cours…", "en": "Syncing…"},
    "home.sync_progress": {"fr": "Envoi : {sent} sur {total}", "en": "Sending: {sent} of {total}"},
    "home.last_sync": {
        "fr": "Dernière synchronisation réussie : {when}",
        "en": "Last successful sync: {when}",
    },
    "home.never_synced": {"fr": "Pas encore synchronisée", "en": "Not synced yet"},
    "home.sync_error": {
        "fr": "Échec de la dernière tentative : {reason}",
        "en": "Last attempt failed: {reason}",
    },
    "home.rejected_title": {
        "fr": "Refusées par le serveur, à corriger : {count}",
        "en": "Refused by the server, to fix: {count}",
    },
    "home.rejected_item": {"fr": "{what} : {reason}", "en": "{what}: {reason}"},
    "home.visit_item": {"fr": "Visite du {when}", "en": "Visit of {when}"},
    "home.visits_title": {"fr": "Visites récentes", "en": "Recent visits"},
    "home.visit_line": {
        "fr": "{when} · {unit} · {count} événement(s) · {state}",
        "en": "{when} · {unit} · {count} event(s) · {state}",
    },
    "home.visit_under_way": {"fr": "en cours", "en": "under way"},
    "home.visit_sent": {"fr": "envoyée", "en": "sent"},
    "home.visit_unsent": {"fr": "{count} modification(s) à envoyer", "en": "{count} change(s) to send"},
    "home.reopen": {"fr": "Rouvrir", "en": "Reopen"},
    "home.comments_title": {"fr": "Retours des animateurs", "en": "Facilitators' feedback"},
    "home.open": {"fr": "Ouvrir", "en": "Open"},
    "visit.title": {"fr": "Nouvelle visite", "en": "New visit"},
    "visit.structure": {"fr": "Structure : {name}", "en": "Structure: {name}"},
    "visit.structure_unknown": {
        "fr": "n° {id} (son nom arrive à la synchronisation)",
        "en": "no. {id} (its name arrives when the tablet syncs)",
    },
    "visit.unit_label": {"fr": "Unité observée", "en": "Unit observed"},
    "visit.no_units": {
        "fr": "Aucune unité sur la tablette : elles arrivent à la synchronisation (il faut du réseau).",
        "en": "No units on this tablet yet: they arrive when it syncs (a network is needed).",
    },
    "visit.roles_label": {"fr": "Professionnels suivis", "en": "Professionals followed"},
    "visit.context_label": {"fr": "Contexte (facultatif)", "en": "Context (optional)"},
    "visit.context_hint": {
        "fr": "Exemple : tournée du matin, préparation des médicaments",
        "en": "For example: morning round, medication preparation",
    },
    "visit.start": {"fr": "Commencer", "en": "Start"},
    "visit.unit_missing": {"fr": "Choisissez l'unité observée.", "en": "Choose the unit observed."},
    "visit.context_too_long": {
        "fr": "Contexte trop long : {max} caractères au maximum.",
        "en": "Context too long: {max} characters at most.",
    },
    "capture.clock": {"fr": "Visite : {elapsed}", "en": "Visit: {elapsed}"},
    "capture.counter": {"fr": "Événements : {count}", "en": "Events: {count}"},
    "capture.pending": {"fr": "À envoyer : {count}", "en": "To send: {count}"},
    "capture.home": {"fr": "Accueil", "en": "Home"},
    "capture.summary": {"fr": "Résumé et fin", "en": "Summary and end"},
    "capture.timer_idle": {"fr": "chronomètre à lancer", "en": "timer: tap to start"},
    "capture.timer_running": {
        "fr": "en cours {elapsed}\ntoucher pour arrêter",
        "en": "running {elapsed}\ntap to stop",
    },
    "capture.followed": {"fr": "Suivi :", "en": "Following:"},
    "capture.tool": {"fr": "Outil :", "en": "Tool:"},
    "capture.no_tool": {"fr": "aucun", "en": "none"},
    "capture.enriched": {"fr": "complété", "en": "detailed"},
    "capture.recent_title": {"fr": "Derniers événements", "en": "Latest events"},
    "capture.recent_empty": {
        "fr": "Touchez une catégorie pour noter un événement.",
        "en": "Tap a category to log an event.",
    },
    "capture.edit": {"fr": "Compléter", "en": "Details"},
    "capture.delete": {"fr": "Supprimer", "en": "Delete"},
    "capture.undo_delete": {"fr": "Annuler la suppression", "en": "Undo"},
    "capture.logged": {"fr": "Noté : {what}", "en": "Logged: {what}"},
    "capture.deleted": {"fr": "Supprimé : {what}", "en": "Deleted: {what}"},
    "capture.restored": {"fr": "Rétabli : {what}", "en": "Restored: {what}"},
    "capture.not_saved": {
        "fr": "NON enregistré ({detail}) : réessayez.",
        "en": "NOT saved ({detail}): try again.",
    },
    "capture.running_for": {"fr": "en cours {elapsed}", "en": "running {elapsed}"},
    "capture.paused_for": {"fr": "en pause {elapsed}", "en": "paused {elapsed}"},
    "quick.resumed": {"fr": "Tâche reprise ?", "en": "Task resumed?"},
    "quick.resumed_yes": {"fr": "oui", "en": "yes"},
    "quick.resumed_no": {"fr": "non", "en": "no"},
    "quick.resumed_later": {"fr": "plus tard", "en": "later"},
    "capture.paused": {
        "fr": "en pause {elapsed}\ntoucher pour reprendre",
        "en": "paused {elapsed}\ntap to resume",
    },
    "capture.resumed": {"fr": "Tâche reprise : {what}", "en": "Task resumed: {what}"},
    "capture.dropped": {"fr": "Tâche non reprise : {what}", "en": "Task not resumed: {what}"},
    "review.status": {"fr": "revue : {status}", "en": "review: {status}"},
    "observation.review_status": {"fr": "Revue : {status}", "en": "Review: {status}"},
    "review.comments": {"fr": "commentaires : {count}", "en": "comments: {count}"},
    "observation.back": {"fr": "Retour sans enregistrer", "en": "Back without saving"},
    "observation.note_label": {"fr": "Note", "en": "Note"},
    "observation.note_hint": {
        "fr": "Ce qui s'est passé, sans nom ni numéro de patient",
        "en": "What happened, with no patient name or number",
    },
    "observation.save": {"fr": "Enregistrer", "en": "Save"},
    "observation.save_anyway": {"fr": "Enregistrer quand même", "en": "Save anyway"},
    "observation.privacy_warning": {
        "fr": "La note semble contenir un identifiant de patient : {found}. Corrigez-la avant d'enregistrer.",
        "en": "The note seems to hold a patient identifier: {found}. Correct it before saving.",
    },
    "observation.privacy_confirm": {
        "fr": "La note contient encore : {found}. Corrigez-la, ou « Enregistrer quand même » si ce n'est pas "
        "un identifiant de patient.",
        "en": "The note still holds: {found}. Correct it, or 'Save anyway' if it is not a patient "
        "identifier.",
    },
    "observation.privacy_item": {"fr": "{kind} « {text} »", "en": "{kind} '{text}'"},
    "observation.note_too_long": {
        "fr": "Note trop longue : {max} caractères au maximum.",
        "en": "Note too long: {max} characters at most.",
    },
    "observation.rejected": {
        "fr": "Refusée par le serveur : {reason}",
        "en": "Refused by the server: {reason}",
    },
    "observation.comment": {"fr": "{author}, {when} : {body}", "en": "{author}, {when}: {body}"},
    "observation.running": {"fr": "chronomètre en cours", "en": "timer running"},
    "summary.title": {"fr": "Résumé de la visite", "en": "Visit summary"},
    "summary.duration": {"fr": "Durée : {duration}", "en": "Duration: {duration}"},
    "summary.total": {"fr": "Événements notés : {count}", "en": "Events logged: {count}"},
    "summary.rate": {"fr": "Rythme : {rate} par heure observée", "en": "Rate: {rate} per observed hour"},
    "summary.rate_too_short": {
        "fr": "Rythme : moins de 10 minutes observées, pas encore de rythme",
        "en": "Rate: under 10 minutes observed, no rate yet",
    },
    "summary.count_item": {"fr": "{category} : {count}", "en": "{category}: {count}"},
    "summary.count_rate_item": {
        "fr": "{category} : {count} ({rate} par heure)",
        "en": "{category}: {count} ({rate} per hour)",
    },
    "summary.timers_title": {"fr": "Durées chronométrées", "en": "Timed durations"},
    "summary.timer_item": {
        "fr": "{category} : {count} fois, total {total}, médiane {median}",
        "en": "{category}: {count} times, total {total}, median {median}",
    },
    "summary.interruptions": {
        "fr": "Interruptions : {count}, tâche reprise {resumed} fois sur {answered} renseignées ({share} %)",
        "en": "Interruptions: {count}, task resumed {resumed} times out of {answered} answered ({share}%)",
    },
    "summary.interruptions_unanswered": {
        "fr": "Interruptions : {count}, reprise de la tâche non renseignée",
        "en": "Interruptions: {count}, task resumption not answered",
    },
    "summary.none": {"fr": "Aucun événement noté pour l'instant.", "en": "No event logged yet."},
    "summary.running": {
        "fr": "Chronomètres en cours : {count}. Ils s'arrêteront à la fin de la visite.",
        "en": "Timers running: {count}. They stop when the visit ends.",
    },
    "summary.end": {"fr": "Terminer la visite", "en": "End the visit"},
    "summary.confirm_end": {
        "fr": "Terminer la visite ? {count} événement(s) noté(s) en {duration}.{running}",
        "en": "End the visit? {count} event(s) logged in {duration}.{running}",
    },
    "summary.confirm_running": {
        "fr": " Les chronomètres en cours ({count}) s'arrêteront maintenant.",
        "en": " The running timers ({count}) stop now.",
    },
    "summary.confirm_yes": {"fr": "Oui, terminer", "en": "Yes, end it"},
    "summary.confirm_no": {"fr": "Non, continuer", "en": "No, go on"},
    "home.visit_ended": {
        "fr": "Visite terminée : {count} événement(s) enregistré(s) sur la tablette, envoyés à la prochaine "
        "synchronisation.",
        "en": "Visit ended: {count} event(s) saved on the tablet, sent at the next sync.",
    },
    "summary.back": {"fr": "Reprendre la saisie", "en": "Back to capture"},
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
