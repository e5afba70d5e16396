"""An http_json source and key results as an admin writes them in a mapping file."""

from __future__ import annotations

from app.mapping.load import load_text
from connectors.http_json import HttpJsonConfig, ValueParams

from .conftest import API_KEY

MAPPING = """\
version: 1
sources:
  stats:
    type: http_json
    url: https://metrics.example.test/api/v2
    headers:
      X-Api-Key: ${STATS_KEY}
objectives:
  - id: growth
    title: Grow
    period: 2026-Q4
    key_results:
      - id: signups
        title: Weekly signups
        source: stats
        metric: value
        params:
          path: /search
          method: POST
          body: {limit: 10, flag: true, name: "10", tags: [a, 2]}
          select: %s
        target: 500
"""


def test_yaml_body_reaches_the_params_with_yaml_1_2_types() -> None:
    problems, loaded = load_text(
        MAPPING % "data.total", "okrs.yaml", {"STATS_KEY": API_KEY}
    )

    assert problems == []
    assert loaded is not None
    kr = loaded.key_results["signups"]
    assert isinstance(kr.params, ValueParams)
    assert kr.params.body == {"limit": 10, "flag": True, "name": "10", "tags": ["a", 2]}
    assert kr.source is not None
    assert isinstance(kr.source.config, HttpJsonConfig)
    assert kr.source.config.headers == {"X-Api-Key": API_KEY}


def test_bad_select_is_reported_on_its_line_naming_the_expression() -> None:
    problems, loaded = load_text(
        MAPPING % "data.[", "okrs.yaml", {"STATS_KEY": API_KEY}
    )

    assert loaded is None
    assert len(problems) == 1
    assert problems[0].line == 21
    assert "select 'data.[' is not a valid JMESPath expression" in problems[0].message


EXAMPLE = """\
version: 1
sources:
  stats:
    type: http_json
    url: https://stats.example.com/api/v2
    headers:
      X-Api-Key: ${STATS_API_KEY}
objectives:
  - id: growth
    title: Grow signups
    period: 2026-Q4
    key_results:
      - id: weekly-signups
        title: Weekly signups reach 500
        source: stats
        metric: value
        params:
          path: /signups/summary
          query: {range: 7d}
          select: data.signups.total
        target: 500
      - id: open-incidents
        title: Open incidents down to 2
        source: stats
        metric: value
        params:
          path: /incidents/search
          method: POST
          body: {status: open, limit: 100}
          select: length(items)
        start: 12
        target: 2
"""


def test_example_mapping_loads() -> None:
    problems, loaded = load_text(EXAMPLE, "okrs.yaml", {"STATS_API_KEY": API_KEY})

    assert problems == []
    assert loaded is not None
    incidents = loaded.key_results["open-incidents"].params
    assert isinstance(incidents, ValueParams)
    assert incidents.body == {"status": "open", "limit": 100}
    weekly = loaded.key_results["weekly-signups"].params
    assert isinstance(weekly, ValueParams)
    assert weekly.query == {"range": "7d"}
