"""Time windows of analytics metrics, in the mapping's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.mapping.models import Period
from app.sync.windows import resolve_window

Q4 = Period.parse_name("2026-Q4")


@pytest.mark.parametrize(
    ("spec", "now", "first", "last"),
    [
        ("period", datetime(2026, 11, 15, 12, tzinfo=UTC), "2026-10-01", "2026-12-31"),
        (None, datetime(2026, 11, 15, 12, tzinfo=UTC), "2026-10-01", "2026-11-15"),
        (
            "period_to_date",
            datetime(2027, 2, 1, tzinfo=UTC),
            "2026-10-01",
            "2026-12-31",
        ),
        ("7d", datetime(2026, 11, 15, 12, tzinfo=UTC), "2026-11-09", "2026-11-15"),
        ("30d", datetime(2026, 11, 15, 12, tzinfo=UTC), "2026-10-17", "2026-11-15"),
        # 23:30 UTC on the 15th is already the 16th in Oslo.
        ("1d", datetime(2026, 11, 15, 23, 30, tzinfo=UTC), "2026-11-16", "2026-11-16"),
    ],
)
def test_window_days(spec: str | None, now: datetime, first: str, last: str) -> None:
    window = resolve_window(spec, Q4, "Europe/Oslo", now)

    assert (window.first_day, window.last_day) == (
        date.fromisoformat(first),
        date.fromisoformat(last),
    )


def test_period_starts_at_local_midnight() -> None:
    window = resolve_window(
        "period", Q4, "Europe/Oslo", datetime(2026, 11, 1, tzinfo=UTC)
    )

    assert window.start == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
