"""Reading a programme's grid versions: the published ones (the newest is what tablets get), the draft,
and each as the checks use it. The shipped grid stands as version 1 of a programme without any."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from backend import models
from backend.db_types import utcnow
from shared.taxonomy import (
    Taxonomy,
    UnknownTaxonomyVersionError,
    current_taxonomy,
    load_taxonomy,
    parse_taxonomy,
)


def starting_document(shipped_version: str | None = None) -> dict[str, Any]:
    """What a new programme's grid starts from: a shipped grid (the current ACIA grid by default)."""
    try:
        taxonomy = load_taxonomy(shipped_version) if shipped_version else current_taxonomy()
    except UnknownTaxonomyVersionError:
        taxonomy = current_taxonomy()
    return taxonomy.as_dict()


def grid_taxonomy(number: int, document: dict[str, Any]) -> Taxonomy:
    """A version as the checks and pages use it; its ``version`` is the version's number."""
    return parse_taxonomy({**document, "version": str(number)})


def seed_programme_grid(session: Session, programme: models.Programme) -> models.GridVersion:
    """Version 1 of a new programme: the shipped grid it names, published at once (caller commits)."""
    assert programme.id is not None
    first = models.GridVersion(
        programme_id=programme.id,
        number=1,
        published_at=utcnow(),
        document=starting_document(programme.taxonomy_version),
    )
    session.add(first)
    return first


def published_versions(session: Session, programme_id: int) -> list[models.GridVersion]:
    return list(
        session.exec(
            select(models.GridVersion)
            .where(
                models.GridVersion.programme_id == programme_id,
                col(models.GridVersion.published_at).is_not(None),
            )
            .order_by(col(models.GridVersion.number))
        ).all()
    )


def current_version(session: Session, programme_id: int) -> tuple[int, dict[str, Any]]:
    """The programme's newest published version: its number and document.

    A programme created before grids were kept in the database (or by a test building rows by hand)
    has its shipped grid as version 1."""
    row = session.exec(
        select(models.GridVersion.number, models.GridVersion.document)
        .where(
            models.GridVersion.programme_id == programme_id, col(models.GridVersion.published_at).is_not(None)
        )
        .order_by(col(models.GridVersion.number).desc())
        .limit(1)
    ).first()
    if row is not None:
        return row[0], dict(row[1])
    programme = session.get(models.Programme, programme_id)
    return 1, starting_document(programme.taxonomy_version if programme else None)


def current_taxonomy_of(session: Session, programme_id: int) -> Taxonomy:
    number, document = current_version(session, programme_id)
    return grid_taxonomy(number, document)


def programme_taxonomies(
    session: Session, programme_id: int, numbers: Iterable[int | None]
) -> dict[int | None, Taxonomy]:
    """The published versions ``numbers`` of the programme (None: the current one), in one query.

    A number the programme has not published is missing from the answer: records naming it are refused.
    """
    wanted = {n for n in numbers if n is not None}
    current_number, current_document = current_version(session, programme_id)
    grids: dict[int | None, Taxonomy] = {None: grid_taxonomy(current_number, current_document)}
    grids[current_number] = grids[None]
    wanted.discard(current_number)
    if wanted:
        rows = session.exec(
            select(models.GridVersion.number, models.GridVersion.document).where(
                models.GridVersion.programme_id == programme_id,
                col(models.GridVersion.published_at).is_not(None),
                col(models.GridVersion.number).in_(wanted),
            )
        ).all()
        grids.update({number: grid_taxonomy(number, dict(document)) for number, document in rows})
    return grids


def draft(session: Session, programme_id: int) -> models.GridVersion | None:
    return session.exec(
        select(models.GridVersion).where(
            models.GridVersion.programme_id == programme_id, col(models.GridVersion.published_at).is_(None)
        )
    ).first()


def published_documents(session: Session, programme_id: int) -> list[dict[str, Any]]:
    """Every published version's document, oldest first (the shipped grid when none is kept yet)."""
    documents = [dict(v.document) for v in published_versions(session, programme_id)]
    return documents or [current_version(session, programme_id)[1]]
