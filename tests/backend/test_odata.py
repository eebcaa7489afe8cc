"""The OData v4 feed as Excel and Power BI meet it: personal tokens (HTTP Basic), $metadata, the query
options, server-driven paging, and the same rows, pseudonyms and scope as the exports. Driven by a real
OData v4 client (python-odata) over a real server, and by plain HTTP for the details.
SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree

import pytest
import requests
from fastapi.testclient import TestClient
from lxml import etree
from odata import ODataService
from sqlmodel import col, select

from backend import models
from backend.admin.demo_data import DEMO_FACILITATOR_EMAIL, DEMO_VIEWER_EMAIL
from backend.exports.rows import ExportScope
from backend.exports.service import ExportFormat, start_export
from backend.odata.csdl import EDM, EDMX
from backend.odata.entities import Reader
from backend.odata.service import ROWS_PER_CHUNK, page_chunks, read_page
from backend.odata.tokens import create_feed_token, revoke_feed_token
from backend.review.filters import ObservationFilter
from tests.factories import DemoWeb
from tests.live_app import served_in_thread

# The OASIS OData TC's CSDL XML schemas, version 4.01 (tests/data/odata-csdl/SOURCE.md says where from).
CSDL_SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "odata-csdl"
EDM_PRIMITIVES = {"Edm.Guid", "Edm.String", "Edm.Int32", "Edm.Boolean", "Edm.DateTimeOffset"}
# How OData's JSON format writes each of them.
JSON_TYPES = {
    "Edm.Guid": str,
    "Edm.String": str,
    "Edm.Int32": int,
    "Edm.Boolean": bool,
    "Edm.DateTimeOffset": str,
}


def _token(demo: DemoWeb, email: str, name: str = "Power BI") -> str:
    with demo.session() as session:
        user = session.exec(select(models.User).where(models.User.email == email)).one()
        token, _record = create_feed_token(session, user, name, actor_user_id=user.id, via="test")
    return token


def _basic(token: str, user: str = "quelqu'un") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


@pytest.fixture(scope="module")
def facilitator(demo: DemoWeb) -> dict[str, str]:
    return _basic(_token(demo, DEMO_FACILITATOR_EMAIL))


@pytest.fixture(scope="module")
def client(demo: DemoWeb) -> TestClient:
    return TestClient(demo.app)


def _export_rows(demo: DemoWeb, allowed: frozenset[int] | None) -> list[dict[str, Any]]:
    with demo.session() as session:
        scope = ExportScope(criteria=ObservationFilter(), allowed_structure_ids=allowed)
        started = start_export(session, scope, ExportFormat.JSON, actor_user_id=None, via="test")
        rows: list[dict[str, Any]] = json.loads(b"".join(started.chunks))["observations"]
    return rows


def _all_pages(client: TestClient, url: str, headers: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every page of a read, following @odata.nextLink as Power BI does."""
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        yield body
        next_url = body.get("@odata.nextLink")


def test_the_feed_needs_a_token_and_says_how_to_give_it(demo: DemoWeb, client: TestClient) -> None:
    anonymous = client.get("/odata/v4/observations")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
    assert "jeton" in anonymous.json()["message"]
    assert client.get("/odata/v4/", headers=_basic("vigie_feed_inventé")).status_code == 401
    with demo.session() as session:
        password = session.exec(select(models.User.password_hash)).first()
    assert client.get("/odata/v4/", headers=_basic(str(password))).status_code == 401


def test_a_token_is_stored_hashed_revocable_and_audited(demo: DemoWeb, client: TestClient) -> None:
    token = _token(demo, DEMO_FACILITATOR_EMAIL, "Excel poste 3")
    assert client.get("/odata/v4/", headers=_basic(token)).status_code == 200
    with demo.session() as session:
        record = session.exec(select(models.FeedToken).where(models.FeedToken.name == "Excel poste 3")).one()
        assert token not in record.token_hash and record.last_used_at is not None
        user = session.get_one(models.User, record.user_id)
        assert record.id is not None
        revoke_feed_token(session, user, record.id, actor_user_id=user.id, via="test")
        actions = session.exec(
            select(models.AuditEvent.action).where(models.AuditEvent.actor_user_id == user.id)
        ).all()
    assert client.get("/odata/v4/", headers=_basic(token)).status_code == 401
    assert {"feed_token.create", "feed_token.revoke"} <= set(actions)


def test_metadata_is_a_csdl_document_every_set_resolves_in(
    client: TestClient, facilitator: dict[str, str]
) -> None:
    response = client.get("/odata/v4/$metadata", headers=facilitator)
    assert response.status_code == 200 and response.headers["OData-Version"] == "4.0"
    root = ElementTree.fromstring(response.content)  # noqa: S314 (our own server's answer)
    assert root.tag == f"{{{EDMX}}}Edmx" and root.get("Version") == "4.0"
    (schema,) = root.findall(f"{{{EDMX}}}DataServices/{{{EDM}}}Schema")
    namespace = schema.get("Namespace")
    types = {}
    for entity_type in schema.findall(f"{{{EDM}}}EntityType"):
        properties = {p.get("Name"): p for p in entity_type.findall(f"{{{EDM}}}Property")}
        assert all(p.get("Type") in EDM_PRIMITIVES for p in properties.values())
        keys = [ref.get("Name") for ref in entity_type.findall(f"{{{EDM}}}Key/{{{EDM}}}PropertyRef")]
        assert len(keys) == 1 and keys[0] in properties
        assert properties[keys[0]].get("Nullable") == "false"  # CSDL: key properties are not nullable
        types[f"{namespace}.{entity_type.get('Name')}"] = properties
    (container,) = schema.findall(f"{{{EDM}}}EntityContainer")
    sets = {s.get("Name"): s.get("EntityType") for s in container.findall(f"{{{EDM}}}EntitySet")}
    assert set(sets) == {"observations", "visits", "structures", "units", "categories"}
    assert all(entity_type in types for entity_type in sets.values())
    # Every property a page gives is declared, and the other way round; and each value has the JSON type its
    # declared type has in OData's JSON format (a number declared as a string breaks a typed Power BI column).
    for name, set_type in sets.items():
        page = client.get(f"/odata/v4/{name}?$top=200", headers=facilitator).json()
        assert page["value"], name
        declared = types[str(set_type)]
        assert set(page["value"][0]) == set(declared), name
        for row in page["value"]:
            for key, value in row.items():
                if value is None:
                    assert declared[key].get("Nullable") != "false", (name, key)
                    continue
                expected = JSON_TYPES[str(declared[key].get("Type"))]
                assert type(value) is expected, (name, key, value, declared[key].get("Type"))


def _csdl_schema() -> etree.XMLSchema:
    """edmx.xsd, with the edm.xsd it imports from beside it."""
    return etree.XMLSchema(etree.parse(str(CSDL_SCHEMAS / "edmx.xsd")))


def test_metadata_is_valid_against_the_oasis_csdl_schemas(
    client: TestClient, facilitator: dict[str, str]
) -> None:
    schema = _csdl_schema()
    metadata = client.get("/odata/v4/$metadata", headers=facilitator).content
    document = etree.fromstring(metadata)
    assert schema.validate(document), schema.error_log
    # The schemas do refuse what CSDL does not allow: a property without its type, an unknown version.
    untyped = etree.fromstring(metadata.replace(b'Type="Edm.Guid"', b'Kind="Edm.Guid"', 1))
    assert not schema.validate(untyped)
    assert "Kind" in str(schema.error_log)
    assert not schema.validate(etree.fromstring(metadata.replace(b'Version="4.0"', b'Version="3.0"', 1)))


def test_the_feed_gives_the_export_rows_in_the_readers_scope(demo: DemoWeb, client: TestClient) -> None:
    viewer = demo.user(DEMO_VIEWER_EMAIL)
    assert viewer.structure_id is not None
    headers = _basic(_token(demo, DEMO_VIEWER_EMAIL))
    rows = [row for page in _all_pages(client, "/odata/v4/observations", headers) for row in page["value"]]
    expected = _export_rows(demo, frozenset({viewer.structure_id}))
    key = "observation_id"
    assert sorted(rows, key=lambda r: r[key]) == sorted(expected, key=lambda r: r[key])
    structures = client.get("/odata/v4/structures", headers=headers).json()["value"]
    assert [s["structure_id"] for s in structures] == [viewer.structure_id]
    units = client.get("/odata/v4/units", headers=headers).json()["value"]
    assert units and {u["structure_id"] for u in units} == {viewer.structure_id}


def test_paging_reads_each_observation_exactly_once(
    demo: DemoWeb, client: TestClient, facilitator: dict[str, str]
) -> None:
    total = len(_export_rows(demo, None))
    reads_before = _odata_reads(demo)
    for url in (
        "/odata/v4/observations?$count=true",
        "/odata/v4/observations?$count=true&$orderby=category_code",
    ):
        pages = list(_all_pages(client, url, {**facilitator, "Prefer": "odata.maxpagesize=37"}))
        ids = Counter(row["observation_id"] for page in pages for row in page["value"])
        assert len(pages) == -(-total // 37) > 2 and pages[0]["@odata.count"] == total
        assert len(ids) == total and set(ids.values()) == {1}, url
    assert _odata_reads(demo) == reads_before + 2  # one audit entry per read, not per page


def _odata_reads(demo: DemoWeb) -> int:
    with demo.session() as session:
        return len(
            session.exec(select(models.AuditEvent).where(models.AuditEvent.action == "export.odata")).all()
        )


def _filtered(client: TestClient, headers: dict[str, str], query: str) -> list[dict[str, Any]]:
    return [
        row
        for page in _all_pages(client, f"/odata/v4/observations?{query}", headers)
        for row in page["value"]
    ]


def test_a_page_is_written_as_its_rows_come_from_the_database(demo: DemoWeb) -> None:
    """The server never holds a page whole: its JSON goes out a hundred rows at a time, each read from
    the cursor just before, and the link to the next page comes last, from the last row sent."""
    with demo.session() as session:
        admin = session.exec(select(models.User).where(models.User.role == "admin")).first()
        assert admin is not None and admin.id is not None
        size = 3 * ROWS_PER_CHUNK
        page = read_page(session, Reader(admin.id, None), "observations", {"$count": "true"}, page_size=size)
        chunks = page_chunks(page, "http://vigie.test/odata/v4", lambda query: "next?" + urlencode(query))
        first = next(chunks)
        assert page.rows.read <= ROWS_PER_CHUNK  # not the page's 300 rows: only those this chunk holds
        body = json.loads(first + b"".join(chunks))
    assert page.rows.read == size and len(body["value"]) == size and body["@odata.count"] > size
    assert list(body)[-1] == "@odata.nextLink"
    token = parse_qs(urlsplit(body["@odata.nextLink"]).query)["$skiptoken"]
    assert token == ["k" + body["value"][-1]["observation_id"]]


def test_query_options_select_what_they_say(
    demo: DemoWeb, client: TestClient, facilitator: dict[str, str]
) -> None:
    every = _export_rows(demo, None)
    severe = [r for r in every if r["severity"] is not None and r["severity"] >= 3]
    assert severe and len(severe) < len(every)
    cases: dict[str, Callable[[dict[str, Any]], bool]] = {
        "category_code eq 'interruption'": lambda r: r["category_code"] == "interruption",
        "category_code ne 'interruption' and severity ge 3": lambda r: (
            r["category_code"] != "interruption" and r["severity"] is not None and r["severity"] >= 3
        ),
        "severity lt 2 or severity gt 3": lambda r: (
            r["severity"] is not None and (r["severity"] < 2 or r["severity"] > 3)
        ),
        "severity le 1": lambda r: r["severity"] is not None and r["severity"] <= 1,
        "contains(unit,'Méd')": lambda r: "Méd" in r["unit"],
        "review_status_code eq 'to_discuss' and privacy_flagged eq false": lambda r: (
            r["review_status_code"] == "to_discuss" and not r["privacy_flagged"]
        ),
    }
    for text, keep in cases.items():
        got = sorted(r["observation_id"] for r in _filtered(client, facilitator, f"$filter={text}"))
        assert got == sorted(r["observation_id"] for r in every if keep(r)), text
    instants = sorted(datetime.fromisoformat(r["occurred_at"]) for r in every)
    middle = instants[len(instants) // 2]
    later = _filtered(client, facilitator, f"$filter=occurred_at gt {middle.isoformat()}".replace("+", "%2B"))
    # Times are given to the second, the database keeps fractions: a row shown at ``middle`` may be later.
    found = Counter(datetime.fromisoformat(r["occurred_at"]) for r in later)
    assert Counter(t for t in instants if t > middle) <= found <= Counter(t for t in instants if t >= middle)

    page = client.get(
        "/odata/v4/observations?$select=observation_id,severity"
        "&$orderby=severity desc,observation_id&$top=5&$skip=2",
        headers=facilitator,
    ).json()
    assert "$metadata#observations(observation_id,severity)" in page["@odata.context"]
    assert [set(r) for r in page["value"]] == [{"observation_id", "severity"}] * 5
    assert "@odata.nextLink" not in page  # $top=5: one page
    by_severity = sorted(
        (r for r in every if r["severity"] is not None), key=lambda r: (-r["severity"], r["observation_id"])
    )
    assert [r["observation_id"] for r in page["value"]] == [r["observation_id"] for r in by_severity[2:7]]


def test_a_property_the_masking_computes_cannot_be_filtered(
    client: TestClient, facilitator: dict[str, str]
) -> None:
    for query in (
        "$filter=contains(note,'Dupont')",
        "$filter=observer eq 'O1'",
        "$orderby=note",
        "$expand=visit",
    ):
        response = client.get(f"/odata/v4/observations?{query}", headers=facilitator)
        assert response.status_code == 400, query
        assert response.json()["code"] == "odata_invalid_query"
    unknown = client.get("/odata/v4/patients", headers=facilitator)
    assert unknown.status_code == 404 and "observations" in unknown.json()["message"]


def test_a_real_odata_client_reads_the_feed(demo: DemoWeb, facilitator: dict[str, str]) -> None:
    expected = {r["observation_id"]: r for r in _export_rows(demo, None)}
    with served_in_thread(demo.app, log_level="warning") as base_url:
        http = requests.Session()
        http.headers.update(facilitator)
        service = ODataService(f"{base_url}/odata/v4/", session=http, reflect_entities=True)
        observation = service.entities["observations"]
        read = service.query(observation).filter(observation.category_code == "interruption").all()
        structures = service.query(service.entities["structures"]).all()
    wanted = {i for i, r in expected.items() if r["category_code"] == "interruption"}
    assert {str(o.observation_id) for o in read} == wanted
    some = read[0]
    row = expected[str(some.observation_id)]
    assert (some.observer, some.note, some.unit) == (row["observer"], row["note"], row["unit"])
    assert some.occurred_at.isoformat() == row["occurred_at"]  # a DateTimeOffset with the local offset
    assert len(structures) == len({r["structure"] for r in expected.values()})


def test_categories_come_from_the_grids_in_scope(
    demo: DemoWeb, client: TestClient, facilitator: dict[str, str]
) -> None:
    with demo.session() as session:
        versions = set(session.exec(select(models.Programme.taxonomy_version)).all())
        categories = session.exec(
            select(models.Observation.category).order_by(col(models.Observation.category))
        ).all()
    rows = client.get("/odata/v4/categories?$count=true", headers=facilitator).json()
    assert {r["grid_version"] for r in rows["value"]} == versions
    assert set(categories) <= {r["code"] for r in rows["value"]}
    assert rows["@odata.count"] == len(rows["value"])
    assert all(r["label"] for r in rows["value"])


def test_links_stay_in_the_feed(client: TestClient, facilitator: dict[str, str]) -> None:
    body = client.get(
        "/odata/v4/observations?$top=3", headers={**facilitator, "Prefer": "odata.maxpagesize=2"}
    )
    link = body.json()["@odata.nextLink"]
    parts = urlsplit(link)
    assert parts.path == "/odata/v4/observations"
    assert parse_qs(parts.query)["$top"] == ["1"]  # what is left of $top
    assert body.headers["Preference-Applied"] == "odata.maxpagesize=2"
