"""The agreement page and its JSON with the deeper measures, and the slice length a facilitator chooses."""

from __future__ import annotations

from tests.factories import FACILITATOR, DemoWeb


def test_agreement_page_and_api_show_every_measure_for_the_slice_chosen(demo: DemoWeb) -> None:
    browser = demo.browser(FACILITATOR)
    pairs = browser.api("GET", "/api/v1/agreement", params={"slice_seconds": 30}).json()
    assert len(pairs) == 1
    deeper = pairs[0]["deeper"]
    assert deeper["slice_seconds"] == 30
    page = browser.get("/agreement", params={"slice_seconds": 30})
    assert page.status_code == 200
    assert page.text.count("data-measure=") == 9  # category, five attributes, slices, durations, sequences
    assert "Kappa — source de l&#39;interruption" in page.text and "Kappa — gravité" in page.text
    assert "Kappa par tranches de 30 s" in page.text and "concordance de Lin" in page.text
    assert deeper["category"]["reading"] in page.text
    assert browser.api("GET", "/api/v1/agreement", params={"slice_seconds": 0}).status_code == 422
