"""What an outside security review found (issue 18), one regression test (or more) per finding."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend import models
from backend.sync.devices import create_enrolment_code, revoke_device
from tests.factories import DemoWeb, demo_web, make_site, post_enrolment


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web("sqlite", tmp_path_factory.mktemp("review")) as demo:
        yield demo


# 1. A revoked tablet cannot undo its revocation by re-sending its enrolment.


def test_a_revoked_tablet_cannot_enrol_again_with_its_original_request(site: DemoWeb) -> None:
    client = TestClient(site.app)
    with site.session() as session:
        place = make_site(session, "CH Révoqué")
        code = create_enrolment_code(
            session, observer_id=place.observer_ids[0], structure_id=place.structure_id
        ).code
    installation = uuid.uuid4()
    first = post_enrolment(client, code, installation)
    assert first.status_code == 201
    # The answer was lost: the same request again is a retry and is answered.
    assert post_enrolment(client, code, installation).status_code == 201
    with site.session() as session:
        revoke_device(session, first.json()["device_id"])
    again = post_enrolment(client, code, installation)
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "enrolment_code_used"
    with site.session() as session:
        assert session.get(models.Device, first.json()["device_id"]).revoked_at is not None
