from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from backend import models
from backend.db import make_engine
from backend.migrate import alembic_config, current_revision, downgrade, schema_drift, upgrade
from backend.models import metadata
from backend.sync.records import save_observation, visit_row
from shared import schema
from shared.taxonomy import load_taxonomy
from tests.factories import Site, make_site


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_have_a_single_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()) == 1


def test_upgrade_to_head_then_down_to_base_and_up_again(database_url: str) -> None:
    upgrade(database_url)
    assert table_names(database_url) >= set(metadata.tables)
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert current_revision(database_url) == head

    downgrade(database_url, "base")
    assert table_names(database_url) - {"alembic_version"} == set()
    assert current_revision(database_url) is None

    upgrade(database_url)
    assert current_revision(database_url) == head


def test_models_and_migrations_agree(migrated_url: str) -> None:
    assert schema_drift(migrated_url) == []


def test_drift_check_notices_a_missing_index(migrated_url: str) -> None:
    # Proves the agreement test above can fail: remove something the models declare.
    engine = make_engine(migrated_url)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_observation_category"))
    engine.dispose()
    drift = schema_drift(migrated_url)
    assert [d[0] for d in drift] == ["add_index"]


def test_downgrade_spells_out_runs_of_applied_mutations(database_url: str) -> None:
    # Revision 0003 knows one row per mutation: a run must come back as one row per id, none lost.
    upgrade(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        site = make_site(session)
        device = models.Device(observer_id=site.observer_ids[0], structure_id=site.structure_id)
        session.add(device)
        session.flush()
        assert device.id is not None
        session.add_all(
            [
                models.SyncMutation(
                    device_id=device.id, mutation_id=1, last_mutation_id=3, entity="*", status="applied"
                ),
                models.SyncMutation(device_id=device.id, mutation_id=5, entity="visit", status="rejected"),
            ]
        )
        session.commit()
    engine.dispose()

    downgrade(database_url, "0003")
    engine = make_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT mutation_id, status FROM sync_mutation ORDER BY mutation_id"))
        assert [tuple(r) for r in rows] == [(1, "applied"), (2, "applied"), (3, "applied"), (5, "rejected")]
    engine.dispose()


def _visit_at(site: Site, moment: datetime) -> schema.Visit:
    """A visit of the site's first unit and observer, begun at ``moment``."""
    return schema.Visit.begin(site.structure_id, site.unit_ids[0], site.observer_ids[0], moment)


def test_upgrade_copies_each_observations_columns_into_its_attribute_values(database_url: str) -> None:
    # Revision 0006 fills the copies dashboards count from; older rows have none until then.
    upgrade(database_url)
    engine = make_engine(database_url)
    moment = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    with Session(engine) as session:
        site = make_site(session)
        visit = _visit_at(site, moment)
        session.add(visit_row(visit))
        session.flush()
        for minutes, deleted in ((0, False), (40, True)):
            occurred = moment + timedelta(minutes=minutes)
            observation = schema.Observation.logged(
                visit.id,
                occurred,
                "login",
                dimensions=["rhythm", "work_content"],
                impacts=["qvt"],
                deleted=deleted,
            )
            save_observation(session, observation, visit)
        session.commit()
    downgrade(database_url, "0005")
    upgrade(database_url)
    with Session(engine) as session:
        values = session.exec(select(models.ObservationAttributeValue)).all()
        assert len(values) == 6
        for value in values:
            row = session.get_one(models.Observation, value.observation_id)
            assert (value.structure_id, value.occurred_at, value.deleted) == (
                row.structure_id,
                row.occurred_at,
                row.deleted,
            )
    engine.dispose()


def test_existing_programmes_get_their_shipped_grid_as_published_version_1(database_url: str) -> None:
    upgrade(database_url, "0011")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO programme (name, taxonomy_version, created_at) VALUES ('P', '2026.1', :now)"),
            {"now": datetime.now(UTC)},
        )
    engine.dispose()
    upgrade(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        grid = session.exec(select(models.GridVersion)).one()
        assert (grid.number, grid.published_at is not None) == (1, True)
        assert grid.document == load_taxonomy("2026.1").as_dict()
    engine.dispose()
    downgrade(database_url, "0011")
    assert "grid_version" not in table_names(database_url)


def test_visits_stored_before_programme_grids_are_read_with_version_1(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        site = make_site(session)
        # One as 0015 left the visits it found (no grid version), one captured with version 2.
        before, after = (_visit_at(site, datetime(2025, 11, d, 9, tzinfo=UTC)) for d in (5, 6))
        session.add_all([visit_row(before), visit_row(after.model_copy(update={"grid_version": 2}))])
        session.commit()
    engine.dispose()
    downgrade(database_url, "0020")
    upgrade(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        versions = {v.id: v.grid_version for v in session.exec(select(models.Visit)).all()}
    assert versions == {before.id: 1, after.id: 2}
    engine.dispose()


def test_action_milestones_and_figures_come_and_go_without_touching_hand_milestones(
    database_url: str,
) -> None:
    # Revision 0020: the milestone's link to the workshop action that created it (one per action and
    # structure), and the figures of themes. Milestones entered before it stay, unlinked.
    upgrade(database_url, "0016")
    engine = make_engine(database_url)
    now = {"now": datetime.now(UTC)}
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO programme (name, taxonomy_version, created_at) VALUES ('P', '2026.1', :now)"),
            now,
        )
        connection.execute(
            text(
                "INSERT INTO structure (programme_id, name, kind, timezone, created_at, server_seq) "
                "SELECT id, 'S', 'ehpad', 'Europe/Paris', :now, 0 FROM programme"
            ),
            now,
        )
        connection.execute(
            text(
                "INSERT INTO milestone (structure_id, day, label, created_at) "
                "SELECT id, '2026-11-02', 'DPI', :now FROM structure"
            ),
            now,
        )
    engine.dispose()
    upgrade(database_url)
    assert "workshop_figure" in table_names(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        milestone = session.exec(select(models.Milestone)).one()
        assert (milestone.label, milestone.workshop_action_id) == ("DPI", None)
        # Unlinked milestones of one structure may be many: the unique pair ignores them.
        session.add(models.Milestone(structure_id=milestone.structure_id, day=milestone.day, label="Bis"))
        session.commit()
    engine.dispose()
    downgrade(database_url, "0016")
    assert "workshop_figure" not in table_names(database_url)
    engine = make_engine(database_url)
    try:
        assert "workshop_action_id" not in {c["name"] for c in inspect(engine).get_columns("milestone")}
        with engine.connect() as connection:
            labels = connection.execute(text("SELECT label FROM milestone ORDER BY label")).scalars().all()
        assert labels == ["Bis", "DPI"]
    finally:
        engine.dispose()


def test_records_stored_before_0018_are_pulled_as_before_and_the_column_goes_on_downgrade(
    database_url: str,
) -> None:
    # Revision 0018 records, per visit and observation, the sequence number of its device's last push.
    upgrade(database_url, "0016")
    engine = make_engine(database_url)
    with Session(engine) as session:
        site = make_site(session)  # tables 0018 leaves alone
    moment = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO visit (id, structure_id, unit_id, observer_id, started_at, observed_roles, "
                "created_at, updated_at, version, deleted, received_at, server_seq, clock_suspect) VALUES "
                "(:id, :structure, :unit, :observer, :at, '[]', :at, :at, 1, false, :at, 7, false)"
            ),
            {
                "id": uuid.uuid4().hex if database_url.startswith("sqlite") else str(uuid.uuid4()),
                "structure": site.structure_id,
                "unit": site.unit_ids[0],
                "observer": site.observer_ids[0],
                "at": moment,
            },
        )
    engine.dispose()
    upgrade(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        [row] = session.exec(select(models.Visit)).all()
        assert (row.pushed_seq, row.server_seq) == (None, 7)  # unknown: every pull sends it, as before 0018
    engine.dispose()
    downgrade(database_url, "0016")
    engine = make_engine(database_url)
    columns = {c["name"] for c in inspect(engine).get_columns("observation")}
    visit_columns = {c["name"] for c in inspect(engine).get_columns("visit")}
    engine.dispose()
    assert "pushed_seq" not in columns | visit_columns
