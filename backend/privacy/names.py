"""Layer 2: person names — patients, relatives and staff alike, since a workshop discusses situations, not
individuals. Three sources, each catching what the others miss:

- cues in any case: a civility (« mme dupont », « M. N'Diaye », « Mme D. ») makes the next word a name; a
  role or relation (« patiente », « résident », « fils de », « IDE », « Dr ») does when the word is
  capitalised, a known first name, or a name for the model;
- first names from a list, in any case, with the surname that follows (« paulette martin chute »);
- spaCy's French pipeline (``fr_core_news_sm``) for names standing alone (« Durand refuse son traitement »).

A role word before a name stays (« Dr [nom] », « IDE [nom] »); words of the programme's glossary (software
and device names: DxCare, Orbis…) are never names.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from backend.privacy.kinds import Finding, Kind
from shared.privacy import NOT_NAMES, NOT_NAMES_AFTER_CIVILITY

DATA = Path(__file__).with_name("data")
MODEL = "fr_core_news_sm"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A word ("dupont", "N'Diaye", "Dupont-Moreau", "d'Artagnan") or an initial ("D.", "D").
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*\.?|[^\w\s]")
_STRONG_CUES = _words(
    "mme mmes mr mrs mm madame monsieur mlle mlles melle mademoiselle messieurs mesdames dr docteur "
    "professeur"
)
# A patient or a relative: the next word is their name even in lowercase, unless it says what happens.
_PERSON_CUES = _words(
    "patient patiente pat pat. résident résidente resident residente usager usagère usagere pt "
    "fils fille époux épouse epoux epouse mari femme veuve veuf frère frere sœur soeur mère mere père pere "
    "petit-fils petite-fille neveu nièce niece tante oncle"
)
# A member of staff: the next word is a name when it looks like one (capitalised, a first name, an initial).
_ROLE_CUES = _words(
    "ide as ash aide-soignant aide-soignante idec ibode iade infirmier infirmière infirmiere cadre interne "
    "externe kiné kine kinésithérapeute secrétaire secretaire médecin medecin pharmacien pharmacienne "
    "ergothérapeute psychologue diététicienne brancardier famille"
)
_WEAK_CUES = _PERSON_CUES | _ROLE_CUES
# Relations read "fils de X": the cue is the pair.
_RELATION_LINKS = _words("de d' du")
_PARTICLES = _words("de du des la le van von da di del della dos das ben el bin ibn ait aït abou al")
# Words naming a place: the capitalised word after them is a building or a ward (« pavillon Pasteur »).
_PLACES = _words(
    "pavillon unité unite service bâtiment batiment bat hôpital hopital salle secteur aile résidence "
    "residence ehpad clinique centre chu ch ght site rue avenue boulevard bd place allée impasse quai cours "
    "institut maison foyer lycée école ecole"
)
# After a patient or a relation, these words say what happens, not who (« patiente agitée »).
_AFTER_PERSON = _words(
    "agité agitée agite agitee agités confus confuse désorienté désorientée desoriente desorientee algique "
    "douloureux douloureuse calme calmé absent absente présent présente sortant sortante entrant entrante "
    "décédé décédée decede decedee hospitalisé hospitalisée transféré transférée installé installée arrivé "
    "arrivée couché couchée levé levée fatigué fatiguée opposant opposante angoissé angoissée anxieux "
    "anxieuse endormi endormie réveillé réveillée chuté chutée tombé tombée fugueur fugueuse dément démente "
    "diabétique dialysé dialysée isolé isolée alité alitée grabataire dépendant dépendante autonome "
    "sonne sonnent refuse refusent chute chutent tombe crie dort mange boit appelle demande attend part "
    "sort arrive revient veut souhaite ne n' se s' y en est était a avait va reste doit peut semble "
    "non nouveau nouvelle suivant suivante précédent précédente concerné concernée voisin voisine "
    "âgé âgée age agee jeune vieux vieille seul seule inconnu inconnue identifié identifiée "
    "garde service nuit jour coupe astreinte passage ville liaison semaine week-end matin soir "
    "président présidente president presidente directeur directrice maire cadre chef responsable "
    "informatisé informatise partagé partage unique suivi"
)
_ACRONYMS = _words(
    "ide as ash aes amp dpi pui cps nir ipp nda ins smur samu had ehpad ssr smr usld dsi cme fei rdv tel "
    "sms pc ok ssiad iade ibode idec dect cr crh bmr ecg ttt"
)


@cache
def first_names() -> frozenset[str]:
    return _word_list("first_names.txt")


@cache
def _ambiguous_first_names() -> frozenset[str]:
    """First names that are also ordinary words: only taken capitalised (« Pierre », not « pierre »)."""
    return _word_list("ambiguous_first_names.txt")


def _word_list(name: str) -> frozenset[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(word.lower() for line in lines if not line.startswith("#") for word in line.split())


@cache
def _stop_words() -> frozenset[str]:
    from spacy.lang.fr.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | NOT_NAMES


class _Token:
    __slots__ = ("end", "lower", "shouted", "start", "text")

    def __init__(self, match: re.Match[str], shouted: bool = False):
        self.text = match.group()
        self.start = match.start()
        self.end = match.end()
        self.lower = self.text.lower()
        self.shouted = shouted  # written in capitals like the words around it: capitals say nothing

    @property
    def word(self) -> str:
        return self.lower.rstrip(".")

    @property
    def is_word(self) -> bool:
        return self.text[0].isalpha()

    @property
    def capitalised(self) -> bool:
        return self.text[0].isupper() and not self.shouted

    @property
    def initial(self) -> bool:
        """« D. », « D », « Ch. », « De. »: one capital, or two letters and a dot."""
        return (len(self.word) == 1 and self.text[0].isupper()) or (
            len(self.word) == 2 and self.text.endswith(".") and self.text[0].isupper()
        )


def _tokens(text: str) -> list[_Token]:
    matches = list(_TOKEN.finditer(text))
    upper = [len(m.group()) > 1 and m.group().isupper() for m in matches]
    return [
        _Token(m, upper[i] and ((i > 0 and upper[i - 1]) or (i + 1 < len(matches) and upper[i + 1])))
        for i, m in enumerate(matches)
    ]


class NameFinder:
    """Names in notes; one instance per glossary (the programme's words never masked)."""

    def __init__(self, glossary: Collection[str] = ()):
        self.glossary = frozenset(word.lower() for term in glossary for word in term.split())

    def _ordinary(self, token: _Token, after_civility: bool = False) -> bool:
        """A word that is not a name here: a function word, a role, a work word, a glossary word."""
        if token.word in self.glossary:
            return True
        if after_civility:
            return token.word in NOT_NAMES_AFTER_CIVILITY or token.word in _stop_words() - {"d", "le", "la"}
        return token.word in _stop_words()

    def _looks_like_name(self, token: _Token, model_names: set[int]) -> bool:
        if token.initial:
            return True
        if not token.is_word or self._ordinary(token):
            return False
        if token.start in model_names and token.capitalised:
            return True
        if token.capitalised:
            return token.word not in _ACRONYMS  # IDE, DPI, PUI are not names
        return token.word in first_names() and token.word not in _ambiguous_first_names()

    def _after_person(self, token: _Token) -> bool:
        """After a patient or a relation, whether a lowercase word is their name: not a word that says
        what happens (« patiente agitée », « résident sonne »), nor a participle or an adjective."""
        word = token.word
        if not token.is_word or self._ordinary(token) or word in _AFTER_PERSON or word in _ACRONYMS:
            return False
        return not word.endswith(("é", "ée", "és", "ées", "ant", "ante", "eux", "euse", "ive"))

    def _extend(self, tokens: list[_Token], index: int, model_names: set[int], lower_ok: bool) -> int:
        """The index after the name starting at ``tokens[index]``: further capitalised words, particles
        followed by a name word, after an initial or a first name the next word in any case."""
        end = index + 1
        while end < len(tokens) and end - index < 4:
            token = tokens[end]
            if (
                token.word in _PARTICLES
                and end + 1 < len(tokens)
                and self._name_word(tokens[end + 1], lower_ok)
            ):
                end += 2
                continue
            named = token.capitalised or token.start in model_names
            if token.is_word and named and not self._ordinary(token) and token.word not in _ACRONYMS:
                end += 1
                continue
            if lower_ok and token.is_word and not self._ordinary(token) and token.word not in _AFTER_PERSON:
                end += 1
                lower_ok = False
                continue
            break
        return end

    def _name_word(self, token: _Token, lower_ok: bool) -> bool:
        return token.is_word and not self._ordinary(token) and (token.capitalised or lower_ok)

    def may_need_model(self, text: str) -> bool:
        """Whether the model could add a name the rules miss: only capitalised words it may tag are used
        (see ``_looks_like_name``), so a note without any unknown capitalised word skips it."""
        return any(
            t.is_word
            and t.capitalised
            and not t.initial
            and t.word not in _ACRONYMS
            and not self._ordinary(t)
            and t.word not in first_names()
            for t in _tokens(text)
        )

    def find(self, text: str, model_names: set[int] | None = None) -> list[Finding]:
        """Names in ``text``; ``model_names`` holds the start offsets of tokens the model tagged PER."""
        model = model_names or set()
        tokens = _tokens(text)
        found: list[Finding] = []
        index = 0
        while index < len(tokens):
            start = self._name_start(tokens, index, model)
            if start is None:
                index += 1
                continue
            first = tokens[start]
            cued = start > index
            # A lowercase word continues a name only after a first name, an initial or a particle
            # (« mme marie dupont », « résident l. ba »), never after a surname (« mme dupont demande »).
            lower_ok = first.initial or first.word in first_names() or first.word in _PARTICLES
            end = self._extend(tokens, start, model, lower_ok)
            if first.word in _PARTICLES and end == start + 1:
                index += 1  # a particle alone (« la », « de ») is no name
                continue
            layer = "cues" if cued else ("ner" if first.start in model else "first names")
            found.append(Finding(Kind.NAME, first.start, tokens[end - 1].end, layer))
            index = end
        return found

    def _name_start(self, tokens: list[_Token], index: int, model: set[int]) -> int | None:
        """Where a name begins at or right after ``tokens[index]``, or None."""
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if index > 0 and tokens[index - 1].word in _PLACES:
            return None  # « pavillon Pasteur », « unité Charcot »: a place
        strong = token.word in _STRONG_CUES or token.text in ("M", "M.", "m.", "Pr", "Pr.", "PR")
        if strong and following is not None and following.is_word:
            if following.initial:
                return index + 1
            if following.word in _PARTICLES and index + 2 < len(tokens):
                after = tokens[index + 2]
                named = after.capitalised and not self._ordinary(after, after_civility=True)
                return index + 1 if named or self._after_person(after) else None
            if following.initial or (following.word.isalpha() and len(following.word) == 1):
                return index + 1
            return None if self._ordinary(following, after_civility=True) else index + 1
        if token.word in _WEAK_CUES:
            at = index + 1
            if following is not None and following.word in _RELATION_LINKS and token.word in _RELATIONS:
                at += 1
            if at >= len(tokens) or tokens[at].word in _STRONG_CUES or tokens[at].word in _WEAK_CUES:
                return None  # « fille de Mme X », « fils de la résidente X »: the next cue decides
            candidate = tokens[at]
            if (
                token.word in _PERSON_CUES
                and candidate.word in _PARTICLES
                and at + 1 < len(tokens)
                and self._after_person(tokens[at + 1])
            ):
                return at
            if (
                self._looks_like_name(candidate, model)
                or (
                    token.word in _PERSON_CUES and not candidate.capitalised and self._after_person(candidate)
                )
                or (len(candidate.word) == 1 and candidate.text.endswith("."))
            ):
                return at
            return None
        if not token.is_word or self._ordinary(token) or token.word in _ACRONYMS:
            return None
        if token.start in model and (token.capitalised or token.word in first_names()):
            return index
        if (
            index + 2 < len(tokens)
            and following is not None
            and following.text == "("
            and tokens[index + 2].word in _ROLE_CUES | _ACRONYMS
            and token.word not in _AFTER_PERSON
        ):
            return index  # « Rene (AS) et CLEMENT (IDE) se partagent… »
        if token.word in first_names() and (token.capitalised or token.word not in _ambiguous_first_names()):
            return index
        return None


_RELATIONS = _words(
    "fils fille époux épouse epoux epouse mari femme veuve veuf frère frere sœur soeur mère mere père pere "
    "petit-fils petite-fille neveu nièce niece tante oncle famille"
)


def load_model() -> None:
    """Load the model ahead of the first note that needs it (``vigie serve`` does, at start)."""
    _pipeline()
    _stop_words()
    first_names()


@cache
def _pipeline() -> Any:
    """spaCy's small French pipeline, only what finds entities (loaded once, about a second)."""
    import spacy

    return spacy.load(MODEL, exclude=["parser", "lemmatizer", "attribute_ruler", "morphologizer", "senter"])


def model_names(texts: Iterable[str]) -> list[set[int]]:
    """For each text, the start offsets of the words the model takes for a person's name."""
    starts: list[set[int]] = []
    for doc in _pipeline().pipe(texts, batch_size=256):
        names: set[int] = set()
        for entity in doc.ents:
            if entity.label_ == "PER":
                names.update(token.idx for token in entity if token.is_alpha or "'" in token.text)
        starts.append(names)
    return starts
