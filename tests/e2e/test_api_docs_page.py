"""The API documentation page, opened in a real browser against a real server on the demo data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser import chromium

pytestmark = pytest.mark.browser


def test_api_docs_render_offline_and_list_the_endpoints(demo_server: str, artifacts: Path) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        external: list[str] = []
        page.on("request", lambda r: external.append(r.url) if not r.url.startswith(demo_server) else None)
        page.goto(f"{demo_server}/docs")
        page.get_by_text("/api/v1/taxonomy/{version}").wait_for(timeout=15_000)
        assert page.title() == "Vigie - Swagger UI"
        assert page.locator(".opblock-summary-path").count() >= 3

        # Try an endpoint from the page, as an integrator would.
        page.get_by_text("/api/v1/taxonomy", exact=True).first.click()
        page.get_by_role("button", name="Try it out").click()
        page.get_by_role("button", name="Execute").click()
        page.locator(".response-col_description .highlight-code").first.wait_for(timeout=10_000)
        assert "2026.1" in page.locator(".live-responses-table").inner_text()
        page.screenshot(path=str(artifacts / "api-docs.png"), full_page=False)
        assert external == []  # nothing fetched from a CDN: works on a closed hospital network
