"""The sync protocol through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from backend import models
from backend.exports.rows import ExportScope, iter_export_rows
from backend.exports.small_cells import protected_rows
from backend.privacy.pending import screen_pending
from backend.review.filters import ObservationFilter
from backend.sync.devices import create_enrolment_code
from backend.sync.sequence import SequenceAllocator
from shared import schema
from shared.schema import RESUMPTION_FIELDS
from shared.sync import MAX_BATCH, PROTOCOL_HEADER
from tests.factories import NOW, Site, Tablet, enrol, make_site, observation, statuses


def server_observations(session: Session) -> dict[uuid.UUID, models.Observation]:
    session.expire_all()
    return {o.id: o for o in session.exec(select(models.Observation))}


# --- Enrolment and tokens -------------------------------------------------------------------------


def test_enrolment_stores_only_hashes_of_code_and_token(
    client: TestClient, session: Session, site: Site
) -> None:
    issued = create_enrolment_code(session, observer_id=site.observer_ids[0], structure_id=site.structure_id)
    response = client.post(
        "/api/v1/devices/enrol",
        json={"code": issued.code.lower().replace("-", " "), "installation_id": str(uuid.uuid4())},
        headers={PROTOCOL_HEADER: "1"},
    )
    assert response.status_code == 201
    token = response.json()["device_token"]
    assert len(token) >= 40
    # Look through every text column of every table: neither secret is stored in clear.
    with session.connection() as connection:
        for table in inspect(connection).get_table_names():
            dump = " ".join(str(row) for row in connection.execute(text(f'SELECT * FROM "{table}"')))
            assert token not in dump, table
            assert issued.code.replace("-", "") not in dump, table


def test_enrolment_code_is_single_use(client: TestClient, session: Session, site: Site) -> None:
    issued = create_enrolment_code(session, observer_id=site.observer_ids[0], structure_id=site.structure_id)
    body = {"code": issued.code, "installation_id": str(uuid.uuid4())}
    assert client.post("/api/v1/devices/enrol", json=body, headers={PROTOCOL_HEADER: "1"}).status_code == 201
    other = {"code": issued.code, "installation_id": str(uuid.uuid4())}
    response = client.post("/api/v1/devices/enrol", json=other, headers={PROTOCOL_HEADER: "1"})
    assert response.status_code == 409
    assert response.json()["code"] == "enrolment_code_used"


def test_enrolment_retried_after_a_lost_answer_gives_a_new_token(
    client: TestClient, session: Session, site: Site
) -> None:
    issued = create_enrolment_code(session, observer_id=site.observer_ids[0], structure_id=site.structure_id)
    body = {"code": issued.code, "installation_id": str(uuid.uuid4())}
    first = client.post("/api/v1/devices/enrol", json=body, headers={PROTOCOL_HEADER: "1"}).json()
    second = client.post("/api/v1/devices/enrol", json=body, headers={PROTOCOL_HEADER: "1"}).json()
    assert second["device_id"] == first["device_id"]
    headers = {PROTOCOL_HEADER: "1", "Authorization": f"Bearer {second['device_token']}"}
    assert client.get("/api/v1/sync/pull", headers=headers).status_code == 200
    headers["Authorization"] = f"Bearer {first['device_token']}"
    assert client.get("/api/v1/sync/pull", headers=headers).json()["code"] == "invalid_token"


def test_expired_and_unknown_codes_are_refused_clearly(
    client: TestClient, session: Session, site: Site
) -> None:
    issued = create_enrolment_code(
        session,
        observer_id=site.observer_ids[0],
        structure_id=site.structure_id,
        now=datetime.now(UTC) - timedelta(days=30),
    )
    cases = (
        (issued.code, "enrolment_code_expired", "Ce code a expiré : demandez-en un nouveau."),
        ("ZZZZ-ZZZZ", "enrolment_code_invalid", "Code d'enrôlement inconnu : vérifiez la saisie."),
    )
    for code, expected, message in cases:
        response = client.post(
            "/api/v1/devices/enrol",
            json={"code": code, "installation_id": str(uuid.uuid4())},
            headers={PROTOCOL_HEADER: "1"},
        )
        assert response.status_code == 400
        assert response.json()["code"] == expected
        assert response.json()["message"] == message


def test_revoked_unknown_and_missing_tokens_get_401(
    client: TestClient, session: Session, tablet: Tablet
) -> None:
    from backend.sync.devices import revoke_device

    revoke_device(session, tablet.device_id)
    response = tablet.pull()
    assert response.status_code == 401
    assert response.json()["code"] == "device_revoked"
    assert (
        client.get(
            "/api/v1/sync/pull", headers={PROTOCOL_HEADER: "1", "Authorization": "Bearer nope"}
        ).json()["code"]
        == "invalid_token"
    )
    assert client.get("/api/v1/sync/pull", headers={PROTOCOL_HEADER: "1"}).json()["code"] == "missing_token"


# --- Protocol version ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [(None, 426, "protocol_outdated"), ("0", 426, "protocol_outdated"), ("99", 400, "protocol_unknown")],
)
def test_other_protocol_versions_are_refused_before_anything_is_written(
    session: Session, tablet: Tablet, header: str | None, status: int, code: str
) -> None:
    visit = tablet.visit()
    headers = dict(tablet.headers)
    if header is None:
        del headers[PROTOCOL_HEADER]
    else:
        headers[PROTOCOL_HEADER] = header
    body = {"device_time": NOW.isoformat(), "mutations": [tablet.mutation("visit", visit)]}
    response = tablet.client.post("/api/v1/sync/push", json=body, headers=headers)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert session.get(models.Visit, uuid.UUID(visit["id"])) is None


# --- Push: exactly once, item by item --------------------------------------------------------------


def test_push_twice_creates_one_observation_and_gives_the_same_answer(
    session: Session, tablet: Tablet
) -> None:
    visit = tablet.visit()
    batch = [tablet.mutation("visit", visit), tablet.mutation("observation", observation(visit["id"]))]
    first = tablet.push(*batch)
    again = tablet.push(*batch)
    assert statuses(first) == ["applied", "applied"]
    assert again.json()["results"] == first.json()["results"]
    assert len(server_observations(session)) == 1


def test_a_backlog_resent_in_other_batches_is_answered_mutation_by_mutation(
    session: Session, tablet: Tablet
) -> None:
    visit = tablet.visit()
    batch = [tablet.mutation("visit", visit)]
    batch += [tablet.mutation("observation", observation(visit["id"])) for _ in range(8)]
    batch.append(tablet.mutation("observation", observation(visit["id"], category="no_such_category")))
    first = tablet.push(*batch).json()["results"]
    assert [r["status"] for r in first] == ["applied"] * 9 + ["rejected"]

    # The answer was lost; the tablet re-sends the same mutations cut differently, out of order.
    middle = tablet.push(*batch[6:], *batch[2:4]).json()["results"]
    whole = tablet.push(*batch).json()["results"]
    by_id = {r["mutation_id"]: r for r in first}
    assert middle == [by_id[m["mutation_id"]] for m in batch[6:] + batch[2:4]]
    assert whole == first
    assert len(server_observations(session)) == 8
    # The nine applied ids are remembered as one run, the rejection on its own.
    rows = session.exec(select(models.SyncMutation).where(models.SyncMutation.device_id == tablet.device_id))
    assert sorted((r.mutation_id, r.last_mutation_id, r.status) for r in rows) == [
        (1, 9, "applied"),
        (10, None, "rejected"),
    ]


def test_a_replayed_mutation_id_is_never_applied_twice_even_with_other_content(
    session: Session, tablet: Tablet
) -> None:
    visit = tablet.visit()
    obs = observation(visit["id"], note="Première version")
    first = [tablet.mutation("visit", visit), tablet.mutation("observation", obs)]
    tablet.push(*first)
    tampered = {**first[1], "data": {**obs, "note": "Autre contenu", "version": 5}}
    response = tablet.push(tampered)
    # Another state under a used id is not the recorded mutation: refused, never "applied" unstored.
    assert statuses(response) == ["rejected"]
    assert response.json()["results"][0]["code"] == "mutation_id_reused"
    assert server_observations(session)[uuid.UUID(obs["id"])].note == "Première version"


def test_a_note_naming_a_patient_is_kept_but_flagged_for_review(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    named = observation(visit["id"], note="Appel pour Mme Dupont, chambre 12, pendant la préparation.")
    plain = observation(visit["id"], note="Appel du laboratoire pendant la préparation des piluliers.")
    assert (
        statuses(
            tablet.push(
                tablet.mutation("visit", visit),
                tablet.mutation("observation", named),
                tablet.mutation("observation", plain),
            )
        )
        == ["applied"] * 3
    )
    # Both notes wait for the screening that follows the push (backend/privacy/pending.py).
    stored = server_observations(session)
    assert [stored[uuid.UUID(o["id"])].privacy_pending for o in (named, plain)] == [True, True]
    assert screen_pending(session) == 2
    stored = server_observations(session)
    assert stored[uuid.UUID(named["id"])].privacy_flagged
    assert stored[uuid.UUID(named["id"])].note == named["note"]  # nothing the observer wrote is lost
    assert not stored[uuid.UUID(plain["id"])].privacy_flagged
    assert not any(row.privacy_pending for row in stored.values())

    # The observer rewrites the note without the name: screened again, the flag goes.
    fixed = {**named, "note": "Appel pour une résidente pendant la préparation.", "version": 2}
    assert statuses(tablet.push(tablet.mutation("observation", fixed))) == ["applied"]
    assert server_observations(session)[uuid.UUID(named["id"])].privacy_pending
    assert screen_pending(session) == 1
    assert not server_observations(session)[uuid.UUID(named["id"])].privacy_flagged


def test_bad_items_are_rejected_one_by_one_and_good_ones_kept(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    good = observation(visit["id"])
    mutations = [
        tablet.mutation("visit", visit),
        tablet.mutation("observation", good),
        tablet.mutation("observation", observation(visit["id"], category="pause_cafe")),
        tablet.mutation("observation", observation(visit["id"], id="pas-un-uuid")),
        tablet.mutation("observation", observation(visit["id"], note="x" * 2001)),
        tablet.mutation("comment", {"id": str(uuid.uuid4())}),
    ]
    results = tablet.push(*mutations).json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied", *["rejected"] * 4]
    codes = [(r["code"], [d["field"] for d in r["details"]]) for r in results[2:]]
    assert codes == [
        ("invalid_record", ["category"]),
        ("invalid_record", ["id"]),
        ("invalid_record", ["note"]),
        ("unknown_entity", []),
    ]
    assert results[2]["details"][0]["message"] == "Code inconnu « pause_cafe » pour « category » (grille 1)."
    assert results[4]["details"][0]["message"] == "Texte trop long : 2000 caractères au maximum."
    assert list(server_observations(session)) == [uuid.UUID(good["id"])]


def test_oversized_batch_is_refused_whole(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    mutations = [tablet.mutation("visit", visit)]
    mutations += [tablet.mutation("observation", observation(visit["id"])) for _ in range(MAX_BATCH)]
    response = tablet.push(*mutations)
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"
    assert session.get(models.Visit, uuid.UUID(visit["id"])) is None


def test_observation_arriving_before_its_visit_is_retryable_and_not_remembered(
    session: Session, tablet: Tablet
) -> None:
    visit = tablet.visit()
    visit_mutation = tablet.mutation("visit", visit)
    obs_mutation = tablet.mutation("observation", observation(visit["id"]))
    early = tablet.push(obs_mutation).json()["results"][0]
    assert (early["status"], early["code"], early["retryable"]) == ("rejected", "visit_not_found", True)
    assert statuses(tablet.push(visit_mutation, obs_mutation)) == ["applied", "applied"]


def test_edits_apply_in_version_order_and_deletion_is_final(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    obs = observation(visit["id"])
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", obs))
    edited = {**obs, "version": 2, "note": "Précisé dans le couloir", "dimensions": ["work_spaces", "rhythm"]}
    deleted = {**edited, "version": 3, "deleted": True}
    stale = {**obs, "version": 2, "note": "Ancienne version renvoyée en retard"}
    revived = {**edited, "version": 4, "deleted": False}
    results = tablet.push(
        tablet.mutation("observation", edited),
        tablet.mutation("observation", deleted),
        tablet.mutation("observation", stale),
        tablet.mutation("observation", revived),
    ).json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [
        ("applied", None),
        ("applied", None),
        ("superseded", "stale_version"),
        ("superseded", "record_deleted"),
    ]
    row = server_observations(session)[uuid.UUID(obs["id"])]
    assert (row.deleted, row.version, row.note) == (True, 3, "Précisé dans le couloir")
    revisions = session.exec(select(models.RecordRevision)).all()
    assert [(r.reason, r.version) for r in revisions] == [("edit_after_delete", 4)]


def test_an_interruption_keeps_the_task_it_interrupted_and_its_resumption(
    session: Session, tablet: Tablet
) -> None:
    visit = tablet.visit()
    timer = observation(
        visit["id"], category="system_failure", interruption_source=None, tool="patient_record"
    )
    interruption = observation(visit["id"], interrupted_id=timer["id"], role="ide", tool="phone")
    resumed_at = (NOW - timedelta(minutes=29)).isoformat()
    answered = {**interruption, "version": 2, "task_resumed": True, "resumed_at": resumed_at}
    results = tablet.push(
        tablet.mutation("visit", visit),
        tablet.mutation("observation", timer),
        tablet.mutation("observation", interruption),
        tablet.mutation("observation", answered),
    )
    assert statuses(results) == ["applied"] * 4
    row = server_observations(session)[uuid.UUID(interruption["id"])]
    assert (str(row.interrupted_id), row.task_resumed, row.role, row.tool) == (
        timer["id"],
        True,
        "ide",
        "phone",
    )
    assert row.resumed_at == datetime.fromisoformat(resumed_at)
    [pulled] = [o for o in tablet.pull_new() if o["id"] == interruption["id"]]
    assert (pulled["interrupted_id"], pulled["task_resumed"]) == (timer["id"], True)

    # Analysts get them out: the export rows (CSV, XLSX, JSON, the OData feed) carry all three, the time in
    # the structure's zone; a row a small cell protects loses the time of day, resumption included.
    exported = {
        r.observation_id: r for r in iter_export_rows(session, ExportScope(criteria=ObservationFilter()))
    }
    out = exported[interruption["id"]]
    assert (out.interrupted_id, out.task_resumed) == (timer["id"], True)
    assert out.resumed_at is not None
    assert datetime.fromisoformat(out.resumed_at) == datetime.fromisoformat(resumed_at)
    assert (exported[timer["id"]].interrupted_id, exported[timer["id"]].task_resumed) == (None, None)
    [protected] = list(protected_rows(lambda: iter([out]), threshold=2))
    assert (protected.resumed_at, protected.ended_at, protected.task_resumed) == (None, None, True)


def test_an_edit_keeps_the_parts_of_the_record_the_app_does_not_know_and_clears_those_it_does(
    session: Session, tablet: Tablet
) -> None:
    visit = tablet.visit()
    timer = observation(visit["id"], category="system_failure", interruption_source=None)
    resumed_at = (NOW - timedelta(minutes=29)).isoformat()
    answered = observation(visit["id"], interrupted_id=timer["id"], task_resumed=True, resumed_at=resumed_at)
    pushed = tablet.push(
        tablet.mutation("visit", visit),
        tablet.mutation("observation", timer),
        tablet.mutation("observation", answered),
        captures=["grid_attributes", "resumption"],
    )
    assert statuses(pushed) == ["applied"] * 3

    def stored() -> tuple[object, ...]:
        session.expire_all()
        row = server_observations(session)[uuid.UUID(answered["id"])]
        return (
            None if row.interrupted_id is None else str(row.interrupted_id),
            row.task_resumed,
            row.resumed_at,
        )

    kept = (timer["id"], True, datetime.fromisoformat(resumed_at))
    # New in the same push as a plain timer before it: its resumption is stored, not dropped with the
    # columns the first row of the bulk insert lacked.
    assert stored() == kept
    # An app older than the resumption fields edits the note: the fields it never heard of stay.
    older = {k: v for k, v in answered.items() if k not in RESUMPTION_FIELDS}
    assert statuses(tablet.push(tablet.mutation("observation", {**older, "version": 2, "note": "Relu"}))) == [
        "applied"
    ]
    assert stored() == kept
    # An app that knows them and leaves them out (its records serialise without empty fields) clears them.
    cleared = {**older, "version": 3, "note": "Ce n'était pas une interruption de tâche"}
    assert statuses(
        tablet.push(tablet.mutation("observation", cleared), captures=["grid_attributes", "resumption"])
    ) == ["applied"]
    assert stored() == (None, None, None)
    # The record a current tablet sends is that shape: no empty optional field at all.
    serialised = schema.Observation.model_validate(cleared, context=schema.CODES_CHECKED).model_dump(
        mode="json"
    )
    assert not RESUMPTION_FIELDS & set(serialised) and "grid_attributes" not in serialised


def test_an_interruption_names_a_task_of_its_own_visit(session: Session, tablet: Tablet) -> None:
    first, second = tablet.visit(), tablet.visit()
    timer = observation(first["id"], category="system_failure", interruption_source=None)
    elsewhere = observation(second["id"], interrupted_id=timer["id"])
    unknown = observation(second["id"], interrupted_id=str(uuid.uuid4()))  # its timer may come later
    results = tablet.push(
        tablet.mutation("visit", first),
        tablet.mutation("visit", second),
        tablet.mutation("observation", timer),
        tablet.mutation("observation", elsewhere),
        tablet.mutation("observation", unknown),
    ).json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected", "applied"]
    assert results[3]["code"] == "invalid_record"
    assert results[3]["details"][0]["field"] == "interrupted_id"
    assert results[3]["details"][0]["message"].startswith(
        "La tâche interrompue appartient à une autre visite"
    )
    # Stored before, the timer is found in the database too.
    later = observation(second["id"], interrupted_id=timer["id"])
    again = tablet.push(tablet.mutation("observation", later)).json()["results"]
    assert (again[0]["status"], again[0]["details"][0]["code"]) == (
        "rejected",
        "interrupted_in_another_visit",
    )
    assert uuid.UUID(elsewhere["id"]) not in server_observations(session)


def test_an_older_tablet_without_the_resumption_fields_is_still_accepted(
    session: Session, tablet: Tablet
) -> None:
    visit = tablet.visit()
    older = observation(
        visit["id"]
    )  # protocol 1 as first published: no interrupted_id, task_resumed, resumed_at
    assert "task_resumed" not in older
    assert statuses(tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", older))) == [
        "applied",
        "applied",
    ]
    row = server_observations(session)[uuid.UUID(older["id"])]
    assert (row.interrupted_id, row.task_resumed, row.resumed_at) == (None, None, None)


def test_edit_from_a_second_tablet_wins_and_the_overwritten_state_is_kept(
    client: TestClient, session: Session, site: Site, tablet: Tablet
) -> None:
    second = enrol(client, session, site)  # same observer, second tablet
    visit = tablet.visit()
    obs = observation(visit["id"], note="Vu par la tablette 1")
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", obs))
    from_second = {**obs, "version": 2, "note": "Corrigé sur la tablette 2"}
    assert statuses(second.push(second.mutation("observation", from_second))) == ["applied"]
    row = server_observations(session)[uuid.UUID(obs["id"])]
    assert row.note == "Corrigé sur la tablette 2"
    [revision] = session.exec(select(models.RecordRevision)).all()
    assert (revision.reason, revision.device_id, revision.data["note"]) == (
        "overwritten_by_other_device",
        tablet.device_id,
        "Vu par la tablette 1",
    )


def test_device_clock_offset_is_measured_and_kept(session: Session, tablet: Tablet) -> None:
    # A tablet whose clock is two days behind: its times are plausible once corrected, so they are kept.
    behind = datetime.now(UTC) - timedelta(days=2)
    visit = tablet.visit(started_at=(behind - timedelta(hours=1)).isoformat(), created_at=behind.isoformat())
    response = tablet.push(tablet.mutation("visit", visit), device_time=behind)
    assert statuses(response) == ["applied"]
    offset = response.json()["clock_offset_seconds"]
    assert offset == pytest.approx(2 * 86400, abs=60)
    session.expire_all()
    row = session.get(models.Visit, uuid.UUID(visit["id"]))
    device = session.get(models.Device, tablet.device_id)
    assert row is not None and device is not None
    assert row.started_at == datetime.fromisoformat(visit["started_at"])  # kept as observed
    assert row.device_clock_offset_seconds == pytest.approx(offset)
    assert device.clock_offset_seconds == pytest.approx(offset)


def test_push_never_overwrites_what_the_facilitator_owns(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    obs = observation(visit["id"])
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", obs))
    row = server_observations(session)[uuid.UUID(obs["id"])]
    row.review_status = "to_discuss"
    session.add(row)
    session.commit()
    tablet.push(tablet.mutation("observation", {**obs, "version": 2, "note": "Complété"}))
    row = server_observations(session)[uuid.UUID(obs["id"])]
    assert (row.review_status, row.note) == ("to_discuss", "Complété")
    pulled = tablet.pull().json()["observations"]
    assert [(o["review_status"], o["note"]) for o in pulled] == [("to_discuss", "Complété")]


# --- Isolation -------------------------------------------------------------------------------------


def test_a_tablet_cannot_write_into_another_structure(
    client: TestClient, session: Session, tablet: Tablet
) -> None:
    elsewhere = make_site(session, "EHPAD Ailleurs")
    stranger = enrol(client, session, elsewhere)
    their_visit = stranger.visit()
    their_obs = observation(their_visit["id"])
    stranger.push(stranger.mutation("visit", their_visit), stranger.mutation("observation", their_obs))

    results = tablet.push(
        tablet.mutation("visit", tablet.visit(unit_id=elsewhere.unit_ids[0])),
        tablet.mutation(
            "visit", tablet.visit(structure_id=elsewhere.structure_id, unit_id=elsewhere.unit_ids[0])
        ),
        tablet.mutation("observation", observation(their_visit["id"])),
        tablet.mutation("observation", observation(str(uuid.uuid4()))),
        tablet.mutation("visit", {**their_visit, "version": 2}),
    ).json()["results"]
    assert [r["code"] for r in results] == [
        "unit_not_found",
        "unit_not_found",
        "not_found",  # a visit elsewhere never becomes this tablet's: final, not sent again for ever
        "visit_not_found",  # a visit not here yet may still come: retryable
        "wrong_observer",
    ]
    assert [r["retryable"] for r in results[2:4]] == [False, True]
    # Taking over their observation's id with a visit of ours is refused too.
    mine = tablet.visit()
    hijack = tablet.push(
        tablet.mutation("visit", mine),
        tablet.mutation("observation", {**their_obs, "visit_id": mine["id"], "version": 9}),
    ).json()["results"][1]
    assert hijack["code"] == "not_found"
    assert server_observations(session)[uuid.UUID(their_obs["id"])].visit_id == uuid.UUID(their_visit["id"])


def test_pull_shows_only_the_tablets_own_structure_and_observer(
    client: TestClient, session: Session, site: Site, tablet: Tablet
) -> None:
    colleague = enrol(client, session, site, observer_index=1)
    elsewhere = enrol(client, session, make_site(session, "SSIAD Ailleurs"))
    for device in (tablet, colleague, elsewhere):
        visit = device.visit()
        device.push(device.mutation("visit", visit), device.mutation("observation", observation(visit["id"])))
    page = tablet.pull().json()
    assert [s["id"] for s in page["structures"]] == [site.structure_id]
    assert sorted(u["id"] for u in page["units"]) == sorted(site.unit_ids)
    assert {v["observer_id"] for v in page["visits"]} == {tablet.observer_id}
    assert len(page["observations"]) == 1


# --- Pull ------------------------------------------------------------------------------------------


def test_pull_pages_through_a_backlog_without_gaps_or_repeats(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    observations = [observation(visit["id"]) for _ in range(40)]
    tablet.push(tablet.mutation("visit", visit), *(tablet.mutation("observation", o) for o in observations))
    seen: list[str] = []
    cursor, pages = 0, 0
    while True:
        page = tablet.pull(cursor=cursor, limit=7).json()
        seen += [o["id"] for o in page["observations"]]
        assert page["cursor"] >= cursor
        cursor, pages = page["cursor"], pages + 1
        if not page["has_more"]:
            break
    assert sorted(seen) == sorted(o["id"] for o in observations)
    assert pages == 6  # 1 visit + 40 observations = 41 records, 7 per page (structure and units ride along)
    assert tablet.pull(cursor=cursor).json()["observations"] == []


def test_pull_brings_tombstones_and_review_changes(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    kept, dropped = observation(visit["id"]), observation(visit["id"])
    tablet.push(
        *(
            tablet.mutation(e, d)
            for e, d in (("visit", visit), ("observation", kept), ("observation", dropped))
        )
    )
    cursor = tablet.pull().json()["cursor"]
    tablet.push(tablet.mutation("observation", {**dropped, "version": 2, "deleted": True}))

    # A facilitator validates the other one (the review pages will do exactly this).
    sequence = SequenceAllocator(session)
    row = session.get(models.Observation, uuid.UUID(kept["id"]))
    assert row is not None
    row.review_status, row.server_seq = "validated", sequence.next()
    session.add(row)
    sequence.save()
    session.commit()

    page = tablet.pull(cursor=cursor).json()
    changes = {o["id"]: (o["deleted"], o["review_status"]) for o in page["observations"]}
    assert changes == {dropped["id"]: (True, "to_review"), kept["id"]: (False, "validated")}
