"""The export links on the review list and the dashboard give the rows the facilitator is looking at."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator

import pytest
from sqlmodel import func, select

from backend import models
from tests.factories import FACILITATOR, DemoWeb, demo_web


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web("sqlite", tmp_path_factory.mktemp("web-exports")) as demo:
        yield demo


def _export_links(page: str) -> dict[str, str]:
    return {
        fmt: html.unescape(href) for href, fmt in re.findall(r'<a href="([^"]+)" data-export="(\w+)"', page)
    }


def _shown_count(page: str) -> int:
    found = re.search(r"([\d\s]+) observation\(s\)", page)
    assert found is not None, "the list page says how many observations it holds"
    return int(re.sub(r"\s", "", found.group(1)))


def _csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_list_export_links_carry_the_filters_on_screen(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    page = browser.get("/observations?category=interruption&review_status=to_review")
    assert page.status_code == 200
    shown = _shown_count(page.text)
    links = _export_links(page.text)
    assert set(links) == {"csv", "xlsx", "pdf", "json"}
    assert "category=interruption" in links["csv"] and "review_status=to_review" in links["csv"]

    exported = browser.get(links["csv"])
    assert exported.status_code == 200
    rows = _csv_rows(exported.content)
    assert len(rows) == shown > 0
    with site.session() as session:
        expected = session.exec(
            select(func.count())
            .select_from(models.Observation)
            .where(
                models.Observation.category == "interruption",
                models.Observation.review_status == "to_review",
                models.Observation.deleted == False,  # noqa: E712
            )
        ).one()
    assert len(rows) == expected


def test_dashboard_export_links_cover_the_structure_shown(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    structure_id = site.structure_id("EHPAD Les Tilleuls")
    page = browser.get(f"/structures/{structure_id}")
    assert page.status_code == 200, page.text[:500]
    links = _export_links(page.text)
    assert set(links) == {"csv", "xlsx", "pdf"}
    rows = _csv_rows(browser.get(links["csv"]).content)
    with site.session() as session:
        expected = session.exec(
            select(func.count())
            .select_from(models.Observation)
            .where(models.Observation.structure_id == structure_id, models.Observation.deleted == False)  # noqa: E712
        ).one()
    assert len(rows) == expected > 0
    assert browser.get(links["xlsx"]).content[:2] == b"PK"  # a zip: the workbook
