"""Detection of patient identifiers in free text, so that a note naming a patient is caught at capture
(the tablet warns), at push (the server flags it for review) and at export (it is masked).

Pure Python and cheap enough to run on every keystroke of a 2,000-character note. What is flagged:

- NIR (French social security number): 13 digits and a 2-digit key, spaces, dots or dashes allowed
  between groups, sex digit 1, 2 (or 7, 8 for temporary numbers), Corsica 2A/2B; only numbers whose key
  is right (97 - number mod 97) are flagged, so lot numbers and other long digit runs are left alone.
- Phone numbers: 0X XX XX XX XX with spaces, dots or dashes, and the +33 / 0033 forms. Internal
  extensions ("poste 4521", "bip 312") are not identifiers of a patient and are not flagged.
- E-mail addresses.
- Dates of birth: any date right after a birth cue ("né le", "née le", "né(e) le", "DDN",
  "date de naissance", "naissance :"), with a 2- or 4-digit year or none, and "né en 1932"; and, without
  a cue, any full date whose year is between 1900 and 2015. Observations are dated from 2020 on, so a
  full date before 2016 in a note is almost always someone's birth date; "le 12/03", "12/03/2026" and
  times are not flagged. Children born after 2015 are only caught with a cue.
- Room and name: a room or bed number followed by a capitalised name, with or without a civility
  ("chambre 12, Mme Dupont", "ch. 12 M. Martin", "lit 3 Durand"). A room number alone is not flagged.
- Civility and name: "M. Dupont", "Mme Le Gall", "Madame Dupont-Moreau", "Monsieur Éric Lefèvre",
  "Mme de la Tour". A civility followed by a title or a lowercase word ("Madame la directrice",
  "Monsieur le cadre") is not; neither are doctors' names ("Dr Martin": staff, not patients).

Known limits (measured by ``bench/privacy_guard.py`` on the corpus in ``tests/shared/privacy_corpus.py``):
names typed in lowercase ("mme dupont"), a patient's name alone ("Durand refuse son traitement"), and
initials ("Mme D.") are not caught.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MASK = "[identifiant masqué]"


class IdentifierKind(StrEnum):
    NIR = "nir"
    PHONE = "phone"
    EMAIL = "email"
    BIRTH_DATE = "birth_date"
    ROOM_AND_NAME = "room_and_name"
    CIVILITY_AND_NAME = "civility_and_name"


IDENTIFIER_KIND_LABELS: dict[IdentifierKind, dict[str, str]] = {
    IdentifierKind.NIR: {"fr": "numéro de sécurité sociale", "en": "social security number"},
    IdentifierKind.PHONE: {"fr": "numéro de téléphone", "en": "phone number"},
    IdentifierKind.EMAIL: {"fr": "adresse e-mail", "en": "e-mail address"},
    IdentifierKind.BIRTH_DATE: {"fr": "date de naissance", "en": "date of birth"},
    IdentifierKind.ROOM_AND_NAME: {"fr": "chambre et nom", "en": "room and name"},
    IdentifierKind.CIVILITY_AND_NAME: {"fr": "civilité et nom", "en": "title and name"},
}


@dataclass(frozen=True)
class IdentifierMatch:
    kind: IdentifierKind
    start: int
    end: int
    text: str


# Letters, with French accents (and the Latin-1 range for other European names).
_UPPER = "A-ZÀ-ÖØ-ÞŒÆ"
_LOWER = "a-zß-öø-ÿœæ"
_DIGIT = re.compile(r"\d")
_SEP = r"[ .\-\u00a0\u202f]?"  # between digit groups: nothing, a space (incl. non-breaking), a dot, a dash

_NIR = re.compile(
    rf"(?<![\w.])[1278](?:{_SEP}\d){{4}}{_SEP}(?:\d{_SEP}\d|2[AaBb])(?:{_SEP}\d){{8}}(?![\w]|[.,]\d)"
)
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)33[ .\-\u00a0]?(?:\(0\)[ .\-\u00a0]?)?|0)[1-9]"
    rf"(?:{_SEP}\d{{2}}){{4}}(?![\w]|[.,]\d)"
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")

_MONTHS = (
    "janvier|janv|février|fevrier|févr|fevr|mars|avril|avr|mai|juin|juillet|juil|août|aout|"
    "septembre|sept|octobre|oct|novembre|nov|décembre|decembre|déc|dec"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
# A full date: 12/03/1945, 12.03.45, 12-3-1945, 12 mars 1945, 1er mars 1945, 1945-03-12.
_FULL_DATE = re.compile(
    rf"(?<![\d/.\-])(?:{_DAY}\s?(?P<sep>[/.\-])\s?{_MONTH}\s?(?P=sep)\s?(?P<y1>\d{{4}}|\d{{2}})"
    rf"|(?:1er|{_DAY})\s+(?:{_MONTHS})\.?\s+(?P<y2>\d{{4}}|\d{{2}})"
    rf"|(?P<y3>\d{{4}})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))(?![\d]|[/.\-]\d)",
    re.IGNORECASE,
)
# After a birth cue a day and month are enough.
_PARTIAL_DATE = re.compile(
    rf"(?:{_DAY}\s?[/.\-]\s?{_MONTH}|(?:1er|{_DAY})\s+(?:{_MONTHS})\.?)(?![\d]|[/.\-]\d)", re.IGNORECASE
)
_BIRTH_CUE = re.compile(
    r"(?<!\w)(?:n[ée]e?(?:\s?\(e\))?\s+(?:le|en)|n[ée]e?\s?:|d\.?\s?d\.?\s?n\.?\s*:?|"
    r"date\s+de\s+naissance\s*:?|naissance\s*:|n[ée]e?\s+(?=\d))\s*",
    re.IGNORECASE,
)
_BIRTH_YEAR_ONLY = re.compile(r"(?:19|20)\d{2}(?!\d)")
_PLAUSIBLE_BIRTH_YEARS = range(1900, 2016)

# Civilities; a lone "M" must be uppercase (lowercase "m" is a metre).
_CIVILITY_WORD = r"(?:M|MM|(?i:mme|mmes|mlle|mlles|mr|madame|monsieur|mademoiselle|mesdames|messieurs))"
_CIVILITY = re.compile(rf"(?<![\w.])(?:{_CIVILITY_WORD}\.|{_CIVILITY_WORD}(?!\w))\s*")
# A capitalised word ("Dupont", "DUPONT", "McKay", "d'Artagnan"), hyphenated parts allowed ("Dupont-Moreau").
_NAME_WORD = (
    rf"(?:[dD]['’]|O['’])?[{_UPPER}](?:[{_LOWER}]+|[{_UPPER}]+)(?:[{_UPPER}][{_LOWER}]+)?"
    rf"(?:['’\-][{_UPPER}](?:[{_LOWER}]+|[{_UPPER}]+))*"
)
_PARTICLE = r"(?:de\s+la|de|du|des|van|von|da|di|del|della|ben|el)"
# Up to four name words, lowercase particles allowed in between ("de la Tour", "van der Berg").
_NAME = re.compile(
    rf"(?:{_PARTICLE}\s+|d['’])?{_NAME_WORD}(?:[ \u00a0]+(?:{_PARTICLE}\s+|d['’])?{_NAME_WORD}){{0,3}}"
    rf"(?![{_LOWER}{_UPPER}\d])"
)
_NAME_TOKEN = re.compile(_NAME_WORD)
_ROOM = re.compile(
    r"(?<!\w)(?:chambres?|chbre|chb|ch|lits?|box)\.?\s*(?:n[°o]\s*)?\d{1,4}[a-zA-Z]?(?!\w)"
    r"(?:\s*[,:;/–—\-]\s*|\s+)",
    re.IGNORECASE,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Capitalised words that begin sentences or name jobs rather than people: never taken for a name.
_FUNCTION_WORDS = _words(
    """
    le la les l un une des du de d au aux à a en et ou où mais puis donc car ni or alors ensuite après avant
    pendant depuis pour par sur sous dans avec sans chez vers contre entre qui que quoi quand comme si ne
    pas plus moins très trop tout tous toute toutes aucun aucune chaque son sa ses leur leurs mon ma mes
    notre nos votre vos ce cet cette ces celui celle il elle ils elles on je tu nous vous y oui non ok rien
    ras cf nb ps bis ter est sont était fait ont va vont doit peut dit voir
    """
)
_TITLES = _words(
    """
    directeur directrice docteur dr professeur pr cadre cadres infirmier infirmière infirmiers ide as ash
    aide aides soignant soignante soignants médecin médecins interne internes pharmacien pharmacienne
    maire président présidente ministre juge abbé père sœur frère secrétaire kiné kinésithérapeute
    """
)
# Words that follow a room number in ordinary notes ("ch 12 Appel de la famille"); after a civility
# they are taken as names ("Mme Porte").
_WORK_WORDS = _words(
    """
    patient patiente patients résident résidente résidents famille familles fille fils épouse époux mari
    femme enfant parents appel appels sonnette bip alarme alerte alertes retour demande entrée entrées
    sortie sorties soins soin toilette repas chute chutes transfert isolement porte urgence urgences
    traitement traitements prescription pansement perfusion prise injection bilan visite tour relève
    transmissions transmission dossier logiciel tablette chariot badge téléphone imprimante poste
    matin soir nuit midi lundi mardi mercredi jeudi vendredi samedi dimanche
    dpi dmp dect wifi wi fi pc ehpad ssiad chu ch usld smr ssr had
    refus douleur douleurs fièvre nouvelle nouveau nouvelles nouveaux constantes glycémie tension selles
    douche lever coucher sonde oxygène aspiration agitation agité agitée confusion confus confuse décès
    absent absente vide libre fermée fermé occupée occupé bloqué bloquée besoin attente départ arrivée
    admission rappel pb problème souci erreur panne rien personne même idem ok pas vu vue fait faite
    """
)
NOT_NAMES_AFTER_CIVILITY = _FUNCTION_WORDS | _TITLES
NOT_NAMES = _FUNCTION_WORDS | _TITLES | _WORK_WORDS  # also the server detector's (backend/privacy)
_NOT_NAMES_AFTER_CIVILITY = NOT_NAMES_AFTER_CIVILITY
_NOT_NAMES = NOT_NAMES


def _name_end(text: str, start: int, not_names: frozenset[str]) -> int | None:
    """Where a person's name starting at ``start`` ends, or None when the words there are not a name.

    Leading capitalised particles ("Le Gall", "La Fontaine") count only when another name word follows;
    trailing words that are ordinary sentence words are dropped.
    """
    found = _NAME.match(text, start)
    if found is None:
        return None
    tokens = list(_NAME_TOKEN.finditer(text, found.start(), found.end()))
    while len(tokens) > 1 and _is_ordinary(tokens[-1].group(), not_names):
        tokens.pop()
    first = tokens[0].group()
    after_particle = tokens[0].start() > found.start()  # "de la Tour": the particle vouches for the name
    if (
        not after_particle
        and _is_ordinary(first, not_names)
        and (len(tokens) == 1 or first.lower() not in {"le", "la", "de", "du", "des"})
    ):
        return None
    return tokens[-1].end()


def _is_ordinary(word: str, not_names: frozenset[str]) -> bool:
    bare = re.sub(r"^(?:[dD]|O)['’]", "", word)
    return bare.lower() in not_names


def _nir_key_is_right(digits: str) -> bool:
    number = digits[:13].upper().replace("2A", "19").replace("2B", "18")
    if not number.isdigit():
        return False
    month = int(number[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    return 97 - int(number) % 97 == int(digits[13:])


def _nirs(text: str) -> list[IdentifierMatch]:
    found = []
    for match in _NIR.finditer(text):
        digits = re.sub(r"[ .\-\u00a0\u202f]", "", match.group())
        if len(digits) == 15 and _nir_key_is_right(digits):
            found.append(IdentifierMatch(IdentifierKind.NIR, match.start(), match.end(), match.group()))
    return found


def _simple(pattern: re.Pattern[str], kind: IdentifierKind, text: str) -> list[IdentifierMatch]:
    return [IdentifierMatch(kind, m.start(), m.end(), m.group()) for m in pattern.finditer(text)]


def _birth_dates(text: str) -> list[IdentifierMatch]:
    found = []
    for cue in _BIRTH_CUE.finditer(text):
        date = (
            _FULL_DATE.match(text, cue.end())
            or _PARTIAL_DATE.match(text, cue.end())
            or _BIRTH_YEAR_ONLY.match(text, cue.end())
        )
        if date is not None:
            found.append(
                IdentifierMatch(
                    IdentifierKind.BIRTH_DATE, cue.start(), date.end(), text[cue.start() : date.end()]
                )
            )
    for date in _FULL_DATE.finditer(text):
        year_text = date.group("y1") or date.group("y2") or date.group("y3")
        if len(year_text) == 4 and int(year_text) in _PLAUSIBLE_BIRTH_YEARS:
            found.append(IdentifierMatch(IdentifierKind.BIRTH_DATE, date.start(), date.end(), date.group()))
    return found


def _civility_names(text: str) -> list[IdentifierMatch]:
    found = []
    for civility in _CIVILITY.finditer(text):
        end = _name_end(text, civility.end(), _NOT_NAMES_AFTER_CIVILITY)
        if end is not None:
            found.append(
                IdentifierMatch(
                    IdentifierKind.CIVILITY_AND_NAME, civility.start(), end, text[civility.start() : end]
                )
            )
    return found


def _room_names(text: str) -> list[IdentifierMatch]:
    found = []
    for room in _ROOM.finditer(text):
        name_start = room.end()
        civility = _CIVILITY.match(text, name_start)
        if civility is not None:
            end = _name_end(text, civility.end(), _NOT_NAMES_AFTER_CIVILITY)
        else:
            end = _name_end(text, name_start, _NOT_NAMES)
        if end is not None:
            found.append(
                IdentifierMatch(IdentifierKind.ROOM_AND_NAME, room.start(), end, text[room.start() : end])
            )
    return found


def find_identifiers(text: str) -> list[IdentifierMatch]:
    """Every identifier in ``text``, sorted by position and never overlapping: where two candidates
    overlap, the one starting first wins, and the longer one when they start together (so "chambre 12,
    Mme Dupont" is one room-and-name match rather than a civility match inside it)."""
    has_digits = _DIGIT.search(text) is not None  # most notes have none: skip the number patterns
    candidates = [
        *(_nirs(text) if has_digits else ()),
        *(_simple(_PHONE, IdentifierKind.PHONE, text) if has_digits else ()),
        *(_simple(_EMAIL, IdentifierKind.EMAIL, text) if "@" in text else ()),
        *(_birth_dates(text) if has_digits else ()),
        *(_room_names(text) if has_digits else ()),
        *_civility_names(text),
    ]
    candidates.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[IdentifierMatch] = []
    for candidate in candidates:
        if not kept or candidate.start >= kept[-1].end:
            kept.append(candidate)
    return kept


def contains_identifiers(text: str) -> bool:
    return bool(find_identifiers(text))


def mask_identifiers(text: str) -> str:
    """``text`` with every identifier replaced by ``MASK``; the rest of the note is kept word for word,
    since the situation it describes is what a workshop needs."""
    pieces = []
    position = 0
    for match in find_identifiers(text):
        pieces.append(text[position : match.start])
        pieces.append(MASK)
        position = match.end
    pieces.append(text[position:])
    return "".join(pieces)
