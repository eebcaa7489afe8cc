"""Who may see and do what: every role's refusals, on pages and through the JSON API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from backend import models
from backend.auth.access import visible_programme_ids, visible_structure_ids
from backend.auth.users import UserRole, create_user
from backend.sync.records import save_observation, visit_row
from backend.sync.sequence import SequenceAllocator
from shared import schema
from tests.databases import DATABASE_KINDS
from tests.factories import ADMIN, FACILITATOR, VIEWER, DemoWeb, demo_web

OTHER_FACILITATOR = "autre@programme.fr"
PASSWORD = "un-mot-de-passe-solide"


@dataclass
class Elsewhere:
    """A second programme the demo facilitator does not follow."""

    programme_id: int
    structure_id: int
    observation_id: uuid.UUID


def _other_programme(session: Session) -> Elsewhere:
    sequence = SequenceAllocator(session)
    programme = models.Programme(name="ACIA Occitanie", taxonomy_version="2026.1")
    session.add(programme)
    session.flush()
    assert programme.id is not None
    structure = models.Structure(
        programme_id=programme.id, name="EHPAD Lointain", kind="ehpad", server_seq=sequence.next()
    )
    session.add(structure)
    session.flush()
    assert structure.id is not None
    unit = models.Unit(structure_id=structure.id, name="Étage", server_seq=sequence.next())
    observer = models.Observer(programme_id=programme.id, display_name="Observatrice lointaine")
    session.add_all([unit, observer])
    session.flush()
    assert unit.id is not None and observer.id is not None
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    visit = schema.Visit.begin(structure.id, unit.id, observer.id, start, ended_at=start + timedelta(hours=2))
    session.add(visit_row(visit, server_seq=sequence.next()))
    session.flush()
    observation = schema.Observation.logged(
        visit.id,
        start + timedelta(minutes=20),
        "paper",
        note="Note confidentielle de l'autre programme",
        created_at=start,
        updated_at=start,
    )
    save_observation(session, observation, visit).server_seq = sequence.next()
    sequence.save()
    session.commit()
    create_user(
        session,
        email=OTHER_FACILITATOR,
        full_name="Autre animatrice",
        role=UserRole.FACILITATOR,
        password=PASSWORD,
        programme_ids=[programme.id],
    )
    return Elsewhere(programme.id, structure.id, observation.id)


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path_factory.mktemp("access")) as demo:
        yield demo


@pytest.fixture(scope="module")
def elsewhere(site: DemoWeb) -> Elsewhere:
    with site.session() as session:
        return _other_programme(session)


def _demo_observation_in(site: DemoWeb, structure_id: int) -> uuid.UUID:
    with site.session() as session:
        row = session.exec(
            select(models.Observation).where(models.Observation.structure_id == structure_id)
        ).first()
        assert row is not None
        return row.id


def test_scope_rule_for_each_role(site: DemoWeb, elsewhere: Elsewhere) -> None:
    with site.session() as session:
        demo_structures = set(
            session.exec(
                select(models.Structure.id).where(models.Structure.programme_id == site.summary.programme_id)
            ).all()
        )
        admin, facilitator, viewer = (site.user(e) for e in (ADMIN, FACILITATOR, VIEWER))
        other = site.user(OTHER_FACILITATOR)
        assert visible_structure_ids(session, admin) is None
        assert visible_structure_ids(session, facilitator) == demo_structures
        assert visible_structure_ids(session, viewer) == {site.structure_id("EHPAD Les Tilleuls")}
        assert visible_structure_ids(session, other) == {elsewhere.structure_id}
        assert visible_programme_ids(session, facilitator) == {site.summary.programme_id}
        assert visible_programme_ids(session, viewer) == set()
        orphan_viewer = viewer.model_copy(update={"structure_id": None})
        assert visible_structure_ids(session, orphan_viewer) == set()


def test_signed_out_pages_send_to_login_and_the_api_answers_401(site: DemoWeb) -> None:
    anonymous = site.browser(None)
    response = anonymous.get("/observations?category=login")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fobservations%3Fcategory%3Dlogin"
    response = anonymous.get("/api/v1/observations")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert anonymous.get("/").headers["location"] == "/login"


def test_viewer_reads_only_their_structure_and_changes_nothing(site: DemoWeb, elsewhere: Elsewhere) -> None:
    viewer = site.browser(VIEWER)
    own = site.structure_id("EHPAD Les Tilleuls")
    other = site.structure_id("CHU de Bellerive")
    assert viewer.get("/").headers["location"] == f"/structures/{own}"
    assert viewer.get(f"/structures/{own}").status_code == 200

    listing = viewer.get("/api/v1/observations?page_size=200").json()
    with site.session() as session:
        in_structure = session.exec(
            select(models.Observation).where(
                models.Observation.structure_id == own,
                models.Observation.deleted == False,  # noqa: E712
            )
        ).all()
    assert listing["total"] == len(in_structure) > 0
    assert {item["structure_id"] for item in listing["items"]} == {own}
    # Asking for another structure does not widen the scope: it is not found (issue 18).
    assert viewer.get(f"/api/v1/observations?structure_id={other}").status_code == 404

    for path in (f"/structures/{other}", f"/programmes/{site.summary.programme_id}"):
        assert viewer.get(path).status_code == 404, path
    foreign = _demo_observation_in(site, other)
    assert viewer.get(f"/observations/{foreign}").status_code == 404
    assert viewer.get(f"/api/v1/observations/{foreign}").status_code == 404

    mine = _demo_observation_in(site, own)
    assert viewer.get(f"/observations/{mine}").status_code == 200
    assert "Enregistrer le statut" not in viewer.get(f"/observations/{mine}").text  # no review forms
    before = viewer.get(f"/api/v1/observations/{mine}").json()
    assert viewer.form(f"/observations/{mine}/status", {"review_status": "validated"}).status_code == 403
    assert viewer.form(f"/observations/{mine}/comments", {"body": "Je commente"}).status_code == 403
    refused = viewer.api("POST", f"/api/v1/observations/{mine}/tags", json={"tag": "x"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    after = viewer.get(f"/api/v1/observations/{mine}").json()
    assert (after["review_status"], after["comments"], after["tags"]) == (
        before["review_status"],
        before["comments"],
        before["tags"],
    )

    for path in ("/admin", "/admin/devices", "/admin/users", "/admin/audit", "/admin/programmes/1"):
        response = viewer.get(path)
        assert response.status_code == 403, path
        assert "Accès refusé" in response.text
    assert viewer.get("/api/v1/devices").json()["code"] == "forbidden"


def test_facilitator_sees_their_programme_only(site: DemoWeb, elsewhere: Elsewhere) -> None:
    facilitator = site.browser(FACILITATOR)
    assert facilitator.get(f"/programmes/{site.summary.programme_id}").status_code == 200
    for path in (
        f"/structures/{elsewhere.structure_id}",
        f"/programmes/{elsewhere.programme_id}",
        f"/observations/{elsewhere.observation_id}",
        f"/admin/programmes/{elsewhere.programme_id}",
        f"/api/v1/structures/{elsewhere.structure_id}/dashboard",
        f"/api/v1/programmes/{elsewhere.programme_id}/comparison",
        f"/api/v1/observations/{elsewhere.observation_id}",
    ):
        assert facilitator.get(path).status_code == 404, path
    # Out of scope and non-existent look the same: existence does not leak.
    unknown = facilitator.get(f"/api/v1/observations/{uuid.uuid4()}")
    assert facilitator.get(f"/api/v1/observations/{elsewhere.observation_id}").json() == unknown.json()
    assert "Note confidentielle" not in facilitator.get("/observations?text=confidentielle").text

    refused = facilitator.api(
        "POST",
        f"/api/v1/observations/{elsewhere.observation_id}/review-status",
        json={"review_status": "validated"},
    )
    assert refused.status_code == 404
    assert (
        facilitator.form(
            f"/admin/programmes/{elsewhere.programme_id}/observers", {"name": "Intrus"}
        ).status_code
        == 404
    )
    with site.session() as session:
        assert session.get_one(models.Observation, elsewhere.observation_id).review_status == "to_review"
        names = session.exec(select(models.Observer.display_name)).all()
        assert "Intrus" not in names

    for path in ("/admin/users", "/admin/audit"):
        assert facilitator.get(path).status_code == 403, path
    assert (
        facilitator.form("/admin/programmes", {"name": "Nouveau", "taxonomy_version": "2026.1"}).status_code
        == 403
    )


def test_admin_sees_everything(site: DemoWeb, elsewhere: Elsewhere) -> None:
    admin = site.browser(ADMIN)
    for path in (
        f"/structures/{elsewhere.structure_id}",
        f"/programmes/{elsewhere.programme_id}",
        f"/observations/{elsewhere.observation_id}",
        "/admin/users",
        "/admin/audit",
    ):
        assert admin.get(path).status_code == 200, path
    assert "Note confidentielle" in admin.get("/observations?text=confidentielle").text
