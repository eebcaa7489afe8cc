"""Layer 1: structured identifiers found by rules on normalised text — NIR with or without its key,
patient and stay numbers after their labels, phones in every French writing, e-mails (spaced "@" and
"(at)" too), dates of birth after their cues, postal addresses.

What is deliberately left alone: room and bed numbers alone, phone extensions ("poste 4512"), doses and
times, dates of documents ("procédure datée du 15/06/2012"): a workshop needs them, and none says who.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from backend.privacy.kinds import Finding, Kind

_SEP = r"(?:[ .\-/_]{1,2})"  # between digit groups: one or two spaces, dots, dashes or slashes
_OPT_SEP = rf"{_SEP}?"

# NIR: sex digit (1-8: 3, 4, 7 and 8 for temporary and foreign-born numbers), year, month (01-12, 20-42
# or 50-99 for special cases), department (2A/2B for Corsica), commune, order number, then the 2-digit key,
# optional. Typed with separators anywhere, or none: the digits are read first, the structure checked after.
_NIR = re.compile(r"(?<![\w])[1-8](?:[ .\-/_]{0,2}(?:\d|(?<=2)[AaBb])){12,14}(?![\w])")
_NIR_DIGITS = re.compile(r"[1-8]\d{4}(?:\d\d|2[AB])\d{6}(?:\d\d)?")

_PATIENT_LABEL = (
    r"(?:ipp|nda|nip|iep|n[°o]?\s*ipp|n[°o]?\s*nda|"
    r"(?:n[°o]|num(?:[ée]ro)?\.?|no)\s*(?:de\s+|d['’])?(?:s[ée]jour|dossier|venue|visite|patient|"
    r"r[ée]sident|admission|entr[ée]e|ss|s[ée]cu(?:rit[ée] sociale)?)|"
    r"(?:s[ée]jour|dossier|venue|visite|patient|admission|entr[ée]e)\s*(?:n[°o]\.?|num(?:[ée]ro)?\.?))"
    r"(?:\s+(?:du\s+)?(?:patient|pt|r[ée]sident))?"
)
_PATIENT_NUMBER = re.compile(
    rf"(?<![\w]){_PATIENT_LABEL}\s*(?:[:#=]|n[°o]\.?)?\s*[:#]?\s*(?P<number>\d(?:{_OPT_SEP}?\d){{3,14}})(?![\w])",
    re.IGNORECASE,
)

_PHONE = re.compile(
    r"(?<![\w+])(?P<number>(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?|0)[1-9]"
    rf"(?:{_OPT_SEP}\d\d){{4}})(?![\w]|[.,]\d)"
)

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+\s?(?:@|\(at\)|\[at\]|\s(?:at|arobase)\s)\s?[\w-]+(?:\s?\.\s?[\w-]+)*\s?\.\s?"
    r"(?:fr|com|net|org|eu|info|be|ch|de|uk|io|gouv\.fr|sante\.fr|mssante\.fr|[a-z]{2,6})(?![\w-])",
    re.IGNORECASE,
)

_MONTHS = (
    r"(?:janvier|janv|f[ée]vrier|f[ée]vr?|mars|avril|avr|mai|juin|juillet|juil|ao[uû]t|septembre|sept|"
    r"octobre|oct|novembre|nov|d[ée]cembre|d[ée]c)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01]|1er)"
_MONTH_NUMBER = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:\d{4}|\d{2})"
_DATE = (
    r"(?:(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)?\d\d(?!\d)"  # 26111941, 261141
    rf"|{_DAY}\s{{1,2}}{_MONTH_NUMBER}\s{{1,2}}{_YEAR}"  # 28 02 1948
    rf"|{_DAY}\s?[/.\-]\s?{_MONTH_NUMBER}(?:\s?[/.\-]\s?{_YEAR})?"  # 1/3/45, 01.03.1945, 1/3
    rf"|{_DAY}\s+{_MONTHS}(?:\s+{_YEAR})?"  # 1er mars 1945, 12 mars
    rf"|{_MONTH_NUMBER}\s?[/.\-]\s?\d{{4}}"  # 03/1931
    rf"|{_MONTHS}\s+\d{{4}}"  # mars 1931
    r"|(?:19|20)\d\d)"  # 1931
)
_BIRTH = re.compile(
    r"(?<![\w])(?:n[ée]e?s?(?:\s?\(e\))?|ddn|d\.d\.n\.?|dn|d\.n\.?|date\s+(?:de\s+)?naiss(?:ance)?\.?|"
    r"naissance|naiss\.?)"
    rf"\s*(?:le|en|du)?\s*[:=]?\s*(?P<date>{_DATE})(?![\w]|[/.\-]\d)",
    re.IGNORECASE,
)
# Without a cue, a full date whose year is long past is a birth date; a document's date is not.
_OLD_FULL_DATE = re.compile(
    rf"(?<![\w/.\-])(?P<date>{_DAY}\s?[/.\-]\s?{_MONTH_NUMBER}\s?[/.\-]\s?(?P<year>19[0-5]\d))(?![\w]|[/.\-]\d)"
)
_DOCUMENT_CUE = re.compile(
    r"(?:dat[ée]e?s?|du|version|v\.|proc[ée]dure|protocole|note|mise\s+[àa]\s+jour|maj|depuis|depuis\s+le|"
    r"en\s+date\s+du|r[ée]vis[ée]e?|valid[ée]e?|sign[ée]e?|circulaire|arr[êe]t[ée]|d[ée]cret)\s*$",
    re.IGNORECASE,
)

_STREET_TYPES = (
    r"(?:rue|r\.|avenue|av\.?|ave|boulevard|bd|bld|blvd|place|pl\.|impasse|imp\.?|all[ée]e|chemin|chem\.?|"
    r"route|rte|quai|cours|square|sq\.|r[ée]sidence|lotissement|lot\.|cit[ée]|hameau|faubourg|fbg|"
    r"passage|sentier|voie|parvis|esplanade|promenade|rond-point|mont[ée]e)"
)
_ADDRESS = re.compile(
    rf"(?<![\w])\d{{1,4}}\s?(?:bis|ter|b|t)?\s*,?\s*{_STREET_TYPES}(?=[\s'’])",
    re.IGNORECASE,
)
_STREET_WORD = re.compile(r"\s*([^\W\d_][\w'’\-]*\.?)")
_LIEU_DIT = re.compile(r"(?<![\w])(?:lieu[- ]dit|ld)\s+", re.IGNORECASE)
_POSTCODE_TOWN = re.compile(
    r"(?<![\w])(?P<code>(?:0[1-9]|[1-8]\d|9[0-8])\s?\d{3})\s+(?P<town>(?!(?:mg|ml|ui|unit[ée]s?|euros?|pas|"
    r"patients?|r[ée]sidents?|lits?|fois|min|minutes?|h|heures?|jours?|personnes?|ko|mo|go|mots?|pages?|"
    r"lignes?|cp|cps|gel|gouttes?)\b)(?:(?:le|la|les|l['’])\s?)?[A-Za-zÀ-ÿ][\w'’\-]+"
    r"(?:[ \-](?:sur|sous|en|les|le|la|de|d['’]|du)"
    r"[ \-][\w'’\-]+)?(?:[ \-]cedex(?:\s\d+)?)?)",
    re.IGNORECASE,
)
# Words a street's name does not run into: the address stops before them.
_ADDRESS_STOP = frozenset(
    [
        "appel",
        "appelle",
        "tel",
        "tél",
        "chez",
        "pour",
        "qui",
        "que",
        "et",
        "ou",
        "avec",
        "sans",
        "ne",
        "se",
        "est",
        "a",
        "au",
        "aux",
        "ce",
        "il",
        "elle",
        "on",
        "depuis",
        "donc",
        "car",
        "mais",
        "puis",
        "dans",
        "ds",
        "sur",
        "pas",
        "fausse",
        "saisie",
        "saisi",
        "dans",
        "en",
        "-",
    ]
)


def _nirs(text: str) -> Iterator[Finding]:
    for match in _NIR.finditer(text):
        digits = re.sub(r"[ .\-/_]", "", match.group()).upper()
        if not _NIR_DIGITS.fullmatch(digits):
            continue
        month = int(digits[3:5])
        if 1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99:
            # With or without its key, even a wrong one (a typo): the 13 digits already say who.
            yield Finding(Kind.NIR, match.start(), match.end(), "rules")


def _groups(pattern: re.Pattern[str], kind: Kind, text: str, group: str | int = 0) -> Iterator[Finding]:
    for match in pattern.finditer(text):
        yield Finding(kind, match.start(group), match.end(group), "rules")


def _birth_dates(text: str) -> Iterator[Finding]:
    yield from _groups(_BIRTH, Kind.BIRTH_DATE, text, "date")
    for match in _OLD_FULL_DATE.finditer(text):
        if not _DOCUMENT_CUE.search(text[max(0, match.start() - 30) : match.start()]):
            yield Finding(Kind.BIRTH_DATE, match.start("date"), match.end("date"), "rules")


def _street_end(text: str, position: int, most: int) -> int:
    """Where a street's or place's name that starts at ``position`` ends: up to ``most`` words, stopping
    at punctuation, a number (the postcode) or a word of the sentence around it."""
    end = position
    for _ in range(most):
        word = _STREET_WORD.match(text, end)
        if word is None or word.group(1).lower().rstrip(".") in _ADDRESS_STOP:
            break
        end = word.end()
        if word.group(1).endswith("."):
            break
    return end


def _addresses(text: str) -> Iterator[Finding]:
    for match in _ADDRESS.finditer(text):
        end = _street_end(text, match.end(), 5)
        if end > match.end():
            yield Finding(Kind.ADDRESS, match.start(), end, "rules")
    for match in _LIEU_DIT.finditer(text):
        end = _street_end(text, match.end(), 4)
        if end > match.end():
            yield Finding(Kind.ADDRESS, match.start(), end, "rules")
    yield from _groups(_POSTCODE_TOWN, Kind.ADDRESS, text)


def structured_identifiers(text: str) -> list[Finding]:
    """Every structured identifier in normalised ``text`` (overlaps are resolved by the detector)."""
    found: list[Finding] = []
    if any(character.isdigit() for character in text):
        found += _nirs(text)
        found += _groups(_PATIENT_NUMBER, Kind.PATIENT_NUMBER, text, "number")
        found += _groups(_PHONE, Kind.PHONE, text, "number")
        found += _birth_dates(text)
        found += _addresses(text)
    else:
        found += _addresses(text)
    lower = text.lower()
    if "@" in text or "(at)" in lower or "[at]" in lower or " at " in lower or "arobase" in lower:
        found += _groups(_EMAIL, Kind.EMAIL, text)
    return found
