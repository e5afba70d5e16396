"""Every query and write the service makes. Nothing else touches the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, func, insert, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import progress
from app.mapping.load import MappingSet
from app.mapping.models import KeyResult
from app.store.tables import (
    KeyResultRow,
    MeasurementRow,
    ObjectiveRow,
    SyncRow,
)


@dataclass(frozen=True)
class KeyResultUpdate:
    """What one sync learned about one key result."""

    key_result_id: str
    ok: bool
    value: float | None = None
    error: str | None = None
    error_kind: str | None = None
    evidence: dict[str, Any] | None = None
    next_try_at: datetime | None = None


async def save_definitions(
    session: AsyncSession, mappings: MappingSet, now: datetime
) -> None:
    """Upsert objectives and key results from the mappings; archive the rest.

    Archived rows keep their history and stay readable by id.
    """
    objectives = {row.id: row for row in await session.exec(select(ObjectiveRow))}
    key_results = {row.id: row for row in await session.exec(select(KeyResultRow))}
    for position, (objective, mapping, file) in enumerate(mappings.objectives.values()):
        row = objectives.pop(objective.id, None) or ObjectiveRow(
            id=objective.id,
            title=objective.title,
            period_label=objective.period.label,
            period_start=objective.period.start,
            period_end=objective.period.end,
            updated_at=now,
        )
        _set(
            row,
            now,
            **{
                "title": objective.title,
                "team": objective.team,
                "owner": objective.owner,
                "description": objective.description,
                "period_label": objective.period.label,
                "period_start": objective.period.start,
                "period_end": objective.period.end,
                "timezone": mapping.timezone,
                "mapping_file": file,
                "position": position,
                "archived": False,
            },
        )
        session.add(row)
    for position, (kr_id, loaded) in enumerate(mappings.key_results.items()):
        spec = loaded.spec
        start, target = start_and_target(spec)
        kr_row = key_results.pop(kr_id, None) or KeyResultRow(
            id=kr_id,
            objective_id=loaded.objective.id,
            title=spec.title,
            start=start,
            target=target,
            updated_at=now,
        )
        _set(
            kr_row,
            now,
            **{
                "objective_id": loaded.objective.id,
                "position": position,
                "title": spec.title,
                "source": spec.source,
                "source_type": loaded.source.config.type if loaded.source else None,
                "metric": spec.metric,
                "query": loaded.written.get("query"),
                "params": loaded.written.get("params") or None,
                "start": start,
                "target": target,
                "unit": spec.unit,
                "weight": spec.weight,
                # A threshold to stay below is better low, like a decrease.
                "direction": spec.direction
                or ("decrease" if spec.kind == "stay_below" else "increase"),
                "kind": spec.kind,
                "threshold": spec.threshold,
                "window": spec.window,
                "archived": False,
            },
        )
        session.add(kr_row)
    leftovers: list[ObjectiveRow | KeyResultRow] = [
        *objectives.values(),
        *key_results.values(),
    ]
    for leftover in leftovers:
        _set(leftover, now, archived=True)
        session.add(leftover)
    await session.flush()
    await refresh_scores(session, mappings, now)


@dataclass(frozen=True)
class ScoreChange:
    """A key result's or objective's progress or status moved.

    `before` and `after` hold `progress` and `status` (and `value` for a key
    result); `before` is None the first time something is scored.
    """

    subject: Literal["key_result", "objective"]
    id: str
    objective_id: str
    team: str | None
    before: dict[str, Any] | None
    after: dict[str, Any]

    @property
    def progress_changed(self) -> bool:
        return self.before is None or self.before["progress"] != self.after["progress"]

    @property
    def status_changed(self) -> bool:
        return self.before is None or self.before["status"] != self.after["status"]


async def refresh_scores(
    session: AsyncSession,
    mappings: MappingSet,
    now: datetime,
    previous_values: dict[str, float | None] | None = None,
) -> list[ScoreChange]:
    """Recompute progress and status of every active key result and objective.

    Returns what moved, so callers can tell subscribers in the same
    transaction. `previous_values` are key results' values before this
    transaction changed them (as `apply_updates` returns them).
    """
    previous = previous_values or {}
    changes: list[ScoreChange] = []
    rows = await session.exec(
        select(KeyResultRow).where(col(KeyResultRow.archived).is_(False))
    )
    by_objective: dict[str, list[KeyResultRow]] = {}
    for row in rows:
        by_objective.setdefault(row.objective_id, []).append(row)
    objective_rows = await session.exec(
        select(ObjectiveRow).where(col(ObjectiveRow.archived).is_(False))
    )
    for objective in objective_rows:
        entry = mappings.objectives.get(objective.id)
        if entry is None:
            continue
        thresholds = entry[1].status
        expected = progress.elapsed_share(
            objective.period_start, objective.period_end, now, objective.timezone
        )
        krs = by_objective.get(objective.id, [])
        for kr in krs:
            kr_progress = progress.progress_of(
                kr.kind,
                kr.value,
                start=kr.start,
                target=kr.target,
                threshold=kr.threshold,
            )
            kr_status = progress.status_for(
                kr.kind,
                kr_progress,
                expected,
                on_track=thresholds.on_track,
                at_risk=thresholds.at_risk,
            )
            before = _score(kr, previous)
            _set(kr, now, progress=kr_progress, status=kr_status.value)
            session.add(kr)
            changes += _change("key_result", kr, objective, before, _score(kr))
        rolled = progress.weighted_progress((kr.progress, kr.weight) for kr in krs)
        status = progress.status_of(
            rolled, expected, on_track=thresholds.on_track, at_risk=thresholds.at_risk
        )
        before = _score(objective)
        # The elapsed share moves with the clock alone; it is stored for
        # readers but is not a change worth a new revision or updated_since.
        objective.expected = expected
        _set(objective, now, progress=rolled, status=status.value)
        session.add(objective)
        changes += _change("objective", objective, objective, before, _score(objective))
    return changes


def _score(
    row: ObjectiveRow | KeyResultRow, previous: dict[str, float | None] | None = None
) -> dict[str, Any]:
    score: dict[str, Any] = {"progress": row.progress, "status": row.status}
    if isinstance(row, KeyResultRow):
        score["value"] = (previous or {}).get(row.id, row.value)
    return score


def _change(
    subject: Literal["key_result", "objective"],
    row: ObjectiveRow | KeyResultRow,
    objective: ObjectiveRow,
    before: dict[str, Any],
    after: dict[str, Any],
) -> list[ScoreChange]:
    if before == after:
        return []
    first = before["status"] == "no_data" and before["progress"] is None
    return [
        ScoreChange(
            subject,
            row.id,
            objective.id,
            objective.team,
            None if first else before,
            after,
        )
    ]


def start_and_target(spec: KeyResult) -> tuple[float, float]:
    """Stored start and target; a threshold key result stores its threshold."""
    if spec.threshold is not None:
        return spec.threshold, spec.threshold
    return spec.start or 0.0, spec.target if spec.target is not None else 1.0


def _set(row: ObjectiveRow | KeyResultRow, now: datetime, **values: Any) -> None:
    """Assign values, touching `updated_at` only when something changed."""
    changed = any(getattr(row, name) != value for name, value in values.items())
    if changed:
        row.sqlmodel_update(values)
        _touch(row, now)


def _touch(row: ObjectiveRow | KeyResultRow, now: datetime) -> None:
    """Mark a visible change: a new revision (for ETags) and time."""
    row.revision += 1
    row.updated_at = now


async def apply_updates(
    session: AsyncSession,
    updates: Sequence[KeyResultUpdate],
    *,
    sync_id: str,
    now: datetime,
) -> tuple[dict[str, str], dict[str, float | None]]:
    """Store what a sync learned.

    A failure keeps the last good value and marks it stale; a new value is
    recorded in history only when it differs from the last one.

    Returns:
        Each key result's outcome name, and the values they had before.
    """
    ids = [update.key_result_id for update in updates]
    rows = {
        row.id: row
        for row in await session.exec(
            # Locked in id order: a sync on another replica that stores the
            # same key results waits, then sees this one's values, so neither
            # records a value twice (and the fixed order rules out deadlocks).
            select(KeyResultRow)
            .where(col(KeyResultRow.id).in_(ids))
            .order_by(col(KeyResultRow.id))
            .with_for_update()
        )
    }
    outcomes: dict[str, str] = {}
    previous: dict[str, float | None] = {}
    measurements: list[dict[str, Any]] = []
    for update in updates:
        row = rows.get(update.key_result_id)
        if row is None:
            continue
        previous[row.id] = row.value
        outcomes[row.id] = _apply_one(session, row, update, now, measurements)
    for measurement in measurements:
        measurement["sync_id"] = sync_id
    if measurements:
        # One multi-row INSERT: through the ORM each row would be its own
        # statement, to read back ids that nothing here needs.
        connection = await session.connection()
        await connection.execute(insert(MeasurementRow), measurements)
    return outcomes, previous


def _apply_one(
    session: AsyncSession,
    row: KeyResultRow,
    update: KeyResultUpdate,
    now: datetime,
    measurements: list[dict[str, Any]],
) -> str:
    if not update.ok:
        row.stale = True
        row.last_error = update.error
        row.error_kind = update.error_kind
        row.next_try_at = update.next_try_at
        _touch(row, now)
        session.add(row)
        return "misconfigured" if update.error_kind == "configuration" else "failed"

    changed = row.synced_at is None or row.value != update.value
    if changed:
        measurements.append(
            {
                "key_result_id": row.id,
                "measured_at": now,
                "value": update.value,
                "source": row.source,
                "evidence": update.evidence,
            }
        )
    # Every successful read moves synced_at, which readers see: touch the row.
    _touch(row, now)
    row.value = update.value
    row.evidence = update.evidence
    row.synced_at = now
    row.stale = False
    row.last_error = None
    row.error_kind = None
    row.next_try_at = None
    session.add(row)
    return "updated" if changed else "unchanged"


@dataclass(frozen=True)
class ObjectiveFilter:
    """Which objectives a list shows, and which page of them."""

    team: str | None = None
    period: str | None = None
    status: str | None = None
    updated_since: datetime | None = None
    after: tuple[int, str] | None = None
    """(position, id) of the last objective on the previous page."""
    limit: int | None = None


async def list_objectives(
    session: AsyncSession, where: ObjectiveFilter | None = None
) -> tuple[list[ObjectiveRow], dict[str, list[KeyResultRow]]]:
    """Active objectives matching the filter, in mapping order, with their
    key results."""
    where = where or ObjectiveFilter()
    query = select(ObjectiveRow).where(col(ObjectiveRow.archived).is_(False))
    if where.team is not None:
        query = query.where(ObjectiveRow.team == where.team)
    if where.period is not None:
        query = query.where(ObjectiveRow.period_label == where.period)
    if where.status is not None:
        query = query.where(ObjectiveRow.status == where.status)
    if where.updated_since is not None:
        recent_krs = select(KeyResultRow.objective_id).where(
            col(KeyResultRow.updated_at) > where.updated_since
        )
        query = query.where(
            or_(
                col(ObjectiveRow.updated_at) > where.updated_since,
                col(ObjectiveRow.id).in_(recent_krs),
            )
        )
    if where.after is not None:
        position, last_id = where.after
        query = query.where(
            or_(
                col(ObjectiveRow.position) > position,
                and_(
                    col(ObjectiveRow.position) == position,
                    col(ObjectiveRow.id) > last_id,
                ),
            )
        )
    query = query.order_by(col(ObjectiveRow.position), col(ObjectiveRow.id))
    if where.limit is not None:
        query = query.limit(where.limit)
    objectives = list(await session.exec(query))
    key_results = await _key_results_of(session, [row.id for row in objectives])
    return objectives, key_results


async def data_version(session: AsyncSession) -> tuple[int, int, int]:
    """Changes whenever anything a progress read shows changes, in one query.

    Every objective and key result adds its revision plus one: rows are never
    deleted and revisions only grow, so a new row or any change moves a sum.
    Measurements are only ever added, so the newest id moves with them.
    """

    def scalar(expression: Any, table: Any) -> Any:
        return select(func.coalesce(expression, 0)).select_from(table).scalar_subquery()

    query = select(
        scalar(func.sum(ObjectiveRow.revision + 1), ObjectiveRow),
        scalar(func.sum(KeyResultRow.revision + 1), KeyResultRow),
        scalar(func.max(MeasurementRow.id), MeasurementRow),
    )
    objectives, key_results, measurements = (await session.exec(query)).one()
    return int(objectives), int(key_results), int(measurements)


async def get_objective(
    session: AsyncSession, objective_id: str
) -> tuple[ObjectiveRow, list[KeyResultRow]] | None:
    """One objective (archived ones too) with its key results."""
    objective = await session.get(ObjectiveRow, objective_id)
    if objective is None:
        return None
    key_results = await _key_results_of(session, [objective_id])
    return objective, key_results.get(objective_id, [])


async def _key_results_of(
    session: AsyncSession, objective_ids: list[str]
) -> dict[str, list[KeyResultRow]]:
    if not objective_ids:
        return {}
    rows = await session.exec(
        select(KeyResultRow)
        .where(col(KeyResultRow.objective_id).in_(objective_ids))
        .where(col(KeyResultRow.archived).is_(False))
        .order_by(col(KeyResultRow.position))
    )
    grouped: dict[str, list[KeyResultRow]] = {}
    for row in rows:
        grouped.setdefault(row.objective_id, []).append(row)
    return grouped


async def get_key_result(session: AsyncSession, kr_id: str) -> KeyResultRow | None:
    """One key result by id, archived ones included."""
    return await session.get(KeyResultRow, kr_id)


async def history(
    session: AsyncSession,
    kr_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[MeasurementRow]:
    """Measurements of a key result, oldest first, within [since, until]."""
    query = select(MeasurementRow).where(MeasurementRow.key_result_id == kr_id)
    if since is not None:
        query = query.where(col(MeasurementRow.measured_at) >= since)
    if until is not None:
        query = query.where(col(MeasurementRow.measured_at) <= until)
    order = (col(MeasurementRow.measured_at), col(MeasurementRow.id))
    return list(await session.exec(query.order_by(*order)))


async def latest_measurements(
    session: AsyncSession, kr_id: str, count: int = 2
) -> list[MeasurementRow]:
    """The newest measurements of a key result, newest first."""
    query = (
        select(MeasurementRow)
        .where(MeasurementRow.key_result_id == kr_id)
        .order_by(col(MeasurementRow.measured_at).desc(), col(MeasurementRow.id).desc())
        .limit(count)
    )
    return list(await session.exec(query))


async def count_measurements(session: AsyncSession, kr_id: str) -> int:
    """How many measurements a key result has."""
    query = select(func.count()).where(MeasurementRow.key_result_id == kr_id)
    return int((await session.exec(query)).one())


async def create_sync(
    session: AsyncSession, sync_id: str, trigger: str, now: datetime
) -> SyncRow:
    """A queued sync run."""
    row = SyncRow(id=sync_id, trigger=trigger, state="queued", created_at=now)
    session.add(row)
    return row


async def get_sync(session: AsyncSession, sync_id: str) -> SyncRow | None:
    """One sync run by id."""
    return await session.get(SyncRow, sync_id)


async def check_in(
    session: AsyncSession,
    row: KeyResultRow,
    value: float,
    *,
    note: str | None,
    confidence: float | None,
    now: datetime,
) -> tuple[MeasurementRow, float | None]:
    """Record a hand-entered value; return it and the value it replaces.

    Unlike a sync, a check-in is always recorded, even when the value is the
    same: it says someone looked.
    """
    measurement = MeasurementRow(
        key_result_id=row.id,
        measured_at=now,
        value=value,
        source="check-in",
        note=note,
        confidence=confidence,
    )
    session.add(measurement)
    previous = row.value
    row.value = value
    row.synced_at = now
    row.stale = False
    row.last_error = None
    _touch(row, now)
    session.add(row)
    await session.flush()
    return measurement, previous
