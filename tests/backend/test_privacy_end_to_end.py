"""A note typed on a tablet with every kind of identifier: it never leaves the server unmasked — not in an
export (all four formats, the verbatim approved for the workshop pack), not on a read-only account's pages
or API, not on another observer's tablet."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook
from pypdf import PdfReader

from tests.factories import FACILITATOR, VIEWER, DemoWeb, observation

IDENTIFIERS = {
    "name": "Ginette Lemaire-Kerouac",
    "nir": "2 85 05 78 006 084 36",
    "patient_number": "400123456",
    "phone": "06 12 34 56 78",
    "email": "g.lemaire @ orange.fr",
    "birth_date": "12/03/1931",
    "address": "14 rue des Tilleuls",
}
NOTE = (
    f"résidente {IDENTIFIERS['name']} (IPP {IDENTIFIERS['patient_number']}, NIR {IDENTIFIERS['nir']}, "
    f"née le {IDENTIFIERS['birth_date']}) : fils au {IDENTIFIERS['phone']}, mail {IDENTIFIERS['email']}, "
    f"domicile {IDENTIFIERS['address']} ; DxCare ressaisi à la main"
)
SECRETS = [*IDENTIFIERS.values(), "Lemaire", "Kerouac", "Ginette", "g.lemaire", "400123456"]


def test_a_note_with_every_kind_of_identifier_never_leaves_unmasked(demo: DemoWeb) -> None:
    mine, theirs = demo.tablet(0), demo.tablet(1)
    structure_id = mine.structure_id
    visit = mine.visit()
    typed = observation(visit["id"], note=NOTE)
    mine.push(mine.mutation("visit", visit), mine.mutation("observation", typed))
    facilitator = demo.browser(FACILITATOR)
    approved = facilitator.api(
        "POST", "/api/v1/observations/verbatims", json={"observation_ids": [typed["id"]]}
    )
    assert approved.json() == {"changed": 1}
    assert (
        facilitator.api(
            "POST", f"/api/v1/observations/{typed['id']}/review-status", json={"review_status": "to_discuss"}
        ).status_code
        == 200
    )

    texts: dict[str, str] = {}
    for export_format in ("csv", "json", "xlsx", "pdf"):
        answer = facilitator.get(f"/api/v1/exports/observations.{export_format}?structure_id={structure_id}")
        assert answer.status_code == 200
        if export_format == "xlsx":
            sheet = load_workbook(io.BytesIO(answer.content))["Observations"]
            texts["xlsx"] = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row)
        elif export_format == "pdf":
            texts["pdf"] = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.content)).pages)
        else:
            texts[export_format] = answer.content.decode("utf-8-sig")
    exported = next(
        r for r in json.loads(texts["json"])["observations"] if r["observation_id"] == typed["id"]
    )
    assert "DxCare ressaisi à la main" in exported["note"]  # the situation stays readable
    assert "DxCare ressaisi" in texts["pdf"]  # approved: its masked text is on the card

    viewer = demo.browser(VIEWER)
    texts["viewer list"] = viewer.get("/observations").text
    texts["viewer page"] = viewer.get(f"/observations/{typed['id']}").text
    texts["viewer api"] = viewer.api("GET", f"/api/v1/observations/{typed['id']}").text
    texts["other observer's tablet"] = json.dumps(theirs.pull().json(), ensure_ascii=False)

    for where, text in texts.items():
        for secret in SECRETS:
            assert secret not in text, (where, secret)
    # The observer's own tablet keeps the note as typed: it is theirs.
    assert any(o.get("note") == NOTE for o in mine.pull().json()["observations"])
