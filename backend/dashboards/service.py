"""Dashboard figures, computed in the database with GROUP BY over indexed columns.

Everything goes through ``apply_observation_filter`` (or, for work dimensions and impacts filtered on
place and dates only, the same conditions on their copies of the observation's columns), so a dashboard
shows exactly what the review list and the exports show for the same filters. Rates are events per
observed hour (the time-motion metric) so that structures observed for longer are compared fairly.
Observed time is the length of the ended visits matching the place and date filters; filters on what
was observed (category, role...) narrow the events, not the time.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import BigInteger, and_, case, cast, func, literal, literal_column, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from backend import models
from backend.auth.access import visible_programme, visible_structure, visible_structure_ids
from backend.dashboards.rates import Rate, rate
from backend.grids.terms import code_merges, code_splits
from backend.grids.versions import current_taxonomy_of
from backend.review.filters import UNSET_LABEL, ObservationFilter, apply_observation_filter
from shared.schema import added_attributes
from shared.taxonomy import Taxonomy

UNSET_CODE = ""
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class Count(BaseModel):
    code: str
    label: str
    count: int
    per_hour: float | None  # events per observed hour; None when nothing was observed
    low: float | None = None  # exact Poisson 95 % interval of ``per_hour``
    high: float | None = None
    fragile: str | None = None  # why the rate should not be read at face value (too little time observed)


class DurationStat(BaseModel):
    """Timed events of one category: how long they last and how much of the observed time they take."""

    category: str
    label: str
    events: int
    median_seconds: float
    total_seconds: float
    share_of_observed_time: float | None


class AttributeCounts(BaseModel):
    """Observations per value of an attribute the programme added to its grid."""

    code: str
    label: str
    multiple: bool
    counts: list[Count]


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
    by_added_attribute: list[AttributeCounts] = []  # the programme's own attributes, in grid order
    by_hour: list[int]  # 24 values, hour of day in each structure's own time zone
    by_weekday: list[int]  # 7 values, Monday first, local time
    rate: Rate  # all events per observed hour, with its interval
    hour_rates: list[Rate]  # per local hour of day: events over the hours observed in that hour
    weekday_rates: list[Rate]  # per local weekday, Monday first
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
    rate: Rate  # all events per observed hour, with its exact 95 % interval
    category_intervals: dict[str, Rate]  # each category's rate with its interval, by code


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


def epoch_seconds(session: Session, moment: Any) -> Any:
    """Seconds since 1970-01-01 UTC, as a SQL expression on either database."""
    if _dialect(session) == "postgresql":
        return func.date_part("epoch", moment)
    return (func.julianday(moment) - 2440587.5) * 86400.0


def seconds_between(session: Session, end: Any, start: Any) -> Any:
    """``end - start`` in seconds, as a SQL expression on either database."""
    if _dialect(session) == "postgresql":
        # date_part gives a double precision; EXTRACT a numeric, several times slower to sum and sort.
        return func.date_part("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _rate(count: int, hours: float) -> float | None:
    return count / hours if hours > 0 else None


def _place_and_dates(
    structure_id: Any, moment: Any, criteria: ObservationFilter, allowed: Collection[int] | None
) -> list[Any]:
    """The filter's structures and days, as the observation filter reads them, on another table."""
    conditions: list[Any] = []
    if allowed is not None:
        conditions.append(structure_id.in_(list(allowed)))
    if criteria.programme_id is not None:
        conditions.append(
            structure_id.in_(
                select(col(models.Structure.id)).where(models.Structure.programme_id == criteria.programme_id)
            )
        )
    if criteria.structure_id is not None:
        conditions.append(structure_id == criteria.structure_id)
    if criteria.date_from is not None:
        conditions.append(moment >= _day_start(criteria.date_from))
    if criteria.date_to is not None:
        conditions.append(moment < _day_start(criteria.date_to + timedelta(days=1)))
    return conditions


def visit_conditions(criteria: ObservationFilter, allowed: Collection[int] | None) -> list[Any]:
    """The visits behind the observed time: same place and dates as the observations' filter."""
    visit = models.Visit
    conditions: list[Any] = [
        visit.deleted == False,  # noqa: E712  (SQL expression)
        *_place_and_dates(col(visit.structure_id), col(visit.started_at), criteria, allowed),
    ]
    if criteria.unit_id is not None:
        conditions.append(visit.unit_id == criteria.unit_id)
    return conditions


def observed_time(
    session: Session, criteria: ObservationFilter, allowed: Collection[int] | None
) -> dict[int, tuple[int, float]]:
    """Per structure: (visits, observed seconds). Visits still open count as visits, not as time."""
    visit = models.Visit
    seconds = seconds_between(session, col(visit.ended_at), col(visit.started_at))
    rows = session.exec(
        select(visit.structure_id, func.count(), func.coalesce(func.sum(seconds), 0.0))
        .where(*visit_conditions(criteria, allowed))
        .group_by(col(visit.structure_id))
    ).all()
    return {structure_id: (int(count), float(total)) for structure_id, count, total in rows}


def split_by_local_hour(
    start: datetime, end: datetime, zone: ZoneInfo, by_hour: list[float], by_weekday: list[float]
) -> None:
    """A visit across a change of offset (summer time): cut at each local hour, zone conversions and all."""
    moment = start
    while moment < end:
        local = moment.astimezone(zone)
        into_hour = timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
        following = min(end, moment + timedelta(hours=1) - into_hour)
        seconds = (following - moment).total_seconds()
        by_hour[local.hour] += seconds
        by_weekday[local.weekday()] += seconds
        moment = following


@dataclass
class ObservedTime:
    """Visits and observed seconds per structure, and the same seconds by local hour of day (24) and
    weekday (7, Monday first): the denominators of every rate."""

    by_structure: dict[int, tuple[int, float]]
    by_hour: list[float]
    by_weekday: list[float]


def observed_time_by_slot(
    session: Session, criteria: ObservationFilter, allowed: Collection[int] | None
) -> ObservedTime:
    """What ``observed_time`` says, and its seconds split by local hour and weekday in each structure's
    time zone, from one read of the visits (a few thousand rows where observations are a million: each
    visit spans a few hours and is cut at each local hour here)."""
    visit, structure = models.Visit, models.Structure
    # Epoch seconds straight from the database: no datetime built per row, no zone conversion per visit.
    statement: Any = (
        sa_select(epoch_seconds(session, col(visit.started_at)), epoch_seconds(session, col(visit.ended_at)))
        .add_columns(col(structure.timezone), col(visit.structure_id))
        .join(structure, col(structure.id) == col(visit.structure_id))
        .where(*visit_conditions(criteria, allowed))
    )
    by_structure: dict[int, tuple[int, float]] = {}
    by_hour, by_weekday = [0.0] * 24, [0.0] * 7
    today = datetime.now(UTC).date()
    zones: dict[str, tuple[tuple[tuple[int, int], ...], list[int]]] = {}
    for start, end, zone, structure_id in session.exec(statement).all():
        visits, seconds = by_structure.get(structure_id, (0, 0.0))
        by_structure[structure_id] = (
            visits + 1,
            seconds + (float(end) - float(start) if end is not None else 0.0),
        )
        if end is None:  # still open: a visit, not yet observed time
            continue
        if zone not in zones:
            table = _zone_changes(zone, today)
            zones[zone] = (table, [change[0] for change in table])
        changes, since = zones[zone]
        first = max(bisect.bisect_right(since, start) - 1, 0)
        if first != max(bisect.bisect_right(since, end) - 1, 0):  # across a change of offset (summer time)
            moments = (datetime.fromtimestamp(float(start), UTC), datetime.fromtimestamp(float(end), UTC))
            split_by_local_hour(*moments, ZoneInfo(zone), by_hour, by_weekday)
            continue
        # One offset all along (nearly every visit): plain arithmetic on local seconds since the epoch.
        moment = float(start) + changes[first][1]
        until = float(end) + changes[first][1]
        while moment < until:
            hour = int(moment // 3600)
            following = min(until, (hour + 1) * 3600.0)
            since_monday = (hour + EPOCH_HOURS_AFTER_MONDAY) % HOURS_PER_WEEK
            by_hour[since_monday % 24] += following - moment
            by_weekday[since_monday // 24] += following - moment
            moment = following
    return ObservedTime(by_structure, by_hour, by_weekday)


@dataclass
class _Cube:
    """Counts by category x role x tool x effect, from ONE scan, folded into each dimension here
    (a few hundred groups at most)."""

    category: dict[str | None, int]
    role: dict[str | None, int]
    tool: dict[str | None, int]
    effect: dict[str | None, int]


def _sides(moment: Any, split: datetime | None) -> list[Any]:
    """With a ``split``, one more GROUP BY column (0 before it, 1 from it), so that both sides come from
    one scan; without, none (the dashboard's queries stay as they were)."""
    return [] if split is None else [case((moment < split, 0), else_=1).label("side")]


def _cube(
    session: Session,
    criteria: ObservationFilter,
    allowed: Collection[int] | None,
    split: datetime | None = None,
) -> list[_Cube]:
    """One cube, or two (before ``split`` and from it) from the same scan."""
    obs = models.Observation
    columns = (
        *_sides(col(obs.occurred_at), split),
        col(obs.category),
        col(obs.role),
        col(obs.tool),
        col(obs.effect),
    )
    statement = _filter(sa_select(*columns, func.count()), criteria, allowed).group_by(*columns)
    cubes = [_Cube({}, {}, {}, {}), _Cube({}, {}, {}, {})]
    for *index, category, role, tool, effect, count in session.exec(statement).all():
        cube = cubes[int(index[0]) if index else 0]
        for counts, code in (
            (cube.category, category),
            (cube.role, role),
            (cube.tool, tool),
            (cube.effect, effect),
        ):
            counts[code] = counts.get(code, 0) + int(count)
    return cubes if split is not None else cubes[:1]


# The filters that the copies of the observation's columns in ``observation_attribute_value`` answer.
VALUE_COPIED_FILTERS = frozenset({"programme_id", "structure_id", "date_from", "date_to"})


def _value_counts(
    session: Session,
    criteria: ObservationFilter,
    allowed: Collection[int] | None,
    split: datetime | None = None,
) -> list[dict[str, dict[str | None, int]]]:
    """Work dimensions, impacts and the programme's added attributes (one row per value) in one query;
    two sets around ``split`` if given.

    Filtered on place and dates only (the dashboard's own filters), the values are counted from
    their copies of the observation's columns: an index-only scan, no join. Any other filter needs the
    observation's other columns, hence the join.
    """
    value = models.ObservationAttributeValue
    columns = (*_sides(col(value.occurred_at), split), col(value.attribute), col(value.code))
    statement: Any = sa_select(*columns, func.count())
    other_filters = set(ObservationFilter.model_fields) - VALUE_COPIED_FILTERS
    if all(getattr(criteria, name) is None for name in other_filters):
        statement = statement.where(
            value.deleted == False,  # noqa: E712  (SQL expression)
            *_place_and_dates(col(value.structure_id), col(value.occurred_at), criteria, allowed),
        )
    else:
        obs = models.Observation
        statement = _filter(
            statement.select_from(obs).join(
                value,
                and_(
                    col(value.observation_id) == col(obs.id),
                    col(value.structure_id) == col(obs.structure_id),  # narrows the values read
                ),
            ),
            criteria,
            allowed,
        )
    sides: list[dict[str, dict[str | None, int]]] = [{"dimension": {}, "impact": {}} for _ in range(2)]
    for *index, attribute, code, count in session.exec(statement.group_by(*columns)):
        counts = sides[int(index[0]) if index else 0]
        counts.setdefault(attribute, {})[code] = int(count)
    return sides if split is not None else sides[:1]


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
        with_interval = rate(row.count, hours)
        row.per_hour, row.low, row.high = with_interval.per_hour, with_interval.low, with_interval.high
        row.fragile = with_interval.fragile
    return rows


def follow_codes(counts: dict[str | None, int], merges: dict[str, str]) -> dict[str | None, int]:
    """Counts with each code merged into another by a later grid version counted under that one."""
    if not merges:
        return counts
    followed: dict[str | None, int] = {}
    for code, count in counts.items():
        target = merges.get(code, code) if code is not None else None
        followed[target] = followed.get(target, 0) + count
    return followed


def with_splits(
    taxonomy: Taxonomy,
    attribute: str,
    splits: dict[str, dict[str, str]],
    counts: dict[str | None, int] | dict[str, int],
) -> list[tuple[str, str]]:
    """The codes of the grid, and after them each code a later version split that still has observations
    in ``counts``: a row of its own, « X (avant scission, non ventilé) », never shared out."""
    grid = grid_of(taxonomy, attribute)
    current = {code for code, _ in grid}
    split = splits.get(attribute, {})
    return grid + [(code, label) for code, label in split.items() if code not in current and counts.get(code)]


def grid_of(taxonomy: Taxonomy, attribute: str) -> list[tuple[str, str]]:
    """The codes of the category or an attribute, in grid order, with their French labels."""
    if attribute == "category":
        return [(c.code, c.label.fr) for c in taxonomy.categories]
    return [(v.code, v.label.fr) for v in taxonomy.attribute(attribute).values]


ATTRIBUTES_COMPARED = ("category", "role", "tool", "effect", "dimension", "impact")


def counts_by_attribute(
    session: Session,
    criteria: ObservationFilter,
    allowed: Collection[int] | None,
    split: datetime | None = None,
) -> list[dict[str, dict[str | None, int]]]:
    """Observations per code of the category and of each attribute a comparison reads (those the programme
    added included): one set, or two (before ``split`` and from it) from the same scans."""
    cubes = _cube(session, criteria, allowed, split)
    values = _value_counts(session, criteria, allowed, split)
    return [
        {
            "category": cube.category,
            "role": cube.role,
            "tool": cube.tool,
            "effect": cube.effect,
            **value,  # work dimensions, impacts and the attributes the programme added
        }
        for cube, value in zip(cubes, values, strict=True)
    ]


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


# Local time is plain arithmetic: UTC + the zone's offset at that instant. The offset is constant between
# two changes of the zone, so the hour of week is counted in one branch per such stretch of time (a
# range of an index), each adding its own constant: the same on both databases, and far cheaper than
# converting every row with a time zone function or choosing its offset with a CASE.
OFFSETS_FROM = datetime(2000, 1, 1, tzinfo=UTC)
HOURS_PER_WEEK = 168
EPOCH_HOURS_AFTER_MONDAY = 72  # 1970-01-01 was a Thursday
WEEK_SECONDS = HOURS_PER_WEEK * 3600
MONDAY = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday, midnight UTC
# The epoch began on a Thursday, 72 hours after a Monday's midnight; the whole weeks added keep every
# moment the schema accepts (from year 2) positive, where integer division and modulo agree.
SQLITE_WEEK_SHIFT = 72 * 3600 + 104_000 * WEEK_SECONDS


@lru_cache(maxsize=64)
def _zone_changes(zone: str, today: date) -> tuple[tuple[int, int], ...]:
    """``zone_offsets`` from OFFSETS_FROM to a year ahead, worked out once a day per zone."""
    return tuple(zone_offsets(zone, OFFSETS_FROM, _day_start(today) + timedelta(days=400)))


def _offset_periods(
    zone: str, first: datetime, last: datetime
) -> list[tuple[datetime | None, datetime | None, int]]:
    """The zone's offsets in force between two moments: (from, until, offset in seconds), oldest
    first; the first has no start and the last no end, so that together they cover every moment."""
    changes = _zone_changes(zone, datetime.now(UTC).date())
    periods = []
    for index, (since, offset) in enumerate(changes):
        start = datetime.fromtimestamp(since, UTC) if index else None
        following = changes[index + 1][0] if index + 1 < len(changes) else None
        end = datetime.fromtimestamp(following, UTC) if following is not None else None
        if (start is None or start <= last) and (end is None or end > first):
            periods.append((start, end, offset))
    return periods


def _hour_of_week(session: Session, column: Any, offset: int) -> Any:
    """Hours since Monday midnight, local time, for moments when the zone is ``offset`` seconds
    ahead of UTC: an interval on PostgreSQL (``date_bin``, 14 and later: integer arithmetic on the
    stored timestamp), an integer on SQLite."""
    if _dialect(session) == "postgresql":
        origin = literal(MONDAY - timedelta(seconds=offset))  # a Monday midnight, local time
        return func.date_bin(literal(timedelta(hours=1)), column, origin) - func.date_bin(
            literal(timedelta(days=7)), column, origin
        )
    seconds = cast(func.strftime("%s", column), BigInteger) + (offset + SQLITE_WEEK_SHIFT)
    return seconds // 3600 % HOURS_PER_WEEK


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


def _span(
    session: Session, structure_ids: Collection[int], criteria: ObservationFilter
) -> tuple[datetime, datetime] | None:
    """The first and last moments observed in these structures, within the filter's days (None when
    there are none): they bound the stretches of constant offset worth counting. Read from the ends of
    an index, one structure at a time; the other filters only narrow what lies in between."""
    obs = models.Observation
    occurred = col(obs.occurred_at)
    branches: list[Any] = [
        sa_select(func.min(occurred).label("first"), func.max(occurred).label("last")).where(
            col(obs.structure_id) == structure_id,
            col(obs.deleted) == False,  # noqa: E712  (SQL expression)
        )
        for structure_id in structure_ids
    ]
    source: Any = branches[0] if len(branches) == 1 else union_all(*branches)
    ends = source.subquery()
    statement: Any = sa_select(func.min(ends.c.first), func.max(ends.c.last))
    first, last = session.exec(statement).one()
    if first is None or last is None:
        return None
    if criteria.date_from is not None:
        first = max(first, _day_start(criteria.date_from))
    if criteria.date_to is not None:
        last = min(last, _day_start(criteria.date_to + timedelta(days=1)))
    return (first, last) if first <= last else None


def _hour_and_weekday(
    session: Session, criteria: ObservationFilter, allowed: Collection[int] | None
) -> tuple[list[int], list[int]]:
    """Observations by local hour of day and weekday."""
    obs = models.Observation
    by_hour = [0] * 24
    by_weekday = [0] * 7
    zones = _zones(session, criteria, allowed)
    span = _span(session, [i for ids in zones.values() for i in ids], criteria) if zones else None
    if span is None:
        return by_hour, by_weekday
    occurred = col(obs.occurred_at)
    branches: list[Any] = []
    for zone, ids in zones.items():
        for start, end, offset in _offset_periods(zone, *span):
            branch = select(_hour_of_week(session, occurred, offset).label("hour_of_week"))
            if len(zones) > 1:
                branch = branch.where(col(obs.structure_id).in_(ids))
            if start is not None:
                branch = branch.where(occurred >= start)
            if end is not None:
                branch = branch.where(occurred < end)
            branches.append(_filter(branch, criteria, allowed))
    source: Any = branches[0] if len(branches) == 1 else union_all(*branches)
    hours = source.subquery()
    statement: Any = sa_select(hours.c.hour_of_week, func.count()).group_by(hours.c.hour_of_week)
    for since_monday, count in session.exec(statement).all():
        week_hour = (
            since_monday // timedelta(hours=1) if isinstance(since_monday, timedelta) else since_monday
        )
        by_weekday[week_hour // 24] += int(count)
        by_hour[week_hour % 24] += int(count)
    return by_hour, by_weekday


def _durations(
    session: Session,
    criteria: ObservationFilter,
    allowed: Collection[int] | None,
    taxonomy: Taxonomy,
    observed_seconds: float,
    merges: dict[str, str] | None = None,
    splits: dict[str, str] | None = None,
) -> list[DurationStat]:
    """Timed events by category: how many, their total length and (on PostgreSQL) their median, from
    one scan of the timed events only. A category merged into another by a later version counts as that
    one, its events in the same median (the mapping applied in the query, not to per-code figures); a
    category split by a later version keeps a row of its own."""
    merges = merges or {}
    obs = models.Observation
    duration = seconds_between(session, col(obs.ended_at), col(obs.occurred_at))
    postgresql = _dialect(session) == "postgresql"
    category_now: Any = (
        case(merges, value=col(obs.category), else_=col(obs.category)) if merges else col(obs.category)
    )
    # Grouped by the output column's name: PostgreSQL would not match the CASE's parameters in GROUP BY.
    category_now = category_now.label("category_now")
    columns = [category_now, func.count(), func.sum(duration)]
    if postgresql:
        columns.append(func.percentile_cont(0.5).within_group(duration))
    statement = _filter(
        sa_select(*columns).where(col(obs.ended_at).is_not(None)), criteria, allowed
    ).group_by(literal_column("category_now"))
    labels = {**(splits or {}), **dict(grid_of(taxonomy, "category"))}
    stats = []
    for category, count, total, *median in session.exec(statement).all():
        codes = [category, *(old for old, new in merges.items() if new == category)]
        middle = (
            float(median[0]) if median else _sqlite_median(session, duration, codes, count, criteria, allowed)
        )
        stats.append(
            DurationStat(
                category=category,
                label=labels.get(category, category),
                events=int(count),
                median_seconds=middle,
                total_seconds=float(total),
                share_of_observed_time=float(total) / observed_seconds if observed_seconds > 0 else None,
            )
        )
    stats.sort(key=lambda stat: -stat.total_seconds)
    return stats


def _sqlite_median(
    session: Session,
    duration: Any,
    categories: list[str],
    count: int,
    criteria: ObservationFilter,
    allowed: Collection[int] | None,
) -> float:
    """The middle value (or the mean of the two middle ones), read by offset from a sorted index scan."""
    obs = models.Observation
    middle = _filter(
        select(duration).where(col(obs.ended_at).is_not(None), col(obs.category).in_(categories)),
        criteria,
        allowed,
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
    merges: dict[str, dict[str, str]] | None = None,
    splits: dict[str, dict[str, str]] | None = None,
) -> Dashboard:
    """``merges``: codes merged by later grid versions, by attribute (backend.grids.terms.code_merges);
    ``splits``: codes split by later versions, with their rows' labels (backend.grids.terms.code_splits)."""
    merges, splits = merges or {}, splits or {}

    def labelled(counts: dict[str | None, int], attribute: str) -> list[Count]:
        followed = follow_codes(counts, merges.get(attribute, {}))
        return _labelled(followed, with_splits(taxonomy, attribute, splits, followed), hours)

    observed = observed_time_by_slot(session, criteria, allowed)
    time_by_structure = observed.by_structure
    visits = sum(v for v, _ in time_by_structure.values())
    seconds = sum(s for _, s in time_by_structure.values())
    hours = seconds / 3600
    (cube,) = _cube(session, criteria, allowed)
    (values,) = _value_counts(session, criteria, allowed)
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
        by_category=labelled(cube.category, "category"),
        by_role=labelled(cube.role, "role"),
        by_tool=labelled(cube.tool, "tool"),
        by_effect=labelled(cube.effect, "effect"),
        by_dimension=labelled(values["dimension"], "dimension"),
        by_impact=labelled(values["impact"], "impact"),
        by_added_attribute=[
            AttributeCounts(
                code=a.code,
                label=a.label.fr,
                multiple=a.multiple,
                counts=labelled(values.get(a.code, {}), a.code),
            )
            for a in added_attributes(taxonomy)
        ],
        by_hour=by_hour,
        by_weekday=by_weekday,
        rate=rate(total, hours),
        hour_rates=[rate(n, t / 3600) for n, t in zip(by_hour, observed.by_hour, strict=True)],
        weekday_rates=[rate(n, t / 3600) for n, t in zip(by_weekday, observed.by_weekday, strict=True)],
        durations=_durations(
            session,
            criteria,
            allowed,
            taxonomy,
            seconds,
            merges.get("category", {}),
            splits.get("category", {}),
        ),
    )


def _scope_dashboard(
    session: Session,
    reader: models.User,
    criteria: ObservationFilter,
    scope: Literal["structure", "programme"],
    scope_id: int,
    name: str,
    programme_id: int,
) -> Dashboard:
    """The dashboard of one structure or programme, counting only what the reader may read, in the terms of
    the programme's current grid (codes merged by a later version counted under their new code)."""
    scoped = criteria.model_copy(update={f"{scope}_id": scope_id})
    allowed = visible_structure_ids(session, reader)
    taxonomy = current_taxonomy_of(session, programme_id)
    return compute_dashboard(
        session,
        scoped,
        allowed,
        scope=scope,
        scope_id=scope_id,
        name=name,
        taxonomy=taxonomy,
        merges=code_merges(session, programme_id),
        splits=code_splits(session, programme_id),
    )


def structure_dashboard(
    session: Session, reader: models.User, structure_id: int, criteria: ObservationFilter
) -> Dashboard:
    structure = visible_structure(session, reader, structure_id)
    return _scope_dashboard(
        session, reader, criteria, "structure", structure_id, structure.name, structure.programme_id
    )


def programme_dashboard(
    session: Session, reader: models.User, programme_id: int, criteria: ObservationFilter
) -> Dashboard:
    programme = visible_programme(session, reader, programme_id)
    return _scope_dashboard(
        session, reader, criteria, "programme", programme_id, programme.name, programme_id
    )


def programme_comparison(
    session: Session, reader: models.User, programme_id: int, criteria: ObservationFilter
) -> Comparison:
    """One row per structure of the programme: observed time, events and rates per observed hour."""
    programme = visible_programme(session, reader, programme_id)
    allowed = visible_structure_ids(session, reader)
    scoped = criteria.model_copy(update={"programme_id": programme_id})
    taxonomy = current_taxonomy_of(session, programme_id)
    merges = code_merges(session, programme_id).get("category", {})
    obs = models.Observation
    time_by_structure = observed_time(session, scoped, allowed)
    by_category: dict[int, dict[str, int]] = {}
    for structure_id, category, count in session.exec(
        _filter(select(obs.structure_id, obs.category, func.count()), scoped, allowed).group_by(
            col(obs.structure_id), col(obs.category)
        )
    ).all():
        counted = by_category.setdefault(structure_id, {})
        code = merges.get(category, category)
        counted[code] = counted.get(code, 0) + int(count)
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
    totals_by_code: dict[str, int] = {}
    for counted in by_category.values():
        for code, count in counted.items():
            totals_by_code[code] = totals_by_code.get(code, 0) + count
    grid = with_splits(taxonomy, "category", code_splits(session, programme_id), totals_by_code)
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
                rate=rate(observations, hours),
                category_intervals={code: rate(counts.get(code, 0), hours) for code, _ in grid},
            )
        )
    programme_hours = programme_seconds / 3600
    columns = []
    for code, label in grid:
        total = rate(totals.get(code, 0), programme_hours)
        columns.append(
            Count(
                code=code,
                label=label,
                count=total.count,
                per_hour=total.per_hour,
                low=total.low,
                high=total.high,
                fragile=total.fragile,
            )
        )
    return Comparison(programme_id=programme_id, name=programme.name, categories=columns, rows=rows)
