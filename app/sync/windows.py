"""Turns a key result's `window:` into the time span a metric is measured over.

Windows are whole local days in the mapping's time zone:

- `period`: the objective's whole period.
- `period_to_date` (the default): from the period's first day up to now, or to
  its end once it is over.
- `7d`, `30d`, ...: the last N days including today (N whole local days,
  today counting as one even while it is under way).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.mapping.models import Period
from connectors.base import Window

DEFAULT_WINDOW = "period_to_date"


def resolve_window(
    spec: str | None, period: Period, timezone: str, now: datetime
) -> Window:
    """The window `spec` names, for an objective's period, seen at `now`."""
    zone = ZoneInfo(timezone)
    now = now.astimezone(zone)
    period_start = _midnight(period.start, zone)
    period_end = _midnight(period.end + timedelta(days=1), zone)
    spec = spec or DEFAULT_WINDOW
    if spec == "period":
        return Window(period_start, period_end)
    if spec == "period_to_date":
        end = min(max(now, period_start), period_end)
        return Window(period_start, end)
    days = int(spec.removesuffix("d"))
    start = _midnight(now.date() - timedelta(days=days - 1), zone)
    return Window(start, now)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone)
