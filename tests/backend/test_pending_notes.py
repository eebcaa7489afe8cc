"""Notes are screened after their push (backend/privacy/pending.py): the push only stores them as pending;
the server's worker screens them when pushes leave it room, and every reader screens what is still pending
in its structures first. Nothing of a pending note leaves the server as typed."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from backend import models
from backend.db import make_engine
from backend.migrate import downgrade, upgrade
from backend.privacy import pending
from backend.privacy.pending import PendingNotesWorker, has_pending, screen_pending
from backend.privacy.service import note_for_export, screen_notes
from backend.review.filters import ObservationFilter, apply_observation_filter
from tests.factories import (
    VIEWER,
    DemoWeb,
    Site,
    Tablet,
    add_observation,
    add_visit,
    make_site,
    observation,
    statuses,
)

NAMED = "appel de mme Vauquelin-Tessier au 06 12 34 56 78 pendant la préparation"


def _pending_ids(session: Session) -> set[uuid.UUID]:
    session.expire_all()
    return set(session.exec(select(models.Observation.id).where(col(models.Observation.privacy_pending))))


def test_a_push_stores_its_notes_as_pending(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    named = observation(visit["id"], note=NAMED)
    silent = observation(visit["id"])  # no note: nothing to screen
    answer = tablet.push(
        tablet.mutation("visit", visit),
        tablet.mutation("observation", named),
        tablet.mutation("observation", silent),
    )
    assert statuses(answer) == ["applied"] * 3
    assert _pending_ids(session) == {uuid.UUID(named["id"])}
    row = session.get_one(models.Observation, uuid.UUID(named["id"]))
    assert (row.note, row.note_masked, row.privacy_flagged) == (NAMED, None, False)

    assert screen_pending(session) == 1
    session.expire_all()
    row = session.get_one(models.Observation, uuid.UUID(named["id"]))
    assert row.note == NAMED  # what the observer wrote is kept
    assert row.note_masked == "appel de mme [nom] au [téléphone] pendant la préparation"
    assert row.privacy_flagged and not row.privacy_pending
    assert not has_pending(session)


def test_a_read_only_account_reading_right_after_the_push_never_sees_the_note_as_typed(demo: DemoWeb) -> None:
    tablet = demo.tablet(0)
    visit = tablet.visit()
    named = observation(visit["id"], note=NAMED)
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", named))
    with demo.session() as session:
        assert uuid.UUID(named["id"]) in _pending_ids(session)

    viewer = demo.browser(VIEWER)
    page = viewer.get(f"/observations/{named['id']}").text
    listed = viewer.get("/observations").text
    api = viewer.api("GET", f"/api/v1/observations/{named['id']}").text
    for text in (page, listed, api):
        assert "Vauquelin" not in text and "06 12 34 56 78" not in text
    with demo.session() as session:
        assert uuid.UUID(named["id"]) not in _pending_ids(session)  # the reader screened it first


def test_a_note_still_pending_is_masked_by_the_full_detector_when_read_out() -> None:
    # A push landing between a reader's screening and its query: the note is masked there and then.
    assert (
        note_for_export("appel de mme dupont pendant le soin", None) == "appel de mme [nom] pendant le soin"
    )
    assert note_for_export(None, None) is None


def test_a_read_only_accounts_text_search_skips_notes_not_screened_yet(
    session: Session, tablet: Tablet
) -> None:
    visit = tablet.visit()
    tablet.push(
        tablet.mutation("visit", visit), tablet.mutation("observation", observation(visit["id"], note=NAMED))
    )
    criteria = ObservationFilter(text="vauquelin")

    def found(reads_flagged_notes: bool) -> int:
        statement = apply_observation_filter(
            select(func.count()).select_from(models.Observation),
            criteria.for_reader(reads_flagged_notes),
            None,
        )
        return int(session.exec(statement).one())

    assert (found(False), found(True)) == (0, 1)  # the name could be probed word by word otherwise
    screen_pending(session)
    assert (found(False), found(True)) == (0, 1)  # screened: flagged, still out of a viewer's search


def test_a_note_changed_while_it_was_screened_stays_pending_with_its_new_text(
    session: Session, tablet: Tablet, monkeypatch: pytest.MonkeyPatch
) -> None:
    visit = tablet.visit()
    first = observation(visit["id"], note=NAMED)
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", first))
    observation_id = uuid.UUID(first["id"])
    screen = screen_notes
    newer = "appel de M. Obrecht pour le planning"

    def meanwhile_a_push_lands(*args: object, **kwargs: object) -> object:
        result = screen(*args, **kwargs)  # type: ignore[arg-type]
        statuses_ = statuses(
            tablet.push(tablet.mutation("observation", {**first, "note": newer, "version": 2}))
        )
        assert statuses_ == ["applied"]
        return result

    monkeypatch.setattr(pending, "screen_notes", meanwhile_a_push_lands)
    screen_pending(session, most=1)
    monkeypatch.setattr(pending, "screen_notes", screen)
    session.expire_all()
    row = session.get_one(models.Observation, observation_id)
    assert (row.note, row.note_masked, row.privacy_pending) == (
        newer,
        None,
        True,
    )  # the old result was not written

    assert screen_pending(session) == 1
    session.expire_all()
    row = session.get_one(models.Observation, observation_id)
    assert (row.note_masked, row.privacy_pending) == ("appel de M. [nom] pour le planning", False)


def test_readers_screen_only_the_structures_they_read(session: Session, tablet: Tablet, site: Site) -> None:
    visit = tablet.visit()
    tablet.push(
        tablet.mutation("visit", visit), tablet.mutation("observation", observation(visit["id"], note=NAMED))
    )
    other = make_site(session, "CH Ailleurs")
    assert screen_pending(session, [other.structure_id]) == 0
    assert screen_pending(session, []) == 0
    assert has_pending(session, [site.structure_id]) and not has_pending(session, [other.structure_id])
    assert screen_pending(session, [site.structure_id]) == 1


def test_the_server_worker_screens_what_pushes_left_pending(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    notes = [observation(visit["id"], note=f"{NAMED} ({n})") for n in range(300)]  # more than one batch
    tablet.push(tablet.mutation("visit", visit), *(tablet.mutation("observation", o) for o in notes))
    assert len(_pending_ids(session)) == 300
    worker = PendingNotesWorker(session.get_bind(), idle=0.01)  # type: ignore[arg-type]
    worker.start()
    try:
        deadline = time.monotonic() + 120  # generous: a wait for the work, not a speed assertion
        while _pending_ids(session) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert not _pending_ids(session)
    masked = session.exec(
        select(models.Observation.note_masked).where(col(models.Observation.note).is_not(None))
    )
    assert all(m is not None and "Vauquelin" not in m for m in masked)


def test_the_worker_waits_for_pushes_to_pause_unless_a_note_has_waited_too_long(session: Session) -> None:
    patient = PendingNotesWorker(session.get_bind(), idle=3600, max_wait=3600)  # type: ignore[arg-type]
    patient.pushed()
    assert not patient._may_work()  # a push just came: leave the room to the next one
    overdue = PendingNotesWorker(session.get_bind(), idle=3600, max_wait=0)  # type: ignore[arg-type]
    overdue.pushed()
    assert overdue._may_work()  # pushes keep coming, but the oldest note has waited long enough
    quiet = PendingNotesWorker(session.get_bind(), idle=0, max_wait=3600)  # type: ignore[arg-type]
    quiet.pushed()
    assert quiet._may_work()


def test_upgrade_sends_notes_stored_before_screening_to_the_worker(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            place = make_site(session)
            moment = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
            visit = add_visit(session, place, moment)
            ids = {}
            for label, note, masked in (
                ("unscreened", NAMED, None),
                ("screened", "appel du labo", "appel du labo"),
                ("empty", None, None),
            ):
                ids[label] = add_observation(session, visit, note=note, note_masked=masked).id
            session.commit()
        downgrade(database_url, "0011")
        upgrade(database_url)
        with Session(engine) as session:
            assert _pending_ids(session) == {ids["unscreened"]}
    finally:
        engine.dispose()
