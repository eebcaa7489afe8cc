"""One visit as a sequence in time: timed events as bars on lanes (overlaps = multitasking, visible as
stacked lanes), point events as marks, each interruption linked to the timed task it fell into; and the
visit's figures (events per hour, share of time in timed events, multitasking time, interruptions).

Pure functions over plain values: the service reads the rows, the template draws what this lays out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from backend.dashboards.rates import Rate, rate

INTERRUPTION = "interruption"
WIDTH = 1000.0  # the SVG's user units across the visit
LANE_HEIGHT = 22.0
MARKS_HEIGHT = 30.0  # the band of point marks, above the lanes


@dataclass(frozen=True)
class TimedEvent:
    observation_id: UUID
    category: str
    start: datetime
    end: datetime | None  # None: a point event
    task_resumed: bool | None = None  # an interruption: whether the task it interrupted was resumed


class Bar(BaseModel):
    observation_id: UUID
    category: str
    x: float
    width: float
    lane: int
    seconds: float


class Mark(BaseModel):
    observation_id: UUID
    category: str
    x: float
    interrupts: UUID | None  # the timed task going on when this interruption happened


class Link(BaseModel):
    x: float
    y1: float
    y2: float


class VisitFigures(BaseModel):
    observed_seconds: float | None  # None while the visit is open
    events: int
    events_per_hour: float | None
    events_rate: Rate | None = None  # the same with its exact 95 % interval (None while the visit is open)
    timed_seconds: float  # time covered by at least one timed event
    timed_share: float | None
    timed_share_by_category: dict[str, float]
    multitasking_seconds: float  # time covered by two timed events or more
    interruptions: int
    interruptions_per_hour: float | None
    interruptions_rate: Rate | None = None
    interruptions_during_a_task: int
    # Interruptions for which the observer said whether the task was resumed (WOMBAT), and how many were.
    resumption_known: int
    resumed: int
    resumed_share: float | None  # of those known; None when none is


class Timeline(BaseModel):
    width: float
    height: float
    lanes: int
    bars: list[Bar]
    marks: list[Mark]
    links: list[Link]
    ticks: list[tuple[float, datetime]]  # x and moment of each quarter-hour tick
    figures: VisitFigures


def _covered(intervals: list[tuple[float, float]], depth: int) -> float:
    """Seconds covered by at least ``depth`` of these intervals (a sweep over their ends)."""
    edges = sorted(
        [(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda p: (p[0], p[1])
    )
    covered, open_now, since = 0.0, 0, 0.0
    for moment, step in edges:
        if open_now >= depth:
            covered += moment - since
        open_now += step
        since = moment
    return covered


def _lanes(bars: list[tuple[float, float]]) -> list[int]:
    """The first free lane for each bar, in start order: overlapping bars never share one."""
    lane_ends: list[float] = []
    lanes = []
    for start, end in bars:
        for lane, busy_until in enumerate(lane_ends):
            if busy_until <= start:
                lane_ends[lane] = end
                lanes.append(lane)
                break
        else:
            lane_ends.append(end)
            lanes.append(len(lane_ends) - 1)
    return lanes


def _ticks(start: datetime, seconds: float, scale: float) -> list[tuple[float, datetime]]:
    step = 900 if seconds <= 4 * 3600 else 3600
    first = step - (start.minute * 60 + start.second) % step
    return [
        (offset * scale, datetime.fromtimestamp(start.timestamp() + offset, start.tzinfo))
        for offset in range(int(first) % step, int(seconds) + 1, step)
    ]


def lay_out(visit_start: datetime, visit_end: datetime | None, events: list[TimedEvent]) -> Timeline:
    """``events`` in time order; an open visit is drawn up to its last event."""
    last = max([visit_start, *(e.end or e.start for e in events)])
    end = visit_end if visit_end is not None and visit_end >= last else last
    span = max((end - visit_start).total_seconds(), 60.0)
    scale = WIDTH / span

    def offset(moment: datetime) -> float:
        return max(0.0, (moment - visit_start).total_seconds())

    timed = [e for e in events if e.end is not None]
    intervals = [(offset(e.start), max(offset(e.start), offset(e.end))) for e in timed if e.end is not None]
    lanes = _lanes(intervals)
    bars = [
        Bar(
            observation_id=e.observation_id,
            category=e.category,
            x=s * scale,
            width=max((f - s) * scale, 2.0),
            lane=lane,
            seconds=f - s,
        )
        for e, (s, f), lane in zip(timed, intervals, lanes, strict=True)
    ]
    marks, links = [], []
    for e in events:
        if e.end is not None:
            continue
        at = offset(e.start)
        during = [b for b in bars if b.x <= at * scale <= b.x + b.width] if e.category == INTERRUPTION else []
        # The task interrupted: of those going on, the one started last (the one in hand).
        task = max(during, key=lambda b: b.x) if during else None
        marks.append(
            Mark(
                observation_id=e.observation_id,
                category=e.category,
                x=at * scale,
                interrupts=task and task.observation_id,
            )
        )
        if task is not None:
            links.append(
                Link(x=at * scale, y1=MARKS_HEIGHT - 8, y2=MARKS_HEIGHT + task.lane * LANE_HEIGHT + 4)
            )
    observed = (visit_end - visit_start).total_seconds() if visit_end is not None else None
    hours = observed / 3600 if observed else None
    by_category: dict[str, list[tuple[float, float]]] = {}
    for bar, interval in zip(bars, intervals, strict=True):
        by_category.setdefault(bar.category, []).append(interval)
    interruptions = [m for m in marks if m.category == INTERRUPTION]
    told = [e.task_resumed for e in events if e.category == INTERRUPTION and e.task_resumed is not None]
    timed_seconds = _covered(intervals, 1)
    figures = VisitFigures(
        observed_seconds=observed,
        events=len(events),
        events_per_hour=len(events) / hours if hours else None,
        events_rate=rate(len(events), hours) if hours else None,
        timed_seconds=timed_seconds,
        timed_share=timed_seconds / observed if observed else None,
        timed_share_by_category={
            c: _covered(spans, 1) / observed for c, spans in by_category.items() if observed
        },
        multitasking_seconds=_covered(intervals, 2),
        interruptions=len(interruptions),
        interruptions_per_hour=len(interruptions) / hours if hours else None,
        interruptions_rate=rate(len(interruptions), hours) if hours else None,
        interruptions_during_a_task=sum(1 for m in interruptions if m.interrupts is not None),
        resumption_known=len(told),
        resumed=sum(told),
        resumed_share=sum(told) / len(told) if told else None,
    )
    lane_count = max(lanes, default=-1) + 1
    return Timeline(
        width=WIDTH,
        height=MARKS_HEIGHT + max(lane_count, 1) * LANE_HEIGHT + 24,
        lanes=lane_count,
        bars=bars,
        marks=marks,
        links=links,
        ticks=_ticks(visit_start, span, scale),
        figures=figures,
    )
