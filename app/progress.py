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


def progress_of(
    kind: str,
    value: float | None,
    *,
    start: float,
    target: float,
    threshold: float | None = None,
) -> float | None:
    """Progress of any kind of key result; None without a value.

    `increase` / `decrease`: the share of the way from start to target.
    `stay_above` / `stay_below`: 1 while the value holds at or beyond the
    threshold (exactly on it counts as holding), else 0.
    `milestone`: 1 once the value reaches target, else 0.
    """
    if value is None:
        return None
    if kind == "stay_above" and threshold is not None:
        return 1.0 if value >= threshold else 0.0
    if kind == "stay_below" and threshold is not None:
        return 1.0 if value <= threshold else 0.0
    if kind == "milestone":
        reached = value >= target if target >= start else value <= target
        return 1.0 if reached else 0.0
    return key_result_progress(value, start, target)


MILESTONE_AT_RISK_SHARE = 0.75
"""An unfinished milestone is at risk once this share of the period has passed."""


def status_for(
    kind: str,
    progress: float | None,
    expected: float,
    *,
    on_track: float = 0.95,
    at_risk: float = 0.75,
) -> Status:
    """Status of any kind of key result; see `status_of` for moving targets.

    A threshold that holds is on track and one that does not is off track,
    whatever the date. An unfinished milestone is on track until the last
    quarter of the period, at risk then, and off track once the period ends.
    """
    if progress is None:
        return Status.NO_DATA
    if kind in ("stay_above", "stay_below"):
        return Status.ON_TRACK if progress >= 1.0 else Status.OFF_TRACK
    if kind == "milestone" and progress < 1.0:
        if expected >= 1.0:
            return Status.OFF_TRACK
        if expected >= MILESTONE_AT_RISK_SHARE:
            return Status.AT_RISK
        return Status.ON_TRACK
    return status_of(progress, expected, on_track=on_track, at_risk=at_risk)


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
