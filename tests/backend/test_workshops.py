"""Workshops: preparation from the review list, phone votes, notes through the privacy guard, actions and
their audited follow-up, the record PDF, and who may see which workshop."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass

import pytest
from pypdf import PdfReader
from sqlmodel import col, select

from backend import models
from backend.audit.actions import AuditAction
from backend.auth.users import UserRole, create_user
from tests.factories import FACILITATOR, VIEWER, Browser, DemoWeb

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
            create_user(
                session,
                email=OTHER_FACILITATOR,
                full_name="Autre animatrice",
                role=UserRole.FACILITATOR,
                password=PASSWORD,
                programme_ids=[programme.id],
            )
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
    created = facilitator.form(
        f"/workshops/{prepared.workshop_id}/actions",
        {
            "title": "Relève au poste de soins sans logiciel",
            "theme_ids": str(prepared.theme_id),
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
    done = facilitator.form(f"/workshop-actions/{action.id}/status", {"status": "done", "back": "/actions"})
    assert done.status_code == 303
    shown = facilitator.get("/actions").text
    assert "Jalon : Relève sans écran (10/01/2027)" in shown and "date_from=2027-01-10" in shown
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
