"""Loading mapping files: text stays text, and every problem is located."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from textwrap import dedent, indent

import pytest

from app.mapping import MappingError, load_mapping_set
from app.mapping.models import Period

HEAD = """\
version: 1
sources:
  jira:
    type: jira
    url: https://acme.atlassian.net
    email: ${JIRA_EMAIL}
    token: ${JIRA_TOKEN}
  gh:
    type: github
objectives:
  - id: obj
    title: An objective
    period: 2026-Q4
    key_results:
"""

ENV = {"JIRA_EMAIL": "admin@example.com", "JIRA_TOKEN": "t0k:en#with&chars"}


def items(text: str) -> str:
    """Key-result list items, indented to sit under HEAD's key_results."""
    return indent(dedent(text), " " * 6)


def load(path: Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return load_mapping_set([path], env=ENV if env is None else env)


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(MappingError) as caught:
        load(path, env)
    return [str(problem) for problem in caught.value.problems]


class TestValidFiles:
    def test_example_mapping_loads(self) -> None:
        env = {"OKRSYNC_SANDBOX_POSTHOG_TOKEN": "phx_test"}
        mappings = load_mapping_set([Path("mappings/example.yaml")], env=env)

        assert "mobile-v2" in mappings.objectives
        assert mappings.key_results["p1-bugs"].spec.direction == "decrease"

    def test_values_that_yaml_11_would_turn_into_booleans_stay_text(
        self, write_mapping: Callable[..., Path]
    ) -> None:
        path = write_mapping(
            HEAD
            + items("""\
                  - id: kr
                    title: NO
                    source: jira
                    metric: issue_count
                    query: project = ON
                    target: 10
                    unit: yes
            """)
        )

        spec = load(path).key_results["kr"].spec

        assert (spec.title, spec.query, spec.unit) == ("NO", "project = ON", "yes")

    def test_secret_arrives_byte_for_byte(
        self, write_mapping: Callable[..., Path]
    ) -> None:
        path = write_mapping(
            HEAD + "      - {id: kr, title: T, source: jira, metric: issue_count,"
            " query: x, target: 3}\n"
        )

        source = load(path).key_results["kr"].source

        assert source is not None
        assert source.config.token.get_secret_value() == "t0k:en#with&chars"  # type: ignore[attr-defined]

    def test_default_value_and_escape(self, write_mapping: Callable[..., Path]) -> None:
        path = write_mapping(
            HEAD
            + items("""\
                  - id: kr
                    title: costs $${NOT_A_VAR}
                    source: gh
                    metric: issue_count
                    query: repo:${REPO:-acme/app} is:issue
                    target: 3
            """)
        )

        spec = load(path).key_results["kr"].spec

        assert spec.title == "costs ${NOT_A_VAR}"
        assert spec.query == "repo:acme/app is:issue"

    def test_folded_and_literal_blocks_read_as_yaml_says(
        self, write_mapping: Callable[..., Path]
    ) -> None:
        path = write_mapping(
            HEAD
            + items("""\
                  - id: kr
                    title: >-
                      Open P1 bugs
                      down to five
                    source: jira
                    metric: issue_count
                    query: |-
                      project = MOB
                      AND labels = P1
                    target: 5
                    start: 9
            """)
        )

        spec = load(path).key_results["kr"].spec

        assert spec.title == "Open P1 bugs down to five"
        assert spec.query == "project = MOB\nAND labels = P1"

    def test_merge_keys_share_definitions(
        self, write_mapping: Callable[..., Path]
    ) -> None:
        path = write_mapping(
            HEAD
            + items("""\
                  - &bugs
                    id: kr1
                    title: Bugs
                    source: gh
                    metric: issue_count
                    query: repo:a/b is:issue
                    start: 10
                    target: 0
                  - <<: *bugs
                    id: kr2
                    query: repo:a/c is:issue
            """)
        )

        krs = load(path).key_results

        assert krs["kr2"].spec.start == 10
        assert krs["kr2"].spec.query == "repo:a/c is:issue"

    @pytest.mark.parametrize(
        ("text", "start", "end"),
        [
            ("2026-Q1", "2026-01-01", "2026-03-31"),
            ("2026-Q4", "2026-10-01", "2026-12-31"),
            ("2024-H1", "2024-01-01", "2024-06-30"),
            ("2026", "2026-01-01", "2026-12-31"),
        ],
    )
    def test_period_names(self, text: str, start: str, end: str) -> None:
        period = Period.parse_name(text)

        assert (period.start.isoformat(), period.end.isoformat()) == (start, end)

    def test_folder_loads_every_yaml_file(self, tmp_path: Path) -> None:
        for name, kr in (("a.yaml", "kr-a"), ("b.yml", "kr-b")):
            text = HEAD.replace("id: obj", f"id: obj-{kr}") + (
                f"      - {{id: {kr}, title: T, target: 1}}\n"
            )
            (tmp_path / name).write_text(text, encoding="utf-8")

        mappings = load_mapping_set([tmp_path], env=ENV)

        assert set(mappings.key_results) == {"kr-a", "kr-b"}


KR = (
    "      - {id: kr, title: T, source: gh, metric: issue_count, query: q, target: 1}\n"
)

BROKEN = [
    pytest.param(
        HEAD + KR.replace("target: 1", "target: lots"),
        15,
        "objectives[0].key_results[0].target",
        "valid number",
        id="number-expected",
    ),
    pytest.param(
        HEAD + KR + "        colour: red\n",
        16,
        "",
        "invalid YAML",
        id="flow-then-block-is-bad-yaml",
    ),
    pytest.param(
        HEAD
        + "      - id: kr\n        title: T\n        target: 1\n        title: U\n",
        18,
        "objectives[0].key_results[0].title",
        "duplicate key 'title' on lines 16 and 18",
        id="duplicate-key",
    ),
    pytest.param(
        HEAD + KR.replace("source: gh", "source: gitlab"),
        15,
        "objectives[0].key_results[0].source",
        "unknown source 'gitlab'; sources in this file: gh, jira",
        id="unknown-source",
    ),
    pytest.param(
        HEAD + KR.replace("issue_count", "issue_total"),
        15,
        "objectives[0].key_results[0].metric",
        "unknown metric 'issue_total' for a github source",
        id="unknown-metric",
    ),
    pytest.param(
        HEAD + KR.replace("query: q, ", ""),
        15,
        "objectives[0].key_results[0].query",
        "required by the issue_count metric",
        id="query-required",
    ),
    pytest.param(
        HEAD.replace("type: github", "type: gitlab") + KR,
        9,
        "sources.gh.type",
        "unknown source type 'gitlab'",
        id="unknown-connector",
    ),
    pytest.param(
        HEAD.replace("${JIRA_TOKEN}", "hunter2") + KR,
        7,
        "sources.jira.token",
        "secrets must not be written in the mapping",
        id="literal-secret",
    ),
    pytest.param(
        HEAD.replace("${JIRA_TOKEN}", "${MISSING_TOKEN}") + KR,
        7,
        "sources.jira.token",
        "environment variable MISSING_TOKEN is not set",
        id="missing-env",
    ),
    pytest.param(
        HEAD.replace("2026-Q4", "2026-Q5") + KR,
        13,
        "objectives[0].period",
        "'2026-Q5' is not a period",
        id="bad-period",
    ),
    pytest.param(
        HEAD + KR.replace("target: 1", "target: 0"),
        15,
        "objectives[0].key_results[0]",
        "target must differ from start",
        id="target-equals-start",
    ),
    pytest.param(
        HEAD + KR + "      - {id: kr, title: Again, target: 2}\n",
        16,
        "objectives[0].key_results[1].id",
        "key result id 'kr' is used twice",
        id="duplicate-id",
    ),
    pytest.param(
        HEAD.replace("version: 1", "version: 2") + KR,
        1,
        "version",
        "version 2 is not supported",
        id="bad-version",
    ),
    pytest.param(
        HEAD.replace("objectives:", "timezone: Mars/Olympus\nobjectives:") + KR,
        10,
        "timezone",
        "unknown time zone 'Mars/Olympus'",
        id="bad-timezone",
    ),
    pytest.param(
        "version: 1\nobjectives: [\n",
        3,
        "",
        "invalid YAML",
        id="syntax-error",
    ),
    pytest.param(
        "- just\n- a list\n",
        1,
        "",
        "the file must be a mapping",
        id="not-a-mapping",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "message"), BROKEN)
def test_broken_file_names_line_and_field(
    write_mapping: Callable[..., Path],
    text: str,
    line: int | None,
    field: str,
    message: str,
) -> None:
    path = write_mapping(text)

    problems = problems_of(path)

    where = f"{path}:{line}" if line else str(path)
    expected_start = f"{where}: {field}:" if field else f"{where}:"
    assert any(p.startswith(expected_start) and message in p for p in problems), (
        problems
    )


def test_every_problem_is_reported_at_once(write_mapping: Callable[..., Path]) -> None:
    text = HEAD.replace("type: github", "type: gitlab") + KR.replace(
        "target: 1", "target: x"
    )

    problems = problems_of(write_mapping(text))

    assert len(problems) >= 2


def test_alias_expansion_is_bounded(write_mapping: Callable[..., Path]) -> None:
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for name, prev in zip("bcdef", "abcde", strict=True):
        bomb.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    path = write_mapping("\n".join(bomb) + "\n")

    problems = problems_of(path)

    assert any("aliases expand to more than" in p for p in problems)


def test_ids_must_be_unique_across_files(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(HEAD + KR, encoding="utf-8")

    with pytest.raises(MappingError) as caught:
        load_mapping_set([tmp_path], env=ENV)

    messages = [problem.message for problem in caught.value.problems]
    assert any("objective id 'obj' is also used in" in m for m in messages)
    assert any("key result id 'kr' is also used in" in m for m in messages)


def test_missing_path_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="no such file or folder"):
        load_mapping_set([tmp_path / "nope.yaml"], env=ENV)
