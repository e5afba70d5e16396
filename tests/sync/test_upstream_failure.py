"""A real connector failing upstream: the last good value stays, marked stale."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import respx

from app.mapping import load_mapping_set
from app.service import Service
from app.store import repository

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jira"

MAPPING = """\
version: 1
sources:
  jira:
    type: jira
    url: https://jira.example.test
    deployment: datacenter
objectives:
  - id: obj
    title: Objective
    period: 2026-Q4
    key_results:
      - id: done
        title: Issues done
        source: jira
        metric: done_percent
        query: project = KP
        target: 100
"""


async def test_410_keeps_the_last_value_and_marks_it_stale(
    service: Service, write_mapping: Callable[..., Path]
) -> None:
    recorded = json.loads((FIXTURES / "search.v2.total-18.json").read_text())
    issues = recorded["issues"]
    done = sum(i["fields"]["status"]["statusCategory"]["key"] == "done" for i in issues)
    await service.use_mappings(load_mapping_set([write_mapping(MAPPING)], env={}))
    search = "https://jira.example.test/rest/api/2/search"

    with respx.mock(assert_all_called=True) as upstream:
        upstream.post(search).mock(return_value=httpx.Response(200, json=recorded))
        await service.sync()
    gone = {"errorMessages": ["The requested API has been removed."]}
    with respx.mock(assert_all_called=True) as upstream:
        route = upstream.post(search).mock(return_value=httpx.Response(410, json=gone))
        report = await service.sync()

    assert route.call_count == 1
    async with service.database.session() as session:
        row = await repository.get_key_result(session, "done")
        count = await repository.count_measurements(session, "done")
    assert row is not None
    assert row.value == 100 * done / len(issues)
    assert row.stale
    assert "410" in (row.last_error or "")
    assert "has been removed" in (row.last_error or "")
    assert count == 1
    assert report.failed[0].key_result_id == "done"
