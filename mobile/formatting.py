"""Times, durations and rates as the observer reads them, in French or English. No Kivy here.

Records keep UTC; the screens show the tablet's local time, as the observer's watch does.
"""

from __future__ import annotations

from datetime import datetime

from shared.schema import REVIEW_STATUS_LABELS, ReviewStatus
from shared.taxonomy import Language


def clock(seconds: float) -> str:
    """A running clock: ``04:07`` under an hour, ``1:04:07`` beyond."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def duration(seconds: float) -> str:
    """A finished duration, the same in both languages: ``1 h 05 min``, ``12 min 03 s``, ``45 s``."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def rate(value: float, language: Language) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "fr" else text


def local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S")


def local_day_and_time(moment: datetime, language: Language) -> str:
    local = moment.astimezone()
    return local.strftime("%d/%m %H:%M") if language == "fr" else local.strftime("%m/%d %H:%M")


def review_status(status: str, language: Language) -> str:
    """A facilitator's review status in words; a status this app version does not know, as sent."""
    try:
        return REVIEW_STATUS_LABELS[ReviewStatus(status)][language]
    except ValueError:
        return status
