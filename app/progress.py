"""Progress math: value → progress → status → objective roll-up. No I/O.

Key-result progress is how far the value has moved from start to target,
clamped to 0..1, so it works the same for decreasing key results. Status
compares progress with the share of the period that has passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Status(StrEnum):
    """Where a key result or objective stands against the calendar."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"


def key_result_progress(
    value: float | None, start: float, target: float
) -> float | None:
    """Share of the way from start to target, clamped to 0..1; None without a value."""
    if value is None or target == start:
        return None
    raw = (value - start) / (target - start)
    return min(1.0, max(0.0, raw))


def elapsed_share(start: date, end: date, now: datetime, timezone: str) -> float:
    """Share of the period [start, end] (whole days, local time) that has passed."""
    zone = ZoneInfo(timezone)
    begins = datetime.combine(start, time.min, zone)
    ends = datetime.combine(end + timedelta(days=1), time.min, zone)
    share = (now - begins) / (ends - begins)
    return min(1.0, max(0.0, share))


def status_of(
    progress: float | None,
    expected: float,
    *,
    on_track: float = 0.95,
    at_risk: float = 0.75,
) -> Status:
    """Compare progress with the expected progress (the elapsed share).

    On track at or above `on_track` × expected, at risk at or above
    `at_risk` × expected, off track below. Nothing is behind before the
    period starts, and a finished key result is on track.
    """
    if progress is None:
        return Status.NO_DATA
    if progress >= 1.0 or progress >= on_track * expected:
        return Status.ON_TRACK
    if progress >= at_risk * expected:
        return Status.AT_RISK
    return Status.OFF_TRACK


def weighted_progress(items: Iterable[tuple[float | None, float]]) -> float | None:
    """Weighted mean of the progress values that exist; None when none do."""
    total = weight_sum = 0.0
    for progress, weight in items:
        if progress is None:
            continue
        total += progress * weight
        weight_sum += weight
    return total / weight_sum if weight_sum else None
