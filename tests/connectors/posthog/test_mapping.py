"""A PostHog source and key results as an admin writes them in a mapping file."""

from __future__ import annotations

from app.mapping.load import load_text
from connectors.posthog import InsightParams, PostHogConfig

from .conftest import TOKEN

EXAMPLE = """\
version: 1
timezone: Europe/Berlin
sources:
  posthog:
    type: posthog
    url: https://eu.posthog.com
    project_id: 12345
    token: ${POSTHOG_PERSONAL_API_KEY}
objectives:
  - id: growth
    title: Grow the user base
    period: 2026-Q4
    key_results:
      - id: signups
        title: 2000 signups this quarter
        source: posthog
        metric: hogql
        window: period_to_date
        query: >-
          SELECT count() FROM events
          WHERE event = 'signed_up'
          AND timestamp >= toDateTime({window_start})
          AND timestamp < toDateTime({window_end})
        target: 2000
      - id: signups-insight
        title: Signups insight reaches 5000
        source: posthog
        metric: insight
        params:
          insight: sJslPafh
        target: 5000
"""


def test_example_mapping_loads_with_the_key_from_the_environment() -> None:
    env = {"POSTHOG_PERSONAL_API_KEY": TOKEN}

    problems, loaded = load_text(EXAMPLE, "okrs.yaml", env)

    assert problems == []
    assert loaded is not None
    signups = loaded.key_results["signups"]
    assert signups.spec.query is not None
    assert "toDateTime({window_start})" in signups.spec.query
    assert signups.source is not None
    config = signups.source.config
    assert isinstance(config, PostHogConfig)
    assert config.project_id == "12345"
    assert config.token.get_secret_value() == TOKEN
    insight = loaded.key_results["signups-insight"].params
    assert insight == InsightParams(insight="sJslPafh")


def test_key_written_in_the_mapping_is_refused() -> None:
    text = EXAMPLE.replace("${POSTHOG_PERSONAL_API_KEY}", TOKEN)

    problems, loaded = load_text(text, "okrs.yaml", {})

    assert loaded is None
    assert [p.field for p in problems] == ["sources.posthog.token"]
    assert TOKEN not in problems[0].message
