"""A facilitator corrects a note that names someone: the original is kept nowhere, the tablet receives
the correction, and the audit log says who corrected which observation without the text."""

from __future__ import annotations

import uuid

from sqlalchemy import inspect, text
from sqlmodel import select

from backend import models
from tests.factories import (
    FACILITATOR,
    VIEWER,
    DemoWeb,
    observation,
    statuses,
)

ORIGINAL = "appel de mme Vaillancourt-Desrosiers au 06 12 34 56 78 pendant la préparation"


def everything_stored(demo: DemoWeb) -> str:
    with demo.engine.connect() as connection:
        return " ".join(
            str(row)
            for table in inspect(connection).get_table_names()
            for row in connection.execute(text(f'SELECT * FROM "{table}"'))
        )


def test_a_corrected_note_replaces_the_original_everywhere_and_reaches_the_tablet(demo: DemoWeb) -> None:
    tablet, other_tablet = demo.tablet(), demo.tablet()
    visit = tablet.visit()
    typed = observation(visit["id"], note=ORIGINAL)
    assert statuses(tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", typed))) == [
        "applied",
        "applied",
    ]
    # The same observer's other tablet overwrote it once: that state is kept aside, original text and all.
    assert statuses(
        other_tablet.push(other_tablet.mutation("observation", {**typed, "note": ORIGINAL + "."}))
    )
    tablet.pull_new()

    facilitator = demo.browser(FACILITATOR)
    page = facilitator.get(f"/observations/{typed['id']}")
    assert "Corriger la note" in page.text
    proposed = "appel de mme [nom] au [téléphone] pendant la préparation"
    assert proposed in page.text
    done = facilitator.form(f"/observations/{typed['id']}/note", {"note": proposed})
    assert done.status_code == 303

    stored = everything_stored(demo)
    assert "Vaillancourt" not in stored and "06 12 34 56 78" not in stored
    with demo.session() as session:
        row = session.get_one(models.Observation, uuid.UUID(typed["id"]))
        # Nothing left to flag: the corrected note names no one.
        assert (row.note, row.privacy_flagged, row.version, row.device_id) == (proposed, False, 2, None)
        event = session.exec(
            select(models.AuditEvent).where(models.AuditEvent.action == "observation.note_redact")
        ).one()
        assert (event.target_id, event.details) == (typed["id"], {})
        assert event.actor_user_id == demo.user(FACILITATOR).id

    pulled = {o["id"]: o for o in tablet.pull_new()}
    assert (pulled[typed["id"]]["note"], pulled[typed["id"]]["version"]) == (proposed, 2)


def test_only_reviewers_correct_notes(demo: DemoWeb) -> None:
    tablet = demo.tablet()
    visit = tablet.visit()
    typed = observation(visit["id"], note="mme Dupont sonne")
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", typed))
    viewer = demo.browser(VIEWER)
    assert "Corriger la note" not in viewer.get(f"/observations/{typed['id']}").text
    refused = viewer.api("POST", f"/api/v1/observations/{typed['id']}/note", json={"note": "effacé"})
    assert refused.status_code == 403
    answer = demo.browser(FACILITATOR).api(
        "POST", f"/api/v1/observations/{typed['id']}/note", json={"note": "une résidente sonne"}
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["note"], answer.json()["privacy_flagged"]) == ("une résidente sonne", False)
