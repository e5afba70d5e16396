"""Progress math, as tables of cases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.progress import (
    Status,
    elapsed_share,
    key_result_progress,
    progress_of,
    status_for,
    status_of,
    weighted_progress,
)


@pytest.mark.parametrize(
    ("value", "start", "target", "expected"),
    [
        (50, 0, 100, 0.5),
        (0, 0, 100, 0.0),
        (150, 0, 100, 1.0),
        (-10, 0, 100, 0.0),
        (40, 40, 5, 0.0),
        (22.5, 40, 5, 0.5),
        (5, 40, 5, 1.0),
        (2, 40, 5, 1.0),
        (60, 40, 5, 0.0),
        (None, 0, 100, None),
    ],
    ids=[
        "half",
        "at-start",
        "beyond-target-clamped",
        "below-start-clamped",
        "decrease-at-start",
        "decrease-half",
        "decrease-done",
        "decrease-beyond",
        "decrease-worse",
        "no-value",
    ],
)
def test_key_result_progress(
    value: float | None, start: float, target: float, expected: float | None
) -> None:
    assert key_result_progress(value, start, target) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 9, 1, tzinfo=UTC), 0.0),
        (datetime(2026, 9, 30, 22, 0, tzinfo=UTC), 0.0),
        (datetime(2027, 1, 5, tzinfo=UTC), 1.0),
    ],
    ids=["before", "start-in-oslo", "after"],
)
def test_elapsed_share_bounds(now: datetime, expected: float) -> None:
    share = elapsed_share(date(2026, 10, 1), date(2026, 12, 31), now, "Europe/Oslo")

    assert share == expected


def test_elapsed_share_counts_whole_days_in_the_zone() -> None:
    # 2026-Q4 in UTC has 92 days; noon on 15 November is 45.5 days in.
    now = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)

    share = elapsed_share(date(2026, 10, 1), date(2026, 12, 31), now, "UTC")

    assert share == pytest.approx(45.5 / 92)


@pytest.mark.parametrize(
    ("progress", "expected_share", "status"),
    [
        (None, 0.5, Status.NO_DATA),
        (0.475, 0.5, Status.ON_TRACK),
        (0.474, 0.5, Status.AT_RISK),
        (0.375, 0.5, Status.AT_RISK),
        (0.374, 0.5, Status.OFF_TRACK),
        (0.0, 0.0, Status.ON_TRACK),
        (1.0, 1.0, Status.ON_TRACK),
        (0.9, 1.0, Status.AT_RISK),
    ],
)
def test_status_against_expected_progress(
    progress: float | None, expected_share: float, status: Status
) -> None:
    assert status_of(progress, expected_share) == status


def test_custom_thresholds() -> None:
    assert status_of(0.4, 0.5, on_track=0.8, at_risk=0.5) == Status.ON_TRACK
    assert status_of(0.3, 0.5, on_track=0.8, at_risk=0.5) == Status.AT_RISK


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([(0.5, 2), (1.0, 1)], 2 / 3),
        ([(0.5, 1), (None, 5)], 0.5),
        ([(None, 1)], None),
        ([], None),
    ],
    ids=["weighted", "skips-no-data", "all-missing", "empty"],
)
def test_weighted_progress(
    items: list[tuple[float | None, float]], expected: float | None
) -> None:
    result = weighted_progress(items)

    assert result == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("kind", "value", "threshold", "expected"),
    [
        ("stay_below", 299.0, 300.0, 1.0),
        ("stay_below", 300.0, 300.0, 1.0),
        ("stay_below", 300.1, 300.0, 0.0),
        ("stay_above", 0.04, 0.04, 1.0),
        ("stay_above", 0.039, 0.04, 0.0),
        ("stay_above", None, 0.04, None),
    ],
    ids=["below", "exactly-below", "over", "exactly-above", "under", "no-value"],
)
def test_thresholds_hold_or_not(
    kind: str, value: float | None, threshold: float, expected: float | None
) -> None:
    assert (
        progress_of(kind, value, start=threshold, target=threshold, threshold=threshold)
        == expected
    )


@pytest.mark.parametrize(
    ("value", "start", "target", "expected"),
    [
        (0, 0, 1, 0.0),
        (1, 0, 1, 1.0),
        (99, 0, 100, 0.0),
        (100, 0, 100, 1.0),
        (3, 9, 3, 1.0),
    ],
)
def test_milestone_is_done_or_not(
    value: float, start: float, target: float, expected: float
) -> None:
    assert progress_of("milestone", value, start=start, target=target) == expected


@pytest.mark.parametrize(
    ("kind", "progress", "elapsed", "status"),
    [
        ("stay_below", 1.0, 0.99, Status.ON_TRACK),
        ("stay_below", 0.0, 0.01, Status.OFF_TRACK),
        ("milestone", 0.0, 0.5, Status.ON_TRACK),
        ("milestone", 0.0, 0.8, Status.AT_RISK),
        ("milestone", 0.0, 1.0, Status.OFF_TRACK),
        ("milestone", 1.0, 1.0, Status.ON_TRACK),
        ("increase", 0.2, 0.5, Status.OFF_TRACK),
        ("milestone", None, 0.5, Status.NO_DATA),
    ],
)
def test_status_by_kind(
    kind: str, progress: float | None, elapsed: float, status: Status
) -> None:
    assert status_for(kind, progress, elapsed) == status
