"""Evidence keys for issues and pull requests."""

from __future__ import annotations

import pytest

from connectors.github.items import is_pull_request, item_key, item_keys


@pytest.mark.parametrize(
    ("item", "key"),
    [
        (
            {"number": 3, "repository_url": "https://api.github.com/repos/a/b"},
            "a/b#3",
        ),
        (
            {"number": 4, "html_url": "https://github.com/acme/web/pull/4"},
            "acme/web#4",
        ),
        (
            {"number": 5, "html_url": "https://ghe.example.test/acme/web/issues/5"},
            "acme/web#5",
        ),
        ({"number": 6}, "#6"),
    ],
)
def test_key_names_the_repo_from_api_or_web_url(item: dict, key: str) -> None:
    assert item_key(item) == key


def test_only_a_pull_request_object_marks_a_pull_request() -> None:
    assert is_pull_request({"pull_request": {"url": "x"}})
    assert not is_pull_request({"pull_request": None})
    assert not is_pull_request({"title": "pull_request in the title"})


def test_keys_are_capped_and_malformed_items_skipped() -> None:
    items = ["junk", *({"number": n} for n in range(1, 10))]

    assert item_keys(items, cap=3) == ["#1", "#2", "#3"]
