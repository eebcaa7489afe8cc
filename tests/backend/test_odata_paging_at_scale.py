"""The OData feed paged through 100,000 observations, as Power BI refreshes a large programme (its default
order, server-driven pages of 1,000): each comes exactly once, none missing. Pages cut inside runs of equal
times (ten observations per second). Sorting on a column full of ties is paged at small scale in
test_odata.py. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlmodel import Session

from backend import models
from backend.auth.users import UserRole, create_user
from backend.odata.tokens import create_feed_token
from tests.factories import Site, add_visit

OBSERVATIONS = 100_000
CATEGORIES = ("interruption", "workaround", "double_entry", "system_failure", "login", "alert")


def _fill(session: Session, site: Site) -> set[str]:
    """100,000 observations in one visit, ten per second, written in bulk (no push: the feed is measured)."""
    start = datetime(2026, 1, 5, 6, tzinfo=UTC)
    visit = add_visit(session, site, start)
    rows = []
    for n in range(OBSERVATIONS):
        at = start + timedelta(seconds=n // 10)
        rows.append(
            {
                "id": uuid.uuid4(),
                "visit_id": visit.id,
                "structure_id": site.structure_id,
                "observer_id": site.observer_ids[0],
                "occurred_at": at,
                "category": CATEGORIES[n % len(CATEGORIES)],
                "interruption_source": "phone" if n % len(CATEGORIES) == 0 else None,
                "created_at": at,
                "updated_at": at,
                "version": 1,
                "deleted": False,
                "received_at": at,
                "review_status": "to_review",
                "server_seq": 0,
                "privacy_flagged": False,
            }
        )
    for first in range(0, OBSERVATIONS, 10_000):
        session.execute(insert(models.Observation), rows[first : first + 10_000])
    session.commit()
    return {str(row["id"]) for row in rows}


def test_paging_through_100000_observations_reads_each_exactly_once(
    session: Session, site: Site, client: TestClient
) -> None:
    stored = _fill(session, site)
    admin = create_user(
        session, email="admin@odata.test", full_name="Admin", role=UserRole.ADMIN, password="x" * 12
    )
    token, _record = create_feed_token(session, admin, "Power BI", actor_user_id=admin.id, via="test")
    headers = {"Authorization": "Basic " + base64.b64encode(f"pbi:{token}".encode()).decode()}
    read: Counter[str] = Counter()
    pages = 0
    next_url: str | None = "/odata/v4/observations?$select=observation_id"
    while next_url is not None:
        response = client.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        read.update(row["observation_id"] for row in body["value"])
        pages += 1
        next_url = body.get("@odata.nextLink")
    assert pages > 50  # really paged
    assert set(read) == stored  # none missing, none foreign
    assert set(read.values()) == {1}  # none twice
