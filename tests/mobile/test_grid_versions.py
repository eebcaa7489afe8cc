"""A new grid version reaches tablets by sync: a tablet that pulls it captures with the new category, a
tablet already in a visit finishes it with the grid it started with, and the server accepts both."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, col, select

from backend import models
from backend.grids.service import publish, save_draft
from backend.grids.versions import starting_document
from backend.sync.devices import create_enrolment_code
from mobile import capture
from mobile.store import Store
from mobile.sync_client import SyncClient
from shared.schema import Visit
from tests.factories import Site, make_site


def enrolled(client: TestClient, session: Session, site: Site, store: Store, observer: int) -> SyncClient:
    """A tablet's own sync client, talking to the app through the test client."""
    code = create_enrolment_code(
        session, observer_id=site.observer_ids[observer], structure_id=site.structure_id
    )
    tablet = SyncClient(store, client)
    tablet.enrol(str(client.base_url), code.code, label=f"Tablette {observer}")
    return tablet


def begin(store: Store, site: Site, observer: int) -> Visit:
    return capture.start_visit(
        store,
        structure_id=site.structure_id,
        unit_id=site.unit_ids[0],
        observer_id=site.observer_ids[observer],
        observed_roles=["ide"],
        context_note=None,
    )


def publish_robot_category(session: Session, site: Site) -> None:
    """What a facilitator does in the editor: a new category, then « Publier »."""
    document = copy.deepcopy(starting_document())
    document["categories"].append(
        {"code": "robot", "colour": "#00695C", "timed": False, "fr": "Robot de soins", "en": "Care robot"}
    )
    save_draft(session, site.programme_id, document, actor_user_id=None)
    publish(session, site.programme_id, actor_user_id=None)


def test_a_published_grid_is_pulled_used_for_new_visits_and_a_visit_under_way_keeps_its_own(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    site = make_site(session)
    old_store, new_store = Store(tmp_path / "old.db"), Store(tmp_path / "new.db")
    old_tablet = enrolled(client, session, site, old_store, 0)
    new_tablet = enrolled(client, session, site, new_store, 1)
    for tablet in (old_tablet, new_tablet):
        tablet.sync()
    assert old_store.newest_grid_number() == new_store.newest_grid_number() == 1

    # Observer 0 is in a visit when the new version is published.
    old_visit = begin(old_store, site, 0)
    assert old_visit.grid_version == 1
    capture.log_observation(old_store, old_visit.id, "interruption")
    publish_robot_category(session, site)

    # Observer 1 syncs, gets version 2 and records with its new category.
    new_tablet.sync()
    assert new_store.newest_grid_number() == 2
    new_visit = begin(new_store, site, 1)
    assert new_visit.grid_version == 2
    capture.log_observation(new_store, new_visit.id, "robot")
    assert new_tablet.sync().rejected == 0

    # Observer 0's tablet receives version 2 too, but the visit under way keeps version 1 to its end.
    old_tablet.sync()
    assert old_store.newest_grid_number() == 2
    with pytest.raises(ValidationError, match="robot"):
        capture.log_observation(old_store, old_visit.id, "robot")
    capture.log_observation(old_store, old_visit.id, "alert")
    capture.end_visit(old_store, old_visit.id, old_store.grid(1) or pytest.fail("version 1 kept"))
    report = old_tablet.sync()
    assert (report.rejected, report.pending) == (0, 0)
    assert begin(old_store, site, 0).grid_version == 2  # the next visit starts with the newest

    session.expire_all()
    visits = session.exec(select(models.Visit.id, models.Visit.grid_version)).all()
    assert dict(visits)[old_visit.id] == 1 and dict(visits)[new_visit.id] == 2
    categories = session.exec(
        select(models.Observation.visit_id, models.Observation.category).order_by(
            col(models.Observation.occurred_at)
        )
    ).all()
    assert sorted((str(v), c) for v, c in categories) == sorted(
        [(str(old_visit.id), "interruption"), (str(old_visit.id), "alert"), (str(new_visit.id), "robot")]
    )

    # Pulled back (a reinstalled tablet), observations of both versions read without complaint.
    again = Store(tmp_path / "again.db")
    enrolled(client, session, site, again, 1).sync()
    assert [o.category for o in again.observations(new_visit.id)] == ["robot"]
    for store in (old_store, new_store, again):
        store.close()
