"""An attribute the programme added to its grid reaches tablets by the real sync client, is recorded on an
observation (at the store, and by taps on the enrichment screen in a real window) and reaches the server;
a value the grid does not allow is refused on the tablet in French."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, col, select

from backend import models
from backend.auth.users import UserRole, create_user
from backend.dashboards.service import programme_dashboard
from backend.db import make_engine
from backend.grids.service import publish, save_draft
from backend.grids.versions import current_version
from backend.review.filters import ObservationFilter
from mobile import capture
from mobile.store import Store
from shared.messages import field_errors
from shared.sync import PullResponse
from tests.conftest import DemoSite
from tests.factories import make_site
from tests.mobile.conftest import Tablet, issue_code
from tests.mobile.test_enrolment_screen import home_says, screenshot, snapshot, tap, type_in, wait_for
from tests.mobile.test_grid_versions import begin, enrolled
from tests.mobile.test_visit_capture import inside_window

MOOD: dict[str, Any] = {
    "code": "mood",
    "multiple": False,
    "applies_to": ["interruption"],
    "fr": "Humeur de l'équipe",
    "en": "Team mood",
    "values": [
        {"code": "calm", "fr": "Calme", "en": "Calm"},
        {"code": "tense", "fr": "Tendue", "en": "Tense"},
    ],
}


# More choices than a 10" screen holds beside the grid's own: the enrichment screen must scroll them, in
# one area, rather than cut them off.
EQUIPMENT: dict[str, Any] = {
    "code": "equipment",
    "multiple": True,
    "applies_to": ["interruption"],
    "fr": "Équipement en cause",
    "en": "Equipment involved",
    "values": [
        {"code": f"item_{n}", "fr": f"Équipement numéro {n}", "en": f"Item {n}"} for n in range(1, 41)
    ],
}


def publish_mood(session: Session, programme_id: int, *more: dict[str, Any]) -> int:
    """What a facilitator does in the editor: « Ajouter un attribut », then « Publier »."""
    _number, document = current_version(session, programme_id)
    document = copy.deepcopy(document)
    document["attributes"] += [copy.deepcopy(MOOD), *copy.deepcopy(list(more))]
    save_draft(session, programme_id, document, actor_user_id=None)
    return publish(session, programme_id, actor_user_id=None).number


def test_a_tablet_pulls_an_added_attribute_records_a_value_and_the_server_counts_it(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    site = make_site(session)
    store = Store(tmp_path / "tablet.db")
    tablet = enrolled(client, session, site, store, 0)
    tablet.sync()
    assert publish_mood(session, site.programme_id) == 2
    tablet.sync()
    grid = store.grid()
    assert grid is not None and grid.version == "2"
    assert grid.attribute("mood").label("fr") == "Humeur de l'équipe"

    visit = begin(store, site, 0)
    logged = capture.log_observation(store, visit.id, "interruption")
    with pytest.raises(ValidationError) as refused:
        store.edit_observation(logged.id, grid_attributes={"mood": ["calm", "tense"]})
    assert [e.message for e in field_errors(refused.value)] == [
        "« mood » est à choix unique : une seule valeur (reçu : 2)."
    ]
    store.edit_observation(logged.id, grid_attributes={"mood": ["tense"]})
    paper = capture.log_observation(store, visit.id, "paper")
    with pytest.raises(ValidationError, match="ne s'applique qu'aux catégories : interruption"):
        store.edit_observation(paper.id, grid_attributes={"mood": ["calm"]})
    report = tablet.sync()
    assert (report.rejected, report.pending) == (0, 0)

    session.expire_all()
    stored = session.exec(
        select(models.ObservationAttributeValue.code).where(
            models.ObservationAttributeValue.attribute == "mood"
        )
    ).all()
    assert stored == ["tense"]
    admin = create_user(
        session, email="admin@humeur.test", full_name="Admin", role=UserRole.ADMIN, password="x" * 12
    )
    dashboard = programme_dashboard(session, admin, site.programme_id, ObservationFilter())
    (mood,) = dashboard.by_added_attribute
    assert {c.label: c.count for c in mood.counts} == {"Tendue": 1, "Calme": 0}

    # Pulled back by a reinstalled tablet, the value comes with the observation.
    again = Store(tmp_path / "again.db")
    enrolled(client, session, site, again, 0).sync()
    assert again.observation(logged.id).grid_attributes == {"mood": ["tense"]}  # type: ignore[union-attr]
    for each in (store, again):
        each.close()


def test_an_updated_app_asks_again_for_the_grid_an_older_app_pulled_without_added_attributes(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    site = make_site(session)
    store = Store(tmp_path / "tablet.db")
    tablet = enrolled(client, session, site, store, 0)
    publish_mood(session, site.programme_id)
    # What the app did before added attributes existed: a pull without saying it captures them.
    older = tablet._send("GET", "/api/v1/sync/pull", params={"cursor": 0})
    store.apply_pull(PullResponse.model_validate_json(older.content))
    store.set_meta(full_grid="")
    stripped = store.grid(2)
    assert stripped is not None and "mood" not in stripped.attribute_codes
    assert store.newest_full_grid_number() is None

    tablet.sync()
    whole = store.grid(2)
    assert whole is not None and "mood" in whole.attribute_codes
    assert store.newest_full_grid_number() == 2
    store.close()


def test_the_observer_taps_an_added_attribute_on_the_enrichment_screen(
    tablet: Tablet, demo_site: DemoSite
) -> None:
    engine = make_engine(demo_site.database_url)
    with Session(engine) as session:
        programme_id = session.exec(select(models.Programme.id).order_by(col(models.Programme.id))).first()
        assert programme_id is not None
        number = publish_mood(session, programme_id, EQUIPMENT)
    issued = issue_code(demo_site)
    run = tablet.run(
        "added-attribute",
        server_url=demo_site.url,
        timeout=120,
        steps=[
            type_in("code", issued.code),
            tap("enrol_button"),
            *home_says("last_sync", "Dernière synchronisation réussie", "home-enrolled"),
            tap("visit_button"),
            wait_for(screen="visit_start"),
            tap(f"unit_{issued.unit_ids[0]}"),
            tap("role_ide"),
            tap("start"),
            wait_for(screen="capture"),
            tap("category_interruption"),
            wait_for(id="counter", contains=": 1"),
            tap("recent_0_edit"),
            wait_for(screen="observation"),
            snapshot("enrich"),
            tap("added_mood_tense"),
            snapshot("tense"),
            screenshot("observation-added-attribute"),
            tap("added_equipment_item_40"),  # the last choice, out of sight until the area scrolls
            snapshot("last"),
            screenshot("observation-added-attribute-scrolled"),
            tap("save"),
            wait_for(screen="capture"),
            tap("summary_button"),
            wait_for(screen="summary"),
            tap("end_visit"),
            wait_for(id="confirm_end", property="disabled", equals=False),
            tap("confirm_end"),
            wait_for(screen="home"),
            tap("sync_now"),
            wait_for(id="pending", contains="envoi : 0", timeout=20),
            snapshot("synced"),
        ],
    )
    assert run.screen("enrich") == "observation"
    assert run.widget("enrich", "added_mood_calm")["text"] == "Calme"
    assert run.widget("enrich", "added_mood_tense")["state"] == "normal"
    assert run.widget("tense", "added_mood_tense")["state"] == "down"
    # After the record's own attributes, in reading order: in a column to the right, or lower in the same
    # one (window y grows upwards).
    mood, role = run.widget("enrich", "added_mood_tense"), run.widget("enrich", "attribute_role_ide")
    assert mood["pos_dp"][0] > role["pos_dp"][0] + role["size_dp"][0] or mood["pos_dp"][1] < role["pos_dp"][1]

    # Too many choices for the screen: one area scrolls (not two nested), the buttons stay on screen, and the
    # last chip, first below the area's bottom edge, is reached and taken.
    enrich = run.snapshots["enrich"]
    assert enrich["scroll_views"] == 1
    width, height = enrich["window"]
    last, save = enrich["widgets"]["added_equipment_item_40"], enrich["widgets"]["save"]
    assert last["pos_dp"][1] < 0  # below the bottom of the window before scrolling
    assert inside_window(save, width, height)
    assert run.widget("last", "added_equipment_item_40")["state"] == "down"
    assert inside_window(run.widget("last", "added_equipment_item_40"), width, height)
    assert inside_window(run.widget("last", "save"), width, height)

    store = Store(tablet.store_path)
    try:
        # The demo observer's earlier visits came with the pull; the one recorded here has the new version.
        (visit,) = [v for v in store.visits() if v.grid_version == number]
        (recorded,) = store.observations(visit.id)
        assert recorded.grid_attributes == {"mood": ["tense"], "equipment": ["item_40"]}
    finally:
        store.close()
    with Session(engine) as session:
        values = session.exec(
            select(models.ObservationAttributeValue.attribute, models.ObservationAttributeValue.code).where(
                models.ObservationAttributeValue.observation_id == recorded.id,
                col(models.ObservationAttributeValue.attribute).in_(["mood", "equipment"]),
            )
        ).all()
        assert sorted(values) == [("equipment", "item_40"), ("mood", "tense")]
    engine.dispose()
