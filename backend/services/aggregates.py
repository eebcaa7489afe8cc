"""Dashboard figures, computed in the database with GROUP BY over indexed columns.

Everything goes through ``apply_observation_filter``, so a dashboard shows exactly what the review list
and the exports show for the same filters. Rates are events per observed hour (the time-motion metric)
so that structures observed for longer are compared fairly. Observed time is the length of the ended
visits matching the place and date filters; filters on what was observed (category, role...) narrow the
events, not the time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import BigInteger, case, cast, extract, func, literal, literal_column
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from backend import models
from backend.services.access import visible_programme, visible_structure, visible_structure_ids
from backend.services.observation_filters import ObservationFilter, apply_observation_filter
from shared.taxonomy import Taxonomy, load_taxonomy

UNSET_CODE = ""
UNSET_LABEL = "Non renseigné"
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class Count(BaseModel):
    code: str
    label: str
    count: int
    per_hour: float | None  # events per observed hour; None when nothing was observed


class DurationStat(BaseModel):
    """Timed events of one category: how long they last and how much of the observed time they take."""

    category: str
    label: str
    events: int
    median_seconds: float
    total_seconds: float
    share_of_observed_time: float | None


class Dashboard(BaseModel):
    scope: Literal["structure", "programme"]
    scope_id: int
    name: str
    taxonomy_version: str
    visits: int
    observed_hours: float
    observations: int
    per_hour: float | None
    by_category: list[Count]
    by_role: list[Count]
    by_tool: list[Count]
    by_dimension: list[Count]
    by_effect: list[Count]
    by_impact: list[Count]
    by_hour: list[int]  # 24 values, hour of day in each structure's own time zone
    by_weekday: list[int]  # 7 values, Monday first, local time
    durations: list[DurationStat]


class ComparisonRow(BaseModel):
    structure_id: int
    name: str
    kind: str
    visits: int
    observed_hours: float
    observations: int
    per_hour: float | None
    category_counts: dict[str, int]
    category_rates: dict[str, float | None]
    negative_share: float | None  # share of observations whose effect is negative


class Comparison(BaseModel):
    programme_id: int
    name: str
    categories: list[Count]  # programme totals, in grid order: the comparison's columns
    rows: list[ComparisonRow]


def _filter(statement: Any, criteria: ObservationFilter, allowed: Collection[int] | None) -> Any:
    """``apply_observation_filter`` for statements of any shape (its type variable only knows a few)."""
    return apply_observation_filter(statement, criteria, allowed)


def _day_start(day: date) -> datetime:
    # The same day boundaries (UTC) as the observation filter uses.
    return datetime.combine(day, time.min, tzinfo=UTC)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def seconds_between(session: Session, end: Any, start: Any) -> Any:
    """``end - start`` in seconds, as a SQL expression on either database."""
    if _dialect(session) == "postgresql":
        return extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _rate(count: int, hours: float) -> float | None:
    return count / hours if hours > 0 else None


def _visit_conditions(criteria: ObservationFilter, allowed: Collection[int] | None) -> list[Any]:
    """The visits behind the observed time: same place and dates as the observations' filter."""
    visit = models.Visit
    conditions: list[Any] = [visit.deleted == False]  # noqa: E712  (SQL expression)
    if allowed is not None:
        conditions.append(col(visit.structure_id).in_(list(allowed)))
    if criteria.programme_id is not None:
        conditions.append(
            col(visit.structure_id).in_(
                select(col(models.Structure.id)).where(models.Structure.programme_id == criteria.programme_id)
            )
        )
    if criteria.structure_id is not None:
        conditions.append(visit.structure_id == criteria.structure_id)
    if criteria.unit_id is not None:
        conditions.append(visit.unit_id == criteria.unit_id)
    if criteria.date_from is not None:
        conditions.append(col(visit.started_at) >= _day_start(criteria.date_from))
    if criteria.date_to is not None:
        conditions.append(col(visit.started_at) < _day_start(criteria.date_to + timedelta(days=1)))
    return conditions


def observed_time(
    session: Session, criteria: ObservationFilter, allowed: Collection[int] | None
) -> dict[int, tuple[int, float]]:
    """Per structure: (visits, observed seconds). Visits still open count as visits, not as time."""
    visit = models.Visit
    seconds = seconds_between(session, col(visit.ended_at), col(visit.started_at))
    rows = session.exec(
        select(visit.structure_id, func.count(), func.coalesce(func.sum(seconds), 0.0))
        .where(*_visit_conditions(criteria, allowed))
        .group_by(col(visit.structure_id))
    ).all()
    return {structure_id: (int(count), float(total)) for structure_id, count, total in rows}


@dataclass
class _Cube:
    """Counts by category x role x tool x effect, from ONE scan, folded into each dimension here
    (a few hundred groups at most), with the timed events' count and total length per category."""

    category: dict[str | None, int]
    role: dict[str | None, int]
    tool: dict[str | None, int]
    effect: dict[str | None, int]
    timed: dict[str, tuple[int, float]]


def _cube(session: Session, criteria: ObservationFilter, allowed: Collection[int] | None) -> _Cube:
    obs = models.Observation
    duration = seconds_between(session, col(obs.ended_at), col(obs.occurred_at))
    columns = (col(obs.category), col(obs.role), col(obs.tool), col(obs.effect))
    statement = _filter(
        sa_select(*columns, func.count(), func.count(col(obs.ended_at)), func.sum(duration)),
        criteria,
        allowed,
    ).group_by(*columns)
    cube = _Cube({}, {}, {}, {}, {})
    for category, role, tool, effect, count, timed, total in session.exec(statement).all():
        for counts, code in (
            (cube.category, category),
            (cube.role, role),
            (cube.tool, tool),
            (cube.effect, effect),
        ):
            counts[code] = counts.get(code, 0) + int(count)
        if timed:
            events, seconds = cube.timed.get(category, (0, 0.0))
            cube.timed[category] = (events + int(timed), seconds + float(total))
    return cube


def _value_counts(
    session: Session, criteria: ObservationFilter, allowed: Collection[int] | None
) -> dict[str, dict[str | None, int]]:
    """Work dimensions and impacts (one row per value) in one query."""
    value = models.ObservationAttributeValue
    statement = _filter(
        select(value.attribute, value.code, func.count())
        .select_from(models.Observation)
        .join(value, col(value.observation_id) == col(models.Observation.id))
        .where(col(value.attribute).in_(("dimension", "impact"))),
        criteria,
        allowed,
    ).group_by(col(value.attribute), col(value.code))
    counts: dict[str, dict[str | None, int]] = {"dimension": {}, "impact": {}}
    for attribute, code, count in session.exec(statement).all():
        counts[attribute][code] = int(count)
    return counts


def _labelled(counts: dict[str | None, int], grid: Iterable[tuple[str, str]], hours: float) -> list[Count]:
    """Every code of the grid (zeros included, so charts compare), most frequent first."""
    order = list(grid)
    rows = [Count(code=code, label=label, count=counts.get(code, 0), per_hour=None) for code, label in order]
    known = {code for code, _ in order}
    unknown = sum(count for code, count in counts.items() if code is None or code not in known)
    if unknown:
        rows.append(Count(code=UNSET_CODE, label=UNSET_LABEL, count=unknown, per_hour=None))
    position = {row.code: index for index, row in enumerate(rows)}
    rows.sort(key=lambda row: (-row.count, position[row.code]))
    for row in rows:
        row.per_hour = _rate(row.count, hours)
    return rows


def _grid(taxonomy: Taxonomy, attribute: str) -> list[tuple[str, str]]:
    if attribute == "category":
        return [(c.code, c.label.fr) for c in taxonomy.categories]
    return [(v.code, v.label.fr) for v in taxonomy.attribute(attribute).values]


def zone_offsets(zone: str, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """The zone's UTC offsets between two instants: (epoch second from which it applies, offset in
    seconds), oldest first. Found by stepping day by day and narrowing each change to the second."""

    def offset(epoch: int) -> int:
        moment = datetime.fromtimestamp(epoch, UTC).astimezone(ZoneInfo(zone))
        delta = moment.utcoffset()
        return int(delta.total_seconds()) if delta else 0

    first, last = int(start.timestamp()), int(end.timestamp())
    changes = [(first, offset(first))]
    day = first
    while day < last:
        following = min(day + 86400, last)
        if offset(following) != changes[-1][1]:
            low, high = day, following  # offset(low) is the old one, offset(high) the new one
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == changes[-1][1]:
                    low = middle
                else:
                    high = middle
            changes.append((high, offset(high)))
        day = following
    return changes


# Local time is plain arithmetic: UTC epoch + the zone's offset at that instant (a CASE over the
# zone's changes, compared on the stored timestamp). The same on both databases, and far cheaper than
# converting every row with a time zone function.
OFFSETS_FROM = datetime(2000, 1, 1, tzinfo=UTC)
HOURS_PER_WEEK = 168
THURSDAY = 3  # 1 January 1970, hour 0 of the epoch, was a Thursday (Monday is 0)


def _offset_case(column: Any, zone: str) -> Any:
    changes = zone_offsets(zone, OFFSETS_FROM, datetime.now(UTC) + timedelta(days=400))
    if len(changes) == 1:
        return literal(changes[0][1])
    # Newest first: recent observations find their offset after a comparison or two.
    branches = [
        (column >= datetime.fromtimestamp(since, UTC), literal(offset))
        for since, offset in reversed(changes[1:])
    ]
    return case(*branches, else_=literal(changes[0][1]))


def _hour_of_week(session: Session, column: Any, offset: Any) -> Any:
    """Local hours since the epoch, modulo a week: one number gives both the weekday and the hour."""
    if _dialect(session) == "postgresql":
        hours = cast(func.floor((func.date_part("epoch", column) + offset) / 3600.0), BigInteger)
    else:
        hours = (cast(func.strftime("%s", column), BigInteger) + offset) // 3600
    return hours % HOURS_PER_WEEK


def _zones(
    session: Session, criteria: ObservationFilter, allowed: Collection[int] | None
) -> dict[str, list[int]]:
    structure = models.Structure
    statement = select(structure.id, structure.timezone)
    if allowed is not None:
        statement = statement.where(col(structure.id).in_(list(allowed)))
    if criteria.programme_id is not None:
        statement = statement.where(structure.programme_id == criteria.programme_id)
    if criteria.structure_id is not None:
        statement = statement.where(structure.id == criteria.structure_id)
    zones: dict[str, list[int]] = {}
    for structure_id, timezone in session.exec(statement).all():
        zones.setdefault(timezone, []).append(structure_id or 0)
    return zones


def _hour_and_weekday(
    session: Session, criteria: ObservationFilter, allowed: Collection[int] | None
) -> tuple[list[int], list[int]]:
    obs = models.Observation
    by_hour = [0] * 24
    by_weekday = [0] * 7
    zones = _zones(session, criteria, allowed)
    if not zones:
        return by_hour, by_weekday
    occurred = col(obs.occurred_at)
    if len(zones) == 1:
        offset = _offset_case(occurred, next(iter(zones)))
    else:
        offset = case(
            *((col(obs.structure_id).in_(ids), _offset_case(occurred, zone)) for zone, ids in zones.items()),
            else_=literal(0),
        )
    # Grouped by output name: the expression carries bound values, which the database would otherwise
    # see as different expressions in SELECT and GROUP BY.
    hour_of_week = _hour_of_week(session, occurred, offset).label("hour_of_week")
    statement = _filter(select(hour_of_week, func.count()), criteria, allowed).group_by(
        literal_column("hour_of_week")
    )
    for week_hour, count in session.exec(statement).all():
        by_weekday[(int(week_hour) // 24 + THURSDAY) % 7] += int(count)
        by_hour[int(week_hour) % 24] += int(count)
    return by_hour, by_weekday


def _durations(
    session: Session,
    criteria: ObservationFilter,
    allowed: Collection[int] | None,
    taxonomy: Taxonomy,
    timed: dict[str, tuple[int, float]],
    observed_seconds: float,
) -> list[DurationStat]:
    obs = models.Observation
    duration = seconds_between(session, col(obs.ended_at), col(obs.occurred_at))
    medians: dict[str, float] = {}
    if _dialect(session) == "postgresql":
        statement = _filter(
            select(obs.category, func.percentile_cont(0.5).within_group(duration)).where(
                col(obs.ended_at).is_not(None)
            ),
            criteria,
            allowed,
        ).group_by(col(obs.category))
        medians = {category: float(median) for category, median in session.exec(statement).all()}
    else:
        for category, (count, _total) in timed.items():
            medians[category] = _sqlite_median(session, duration, category, count, criteria, allowed)
    labels = dict(_grid(taxonomy, "category"))
    stats = [
        DurationStat(
            category=category,
            label=labels.get(category, category),
            events=count,
            median_seconds=medians[category],
            total_seconds=total,
            share_of_observed_time=total / observed_seconds if observed_seconds > 0 else None,
        )
        for category, (count, total) in timed.items()
    ]
    stats.sort(key=lambda stat: -stat.total_seconds)
    return stats


def _sqlite_median(
    session: Session,
    duration: Any,
    category: str,
    count: int,
    criteria: ObservationFilter,
    allowed: Collection[int] | None,
) -> float:
    """The middle value (or the mean of the two middle ones), read by offset from a sorted index scan."""
    obs = models.Observation
    middle = _filter(
        select(duration).where(col(obs.ended_at).is_not(None), obs.category == category), criteria, allowed
    ).order_by(duration)
    values = [float(v) for v in session.exec(middle.offset((count - 1) // 2).limit(2 - count % 2)).all()]
    return sum(values) / len(values)


def compute_dashboard(
    session: Session,
    criteria: ObservationFilter,
    allowed: Collection[int] | None,
    *,
    scope: Literal["structure", "programme"],
    scope_id: int,
    name: str,
    taxonomy: Taxonomy,
) -> Dashboard:
    time_by_structure = observed_time(session, criteria, allowed)
    visits = sum(v for v, _ in time_by_structure.values())
    seconds = sum(s for _, s in time_by_structure.values())
    hours = seconds / 3600
    cube = _cube(session, criteria, allowed)
    values = _value_counts(session, criteria, allowed)
    total = sum(cube.category.values())
    by_hour, by_weekday = _hour_and_weekday(session, criteria, allowed)
    return Dashboard(
        scope=scope,
        scope_id=scope_id,
        name=name,
        taxonomy_version=taxonomy.version,
        visits=visits,
        observed_hours=round(hours, 4),
        observations=total,
        per_hour=_rate(total, hours),
        by_category=_labelled(cube.category, _grid(taxonomy, "category"), hours),
        by_role=_labelled(cube.role, _grid(taxonomy, "role"), hours),
        by_tool=_labelled(cube.tool, _grid(taxonomy, "tool"), hours),
        by_effect=_labelled(cube.effect, _grid(taxonomy, "effect"), hours),
        by_dimension=_labelled(values["dimension"], _grid(taxonomy, "dimension"), hours),
        by_impact=_labelled(values["impact"], _grid(taxonomy, "impact"), hours),
        by_hour=by_hour,
        by_weekday=by_weekday,
        durations=_durations(session, criteria, allowed, taxonomy, cube.timed, seconds),
    )


def _programme_taxonomy(session: Session, programme_id: int) -> Taxonomy:
    programme = session.get(models.Programme, programme_id)
    assert programme is not None
    return load_taxonomy(programme.taxonomy_version)


def structure_dashboard(
    session: Session, reader: models.User, structure_id: int, criteria: ObservationFilter
) -> Dashboard:
    structure = visible_structure(session, reader, structure_id)
    scoped = criteria.model_copy(update={"structure_id": structure_id})
    return compute_dashboard(
        session,
        scoped,
        visible_structure_ids(session, reader),
        scope="structure",
        scope_id=structure_id,
        name=structure.name,
        taxonomy=_programme_taxonomy(session, structure.programme_id),
    )


def programme_dashboard(
    session: Session, reader: models.User, programme_id: int, criteria: ObservationFilter
) -> Dashboard:
    programme = visible_programme(session, reader, programme_id)
    scoped = criteria.model_copy(update={"programme_id": programme_id})
    return compute_dashboard(
        session,
        scoped,
        visible_structure_ids(session, reader),
        scope="programme",
        scope_id=programme_id,
        name=programme.name,
        taxonomy=load_taxonomy(programme.taxonomy_version),
    )


def programme_comparison(
    session: Session, reader: models.User, programme_id: int, criteria: ObservationFilter
) -> Comparison:
    """One row per structure of the programme: observed time, events and rates per observed hour."""
    programme = visible_programme(session, reader, programme_id)
    allowed = visible_structure_ids(session, reader)
    scoped = criteria.model_copy(update={"programme_id": programme_id})
    taxonomy = load_taxonomy(programme.taxonomy_version)
    obs = models.Observation
    time_by_structure = observed_time(session, scoped, allowed)
    by_category: dict[int, dict[str, int]] = {}
    for structure_id, category, count in session.exec(
        _filter(select(obs.structure_id, obs.category, func.count()), scoped, allowed).group_by(
            col(obs.structure_id), col(obs.category)
        )
    ).all():
        by_category.setdefault(structure_id, {})[category] = int(count)
    negative: dict[int, int] = {}
    for structure_id, count in session.exec(
        _filter(
            select(obs.structure_id, func.count()).where(obs.effect == "negative"), scoped, allowed
        ).group_by(col(obs.structure_id))
    ).all():
        negative[structure_id] = int(count)
    structures = session.exec(
        select(models.Structure)
        .where(models.Structure.programme_id == programme_id)
        .order_by(col(models.Structure.name))
    ).all()
    grid = _grid(taxonomy, "category")
    rows = []
    totals: dict[str | None, int] = {}
    programme_seconds = 0.0
    for structure in structures:
        assert structure.id is not None
        if allowed is not None and structure.id not in allowed:
            continue
        if criteria.structure_id is not None and structure.id != criteria.structure_id:
            continue
        visits, seconds = time_by_structure.get(structure.id, (0, 0.0))
        programme_seconds += seconds
        hours = seconds / 3600
        counts = by_category.get(structure.id, {})
        for code, count in counts.items():
            totals[code] = totals.get(code, 0) + count
        observations = sum(counts.values())
        rows.append(
            ComparisonRow(
                structure_id=structure.id,
                name=structure.name,
                kind=structure.kind,
                visits=visits,
                observed_hours=round(hours, 4),
                observations=observations,
                per_hour=_rate(observations, hours),
                category_counts={code: counts.get(code, 0) for code, _ in grid},
                category_rates={code: _rate(counts.get(code, 0), hours) for code, _ in grid},
                negative_share=negative.get(structure.id, 0) / observations if observations else None,
            )
        )
    programme_hours = programme_seconds / 3600
    columns = [
        Count(
            code=code,
            label=label,
            count=totals.get(code, 0),
            per_hour=_rate(totals.get(code, 0), programme_hours),
        )
        for code, label in grid
    ]
    return Comparison(programme_id=programme_id, name=programme.name, categories=columns, rows=rows)
