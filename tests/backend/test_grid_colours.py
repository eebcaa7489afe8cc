"""The workshop pack and the workshop deck colour categories as the programme's published grid does, not as
the grid shipped with Vigie; the pack charts the programme's own attributes too."""

from __future__ import annotations

import copy
import io
import uuid

from pypdf import PdfReader
from sqlmodel import Session, select

from backend import models
from backend.exports.rows import ExportScope, pseudonyms_for
from backend.exports.service import ExportFormat, start_export
from backend.exports.summary import workshop_figures
from backend.grids.service import publish, save_draft
from backend.grids.versions import starting_document
from backend.review.filters import ObservationFilter
from backend.workshops.deck import workshop_deck
from shared.schema import ReviewStatus
from tests.backend.test_workshops import _prepare
from tests.factories import FACILITATOR, DemoWeb, Site, Tablet, observation

CHOSEN = "#00CC66"  # drawn by reportlab as the fill colour "0 .8 .4 rg"
SHIPPED = next(c["colour"] for c in starting_document()["categories"] if c["code"] == "alert")


def _page_streams(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.get_contents().get_data().decode("latin-1") for page in reader.pages)  # type: ignore[union-attr]


def test_the_workshop_pack_uses_the_colours_of_the_programme_s_published_grid(
    session: Session, site: Site, tablet: Tablet
) -> None:
    visit = tablet.visit()
    alert = observation(visit["id"], category="alert", interruption_source=None)
    results = tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", alert)).json()
    assert {r["status"] for r in results["results"]} == {"applied"}
    row = session.exec(
        select(models.Observation).where(models.Observation.id == uuid.UUID(alert["id"]))
    ).one()
    row.review_status = ReviewStatus.TO_DISCUSS.value  # printed as a card too
    session.add(row)
    session.commit()
    scope = ExportScope(criteria=ObservationFilter(programme_id=site.programme_id))

    def pack() -> str:
        started = start_export(
            session, scope, ExportFormat.PDF, actor_user_id=None, via="test", separator=";"
        )
        return _page_streams(b"".join(started.chunks))

    assert "0 .8 .4 rg" not in pack()
    document = copy.deepcopy(starting_document())
    next(c for c in document["categories"] if c["code"] == "alert")["colour"] = CHOSEN
    document["attributes"].append(
        {
            "code": "mood",
            "multiple": False,
            "fr": "Humeur de l'équipe",
            "en": "Team mood",
            "values": [{"code": "calm", "fr": "Calme", "en": "Calm"}],
        }
    )
    save_draft(session, site.programme_id, document, actor_user_id=None)
    publish(session, site.programme_id, actor_user_id=None)

    figures = workshop_figures(session, scope, pseudonyms_for(session, scope))
    assert figures.colours["alert"] == CHOSEN != SHIPPED
    printed = pack()
    # The bar of the categories' chart, filled, and the card's coloured edge, stroked.
    assert "0 .8 .4 rg" in printed
    assert "0 .8 .4 RG" in printed
    # The programme's own attribute has its chart too.
    started = start_export(session, scope, ExportFormat.PDF, actor_user_id=None, via="test", separator=";")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(b"".join(started.chunks))).pages)
    assert "Observations par humeur de l'équipe" in text


def test_the_workshop_deck_colours_its_cards_as_the_programme_s_grid(demo: DemoWeb) -> None:
    prepared = _prepare(demo, "Atelier couleurs")
    with demo.session() as session:
        document = copy.deepcopy(starting_document())
        for each in document["categories"]:
            each["colour"] = CHOSEN
        save_draft(session, demo.summary.programme_id, document, actor_user_id=None)
        publish(session, demo.summary.programme_id, actor_user_id=None)
        deck = workshop_deck(session, demo.user(FACILITATOR), prepared.workshop_id)
    colours = {card.colour for theme in deck.themes for card in theme.cards} | {
        c.colour for c in deck.ungrouped
    }
    assert deck.card_count == 2 and colours == {CHOSEN}
