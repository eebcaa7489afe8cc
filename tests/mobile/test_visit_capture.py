"""A whole ward visit on the real app in a real window against a real server: enrol, start a visit,
log with taps, run timers, undo, enrich with the privacy warning, end the visit, sync; then the
facilitator's review comes back to the tablet."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from backend.db import make_engine
from backend.models import Observation as ObservationRow
from backend.models import ObservationAttributeValue, ReviewComment, User
from backend.models import Visit as VisitRow
from backend.sync.sequence import SequenceAllocator
from mobile.store import Store
from tests.conftest import DemoSite
from tests.mobile.conftest import AppRun, Tablet, issue_code
from tests.mobile.test_enrolment_screen import (
    MIN_TOUCH_DP,
    assert_drawn,
    home_says,
    screenshot,
    snapshot,
    tap,
    type_in,
    wait_for,
)

# A 10" tablet either way up: the whole visit is played in both.
ORIENTATIONS = {"landscape": (1280, 800), "portrait": (800, 1280)}
PHONE_NOTE = "Appel de la pharmacie, rappeler au 06 12 34 56 78"
CLEAN_NOTE = "Appel de la pharmacie pendant la préparation des médicaments"


@pytest.mark.parametrize("orientation", list(ORIENTATIONS))
def test_a_whole_visit_from_enrolment_to_the_server(
    tablet: Tablet, demo_site: DemoSite, orientation: str
) -> None:
    issued = issue_code(demo_site)
    unit_id = issued.unit_ids[0]
    width, height = ORIENTATIONS[orientation]
    turn = {"do": "resize", "width": width, "height": height}

    run = tablet.run(
        "visit",
        server_url=demo_site.url,
        timeout=120,
        steps=[
            turn,
            snapshot("enrolment"),
            screenshot(f"{orientation}-enrolment"),
            type_in("code", issued.code),
            tap("enrol_button"),
            *home_says("last_sync", "Dernière synchronisation réussie", f"{orientation}-home-enrolled"),
            tap("visit_button"),
            wait_for(screen="visit_start"),
            tap("start"),  # no unit yet: the screen asks for one
            wait_for(id="message", contains="Choisissez l'unité observée"),
            tap(f"unit_{unit_id}"),
            snapshot("unit chosen"),
            tap("role_ide"),
            tap("role_aide_soignant"),
            type_in("context_note", "Tournée du matin"),
            snapshot("visit start"),
            screenshot(f"{orientation}-visit-start"),
            tap("start"),
            wait_for(screen="capture"),
            snapshot("capture empty"),
            screenshot(f"{orientation}-capture-empty"),
            tap("follow_aide_soignant"),  # the context bar: whom the next taps are about, with what
            tap("tool_patient_record"),
            snapshot("context chosen"),
            tap("category_interruption"),
            tap("category_alert"),
            tap("category_paper"),
            wait_for(id="counter", contains=": 3"),
            snapshot("three taps"),
            screenshot(f"{orientation}-capture-three-taps"),
            tap("recent_0_delete"),  # the paper one, logged by mistake
            wait_for(id="counter", contains=": 2"),
            snapshot("deleted"),
            screenshot(f"{orientation}-capture-undo-bar"),
            tap("undo_delete"),  # the undo bar really undoes
            wait_for(id="counter", contains=": 3"),
            snapshot("restored"),
            tap("recent_0_delete"),
            wait_for(id="counter", contains=": 2"),
            snapshot("after undo"),
            tap("category_system_failure"),  # two timers running at once
            tap("category_login"),
            wait_for(id="category_system_failure", contains="en cours 00:02", timeout=5),
            snapshot("two timers"),
            screenshot(f"{orientation}-capture-two-timers"),
            tap("category_system_failure"),
            wait_for(id="category_system_failure", property="running", equals=False),
            snapshot("one timer"),
            screenshot(f"{orientation}-capture-one-timer"),
            tap("recent_3_edit"),  # the interruption, enriched in the corridor
            wait_for(screen="observation"),
            snapshot("enrichment"),
            screenshot(f"{orientation}-observation"),
            tap("attribute_interruption_source_phone"),
            tap("attribute_role_ide"),
            tap("attribute_tool_phone"),
            tap("attribute_dimension_rhythm"),
            tap("attribute_dimension_work_content"),
            tap("attribute_severity_2"),
            type_in("note", PHONE_NOTE),
            wait_for(id="privacy_warning", contains="numéro de téléphone"),
            snapshot("privacy warning"),
            screenshot(f"{orientation}-observation-privacy-warning"),
            tap("save"),  # refused once: the observer must see it and decide
            wait_for(id="save_anyway", property="disabled", equals=False),
            snapshot("privacy confirm"),
            screenshot(f"{orientation}-observation-privacy-confirm"),
            type_in("note", CLEAN_NOTE, replace=True),
            wait_for(id="privacy_warning", property="text", equals=""),
            snapshot("note corrected"),
            tap("save"),
            wait_for(screen="capture"),
            snapshot("capture after enrich"),
            screenshot(f"{orientation}-capture-after-enrich"),
            tap("summary_button"),
            wait_for(screen="summary"),
            snapshot("summary"),
            screenshot(f"{orientation}-summary"),
            tap("end_visit"),  # asked twice, with what was recorded
            wait_for(id="confirm_end", property="disabled", equals=False),
            snapshot("confirm end"),
            screenshot(f"{orientation}-summary-confirm-end"),
            tap("confirm_end"),
            wait_for(screen="home"),
            snapshot("visit ended"),
            screenshot(f"{orientation}-home-visit-ended"),
            tap("sync_now"),
            wait_for(id="pending", contains="envoi : 0", timeout=20),
            wait_for(id="sync_now", property="disabled", equals=False, timeout=20),
            snapshot("synced"),
            screenshot(f"{orientation}-home-after-visit"),
        ],
    )

    assert run.text("home", "enrolled_for") == f"Tablette enrôlée pour {issued.observer_name}"
    assert run.text("home", "visit_button") == "Commencer une visite"
    assert run.text("visit start", "structure").startswith("Structure : ")
    assert "synchronisation" not in run.text("visit start", "structure")  # the name came with the sync
    assert run.widget("visit start", f"unit_{unit_id}")["size_dp"][1] >= MIN_TOUCH_DP
    assert run.text("capture empty", "counter") == "Événements : 0"
    assert run.text("capture empty", "visit_clock").startswith("Visite : 00:0")
    assert run.text("capture empty", "last_action") == "Touchez une catégorie pour noter un événement."
    for widget_id, widget in run.snapshots["capture empty"]["widgets"].items():
        if widget_id.startswith("category_"):
            # Big targets, hit while walking (portrait trades some height for a longer list of them).
            assert min(widget["size_dp"]) >= (150 if width > height else 100), widget_id
    assert run.widget("capture empty", "follow_ide")["state"] == "down"  # the visit's first professional
    assert run.widget("capture empty", "tool_none")["state"] == "down"
    assert [run.widget("context chosen", w)["state"] for w in ("follow_ide", "follow_aide_soignant")] == [
        "normal",
        "down",
    ]
    assert run.widget("context chosen", "tool_patient_record")["state"] == "down"
    assert run.text("three taps", "pending").startswith("À envoyer : ")
    assert "Aide-soignant(e) · Dossier patient informatisé" in run.text("three taps", "recent_0")
    assert "Papier / impression" in run.text("three taps", "recent_0")
    assert "Papier" not in run.text("after undo", "recent_0")
    assert run.text("deleted", "last_action").startswith("Supprimé : ")
    assert "Papier / impression" in run.text("deleted", "last_action")
    assert run.text("deleted", "undo_delete") == "Annuler la suppression"
    assert run.widget("deleted", "undo_delete")["disabled"] is False
    assert run.text("deleted", "recent_0_delete") == "Supprimer"
    assert "Papier / impression" in run.text("restored", "recent_0")
    assert run.widget("restored", "undo_delete")["disabled"] is True
    assert run.text("after undo", "last_action").startswith("Supprimé : ")
    assert run.widget("two timers", "category_system_failure")["text"].endswith("toucher pour arrêter")
    assert "en cours" in run.text("two timers", "category_login")
    assert run.text("two timers", "category_interruption") == "Interruption"
    assert "chronomètre" in run.text("one timer", "category_system_failure")
    assert "durée" in run.text("one timer", "recent_1")  # the stopped timer shows how long it lasted
    assert "en cours" in run.text("one timer", "recent_0")  # the login timer still runs
    assert run.text("one timer", "counter") == "Événements : 4"
    assert run.text("unit chosen", "message") == ""  # answered: the request goes away
    enrich = run.snapshots["privacy warning"]["widgets"]
    # The interruption's own attribute comes first: in the first column, higher on the screen than the
    # professional (window y grows upwards) or in the column before it.
    source, role = enrich["attribute_interruption_source_phone"], enrich["attribute_role_ide"]
    left_of_role = source["pos_dp"][0] + source["size_dp"][0] < role["pos_dp"][0]
    assert source["pos_dp"][1] > role["pos_dp"][1] or left_of_role
    assert "« 06 12 34 56 78 »" in run.text("privacy warning", "privacy_warning")
    assert run.widget("privacy warning", "save_anyway")["disabled"] is True
    assert run.screen("privacy confirm") == "observation"
    assert "contient encore" in run.text("privacy confirm", "privacy_warning")
    assert "complété" in run.text("capture after enrich", "recent_3")
    assert "revue" not in run.text("capture after enrich", "recent_3")  # no facilitator has acted yet
    assert run.text("note corrected", "save_anyway") == "Enregistrer quand même"
    assert run.widget("note corrected", "save_anyway")["disabled"] is True
    assert run.text("summary", "total") == "Événements notés : 4"
    assert run.text("summary", "duration").startswith("Durée : ")
    assert run.text("summary", "rate") == "Rythme : moins de 10 minutes observées, pas encore de rythme"
    assert run.text("summary", "count_interruption") == "Interruption : 1"
    assert run.text("summary", "count_system_failure") == "Panne ou lenteur du système : 1"
    assert "count_paper" not in run.snapshots["summary"]["widgets"]
    assert run.text("summary", "running").startswith("Chronomètres en cours : 1.")
    assert run.text("summary", "interruptions") == "Interruptions : 1, reprise de la tâche non renseignée"
    assert run.text("summary", "timers").startswith("Panne ou lenteur du système : 1 fois, total ")
    assert "confirm_end" not in run.snapshots["summary"]["widgets"]  # asked only after « Terminer »
    confirm = run.text("confirm end", "confirm_text")
    assert confirm.startswith("Terminer la visite ? 4 événement(s) noté(s) en ")
    assert "Les chronomètres en cours (1) s'arrêteront maintenant." in confirm
    assert run.text("visit ended", "notice").startswith("Visite terminée : 4 événement(s) enregistré(s)")
    assert run.text("synced", "pending") == "Modifications en attente d'envoi : 0"
    assert run.text("synced", "visit_button") == "Commencer une visite"
    assert run.text("synced", "visit_row_0").endswith("· 4 événement(s) · envoyée")
    assert run.text("synced", "visit_reopen_0") == "Rouvrir"  # ended minutes ago: corrections still possible
    for name in run.screenshots:
        assert_drawn_or_coloured(run, name, (width, height))
    assert_nothing_off_screen(run, width, height)

    visit_row, observations, values = server_records(demo_site, issued.observer_id)
    assert visit_row.unit_id == unit_id
    assert visit_row.observed_roles == ["ide", "aide_soignant"]
    assert visit_row.context_note == "Tournée du matin"
    assert visit_row.ended_at is not None
    by_category = {o.category: o for o in observations if not o.deleted}
    assert sorted(by_category) == ["alert", "interruption", "login", "system_failure"]
    assert [o.category for o in observations if o.deleted] == ["paper"]
    interruption = by_category["interruption"]
    assert (
        interruption.interruption_source,
        interruption.role,
        interruption.tool,
        interruption.severity,
    ) == (
        "phone",
        "ide",
        "phone",
        2,
    )
    assert interruption.note == CLEAN_NOTE
    assert sorted((v.attribute, v.code) for v in values if v.observation_id == interruption.id) == [
        ("dimension", "rhythm"),
        ("dimension", "work_content"),
    ]
    failure = by_category["system_failure"]
    assert failure.ended_at is not None and (failure.ended_at - failure.occurred_at).total_seconds() >= 2
    assert by_category["login"].ended_at == visit_row.ended_at  # stopped by the end of the visit
    assert by_category["alert"].ended_at is None
    # Every quick tap carries the professional followed and the tool in hand when it was made.
    for category in ("alert", "login", "system_failure"):
        assert (by_category[category].role, by_category[category].tool) == ("aide_soignant", "patient_record")

    # The facilitator reviews the interruption; the tablet shows it after its next sync.
    comment = review_on_server(demo_site, interruption.id, "Bien vu : à montrer en atelier.")
    later = tablet.run(
        "review-comes-back",
        sync_interval=2,
        steps=[
            turn,
            wait_for(id="comments_title", contains="Retours des animateurs", timeout=20),
            snapshot("home"),
            screenshot(f"{orientation}-home-with-feedback"),
            tap("commented_open_0"),
            wait_for(screen="observation"),
            snapshot("observation"),
            screenshot(f"{orientation}-observation-reviewed"),
        ],
    )
    for name in later.screenshots:
        assert_drawn_or_coloured(later, name, (width, height))
    assert_nothing_off_screen(later, width, height)
    assert "Bien vu : à montrer en atelier." in later.text("home", "commented_row_0")
    review = later.text("observation", "review")
    assert review.startswith("Revue : Validée\n")
    assert f"{comment.author}, " in review and "Bien vu : à montrer en atelier." in review
    assert later.text("observation", "note") == CLEAN_NOTE
    store = Store(tablet.store_path)
    try:
        assert store.review_status(interruption.id) == "validated"
        assert [c.body for c in store.review_comments(interruption.id)] == ["Bien vu : à montrer en atelier."]
    finally:
        store.close()


def assert_drawn_or_coloured(run: AppRun, name: str, size: tuple[int, int] = (1280, 800)) -> None:
    """Screens with colour-coded buttons hold less white than text pages; still a real drawing."""
    shot = run.screenshots[name]
    assert shot["size"] == list(size)
    assert shot["black"] < 0.05, shot
    assert shot["colours"] > 20, shot
    if "capture" not in name:
        assert_drawn(run, name, size)


def assert_nothing_off_screen(run: AppRun, width: int, height: int) -> None:
    """In every snapshot, every widget the observer may see lies whole inside the window; the enrichment
    screen has nothing to scroll."""
    for name, snapshot_taken in run.snapshots.items():
        assert snapshot_taken["window"] == [width, height], name
        if snapshot_taken["screen"] == "observation":
            assert snapshot_taken["scroll_views"] == 0, name
        off = [
            widget_id
            for widget_id, w in snapshot_taken["widgets"].items()
            if w["size_dp"][0] > 0 and w["size_dp"][1] > 0 and not inside_window(w, width, height)
        ]
        assert off == [], f"{name}: off screen {off}"


def inside_window(widget: dict[str, Any], width: int, height: int) -> bool:
    (x, y), (w, h) = widget["pos_dp"], widget["size_dp"]
    return bool(x >= 0 and y >= 0 and x + w <= width and y + h <= height)


def server_records(
    site: DemoSite, observer_id: int
) -> tuple[VisitRow, list[ObservationRow], list[ObservationAttributeValue]]:
    """The newest visit of the observer on the server, its observations and their multi-valued attributes."""
    engine = make_engine(site.database_url)
    try:
        with Session(engine) as session:
            visit = session.exec(
                select(VisitRow)
                .where(VisitRow.observer_id == observer_id)
                .order_by(VisitRow.started_at.desc())  # type: ignore[attr-defined]
            ).first()
            assert visit is not None
            observations = list(
                session.exec(
                    select(ObservationRow)
                    .where(ObservationRow.visit_id == visit.id)
                    .order_by(ObservationRow.occurred_at)  # type: ignore[arg-type]
                ).all()
            )
            values = list(
                session.exec(
                    select(ObservationAttributeValue).where(
                        ObservationAttributeValue.observation_id.in_([o.id for o in observations])  # type: ignore[attr-defined]
                    )
                ).all()
            )
            return visit, observations, values
    finally:
        engine.dispose()


class Comment:
    def __init__(self, author: str) -> None:
        self.author = author


def review_on_server(site: DemoSite, observation_id: uuid.UUID, body: str) -> Comment:
    """What the facilitator's review page does: a status, a comment, and a new sequence number so that
    tablets pull the change."""
    engine = make_engine(site.database_url)
    try:
        with Session(engine) as session:
            allocator = SequenceAllocator(session)
            author = session.exec(select(User).order_by(User.id)).first()  # type: ignore[arg-type]
            assert author is not None and author.id is not None
            row = session.get(ObservationRow, observation_id)
            assert row is not None
            row.review_status = "validated"
            row.server_seq = allocator.next()
            session.add(row)
            session.add(
                ReviewComment(
                    observation_id=observation_id,
                    author_user_id=author.id,
                    body=body,
                    created_at=datetime.now(UTC),
                )
            )
            allocator.save()
            session.commit()
            return Comment(author=author.full_name)
    finally:
        engine.dispose()
