"""What the detector finds: the kinds of identifier, and the French words that replace them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """A kind of identifier; ``replacement`` stands in its place in a masked note (it says what was there),
    ``label`` names it in messages."""

    replacement: str
    label: str

    def __new__(cls, value: str, replacement: str, label: str) -> Kind:
        kind = str.__new__(cls, value)
        kind._value_ = value
        kind.replacement = replacement
        kind.label = label
        return kind

    NAME = "name", "[nom]", "nom de personne"
    NIR = "nir", "[n° de sécurité sociale]", "numéro de sécurité sociale"
    PATIENT_NUMBER = "patient_number", "[n° patient]", "numéro de patient ou de séjour"
    PHONE = "phone", "[téléphone]", "téléphone"
    EMAIL = "email", "[e-mail]", "adresse e-mail"
    BIRTH_DATE = "birth_date", "[date de naissance]", "date de naissance"
    ADDRESS = "address", "[adresse]", "adresse postale"


REPLACEMENTS: dict[Kind, str] = {kind: kind.replacement for kind in Kind}
KIND_LABELS: dict[Kind, str] = {kind: kind.label for kind in Kind}


@dataclass(frozen=True)
class Finding:
    """One identifier: its kind, where it is (in the text the layer read) and which layer found it."""

    kind: Kind
    start: int
    end: int
    layer: str  # "rules", "cues", "first names", "ner"
