"""What the detector finds: the kinds of identifier, and the French words that replace them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    NAME = "name"
    NIR = "nir"
    PATIENT_NUMBER = "patient_number"
    PHONE = "phone"
    EMAIL = "email"
    BIRTH_DATE = "birth_date"
    ADDRESS = "address"


# What a reader of a masked note sees in place of what was removed: it says what was there.
REPLACEMENTS: dict[Kind, str] = {
    Kind.NAME: "[nom]",
    Kind.NIR: "[n° de sécurité sociale]",
    Kind.PATIENT_NUMBER: "[n° patient]",
    Kind.PHONE: "[téléphone]",
    Kind.EMAIL: "[e-mail]",
    Kind.BIRTH_DATE: "[date de naissance]",
    Kind.ADDRESS: "[adresse]",
}

KIND_LABELS: dict[Kind, str] = {
    Kind.NAME: "nom de personne",
    Kind.NIR: "numéro de sécurité sociale",
    Kind.PATIENT_NUMBER: "numéro de patient ou de séjour",
    Kind.PHONE: "téléphone",
    Kind.EMAIL: "adresse e-mail",
    Kind.BIRTH_DATE: "date de naissance",
    Kind.ADDRESS: "adresse postale",
}


@dataclass(frozen=True)
class Finding:
    """One identifier: its kind, where it is (in the text the layer read) and which layer found it."""

    kind: Kind
    start: int
    end: int
    layer: str  # "rules", "cues", "first names", "ner"
