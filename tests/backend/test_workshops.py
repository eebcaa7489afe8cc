"""Workshops: preparation from the review list, phone votes (and their live count), notes through the
privacy guard, actions and their audited follow-up (the milestone a done action creates), figures from the
dashboards on themes, the record as PDF and DOCX, and who may see which workshop."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import unquote_plus

import pytest
from docx import Document
from pypdf import PdfReader
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from backend import models
from backend.audit.actions import AuditAction
from backend.dashboards.milestones import add_milestone
from backend.dashboards.rate_comparison import StructuresAsked, compare_structures
from backend.dashboards.service import structure_dashboard
from backend.review.filters import ObservationFilter
from backend.workshops import record
from tests.factories import FACILITATOR, VIEWER, Browser, DemoWeb, make_facilitator

OTHER_FACILITATOR = "animatrice@ailleurs.fr"
PASSWORD = "un-mot-de-passe-solide"
APPROVED = "Le logiciel de soins se fige pendant la relève de M. Martin"
UNAPPROVED = "Double saisie du bilan entrant, encore une fois ce matin"


@dataclass(frozen=True)
class Prepared:
    workshop_id: int
    theme_id: int
    approved_id: uuid.UUID
    unapproved_id: uuid.UUID
    vote_code: str


def _other_facilitator(demo: DemoWeb) -> Browser:
    with demo.session() as session:
        if session.exec(select(models.User).where(models.User.email == OTHER_FACILITATOR)).first() is None:
            programme = models.Programme(name="ACIA Ailleurs", taxonomy_version="2026.1")
            session.add(programme)
            session.commit()
            assert programme.id is not None
            make_facilitator(session, OTHER_FACILITATOR, PASSWORD, programme.id)
    return demo.browser(OTHER_FACILITATOR, PASSWORD)


def _two_observations(demo: DemoWeb, structure_id: int) -> tuple[uuid.UUID, uuid.UUID]:
    """Two observations of the structure: one whose note (naming someone) is approved for workshops, one
    whose note is not; the first is left for the privacy guard to screen, as a note just pushed is."""
    with demo.session() as session:
        rows = session.exec(
            select(models.Observation)
            .where(
                models.Observation.structure_id == structure_id, col(models.Observation.deleted).is_(False)
            )
            .order_by(col(models.Observation.occurred_at))
            .limit(2)
        ).all()
        approved, unapproved = rows
        approved.note, approved.note_masked, approved.privacy_pending = APPROVED, None, True
        approved.verbatim_approved = True
        unapproved.note, unapproved.note_masked, unapproved.verbatim_approved = UNAPPROVED, UNAPPROVED, False
        session.add_all([approved, unapproved])
        session.commit()
        return approved.id, unapproved.id


def _prepare(demo: DemoWeb, title: str = "Atelier relève") -> Prepared:
    facilitator = demo.browser(FACILITATOR)
    structure_id = demo.user(VIEWER).structure_id
    assert structure_id is not None
    created = facilitator.form(
        "/workshops",
        {
            "programme_id": str(demo.summary.programme_id),
            "structure_ids": str(structure_id),
            "title": title,
            "held_on": "2026-12-03",
            "place": "Salle du conseil",
            "participants": "Infirmier·e : 4\nCadre de santé : 1",
        },
    )
    assert created.status_code == 303, created.text
    workshop_id = int(re.search(r"/workshops/(\d+)", created.headers["location"]).group(1))  # type: ignore[union-attr]
    approved_id, unapproved_id = _two_observations(demo, structure_id)
    added = facilitator.client.post(
        "/workshop-from-list",
        data={
            "csrf_token": facilitator.csrf,
            "workshop_id": str(workshop_id),
            "ids": [str(approved_id), str(unapproved_id)],
        },
        follow_redirects=False,
    )
    assert added.status_code == 303 and "2 observation" in added.headers["location"].replace(
        "%20", " "
    ).replace("+", " ")
    assert (
        facilitator.form(f"/workshops/{workshop_id}/themes", {"title": "Logiciel de soins"}).status_code
        == 303
    )
    with demo.session() as session:
        workshop = session.get_one(models.Workshop, workshop_id)
        theme = session.exec(
            select(models.WorkshopTheme).where(models.WorkshopTheme.workshop_id == workshop_id)
        ).one()
        cards = session.exec(
            select(models.WorkshopCard).where(models.WorkshopCard.workshop_id == workshop_id)
        ).all()
        assert theme.id is not None
        code, theme_id = workshop.vote_code, theme.id
    for card in cards:
        placed = facilitator.form(
            f"/workshops/{workshop_id}/cards/{card.id}/theme", {"theme_id": str(theme_id)}
        )
        assert placed.status_code == 303
    return Prepared(workshop_id, theme_id, approved_id, unapproved_id, code)


@pytest.fixture(scope="module")
def prepared(demo: DemoWeb) -> Prepared:
    return _prepare(demo)


def test_prepared_deck_shows_only_approved_verbatims_masked(demo: DemoWeb, prepared: Prepared) -> None:
    page = demo.browser(FACILITATOR).get(f"/workshops/{prepared.workshop_id}")
    assert page.status_code == 200
    assert "Logiciel de soins" in page.text
    assert "Le logiciel de soins se fige pendant la relève" in page.text
    assert "Martin" not in page.text  # masked by the privacy guard, as in exports
    assert UNAPPROVED not in page.text and "note non approuvée pour les ateliers" in page.text


def test_workshop_of_one_programme_is_invisible_to_another(demo: DemoWeb, prepared: Prepared) -> None:
    other = _other_facilitator(demo)
    for path in (
        f"/workshops/{prepared.workshop_id}",
        f"/workshops/{prepared.workshop_id}/present",
        f"/workshops/{prepared.workshop_id}/record.pdf",
    ):
        assert other.get(path).status_code == 404, path
    assert other.form(f"/workshops/{prepared.workshop_id}/themes", {"title": "Intrus"}).status_code == 404
    assert "Atelier relève" not in other.get("/workshops").text
    assert "Atelier relève" in demo.browser(FACILITATOR).get("/workshops").text


def test_read_only_account_reads_the_record_and_changes_nothing(demo: DemoWeb, prepared: Prepared) -> None:
    viewer = demo.browser(VIEWER)
    page = viewer.get(f"/workshops/{prepared.workshop_id}")
    assert page.status_code == 200 and "Ajouter le thème" not in page.text
    assert viewer.get(f"/workshops/{prepared.workshop_id}/record.pdf").status_code == 200
    assert viewer.form(f"/workshops/{prepared.workshop_id}/themes", {"title": "Lecteur"}).status_code == 403


def test_vote_code_works_for_its_workshop_once_per_phone_and_only_while_open(
    demo: DemoWeb, prepared: Prepared
) -> None:
    other = _prepare(demo, "Autre atelier")
    phones = [demo.browser(None), demo.browser(None)]
    for phone in phones:
        assert phone.get(f"/vote/{prepared.vote_code.lower()}").status_code == 200  # sets the phone's cookie
        assert phone.client.post(f"/vote/{prepared.vote_code}/themes/{prepared.theme_id}").status_code == 200
        again = phone.client.post(f"/vote/{prepared.vote_code}/themes/{prepared.theme_id}")
        assert "déjà voté" in again.text
        # This code cannot vote for another workshop's theme.
        assert phone.client.post(f"/vote/{prepared.vote_code}/themes/{other.theme_id}").status_code == 404
    with demo.session() as session:
        voted = session.exec(
            select(models.WorkshopVote).where(models.WorkshopVote.theme_id == prepared.theme_id)
        ).all()
        assert len(voted) == 2 and all(len(v.voter_hash) == 64 for v in voted)
        assert (
            session.exec(
                select(models.WorkshopVote).where(models.WorkshopVote.theme_id == other.theme_id)
            ).all()
            == []
        )
    facilitator = demo.browser(FACILITATOR)
    assert facilitator.form(f"/workshops/{other.workshop_id}/status", {"status": "closed"}).status_code == 303
    late = demo.browser(None)
    assert late.get(f"/vote/{other.vote_code}").status_code == 404
    assert late.get(f"/vote/{prepared.vote_code}").status_code == 200
    assert (
        facilitator.form(
            f"/workshops/{prepared.workshop_id}/themes/{prepared.theme_id}/dots", {"dots": "5"}
        ).status_code
        == 303
    )
    assert "7 vote(s)" in facilitator.get(f"/workshops/{prepared.workshop_id}").text


def test_a_note_naming_someone_is_refused(demo: DemoWeb, prepared: Prepared) -> None:
    facilitator = demo.browser(FACILITATOR)
    path = f"/workshops/{prepared.workshop_id}/themes/{prepared.theme_id}/notes"
    refused = facilitator.form(path, {"body": "Mme Dupont, née le 12/03/1941, a attendu 2 heures"})
    assert refused.status_code == 422 and "semble identifier" in refused.text
    assert facilitator.form(path, {"body": "Les transmissions orales sont écourtées"}).status_code == 303
    with demo.session() as session:
        notes = session.exec(
            select(models.WorkshopNote.body).where(models.WorkshopNote.theme_id == prepared.theme_id)
        ).all()
    assert notes == ["Les transmissions orales sont écourtées"]


def test_action_follow_up_is_audited_and_shows_its_milestone_when_done(
    demo: DemoWeb, prepared: Prepared
) -> None:
    facilitator = demo.browser(FACILITATOR)
    # The problem it answers: themes, and the cards of the deck that motivated it, offered in the form.
    form = facilitator.get(f"/workshops/{prepared.workshop_id}").text.split('aria-label="Nouvelle action"')[1]
    form = form.split("</form>")[0]
    for card in (prepared.approved_id, prepared.unapproved_id):
        assert f'name="observation_ids" value="{card}"' in form
    created = facilitator.form(
        f"/workshops/{prepared.workshop_id}/actions",
        {
            "title": "Relève au poste de soins sans logiciel",
            "theme_ids": str(prepared.theme_id),
            "observation_ids": str(prepared.approved_id),
            "owner_role": "Cadre de santé",
            "due_on": "2027-01-15",
            "milestone_label": "Relève sans écran",
            "milestone_on": "2027-01-10",
        },
    )
    assert created.status_code == 303, created.text
    with demo.session() as session:
        action = session.exec(
            select(models.WorkshopAction).where(models.WorkshopAction.workshop_id == prepared.workshop_id)
        ).one()
    actions_page = facilitator.get(f"/actions?programme_id={demo.summary.programme_id}")
    assert (
        "Relève au poste de soins sans logiciel" in actions_page.text and "Jalon : " not in actions_page.text
    )
    assert 'Logiciel de soins <span class="muted small">(1 observation(s))</span>' in actions_page.text
    assert action.observation_ids == [str(prepared.approved_id)]
    done = facilitator.form(f"/workshop-actions/{action.id}/status", {"status": "done", "back": "/actions"})
    assert done.status_code == 303
    shown = facilitator.get("/actions").text
    with demo.session() as session:
        milestone = session.exec(
            select(models.Milestone).where(models.Milestone.workshop_action_id == action.id)
        ).one()
    assert (milestone.label, milestone.day.isoformat()) == ("Relève sans écran", "2027-01-10")
    assert "Jalon : Relève sans écran (10/01/2027)" in shown
    assert f"/structures/{milestone.structure_id}/before-after?milestone_id={milestone.id}" in shown
    with demo.session() as session:
        events = session.exec(
            select(models.AuditEvent).where(
                models.AuditEvent.action == AuditAction.WORKSHOP_ACTION_STATUS,
                models.AuditEvent.target_id == str(action.id),
            )
        ).all()
    assert [e.details for e in events] == [{"from": "proposed", "to": "done"}]
    assert (
        demo.browser(VIEWER)
        .form(f"/workshop-actions/{action.id}/status", {"status": "abandoned"})
        .status_code
        == 403
    )
    assert (
        _other_facilitator(demo).get(f"/actions?programme_id={demo.summary.programme_id}").status_code == 404
    )


def test_record_pdf_has_no_unapproved_verbatim_and_no_identifier(demo: DemoWeb, prepared: Prepared) -> None:
    response = demo.browser(FACILITATOR).get(f"/workshops/{prepared.workshop_id}/record.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = " ".join(
        " ".join((page.extract_text() or "").split())
        for page in PdfReader(io.BytesIO(response.content)).pages
    )
    assert "Compte rendu d'atelier" in text and "Logiciel de soins" in text
    assert "Infirmier·e : 4" in text
    assert "Le logiciel de soins se fige pendant la relève" in text
    assert "Martin" not in text
    assert UNAPPROVED not in text
    assert str(prepared.approved_id) not in text and str(prepared.unapproved_id) not in text
    with demo.session() as session:
        observers = session.exec(select(models.Observer.display_name)).all()
    assert not any(name in text for name in observers)
    assert re.search(r"observé par O\d+", text)


def test_presenter_page_is_self_contained(demo: DemoWeb, prepared: Prepared) -> None:
    response = demo.browser(FACILITATOR).get(f"/workshops/{prepared.workshop_id}/present")
    assert response.status_code == 200
    html = response.text
    assert 'src="/static' not in html and 'href="/static' not in html  # nothing more to load
    nonce = re.search(r'<script nonce="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert f"'nonce-{nonce}'" in response.headers["content-security-policy"]
    assert prepared.vote_code in html and "Martin" not in html and UNAPPROVED not in html


# Follow-up: the milestone a done action creates, figures on themes, the Word record, live votes.


def _structure_days(demo: DemoWeb, structure_id: int) -> tuple[date, date]:
    """The first and last day observed in a structure of the demo."""
    with demo.session() as session:
        first, last = session.exec(
            select(func.min(models.Observation.occurred_at), func.max(models.Observation.occurred_at)).where(
                models.Observation.structure_id == structure_id
            )
        ).one()
    return first.date(), last.date()


def _new_action(demo: DemoWeb, workshop_id: int, title: str, **fields: str) -> int:
    facilitator = demo.browser(FACILITATOR)
    assert (
        facilitator.form(f"/workshops/{workshop_id}/actions", {"title": title, **fields}).status_code == 303
    )
    with demo.session() as session:
        action_id = session.exec(
            select(models.WorkshopAction.id).where(
                models.WorkshopAction.workshop_id == workshop_id, models.WorkshopAction.title == title
            )
        ).one()
    assert action_id is not None
    return action_id


def _milestones_of(demo: DemoWeb, action_id: int) -> list[models.Milestone]:
    with demo.session() as session:
        return list(
            session.exec(
                select(models.Milestone).where(models.Milestone.workshop_action_id == action_id)
            ).all()
        )


def _audited(demo: DemoWeb, action: AuditAction) -> list[dict[str, object]]:
    with demo.session() as session:
        return [
            e.details or {}
            for e in session.exec(select(models.AuditEvent).where(models.AuditEvent.action == action)).all()
        ]


def test_a_done_action_creates_its_milestone_once_and_withdraws_it_when_undone(demo: DemoWeb) -> None:
    prepared = _prepare(demo, "Atelier jalons")
    facilitator = demo.browser(FACILITATOR)
    structure_id = demo.user(VIEWER).structure_id
    assert structure_id is not None
    with demo.session() as session:  # a milestone entered by hand, which the action never touches
        by_hand = add_milestone(session, demo.user(FACILITATOR), structure_id, date(2026, 10, 1), "Wi-Fi")
    action_id = _new_action(
        demo,
        prepared.workshop_id,
        "Tablettes au chevet",
        milestone_label="Tablettes",
        milestone_on="2026-11-05",
    )
    status = f"/workshop-actions/{action_id}/status"
    assert facilitator.form(status, {"status": "done"}).status_code == 303
    assert facilitator.form(status, {"status": "done"}).status_code == 303  # twice: still one milestone
    (milestone,) = _milestones_of(demo, action_id)
    twice = models.Milestone(
        structure_id=structure_id, day=milestone.day, label="Bis", workshop_action_id=action_id
    )
    with demo.session() as session:  # once per structure: the database says so too
        session.add(twice)
        with pytest.raises(IntegrityError):
            session.commit()
    assert (milestone.structure_id, milestone.label, milestone.day) == (
        structure_id,
        "Tablettes",
        date(2026, 11, 5),
    )
    created = [
        d for d in _audited(demo, AuditAction.MILESTONE_CREATE) if d.get("workshop_action_id") == action_id
    ]
    assert created == [
        {"structure_id": structure_id, "day": "2026-11-05", "unit_id": None, "workshop_action_id": action_id}
    ]
    # On the dashboards' time axis, and the before/after comparison opens on it in one click.
    dashboard = facilitator.get(f"/structures/{structure_id}").text
    assert "Tablettes" in dashboard and f"before-after?milestone_id={milestone.id}" in dashboard
    assert f'<a href="/actions?structure_id={structure_id}">action décidée en atelier</a>' in dashboard
    listed = facilitator.api("GET", f"/api/v1/programmes/{demo.summary.programme_id}/milestones").json()
    assert [m["workshop_action_id"] for m in listed if m["id"] in (milestone.id, by_hand.id)] == [
        None,
        action_id,
    ]
    link = f"/structures/{structure_id}/before-after?milestone_id={milestone.id}"
    assert link in facilitator.get(f"/workshops/{prepared.workshop_id}").text
    comparison = facilitator.get(link)
    assert comparison.status_code == 200 and "Avant / après « Tablettes » (05/11/2026)" in comparison.text
    assert demo.browser(VIEWER).get(link).status_code == 200  # the read-only account of that structure too
    assert _other_facilitator(demo).get(link).status_code == 404

    # A new date while done moves the milestone; back from done removes it (audited), not the hand one.
    assert facilitator.form(status, {"status": "done", "milestone_on": "2026-11-06"}).status_code == 303
    assert [m.day for m in _milestones_of(demo, action_id)] == [date(2026, 11, 6)]
    assert facilitator.form(status, {"status": "in_progress"}).status_code == 303
    assert _milestones_of(demo, action_id) == []
    removed = [
        d for d in _audited(demo, AuditAction.MILESTONE_DELETE) if d.get("workshop_action_id") == action_id
    ]
    assert removed == [
        {
            "structure_id": structure_id,
            "day": "2026-11-06",
            "label": "Tablettes",
            "workshop_action_id": action_id,
        }
    ]
    with demo.session() as session:
        assert session.get(models.Milestone, by_hand.id) is not None
    assert facilitator.get(link).status_code == 404
    assert facilitator.form(status, {"status": "done"}).status_code == 303  # done again: created anew
    assert [m.day for m in _milestones_of(demo, action_id)] == [date(2026, 11, 6)]

    # A milestone planned without a date: « faite » asks for the day it was put in place, in the same form.
    undated = _new_action(demo, prepared.workshop_id, "Badge unique", milestone_label="Badges")
    undated_status = f"/workshop-actions/{undated}/status"
    listed_form = facilitator.get("/actions").text.split(f'action="{undated_status}"')[1].split("</form>")[0]
    assert 'type="date" name="milestone_on"' in listed_form
    refused = facilitator.form(undated_status, {"status": "done"})
    assert "indiquez la date de mise en place" in unquote_plus(refused.headers["location"])
    assert _milestones_of(demo, undated) == []
    assert (
        facilitator.form(undated_status, {"status": "done", "milestone_on": "2026-11-20"}).status_code == 303
    )
    assert [(m.label, m.day) for m in _milestones_of(demo, undated)] == [("Badges", date(2026, 11, 20))]

    # No milestone planned: its title, dated the day it is marked done.
    unplanned = _new_action(demo, prepared.workshop_id, "Classeur de relève")
    assert facilitator.form(f"/workshop-actions/{unplanned}/status", {"status": "done"}).status_code == 303
    (own,) = _milestones_of(demo, unplanned)
    assert (own.label, own.day) == ("Classeur de relève", date.today())
    # Only its facilitators change it.
    assert demo.browser(VIEWER).form(status, {"status": "abandoned"}).status_code == 403
    assert _other_facilitator(demo).form(status, {"status": "abandoned"}).status_code == 404
    assert len(_milestones_of(demo, action_id)) == 1


def _attach(browser: Browser, theme_id: int, kind: str, structure_id: int, **params: str) -> Any:
    data = {"theme_id": str(theme_id), "kind": kind, "structure_id": str(structure_id), **params}
    return browser.form("/workshop-figures", data)


def test_figures_attached_from_the_dashboards_are_drawn_from_live_data(demo: DemoWeb) -> None:
    prepared = _prepare(demo, "Atelier figures")
    facilitator = demo.browser(FACILITATOR)
    structure_id = demo.user(VIEWER).structure_id
    assert structure_id is not None
    first, last = _structure_days(demo, structure_id)
    middle = first + (last - first) / 2
    with demo.session() as session:
        milestone = add_milestone(session, demo.user(FACILITATOR), structure_id, middle, "Nouveau logiciel")
    # The dashboard and the comparison offer the workshop's theme; a read-only account sees no such form.
    comparison_page = f"/structures/{structure_id}/before-after?milestone_id={milestone.id}"
    for offered in (f"/structures/{structure_id}", comparison_page):
        form = facilitator.get(offered).text.split('action="/workshop-figures"')[1].split("</form>")[0]
        assert "Atelier figures" in form and f'value="{facilitator.csrf}"' in form
    assert f'name="milestone_id" value="{milestone.id}"' in facilitator.get(comparison_page).text
    assert "Joindre à l'atelier" not in demo.browser(VIEWER).get(f"/structures/{structure_id}").text

    rates = _attach(
        facilitator, prepared.theme_id, "category_rates", structure_id, date_from=first.isoformat()
    )
    assert rates.status_code == 303 and rates.headers["location"].startswith(
        f"/workshops/{prepared.workshop_id}"
    )
    before_after = _attach(
        facilitator, prepared.theme_id, "before_after", structure_id, milestone_id=str(milestone.id)
    )
    assert before_after.status_code == 303
    with demo.session() as session:
        stored = session.exec(
            select(models.WorkshopFigure).where(models.WorkshopFigure.theme_id == prepared.theme_id)
        ).all()
        dashboard = structure_dashboard(
            session, demo.user(FACILITATOR), structure_id, ObservationFilter(date_from=first)
        )
    assert [(f.kind, f.params) for f in stored] == [
        ("category_rates", {"structure_id": structure_id, "date_from": first.isoformat()}),
        ("before_after", {"structure_id": structure_id, "milestone_id": str(milestone.id)}),
    ]
    page = facilitator.get(f"/workshops/{prepared.workshop_id}").text
    assert "Événements par heure observée, par catégorie" in page
    assert "Avant / après « Nouveau logiciel »" in page and "svg" in page
    busiest = max(dashboard.by_category, key=lambda c: c.count)
    assert f'<td class="num">{busiest.count}</td>' in page  # the dashboard's own count, live
    presented = facilitator.get(f"/workshops/{prepared.workshop_id}/present").text
    # Beside the theme and each of its two cards: three slides.
    assert presented.startswith("<!doctype html>") and "Nouveau logiciel" in presented
    assert [presented.count(f'data-figure="{f.id}"') for f in stored] == [3, 3]
    pdf = _pdf_text(facilitator.get(f"/workshops/{prepared.workshop_id}/record.pdf").content)
    assert "Figure : Avant / après « Nouveau logiciel »" in pdf and "Figure : Événements par heure" in pdf
    word = _docx_text(facilitator.get(f"/workshops/{prepared.workshop_id}/record.docx").content)
    assert "Figure : Avant / après « Nouveau logiciel »" in word and "Figure : Événements par heure" in word
    assert f"\n{busiest.count}\n" in word  # the same live count, in the figure's table

    # A structure the workshop does not look at, a theme of another programme: refused.
    with demo.session() as session:
        elsewhere = session.exec(
            select(models.Structure.id).where(
                models.Structure.programme_id == demo.summary.programme_id,
                models.Structure.id != structure_id,
            )
        ).first()
    assert elsewhere is not None
    refused = _attach(facilitator, prepared.theme_id, "category_rates", elsewhere)
    assert refused.status_code == 303 and "structure" in unquote_plus(refused.headers["location"])
    bad_day = _attach(facilitator, prepared.theme_id, "category_rates", structure_id, date_from="2026-13-45")
    assert "paramètres" in unquote_plus(bad_day.headers["location"])
    assert bad_day.headers["location"].startswith(f"/structures/{structure_id}?date_from=2026-13-45&message=")
    # Refused from the comparison page: back to that comparison, as it was, saying why.
    bad_period = _attach(
        facilitator,
        prepared.theme_id,
        "before_after",
        structure_id,
        milestone_id=str(milestone.id),
        compared_to="2026-13-45",
    )
    location = unquote_plus(bad_period.headers["location"])
    assert location.startswith(
        f"/structures/{structure_id}/before-after?milestone_id={milestone.id}&compared_to=2026-13-45&message="
    ), location
    assert "paramètres" in location
    other = _other_facilitator(demo)
    assert _attach(other, prepared.theme_id, "category_rates", structure_id).status_code == 404
    assert _attach(demo.browser(VIEWER), prepared.theme_id, "category_rates", structure_id).status_code == 403
    figure_id = stored[0].id
    remove = f"/workshops/{prepared.workshop_id}/figures/{figure_id}/remove"
    assert other.form(remove).status_code == 404
    with demo.session() as session:
        others_programme = session.exec(
            select(models.UserProgramme.programme_id)
            .join(models.User, col(models.User.id) == col(models.UserProgramme.user_id))
            .where(models.User.email == OTHER_FACILITATOR)
        ).one()
    theirs = other.form(
        "/workshops",
        {"programme_id": str(others_programme), "title": "Leur atelier", "held_on": "2026-12-04"},
    )
    their_id = int(theirs.headers["location"].split("/workshops/")[1].split("?")[0])
    # Their own workshop's path does not reach our figure either.
    assert other.form(f"/workshops/{their_id}/figures/{figure_id}/remove").status_code == 404
    assert demo.browser(VIEWER).form(remove).status_code == 403
    with demo.session() as session:
        assert len(session.exec(select(models.WorkshopFigure)).all()) == 2
    assert facilitator.form(remove).status_code == 303
    assert (
        "Événements par heure observée, par catégorie"
        not in facilitator.get(f"/workshops/{prepared.workshop_id}").text
    )
    # Live data: once its milestone is gone, the comparison says it cannot be drawn; the deck still shows.
    with demo.session() as session:
        session.delete(session.get_one(models.Milestone, milestone.id))
        session.commit()
    page = facilitator.get(f"/workshops/{prepared.workshop_id}")
    assert page.status_code == 200 and "Figure indisponible" in page.text


def test_a_comparison_of_two_structures_goes_to_a_theme_with_the_rows_chosen(demo: DemoWeb) -> None:
    """A programme-wide workshop takes the comparison of two of its structures, showing a dimension or an
    impact rather than the categories; a read-only account of one structure sees it as unavailable."""
    facilitator = demo.browser(FACILITATOR)
    created = facilitator.form(
        "/workshops",
        {
            "programme_id": str(demo.summary.programme_id),
            "title": "Atelier inter-structures",
            "held_on": "2026-12-10",
        },
    )
    workshop_id = int(re.search(r"/workshops/(\d+)", created.headers["location"]).group(1))  # type: ignore[union-attr]
    assert facilitator.form(f"/workshops/{workshop_id}/themes", {"title": "Interruptions"}).status_code == 303
    viewer_structure = demo.user(VIEWER).structure_id
    with demo.session() as session:
        theme = session.exec(
            select(models.WorkshopTheme).where(models.WorkshopTheme.workshop_id == workshop_id)
        ).one()
        assert theme.id is not None
        theme_id = theme.id
        other_structure = session.exec(
            select(models.Structure.id)
            .where(
                models.Structure.programme_id == demo.summary.programme_id,
                models.Structure.id != viewer_structure,
            )
            .order_by(col(models.Structure.id))
        ).first()
    assert viewer_structure is not None and other_structure is not None
    asked = StructuresAsked(reference_structure_id=viewer_structure, compared_structure_id=other_structure)
    with demo.session() as session:
        comparison = compare_structures(session, demo.user(FACILITATOR), demo.summary.programme_id, asked)
    shown = next(r for r in comparison.rows if r.attribute != "category")  # a dimension, an impact…
    rows = [r for r in comparison.rows if r.attribute == shown.attribute]

    page_path = (
        f"/programmes/{demo.summary.programme_id}/structures-compared"
        f"?reference_structure_id={viewer_structure}&compared_structure_id={other_structure}"
    )
    form = facilitator.get(page_path).text.split('action="/workshop-figures"')[1].split("</form>")[0]
    assert "Atelier inter-structures" in form
    assert f'name="compared_structure_id" value="{other_structure}"' in form
    assert f'<option value="{shown.attribute}">{shown.attribute_label}</option>' in form
    # A workshop that looks at one of the two only is not offered.
    assert "Atelier figures" not in form and "Atelier relève" not in form

    attached = _attach(
        facilitator,
        theme_id,
        "structures_compared",
        viewer_structure,
        compared_structure_id=str(other_structure),
        attribute=shown.attribute,
    )
    assert attached.status_code == 303 and attached.headers["location"].startswith(
        f"/workshops/{workshop_id}"
    )
    with demo.session() as session:
        (stored,) = session.exec(
            select(models.WorkshopFigure).where(models.WorkshopFigure.theme_id == theme_id)
        ).all()
    assert stored.params == {
        "structure_id": viewer_structure,
        "compared_structure_id": str(other_structure),
        "attribute": shown.attribute,
    }
    names = f"{comparison.reference.structure_name} et {comparison.compared.structure_name}"
    title = f"Deux structures comparées — {names} — {shown.attribute_label}"
    workshop_page = facilitator.get(f"/workshops/{workshop_id}").text
    assert title in workshop_page and f'<th scope="col">{shown.attribute_label}</th>' in workshop_page
    drawn = workshop_page.split(f'data-figure="{stored.id}"')[1].split("</figure>")[0]
    assert drawn.count('<th scope="row">') == len(rows)  # that attribute's rows only, no category
    for row in rows:
        assert f'<th scope="row">{row.label}</th>' in drawn
    assert f"Figure : {title}" in _pdf_text(facilitator.get(f"/workshops/{workshop_id}/record.pdf").content)
    word = _docx_text(facilitator.get(f"/workshops/{workshop_id}/record.docx").content)
    assert f"Figure : {title}" in word and shown.attribute_label in word

    # The read-only account of one of the two structures may read the record, not the other structure.
    seen = demo.browser(VIEWER).get(f"/workshops/{workshop_id}").text
    drawn_for_them = seen.split(f'data-figure="{stored.id}"')[1].split("</figure>")[0]
    assert "Figure indisponible" in drawn_for_them and "<table" not in drawn_for_them

    # Rows the grid does not have, a structure the workshop does not look at: refused where asked.
    unknown = _attach(
        facilitator,
        theme_id,
        "structures_compared",
        viewer_structure,
        compared_structure_id=str(other_structure),
        attribute="pointure",
    )
    location = unquote_plus(unknown.headers["location"])
    assert location.startswith(
        f"/programmes/{demo.summary.programme_id}/structures-compared?reference_structure_id={viewer_structure}"
        f"&compared_structure_id={other_structure}&message="
    ), location
    assert "lignes choisies" in location
    narrow = _prepare(demo, "Atelier une structure")
    elsewhere = _attach(
        facilitator,
        narrow.theme_id,
        "structures_compared",
        viewer_structure,
        compared_structure_id=str(other_structure),
    )
    assert "que l'atelier ne regarde pas" in unquote_plus(elsewhere.headers["location"])
    # The before/after keeps its rows too; the categories are the default and are not stored.
    with demo.session() as session:
        milestone = add_milestone(
            session,
            demo.user(FACILITATOR),
            viewer_structure,
            _structure_days(demo, viewer_structure)[1],
            "Bip",
        )
    for attribute in ("category", shown.attribute):
        assert (
            _attach(
                facilitator,
                narrow.theme_id,
                "before_after",
                viewer_structure,
                milestone_id=str(milestone.id),
                attribute=attribute,
            ).status_code
            == 303
        )
    with demo.session() as session:
        kept = session.exec(
            select(models.WorkshopFigure.params).where(models.WorkshopFigure.theme_id == narrow.theme_id)
        ).all()
    assert [p.get("attribute") for p in kept] == [None, shown.attribute]


def _pdf_text(content: bytes) -> str:
    return " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(content)).pages
    )


def _docx_text(content: bytes) -> str:
    """Every paragraph and table cell of a Word document, as python-docx reads it back."""
    document = Document(io.BytesIO(content))
    texts = [p.text for p in document.paragraphs]
    texts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(texts)


def test_docx_record_has_the_record_and_no_unapproved_verbatim_nor_identifier(
    demo: DemoWeb, prepared: Prepared
) -> None:
    facilitator = demo.browser(FACILITATOR)
    notes = f"/workshops/{prepared.workshop_id}/themes/{prepared.theme_id}/notes"
    assert facilitator.form(notes, {"body": "La relève se fait debout au chariot"}).status_code == 303
    _new_action(demo, prepared.workshop_id, "Relève au chariot de soins", owner_role="Cadre de santé")
    response = facilitator.get(f"/workshops/{prepared.workshop_id}/record.docx")
    assert response.status_code == 200
    assert response.headers["content-type"] == record.DOCX_MEDIA_TYPE
    assert response.headers["content-disposition"].endswith('.docx"')
    text = _docx_text(response.content)
    assert "Compte rendu d'atelier — Atelier relève" in text and "Thème 1 : Logiciel de soins" in text
    assert "Infirmier·e : 4" in text and "Priorité :" in text and "vote(s)" in text
    assert "La relève se fait debout au chariot" in text
    assert (
        "Relève au chariot de soins" in text and "Cadre de santé" in text and "proposée" in text
    )  # the action
    assert "Le logiciel de soins se fige pendant la relève" in text
    assert "Martin" not in text and UNAPPROVED not in text
    assert "note non approuvée pour les ateliers" in text
    assert str(prepared.approved_id) not in text and str(prepared.unapproved_id) not in text
    with demo.session() as session:
        observers = session.exec(select(models.Observer.display_name)).all()
        emails = session.exec(select(models.User.email)).all()
    assert not any(name in text for name in observers) and not any(email in text for email in emails)
    assert re.search(r"observé par O\d+", text)
    assert Document(io.BytesIO(response.content)).core_properties.author == "Vigie"
    assert demo.browser(VIEWER).get(f"/workshops/{prepared.workshop_id}/record.docx").status_code == 200
    assert _other_facilitator(demo).get(f"/workshops/{prepared.workshop_id}/record.docx").status_code == 404
    assert {"format": "docx"} in _audited(demo, AuditAction.WORKSHOP_RECORD)


def test_live_votes_count_dots_and_phones_for_readers_only(demo: DemoWeb) -> None:
    prepared = _prepare(demo, "Atelier en direct")
    facilitator = demo.browser(FACILITATOR)
    path = f"/workshops/{prepared.workshop_id}/votes"
    assert facilitator.get(path).json() == {
        "workshop_id": prepared.workshop_id,
        "themes": [{"id": prepared.theme_id, "votes": 0}],
    }
    dots = f"/workshops/{prepared.workshop_id}/themes/{prepared.theme_id}/dots"
    assert facilitator.form(dots, {"dots": "2"}).status_code == 303
    phone = demo.browser(None)
    phone.get(f"/vote/{prepared.vote_code}")
    phone.client.post(f"/vote/{prepared.vote_code}/themes/{prepared.theme_id}")
    counted = facilitator.get(path)
    assert counted.headers["cache-control"] == "no-store"
    assert counted.json()["themes"] == [{"id": prepared.theme_id, "votes": 3}]
    assert demo.browser(VIEWER).get(path).json()["themes"] == [{"id": prepared.theme_id, "votes": 3}]
    assert _other_facilitator(demo).get(path).status_code == 404
    assert demo.browser(None).get(path).status_code in (303, 401)  # no account: the login, not the count
    presented = facilitator.get(f"/workshops/{prepared.workshop_id}/present").text
    assert (
        f'data-votes-url="{path}"' in presented and f'data-theme-votes="{prepared.theme_id}">3<' in presented
    )
