"""A Prometheus source and key result as an admin writes them in a mapping file."""

from __future__ import annotations

from app.mapping.load import load_text
from connectors.prometheus import PrometheusConfig

from .conftest import TOKEN

EXAMPLE = """\
version: 1
sources:
  prom:
    type: prometheus
    url: https://prometheus.example.com
    token: ${PROMETHEUS_TOKEN}
objectives:
  - id: reliability
    title: A reliable API
    period: 2026-Q4
    key_results:
      - id: api-success-ratio
        title: 99.9 % of API requests succeed
        source: prom
        metric: query
        query: >-
          100 * sum(rate(http_requests_total{job="api", code!~"5.."}[30d]))
          / sum(rate(http_requests_total{job="api"}[30d]))
        start: 99
        target: 99.9
        unit: "%"
"""


def test_example_mapping_loads_with_the_token_from_the_environment() -> None:
    problems, loaded = load_text(EXAMPLE, "okrs.yaml", {"PROMETHEUS_TOKEN": TOKEN})

    assert problems == []
    assert loaded is not None
    kr = loaded.key_results["api-success-ratio"]
    assert kr.spec.query is not None
    assert kr.spec.query.startswith('100 * sum(rate(http_requests_total{job="api"')
    assert kr.source is not None
    assert isinstance(kr.source.config, PrometheusConfig)
    assert kr.source.config.token is not None
    assert kr.source.config.token.get_secret_value() == TOKEN


def test_token_written_in_the_mapping_is_refused() -> None:
    text = EXAMPLE.replace("${PROMETHEUS_TOKEN}", TOKEN)

    problems, loaded = load_text(text, "okrs.yaml", {})

    assert loaded is None
    assert [p.field for p in problems] == ["sources.prom.token"]
    assert TOKEN not in problems[0].message
