"""What the audit log records: each action as a type, its French label beside it, and details in words."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class AuditAction(StrEnum):
    OBSERVATION_REVIEW_STATUS = "observation.review_status"
    OBSERVATION_COMMENT = "observation.comment"
    OBSERVATION_TAG_ADD = "observation.tag_add"
    OBSERVATION_TAG_REMOVE = "observation.tag_remove"
    OBSERVATION_NOTE_REDACT = "observation.note_redact"
    OBSERVATION_VERBATIM_APPROVE = "observation.verbatim_approve"
    OBSERVATION_VERBATIM_WITHDRAW = "observation.verbatim_withdraw"
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGIN_LOCKED = "auth.login_locked"
    LOGOUT = "auth.logout"
    PASSWORD_CHANGE = "user.password_change"
    USER_CREATE = "user.create"
    USER_ACTIVATE = "user.activate"
    USER_DEACTIVATE = "user.deactivate"
    ENROLMENT_CODE = "device.enrolment_code"
    DEVICE_REVOKE = "device.revoke"
    DEVICE_ENROL = "device.enrol"
    ENROL_FAILED = "device.enrol_failed"
    ENROL_LOCKED = "device.enrol_locked"
    EXPORT_CSV = "export.csv"
    EXPORT_XLSX = "export.xlsx"
    EXPORT_PDF = "export.pdf"
    EXPORT_JSON = "export.json"
    EXPORT_ODATA = "export.odata"
    FEED_TOKEN_CREATE = "feed_token.create"
    FEED_TOKEN_REVOKE = "feed_token.revoke"
    PROGRAMME_CREATE = "programme.create"
    STRUCTURE_CREATE = "structure.create"
    UNIT_CREATE = "unit.create"
    OBSERVER_CREATE = "observer.create"
    GLOSSARY_UPDATE = "programme.glossary"
    SMALL_CELLS_UPDATE = "programme.small_cells"
    WORKSHOP_CREATE = "workshop.create"
    WORKSHOP_STATUS = "workshop.status"
    WORKSHOP_ACTION_CREATE = "workshop.action_create"
    WORKSHOP_ACTION_STATUS = "workshop.action_status"
    WORKSHOP_RECORD = "workshop.record"
    GRID_DRAFT = "programme.grid_draft"
    GRID_PUBLISH = "programme.grid_publish"
    MILESTONE_CREATE = "structure.milestone"
    MILESTONE_EDIT = "structure.milestone_edit"
    MILESTONE_DELETE = "structure.milestone_delete"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS: dict[AuditAction, str] = {
    AuditAction.OBSERVATION_REVIEW_STATUS: "Statut de revue modifié",
    AuditAction.OBSERVATION_COMMENT: "Commentaire ajouté",
    AuditAction.OBSERVATION_TAG_ADD: "Étiquette ajoutée",
    AuditAction.OBSERVATION_TAG_REMOVE: "Étiquette retirée",
    AuditAction.OBSERVATION_NOTE_REDACT: "Note corrigée (confidentialité)",
    AuditAction.OBSERVATION_VERBATIM_APPROVE: "Note approuvée pour les ateliers",
    AuditAction.OBSERVATION_VERBATIM_WITHDRAW: "Approbation de la note retirée",
    AuditAction.LOGIN: "Connexion",
    AuditAction.LOGIN_FAILED: "Échec de connexion",
    AuditAction.LOGIN_LOCKED: "Connexion bloquée (trop d'échecs)",
    AuditAction.LOGOUT: "Déconnexion",
    AuditAction.PASSWORD_CHANGE: "Mot de passe changé",
    AuditAction.USER_CREATE: "Compte créé",
    AuditAction.USER_ACTIVATE: "Compte réactivé",
    AuditAction.USER_DEACTIVATE: "Compte désactivé",
    AuditAction.ENROLMENT_CODE: "Code d'enrôlement créé",
    AuditAction.DEVICE_REVOKE: "Tablette révoquée",
    AuditAction.DEVICE_ENROL: "Tablette enrôlée",
    AuditAction.ENROL_FAILED: "Code d'enrôlement refusé",
    AuditAction.ENROL_LOCKED: "Enrôlement bloqué (trop de codes refusés)",
    AuditAction.EXPORT_CSV: "Export CSV",
    AuditAction.EXPORT_XLSX: "Export XLSX",
    AuditAction.EXPORT_PDF: "Export PDF (dossier d'atelier)",
    AuditAction.EXPORT_JSON: "Export JSON",
    AuditAction.EXPORT_ODATA: "Lecture du flux OData (Excel, Power BI)",
    AuditAction.FEED_TOKEN_CREATE: "Jeton de flux OData créé",
    AuditAction.FEED_TOKEN_REVOKE: "Jeton de flux OData révoqué",
    AuditAction.PROGRAMME_CREATE: "Programme créé",
    AuditAction.STRUCTURE_CREATE: "Structure créée",
    AuditAction.UNIT_CREATE: "Unité créée",
    AuditAction.OBSERVER_CREATE: "Observateur créé",
    AuditAction.GLOSSARY_UPDATE: "Mots jamais masqués modifiés",
    AuditAction.SMALL_CELLS_UPDATE: "Seuil des petits effectifs modifié",
    AuditAction.WORKSHOP_CREATE: "Atelier créé",
    AuditAction.WORKSHOP_STATUS: "Séance d'atelier ouverte ou close",
    AuditAction.WORKSHOP_ACTION_CREATE: "Action d'atelier proposée",
    AuditAction.WORKSHOP_ACTION_STATUS: "Statut d'une action d'atelier modifié",
    AuditAction.WORKSHOP_RECORD: "Compte rendu d'atelier (PDF ou DOCX) édité",
    AuditAction.GRID_DRAFT: "Brouillon de grille enregistré",
    AuditAction.GRID_PUBLISH: "Version de grille publiée",
    AuditAction.MILESTONE_CREATE: "Jalon de changement numérique ajouté",
    AuditAction.MILESTONE_EDIT: "Jalon de changement numérique corrigé",
    AuditAction.MILESTONE_DELETE: "Jalon de changement numérique supprimé",
}

# The keys services write in ``details``, as an administrator reads them.
DETAIL_LABELS: dict[str, str] = {
    "role": "rôle",
    "email": "e-mail",
    "via": "depuis",
    "structure_id": "structure n°",
    "observer_id": "observateur n°",
    "enrolment_code_id": "code d'enrôlement n°",
    "expires_at": "expire le",
    "retry": "nouvel essai",
    "client_ip": "adresse",
    "until": "bloqué jusqu'au",
    "reason": "motif",
    "format": "format",
    "filters": "filtres",
    "rows": "lignes",
    "anonymous_structures": "structures anonymisées",
    "separator": "séparateur",
    "from": "avant",
    "to": "après",
    "tag": "étiquette",
    "comment_id": "commentaire n°",
    "programme_id": "programme n°",
    "workshop_id": "atelier n°",
    "day": "jour",
    "comparison": "comparaison",
    "unit_id": "unité n°",
    "moved_from": "déplacé de la structure n°",
    "name": "nom",
    "entity_set": "données",
    "query": "requête",
}
VALUE_WORDS: dict[str, str] = {
    "cli": "la commande vigie",
    "web": "les pages",
    "api": "l'API",
    "odata": "le flux OData",
}


def action_label(action: str) -> str:
    """The French label of a recorded action; an action no longer written keeps its code."""
    try:
        return AuditAction(action).label
    except ValueError:
        return action


def _in_words(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, Mapping):
        return ", ".join(f"{DETAIL_LABELS.get(str(k), str(k))} : {_in_words(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return ", ".join(_in_words(item) for item in value) or "—"
    return VALUE_WORDS.get(str(value), str(value))


def details_in_words(details: Mapping[str, object]) -> str:
    """``{"role": "admin", "via": "cli"}`` → ``rôle : admin · depuis : la commande vigie``."""
    return " · ".join(f"{DETAIL_LABELS.get(key, key)} : {_in_words(value)}" for key, value in details.items())
