"""Readable keys for GitHub issues and pull requests, for evidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit


def is_pull_request(item: Mapping[str, Any]) -> bool:
    """Whether an item from an issue endpoint is a pull request.

    GitHub's issue list and search endpoints return pull requests too; only
    the presence of a `pull_request` object tells them apart.
    """
    return isinstance(item.get("pull_request"), Mapping)


def repo_of(item: Mapping[str, Any]) -> str | None:
    """The `owner/name` an issue belongs to, from its API or web URL."""
    api_url = item.get("repository_url")
    if isinstance(api_url, str):
        segments = urlsplit(api_url).path.strip("/").split("/")
        # Enterprise Server puts /api/v3 before /repos/, so look for the marker.
        if "repos" in segments:
            at = len(segments) - 1 - segments[::-1].index("repos")
            if len(segments) >= at + 3:
                return f"{segments[at + 1]}/{segments[at + 2]}"
    html_url = item.get("html_url")
    if isinstance(html_url, str):
        segments = urlsplit(html_url).path.strip("/").split("/")
        if len(segments) >= 4 and segments[2] in ("issues", "pull"):
            return f"{segments[0]}/{segments[1]}"
    return None


def item_key(item: Mapping[str, Any]) -> str:
    """A key such as `acme/app#12`, or `acme/app#12 (PR)` for a pull request."""
    repo = repo_of(item) or ""
    key = f"{repo}#{item.get('number', '?')}"
    return f"{key} (PR)" if is_pull_request(item) else key


def item_keys(items: Iterable[Any], cap: int) -> list[str]:
    """Keys of the first `cap` well-formed items; anything else is skipped."""
    keys: list[str] = []
    for item in items:
        if len(keys) >= cap:
            break
        if isinstance(item, Mapping):
            keys.append(item_key(item))
    return keys
