"""Validation messages keyed by stable error code, in French and English.

The API returns the code and the message; the tablet re-renders the message from the code in the
observer's language, so the wording lives here once for both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from shared.taxonomy import Language

MESSAGES: dict[str, dict[Language, str]] = {
    # Results of a pushed mutation (docs/sync.md), shown to the observer next to the item.
    "unknown_entity": {
        "fr": "Type d'enregistrement inconnu : « {entity} ».",
        "en": "Unknown kind of record: '{entity}'.",
    },
    "invalid_record": {
        "fr": "Enregistrement invalide : corrigez les champs signalés.",
        "en": "Invalid record: correct the fields shown.",
    },
    "clock_suspect": {
        "fr": "Enregistrée, mais son heure est en avance sur le serveur : vérifiez l'heure de la tablette.",
        "en": "Saved, but its time is ahead of the server's: check the tablet's clock.",
    },
    "device_clock_off": {
        "fr": "L'horloge de la tablette {direction} de {gap} sur le serveur : réglez sa date et son heure.",
        "en": "The tablet's clock is {gap} {direction} the server's: set its date and time.",
    },
    "mutation_id_reused": {
        "fr": "Numéro d'envoi déjà utilisé pour un autre enregistrement : la tablette le renverra.",
        "en": "Sending number already used for another record: the tablet will send it again.",
    },
    "visit_deleted": {
        "fr": "Visite supprimée : cette observation est conservée dans l'historique.",
        "en": "This observation's visit was deleted; the observation is kept in its history.",
    },
    "item_failed": {
        "fr": "Erreur du serveur sur cet enregistrement : il sera renvoyé.",
        "en": "Server error on this record: it will be sent again.",
    },
    "wrong_observer": {
        "fr": "Cette tablette n'enregistre que pour son observateur.",
        "en": "This tablet only records for its own observer.",
    },
    "unit_not_found": {
        "fr": "Structure ou unité introuvable pour cette tablette.",
        "en": "Structure or unit not found for this tablet.",
    },
    "visit_not_found": {
        "fr": "Visite introuvable sur le serveur pour cette observation.",
        "en": "The visit of this observation is not on the server.",
    },
    "not_found": {
        "fr": "Enregistrement introuvable pour cette tablette.",
        "en": "Record not found for this tablet.",
    },
    "stale_version": {
        "fr": "Une version plus récente de cet enregistrement est déjà sur le serveur.",
        "en": "A newer version of this record is already on the server.",
    },
    "record_deleted": {
        "fr": "Enregistrement supprimé ; la modification est conservée dans l'historique.",
        "en": "Record deleted; the change is kept in its history.",
    },
    # Errors raised by our own validators.
    "unknown_code": {
        "fr": "Code inconnu « {code} » pour « {attribute} » (grille {version}).",
        "en": "Unknown code '{code}' for '{attribute}' (grid {version}).",
    },
    "duplicate_code": {
        "fr": "Le code « {code} » est présent deux fois dans « {attribute} ».",
        "en": "Code '{code}' appears twice in '{attribute}'.",
    },
    "end_before_start": {
        "fr": "La fin ({end}) est antérieure au début ({start}).",
        "en": "The end ({end}) is before the start ({start}).",
    },
    "interrupts_itself": {
        "fr": "Une interruption ne peut pas s'interrompre elle-même.",
        "en": "An interruption cannot interrupt itself.",
    },
    "interrupted_in_another_visit": {
        "fr": "La tâche interrompue appartient à une autre visite : une interruption ne peut interrompre "
        "qu'une tâche de sa propre visite.",
        "en": "The interrupted task belongs to another visit: an interruption can only interrupt a task of "
        "its own visit.",
    },
    "resumed_at_without_resumption": {
        "fr": "Une heure de reprise n'a de sens que si la tâche a été reprise (« task_resumed » : oui).",
        "en": "A resumption time only makes sense if the task was resumed ('task_resumed': yes).",
    },
    "attribute_not_applicable": {
        "fr": "« {attribute} » ne s'applique qu'aux catégories : {categories}.",
        "en": "'{attribute}' only applies to the categories: {categories}.",
    },
    "unknown_attribute": {
        "fr": "Attribut « {attribute} » absent de la grille {version} : "
        "mettez à jour la grille de la tablette.",
        "en": "Attribute '{attribute}' is not in grid {version}: update the tablet's grid.",
    },
    "fixed_attribute_in_grid_attributes": {
        "fr": "« {attribute} » est un champ propre de l'observation, "
        "pas un attribut ajouté par le programme.",
        "en": "'{attribute}' is a field of its own on the observation, "
        "not an attribute added by the programme.",
    },
    "attribute_single_choice": {
        "fr": "« {attribute} » est à choix unique : une seule valeur (reçu : {count}).",
        "en": "'{attribute}' is a single choice: one value only (got {count}).",
    },
    "unknown_taxonomy_version": {
        "fr": "Version de grille inconnue : « {version} ».",
        "en": "Unknown grid version: '{version}'.",
    },
    "nul_character": {
        "fr": "Caractère nul (\\0) interdit dans un texte.",
        "en": "NUL character (\\0) not allowed in text.",
    },
    "out_of_range": {
        "fr": "Valeur hors des limites acceptées ({minimum} à {maximum}).",
        "en": "Value outside the accepted range ({minimum} to {maximum}).",
    },
    "invalid_finess": {
        "fr": "Numéro FINESS invalide : 9 chiffres attendus (reçu « {value} »).",
        "en": "Invalid FINESS number: 9 digits expected (got '{value}').",
    },
    # Enrolment and sync errors the tablet shows the observer.
    "enrolment_code_invalid": {
        "fr": "Code d'enrôlement inconnu : vérifiez la saisie.",
        "en": "Unknown enrolment code: check what you typed.",
    },
    "enrolment_code_used": {
        "fr": "Ce code a déjà servi : demandez-en un nouveau.",
        "en": "This code has already been used: ask for a new one.",
    },
    # The server's French message says when to try again; this is the wording for the app in English.
    "too_many_attempts": {
        "fr": "Trop de tentatives refusées : réessayez dans quelques minutes.",
        "en": "Too many refused attempts: try again in a few minutes.",
    },
    "enrolment_code_expired": {
        "fr": "Ce code a expiré : demandez-en un nouveau.",
        "en": "This code has expired: ask for a new one.",
    },
    "network": {
        "fr": "Serveur injoignable : les observations restent sur la tablette.",
        "en": "Server unreachable: observations stay on the tablet.",
    },
    # The observation grid: what its editor and `vigie grid import` report, each with its place.
    "grid_not_an_object": {
        "fr": "Le fichier doit contenir un objet JSON avec « categories » et « attributes ».",
        "en": "The file must hold a JSON object with 'categories' and 'attributes'.",
    },
    "grid_missing_field": {
        "fr": "Champ « {name} » manquant ou de mauvais type ({expected} attendu).",
        "en": "Field '{name}' missing or of the wrong type ({expected} expected).",
    },
    "grid_missing_french_label": {
        "fr": "Libellé en français manquant.",
        "en": "French label missing.",
    },
    "grid_bad_code": {
        "fr": "Code « {code} » invalide : lettres minuscules sans accent, chiffres et _, "
        "{max_length} caractères au plus.",
        "en": "Invalid code '{code}': lower-case letters without accents, digits and _, "
        "at most {max_length} characters.",
    },
    "grid_duplicate_code": {
        "fr": "Le code « {code} » est déjà utilisé plus haut ({first}).",
        "en": "Code '{code}' is already used above ({first}).",
    },
    "grid_bad_colour": {
        "fr": "Couleur « {colour} » invalide : attendu #RRVVBB (par exemple #1F5FA8).",
        "en": "Invalid colour '{colour}': #RRGGBB expected (for example #1F5FA8).",
    },
    "grid_unknown_category": {
        "fr": "La catégorie « {code} » n'existe pas dans la grille.",
        "en": "Category '{code}' is not in the grid.",
    },
    "grid_value_used_by_no_category": {
        "fr": "Les valeurs de « {attribute} » ne servent à aucune catégorie active : "
        "cochez au moins une catégorie.",
        "en": "The values of '{attribute}' serve no active category: tick at least one category.",
    },
    "grid_attribute_set": {
        "fr": "La grille doit garder les attributs {expected} (manquant : {found}). "
        "Ces attributs sont fixes ; leurs valeurs se modifient, et d'autres attributs peuvent s'ajouter.",
        "en": "The grid must keep the attributes {expected} (missing: {found}). "
        "These attributes are fixed; their values can be edited, and other attributes can be added.",
    },
    "grid_split_keeps_code": {
        "fr": "Une scission donne de nouveaux codes : « {code} » ne peut pas être à la fois l'ancien "
        "et un des nouveaux (un code garde le même sens dans toutes les versions).",
        "en": "A split gives new codes: '{code}' cannot be both the old code and one of the new ones "
        "(a code keeps its meaning in every version).",
    },
    "grid_reserved_code": {
        "fr": "Le code « {code} » est réservé : choisissez-en un autre pour cet attribut.",
        "en": "Code '{code}' is reserved: choose another one for this attribute.",
    },
    "grid_multiple_fixed": {
        "fr": "« {attribute} » doit rester {kind}.",
        "en": "'{attribute}' must stay {kind}.",
    },
    "grid_no_values": {
        "fr": "« {attribute} » n'a aucune valeur.",
        "en": "'{attribute}' has no value.",
    },
    "grid_no_active_category": {
        "fr": "La grille doit garder au moins une catégorie non archivée.",
        "en": "The grid must keep at least one category that is not archived.",
    },
    "grid_bad_severity": {
        "fr": "Les valeurs de la gravité sont 1, 2 et 3 (reçu « {code} »).",
        "en": "Severity values are 1, 2 and 3 (got '{code}').",
    },
    "grid_unknown_mapping_code": {
        "fr": "Correspondance : le code « {code} » n'existe pas dans « {attribute} » de cette version.",
        "en": "Mapping: code '{code}' is not in '{attribute}' of this version.",
    },
    "grid_deleted_code_in_use": {
        "fr": "Le code « {code} » ({attribute}) a été supprimé mais {count} enregistrement(s) l'utilisent : "
        "archivez-le au lieu de le supprimer.",
        "en": "Code '{code}' ({attribute}) was deleted but {count} record(s) use it: archive it instead.",
    },
    "grid_missing_sheet": {
        "fr": "Feuille « {sheet} » manquante dans le classeur (disposition XLSForm : survey, choices).",
        "en": "Sheet '{sheet}' missing from the workbook (XLSForm layout: survey, choices).",
    },
    "grid_invalid": {
        "fr": "Grille refusée : {count} problème(s) à corriger.",
        "en": "Grid refused: {count} problem(s) to correct.",
    },
    "grid_no_draft": {
        "fr": "Aucun brouillon de grille à publier pour ce programme.",
        "en": "No grid draft to publish for this programme.",
    },
    "unknown_grid_version": {
        "fr": "Version {number} de la grille inconnue pour ce programme.",
        "en": "Grid version {number} is unknown for this programme.",
    },
    # Pydantic's own error types that observers and API clients meet most.
    "missing": {"fr": "Champ obligatoire.", "en": "Field required."},
    "string_too_long": {
        "fr": "Texte trop long : {max_length} caractères au maximum.",
        "en": "Text too long: at most {max_length} characters.",
    },
    "string_too_short": {
        "fr": "Texte trop court : {min_length} caractère(s) au minimum.",
        "en": "Text too short: at least {min_length} character(s).",
    },
    "too_long": {
        "fr": "Trop d'éléments : {max_length} au maximum.",
        "en": "Too many items: at most {max_length}.",
    },
    "uuid_parsing": {"fr": "Identifiant (UUID) invalide.", "en": "Invalid identifier (UUID)."},
    "uuid_type": {"fr": "Identifiant (UUID) invalide.", "en": "Invalid identifier (UUID)."},
    "datetime_parsing": {"fr": "Date et heure invalides.", "en": "Invalid date and time."},
    "datetime_from_date_parsing": {"fr": "Date et heure invalides.", "en": "Invalid date and time."},
    "datetime_type": {"fr": "Date et heure invalides.", "en": "Invalid date and time."},
    "timezone_aware": {
        "fr": "L'heure doit préciser son fuseau horaire.",
        "en": "The time must carry its time zone.",
    },
    "int_parsing": {"fr": "Nombre entier attendu.", "en": "Whole number expected."},
    "int_type": {"fr": "Nombre entier attendu.", "en": "Whole number expected."},
    "greater_than": {"fr": "Valeur supérieure à {gt} attendue.", "en": "Value greater than {gt} expected."},
    "greater_than_equal": {
        "fr": "Valeur d'au moins {ge} attendue.",
        "en": "Value of at least {ge} expected.",
    },
    "less_than_equal": {"fr": "Valeur d'au plus {le} attendue.", "en": "Value of at most {le} expected."},
    "bool_parsing": {"fr": "Oui/non attendu.", "en": "Yes/no expected."},
    "bool_type": {"fr": "Oui/non attendu (true ou false).", "en": "Yes/no expected (true or false)."},
    "string_type": {"fr": "Texte attendu.", "en": "Text expected."},
    "list_type": {"fr": "Liste attendue.", "en": "List expected."},
    "extra_forbidden": {"fr": "Champ non prévu.", "en": "Unexpected field."},
    "literal_error": {"fr": "Valeur non prévue.", "en": "Unexpected value."},
    "enum": {"fr": "Valeur non prévue.", "en": "Unexpected value."},
    # API errors (backend/problems.py): the server answers in French, English is there for every code too.
    "not_found_in_scope": {
        "fr": "Introuvable ou hors de votre périmètre.",
        "en": "Not found, or outside what you may see.",
    },
    "device_not_found": {"fr": "Tablette introuvable.", "en": "Tablet not found."},
    "feed_token_invalid": {
        "fr": "Jeton de flux inconnu ou révoqué : donnez en mot de passe un jeton de la page Mon compte.",
        "en": "Unknown or revoked feed token: give as password a token created on the My account page.",
    },
    "feed_token_not_found": {"fr": "Jeton de flux introuvable.", "en": "Feed token not found."},
    "feed_token_name_empty": {
        "fr": "Nommez le jeton (par exemple « Power BI bureau »).",
        "en": "Name the token (for example “Power BI desktop”).",
    },
    "feed_token_name_too_long": {
        "fr": "Nom trop long ({max_length} caractères au plus).",
        "en": "Name too long (at most {max_length} characters).",
    },
    "odata_invalid_query": {
        "fr": "Requête OData invalide : {reason}.",
        "en": "Invalid OData query: {reason}.",
    },
    "odata_unknown_entity_set": {
        "fr": "Pas de données « {name} » dans le flux (proposées : {known}).",
        "en": "No “{name}” in the feed (offered: {known}).",
    },
    "enrolment_target_not_found": {
        "fr": "Observateur ou structure introuvable dans ce programme.",
        "en": "Observer or structure not found in this programme.",
    },
    "read_only_account": {
        "fr": "Votre compte est en lecture seule : action réservée aux animateurs.",
        "en": "Your account is read-only: only facilitators may do this.",
    },
    "admins_only": {
        "fr": "Action réservée aux administrateurs.",
        "en": "Only administrators may do this.",
    },
    "csrf_failed": {
        "fr": "Jeton de sécurité (CSRF) manquant ou périmé : rechargez la page et recommencez.",
        "en": "Security token (CSRF) missing or expired: reload the page and try again.",
    },
    "unauthenticated": {"fr": "Connectez-vous pour continuer.", "en": "Sign in to continue."},
    "invalid_credentials": {
        "fr": "Adresse e-mail ou mot de passe incorrect.",
        "en": "Wrong e-mail address or password.",
    },
    "invalid_password_change": {"fr": "Mot de passe non modifié.", "en": "Password not changed."},
    "password_too_short": {
        "fr": "Nouveau mot de passe trop court : {min_length} caractères au minimum.",
        "en": "New password too short: at least {min_length} characters.",
    },
    "password_mismatch": {
        "fr": "La confirmation ne correspond pas au nouveau mot de passe.",
        "en": "The confirmation does not match the new password.",
    },
    "too_many_sign_ins": {
        "fr": "Trop de tentatives de connexion échouées : réessayez dans {delay}.",
        "en": "Too many failed sign-ins: try again in {delay}.",
    },
    "too_many_enrolment_codes": {
        "fr": "Trop de codes d'enrôlement refusés depuis ce réseau : réessayez dans {delay}.",
        "en": "Too many refused enrolment codes from this network: try again in {delay}.",
    },
    "missing_token": {
        "fr": "Tablette non enrôlée : jeton absent.",
        "en": "Tablet not enrolled: no token.",
    },
    "invalid_token": {
        "fr": "Jeton de tablette inconnu : enrôlez la tablette à nouveau.",
        "en": "Unknown tablet token: enrol the tablet again.",
    },
    "device_revoked": {
        "fr": "Cette tablette a été révoquée : contactez l'animateur du programme.",
        "en": "This tablet has been revoked: contact the programme's facilitator.",
    },
    "protocol_outdated": {
        "fr": "Application Vigie trop ancienne : mettez-la à jour. Vos observations restent sur la tablette.",
        "en": "This Vigie app is too old: update it. Your observations stay on the tablet.",
    },
    "protocol_unknown": {
        "fr": "Le serveur Vigie est plus ancien que l'application : contactez l'administrateur.",
        "en": "The Vigie server is older than the app: contact the administrator.",
    },
    "protocol_header_invalid": {
        "fr": "En-tête Vigie-Protocol invalide : un nombre entier est attendu.",
        "en": "Invalid Vigie-Protocol header: a whole number is expected.",
    },
    "batch_too_large": {
        "fr": "Lot trop gros : {max_batch} modifications au plus par envoi (découpez-le).",
        "en": "Batch too large: at most {max_batch} changes per push (split it).",
    },
    "invalid_filter": {"fr": "Filtres invalides.", "en": "Invalid filters."},
    "invalid_filter_codes": {"fr": "Filtre invalide : {problems}", "en": "Invalid filter: {problems}"},
    "invalid_name": {
        "fr": "Le nom doit compter de 1 à {max_length} caractères.",
        "en": "The name must have 1 to {max_length} characters.",
    },
    "invalid_kind": {"fr": "Type de structure inconnu.", "en": "Unknown kind of structure."},
    "finess_taken": {
        "fr": "Ce numéro FINESS est déjà utilisé par une structure.",
        "en": "This FINESS number is already used by a structure.",
    },
    "invalid_timezone": {
        "fr": "Fuseau horaire inconnu : « {timezone} ».",
        "en": "Unknown time zone: '{timezone}'.",
    },
    "unit_not_in_structure": {
        "fr": "Cette unité n'appartient pas à la structure choisie.",
        "en": "This unit does not belong to the chosen structure.",
    },
    "invalid_day": {
        "fr": "Jour invalide : entre le {first} (exclu) et le {last}.",
        "en": "Invalid day: after {first} and up to {last}.",
    },
    "invalid_place": {
        "fr": "Choisissez une structure ou une de ses unités.",
        "en": "Choose a structure or one of its units.",
    },
    "invalid_period": {
        "fr": "Période invalide : le premier jour doit précéder le dernier.",
        "en": "Invalid period: the first day must come before the last.",
    },
    "unit_exists": {
        "fr": "L'unité « {name} » existe déjà dans cette structure.",
        "en": "Unit '{name}' already exists in this structure.",
    },
    "observer_not_in_programme": {
        "fr": "Observateur inconnu dans ce programme.",
        "en": "Unknown observer in this programme.",
    },
    "invalid_days": {
        "fr": "Durée de validité invalide : de 1 à {max_days} jours.",
        "en": "Invalid validity: 1 to {max_days} days.",
    },
    "invalid_server_url": {
        "fr": "Adresse du serveur invalide (exemple : http://192.168.1.10:8000).",
        "en": "Invalid server address (for example http://192.168.1.10:8000).",
    },
    "invalid_role": {"fr": "Rôle inconnu.", "en": "Unknown role."},
    "cannot_deactivate_self": {
        "fr": "Vous ne pouvez pas désactiver votre propre compte.",
        "en": "You cannot deactivate your own account.",
    },
    "invalid_email": {
        "fr": "Adresse e-mail invalide : « {email} ».",
        "en": "Invalid e-mail address: '{email}'.",
    },
    "account_password_too_short": {
        "fr": "Mot de passe trop court : {min_length} caractères au minimum.",
        "en": "Password too short: at least {min_length} characters.",
    },
    "email_taken": {
        "fr": "Un compte existe déjà pour « {email} ».",
        "en": "An account already exists for '{email}'.",
    },
    "email_mixed_scripts": {
        "fr": "Adresse e-mail refusée : « {email} » mêle plusieurs alphabets (un « е » cyrillique pour un "
        "« e » latin, par exemple) et se lirait comme l'adresse d'un autre compte.",
        "en": "E-mail address refused: '{email}' mixes alphabets (a Cyrillic 'е' for a Latin 'e', say) and "
        "would read as another account's address.",
    },
    "unknown_programme": {
        "fr": "Programme {programme_id} inconnu.",
        "en": "Unknown programme {programme_id}.",
    },
    "viewer_needs_structure": {
        "fr": "Un compte lecteur doit être rattaché à une structure existante.",
        "en": "A viewer account must belong to an existing structure.",
    },
    "name_required": {"fr": "Le nom est obligatoire.", "en": "The name is required."},
    "comment_empty": {"fr": "Le commentaire est vide.", "en": "The comment is empty."},
    "comment_too_long": {
        "fr": "Commentaire trop long : {max_length} caractères au maximum.",
        "en": "Comment too long: at most {max_length} characters.",
    },
    "tag_empty": {"fr": "L'étiquette est vide.", "en": "The tag is empty."},
    "tag_too_long": {
        "fr": "Étiquette trop longue : {max_length} caractères au maximum.",
        "en": "Tag too long: at most {max_length} characters.",
    },
    # The privacy guard (shared/privacy.py) on what facilitators write, read by viewers and tablets.
    "comment_names_a_patient": {
        "fr": "Ce commentaire semble identifier un patient ({kinds}) : reformulez-le sans nom, numéro "
        "ni date de naissance (les comptes en lecture seule le lisent, la tablette de l'observateur "
        "le reçoit).",
        "en": "This comment seems to identify a patient ({kinds}): rephrase it without a name, number "
        "or date of birth (read-only accounts read it, the observer's tablet receives it).",
    },
    "tag_names_a_patient": {
        "fr": "Cette étiquette semble identifier un patient ({kinds}) : choisissez-en une autre.",
        "en": "This tag seems to identify a patient ({kinds}): choose another one.",
    },
    "workshop_text_empty": {"fr": "Ce champ est vide.", "en": "This field is empty."},
    "workshop_text_names_someone": {
        "fr": "Ce texte semble identifier quelqu'un ({kinds}) : reformulez-le sans nom, numéro ni date de "
        "naissance (le compte rendu d'atelier est lu par des instances de dialogue social).",
        "en": "This text seems to identify someone ({kinds}): rephrase it without a name, number or date "
        "of birth (the workshop record is read by social-dialogue bodies).",
    },
    "workshop_participants_line": {
        "fr": "Participants : une ligne « rôle : nombre » par rôle, sans nom (ligne lue : « {line} »).",
        "en": "Participants: one line 'role: count' per role, without names (line read: '{line}').",
    },
    "workshop_observation_elsewhere": {
        "fr": "Cette observation vient d'une structure que l'atelier ne regarde pas.",
        "en": "This observation comes from a structure the workshop does not look at.",
    },
    "workshop_dots_range": {
        "fr": "Nombre de gommettes entre 0 et {maximum}.",
        "en": "Number of dots between 0 and {maximum}.",
    },
    "workshop_milestone_date_needed": {
        "fr": "Une action faite date son jalon : indiquez la date de mise en place.",
        "en": "A done action dates its milestone: give the date it was put in place.",
    },
    "workshop_figure_elsewhere": {
        "fr": "Cette figure porte sur une structure que l'atelier ne regarde pas.",
        "en": "This figure is about a structure the workshop does not look at.",
    },
    "workshop_figure_params": {
        "fr": "Les paramètres de cette figure ne sont pas valides (dates, unité, jalon, structures ou lignes "
        "choisies).",
        "en": "This figure's parameters are not valid (days, unit, milestone, structures or rows chosen).",
    },
    "workshop_figures_full": {
        "fr": "Ce thème a déjà {maximum} figures : retirez-en une d'abord.",
        "en": "This theme already has {maximum} figures: remove one first.",
    },
    "workshop_vote_code_unknown": {
        "fr": "Code inconnu ou séance close : vérifiez le code affiché à l'écran.",
        "en": "Unknown code or closed session: check the code shown on the screen.",
    },
}


@dataclass(frozen=True)
class FieldError:
    """One problem with one field, as the API returns it and the app shows it."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def message(error_code: str, /, language: Language = "fr", **context: Any) -> str:
    templates = MESSAGES.get(error_code)
    if templates is None:
        raise KeyError(error_code)
    return templates[language].format(**context)


def _field_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "__root__"


def field_errors(exc: ValidationError, language: Language = "fr") -> list[FieldError]:
    return [field_error(e, language) for e in exc.errors()]


def field_error(
    error: ErrorDetails, language: Language = "fr", loc_prefix: tuple[int | str, ...] = ()
) -> FieldError:
    code = error["type"]
    context = dict(error.get("ctx") or {})
    try:
        text = message(code, language, **context)
    except (KeyError, IndexError):
        text = error["msg"]
    return FieldError(field=_field_name(loc_prefix + tuple(error["loc"])), code=code, message=text)
