"""A realistic demo programme: six structures, their units, four observers, a few hundred observations.

Deterministic for a given seed, so screenshots, tests and workshops see the same figures. Every
observation goes through the shared schema's validation, as synced ones do. Review work is under way
(statuses, comments, tags), one visit was observed by two observers at once (a calibration pair, for the
agreement page), and there is an account for each role.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from backend import models
from backend.auth.users import UserRole, create_user
from backend.grids.versions import seed_programme_grid
from backend.sync.records import save_observation, visit_row
from backend.sync.sequence import SequenceAllocator
from shared import schema
from shared.taxonomy import current_taxonomy

DEMO_PASSWORD = "vigie-demo-2026"  # noqa: S105  (printed for the demo; never a real account)
DEMO_ADMIN_EMAIL = "admin@vigie.demo"
DEMO_FACILITATOR_EMAIL = "facilitatrice@vigie.demo"
DEMO_VIEWER_EMAIL = "lecteur@vigie.demo"
DEMO_VIEWER_STRUCTURE = "EHPAD Les Tilleuls"
PAIRED_STRUCTURE = 0  # the CHU's first visit is observed by a second observer too
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class DemoStructure:
    name: str
    kind: schema.StructureType
    units: tuple[str, ...]
    roles: tuple[str, ...]
    # Events per observed hour, and how often each category shows up there.
    rate_per_hour: float
    category_weights: dict[str, int] = field(default_factory=dict)


def _demo_structures() -> tuple[DemoStructure, ...]:
    rows = json.loads((Path(__file__).parent / "demo_structures.json").read_text(encoding="utf-8"))
    return tuple(
        DemoStructure(
            row["name"],
            schema.StructureType(row["kind"]),
            tuple(row["units"]),
            tuple(row["roles"]),
            row["rate_per_hour"],
            row["category_weights"],
        )
        for row in rows
    )


# Names, units, professions and event rates of the demo structures: data, in demo_structures.json.
STRUCTURES = _demo_structures()

OBSERVERS = ("Claire Martin", "Youssef Benali", "Anne Leroy", "Thomas Petit")

TOOLS_BY_CATEGORY = {
    "interruption": ("phone", "messaging", "patient_record"),
    "workaround": ("patient_record", "care_plan_software", "other"),
    "double_entry": ("patient_record", "care_plan_software"),
    "system_failure": ("patient_record", "computer_on_wheels", "care_plan_software", "printer"),
    "login": ("badge", "patient_record", "computer_on_wheels"),
    "alert": ("patient_record", "phone", "tablet"),
    "information_search": ("patient_record", "messaging", "care_plan_software"),
    "paper": ("printer", "other"),
    "equipment": ("computer_on_wheels", "tablet", "badge", "phone"),
    "positive_use": ("tablet", "care_plan_software", "messaging", "patient_record"),
}

NOTES = {
    "interruption": (
        "Appel du bureau des entrées pendant la préparation des piluliers.",
        "Sollicitée par une collègue pour un accès au dossier pendant le tour de soins.",
        "La sonnette retentit pendant la saisie des transmissions ; saisie reprise du début.",
        "Appel de la pharmacie pour une prescription non validée dans le logiciel.",
    ),
    "workaround": (
        "Note les constantes sur un carnet puis les saisit en fin de tournée.",
        "Utilise la session d'une collègue restée ouverte pour gagner du temps.",
        "Photographie le planning papier faute d'accès au logiciel sur le poste du couloir.",
    ),
    "double_entry": (
        "Résultats de laboratoire recopiés à la main du logiciel du labo vers le dossier de soins.",
        "Transmissions écrites sur papier puis ressaisies dans le logiciel.",
    ),
    "system_failure": (
        "Le dossier patient met plus d'une minute à s'ouvrir sur le chariot.",
        "Déconnexion du Wi-Fi dans le couloir ouest, saisie perdue.",
        "Imprimante d'étiquettes en panne ; passage au poste voisin.",
    ),
    "login": (
        "Trois connexions successives pour valider une administration.",
        "Le badge n'est pas reconnu, saisie manuelle de l'identifiant et du mot de passe.",
    ),
    "alert": (
        "Alerte d'interaction médicamenteuse non pertinente, fermée sans lecture.",
        "Notification de la messagerie sécurisée pendant les soins.",
    ),
    "information_search": (
        "Cherche le dernier compte rendu dans trois écrans différents.",
        "Appelle le médecin faute de trouver la prescription à jour.",
    ),
    "paper": (
        "Impression du plan de soins pour la relève, jeté en fin de poste.",
        "Feuille de transmissions papier maintenue en parallèle du logiciel.",
    ),
    "equipment": (
        "Une seule tablette pour l'étage, partagée entre quatre soignants.",
        "Chariot informatique déchargé, batterie à plat en milieu de tournée.",
    ),
    "positive_use": (
        "La tablette permet de valider les soins au lit du résident, sans retour au poste.",
        "Messagerie sécurisée : réponse du médecin en cinq minutes sans déplacement.",
        "Le plan de soins informatisé évite une relève orale longue.",
    ),
}


REVIEW_COMMENTS = (
    "À présenter à l'atelier : exemple typique de la matinée.",
    "Vérifier avec l'observatrice : la durée semble longue.",
    "Même situation relevée dans l'autre unité, à rapprocher.",
    "Cas parlant pour la direction des soins.",
    "Merci de préciser l'outil en cause à la prochaine visite.",
)
REVIEW_TAGS = ("atelier 1", "double saisie labo", "connexions", "bonne pratique")


@dataclass
class DemoSummary:
    programme_id: int
    structures: int
    units: int
    observers: int
    visits: int
    observations: int


def demo_present(session: Session) -> bool:
    return session.exec(select(models.Programme)).first() is not None


def build_demo(session: Session, seed: int = 2026, today: datetime | None = None) -> DemoSummary:
    rng = random.Random(seed)
    sequence = SequenceAllocator(session)
    ids = uuid.UUID(int=rng.getrandbits(128))  # namespace for reproducible client UUIDs
    taxonomy = current_taxonomy()
    today = (today or datetime.now(UTC)).astimezone(PARIS)

    programme = models.Programme(
        name="ACIA Numérique et conditions de travail — 2026",
        region="Nouvelle-Aquitaine",
        taxonomy_version=taxonomy.version,
    )
    session.add(programme)
    session.flush()
    assert programme.id is not None
    grid = seed_programme_grid(session, programme)  # every demo visit is captured with its version 1

    observers = [models.Observer(programme_id=programme.id, display_name=name) for name in OBSERVERS]
    session.add_all(observers)
    session.flush()

    counts = {"units": 0, "visits": 0, "observations": 0}
    structure_ids: dict[str, int] = {}
    paired: tuple[schema.Visit, list[schema.Observation], int] | None = None
    saved: list[models.Observation] = []
    for index, spec in enumerate(STRUCTURES):
        structure = models.Structure(
            programme_id=programme.id,
            name=spec.name,
            kind=spec.kind.value,
            finess=f"99{index + 1:07d}",
            server_seq=sequence.next(),
        )
        session.add(structure)
        session.flush()
        assert structure.id is not None
        structure_ids[spec.name] = structure.id
        units = [
            models.Unit(structure_id=structure.id, name=name, server_seq=sequence.next())
            for name in spec.units
        ]
        session.add_all(units)
        session.flush()
        counts["units"] += len(units)
        categories = [c for c in spec.category_weights if c in taxonomy.category_codes]
        others = [c for c in taxonomy.category_codes if c not in categories]
        weights = [spec.category_weights[c] for c in categories] + [3] * len(others)
        categories = categories + sorted(others)

        for visit_number in range(5):
            observer = observers[(index + visit_number) % len(observers)]
            unit = units[visit_number % len(units)]
            day = (today - timedelta(days=3 + 7 * visit_number + index)).date()
            start_hour = rng.choice((7, 8, 9, 13, 14, 20))
            started = datetime.combine(day, time(start_hour, rng.choice((0, 15, 30))), PARIS).astimezone(UTC)
            duration = timedelta(minutes=rng.randint(80, 150))
            roles = rng.sample(spec.roles, k=min(2, len(spec.roles)))
            assert observer.id is not None and unit.id is not None
            visit = schema.Visit.begin(
                structure.id,
                unit.id,
                observer.id,
                started,
                id=uuid.uuid5(ids, f"visit-{index}-{visit_number}"),
                ended_at=started + duration,
                observed_roles=roles,
                grid_version=grid.number,
                context_note=rng.choice((None, "Matinée chargée : deux entrées.", "Effectif complet.")),
                updated_at=started + duration,
            )
            session.add(visit_row(visit, server_seq=sequence.next()))
            counts["visits"] += 1
            expected = spec.rate_per_hour * duration.total_seconds() / 3600
            events = [
                demo_observation(
                    rng,
                    uuid.uuid5(ids, f"obs-{index}-{visit_number}-{event_number}"),
                    visit,
                    rng.choices(categories, weights)[0],
                    started + timedelta(seconds=rng.uniform(0, duration.total_seconds() - 600)),
                )
                for event_number in range(max(1, round(rng.gauss(expected, expected / 6))))
            ]
            for observation in link_interruptions(events):
                row = save_observation(session, observation, visit)
                row.server_seq = sequence.next()
                row.review_status = rng.choices(
                    [s.value for s in schema.ReviewStatus], weights=(60, 25, 10, 5)
                )[0]
                saved.append(row)
                counts["observations"] += 1
                if index == PAIRED_STRUCTURE and visit_number == 0:
                    if paired is None:
                        paired = (visit, [], (index + visit_number + 1) % len(observers))
                    paired[1].append(observation)

    assert paired is not None
    partner = observers[paired[2]]
    assert partner.id is not None
    counts["observations"] += _paired_visit(session, sequence, rng, ids, paired[0], paired[1], partner.id)
    counts["visits"] += 1
    sequence.save()
    session.flush()
    facilitator_id = _demo_users(session, programme.id, structure_ids[DEMO_VIEWER_STRUCTURE])
    _demo_review(session, rng, saved, facilitator_id)
    session.commit()
    return DemoSummary(
        programme_id=programme.id,
        structures=len(STRUCTURES),
        units=counts["units"],
        observers=len(observers),
        visits=counts["visits"],
        observations=counts["observations"],
    )


def link_interruptions(events: list[schema.Observation]) -> list[schema.Observation]:
    """Interruptions that came while a timer ran interrupt it, as the tablet records them: most often the
    task is resumed (after a few seconds to two minutes), sometimes dropped. Drawn from each interruption's
    own id, so the rest of the demo stays what it was."""
    linked = []
    for event in events:
        under_way = [
            t for t in events if t.ended_at is not None and t.occurred_at <= event.occurred_at < t.ended_at
        ]
        if event.category != "interruption" or not under_way:
            linked.append(event)
            continue
        task = max(under_way, key=lambda t: t.occurred_at)  # the one started last, as on the tablet
        rng = random.Random(event.id.int)
        resumed = rng.random() < 0.8
        resumption = {
            "interrupted_id": task.id,
            "task_resumed": resumed,
            "resumed_at": event.occurred_at + timedelta(seconds=rng.randint(10, 120)) if resumed else None,
        }
        linked.append(schema.Observation.model_validate({**event.model_dump(), **resumption}))
    return linked


def demo_observation(
    rng: random.Random, observation_id: uuid.UUID, visit: schema.Visit, category: str, occurred: datetime
) -> schema.Observation:
    taxonomy = current_taxonomy()
    timed = taxonomy.category(category).timed
    positive = category == "positive_use"
    return schema.Observation(
        id=observation_id,
        visit_id=visit.id,
        occurred_at=occurred,
        ended_at=occurred + timedelta(seconds=rng.randint(20, 540)) if timed else None,
        category=category,
        role=rng.choice(visit.observed_roles),
        tool=rng.choice(TOOLS_BY_CATEGORY[category]),
        interruption_source=(
            rng.choice(["colleague", "patient_family", "phone", "device_alert", "self"])
            if category == "interruption"
            else None
        ),
        dimensions=rng.sample(
            ["work_content", "rhythm", "work_spaces", "colleague_relations", "patient_relations"],
            k=rng.randint(0, 2),
        ),
        effect="positive"
        if positive
        else rng.choices(["negative", "ambivalent", "positive"], (75, 20, 5))[0],
        impacts=rng.sample(["qvt", "work_quality", "care_quality"], k=rng.randint(0, 2)),
        severity=None if positive else rng.choice([None, 1, 2, 2, 3]),
        note=rng.choice(NOTES[category]) if rng.random() < 0.45 else None,
        created_at=occurred,
        updated_at=occurred + timedelta(minutes=rng.randint(0, 40)),
    )


def _paired_visit(
    session: Session,
    sequence: SequenceAllocator,
    rng: random.Random,
    ids: uuid.UUID,
    first: schema.Visit,
    seen: list[schema.Observation],
    observer_id: int,
) -> int:
    """A second observer following the same unit over the same stretch of time: most events are
    recorded by both a little apart, a few categorised differently, some seen by only one of them."""
    assert first.ended_at is not None
    visit = first.model_copy(
        update={
            "id": uuid.uuid5(ids, "visit-paired"),
            "observer_id": observer_id,
            "context_note": "Visite en binôme : calibration de la grille.",
        }
    )
    assert visit.ended_at is not None
    session.add(visit_row(visit, server_seq=sequence.next()))
    session.flush()
    taxonomy = current_taxonomy()
    events: list[tuple[datetime, str]] = []
    for observation in seen:
        if rng.random() < 0.15:
            continue  # missed by the second observer
        category = observation.category
        if rng.random() < 0.1:
            category = rng.choice(sorted(taxonomy.category_codes - {category}))
        events.append((observation.occurred_at + timedelta(seconds=rng.uniform(-30, 30)), category))
    for _ in range(2):  # noticed by the second observer only
        span = (visit.ended_at - visit.started_at).total_seconds()
        events.append(
            (visit.started_at + timedelta(seconds=rng.uniform(0, span)), rng.choice(("alert", "paper")))
        )
    for number, (occurred, category) in enumerate(sorted(events)):
        # Timed events last up to nine minutes and must end within the visit.
        occurred = min(max(occurred, visit.started_at), visit.ended_at - timedelta(minutes=10))
        observation = demo_observation(
            rng, uuid.uuid5(ids, f"obs-paired-{number}"), visit, category, occurred
        )
        save_observation(session, observation, visit).server_seq = sequence.next()
    return len(events)


def _demo_review(
    session: Session, rng: random.Random, observations: list[models.Observation], facilitator_id: int
) -> None:
    """Comments and tags a facilitator would have added while reviewing."""
    for observation in rng.sample(observations, k=12):
        session.add(
            models.ReviewComment(
                observation_id=observation.id,
                author_user_id=facilitator_id,
                body=rng.choice(REVIEW_COMMENTS),
                created_at=observation.received_at,
            )
        )
    for observation in rng.sample(observations, k=30):
        for tag in rng.sample(REVIEW_TAGS, k=rng.randint(1, 2)):
            session.add(models.ObservationTag(observation_id=observation.id, tag=tag))


def _demo_users(session: Session, programme_id: int, viewer_structure_id: int) -> int:
    """The three demo accounts; returns the facilitator's id."""
    create_user(
        session,
        email=DEMO_ADMIN_EMAIL,
        full_name="Administratrice Vigie",
        role=UserRole.ADMIN,
        password=DEMO_PASSWORD,
    )
    facilitator = create_user(
        session,
        email=DEMO_FACILITATOR_EMAIL,
        full_name="Facilitatrice ARACT",
        role=UserRole.FACILITATOR,
        password=DEMO_PASSWORD,
        programme_ids=[programme_id],
    )
    create_user(
        session,
        email=DEMO_VIEWER_EMAIL,
        full_name="Direction EHPAD Les Tilleuls",
        role=UserRole.STRUCTURE_VIEWER,
        password=DEMO_PASSWORD,
        structure_id=viewer_structure_id,
    )
    assert facilitator.id is not None
    return facilitator.id
