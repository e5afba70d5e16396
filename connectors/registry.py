"""Finds connectors through the `okrsync.connectors` entry-point group.

Built-in connectors register exactly as a third-party package would, in its
`pyproject.toml`::

    [project.entry-points."okrsync.connectors"]
    mytool = "mytool_okrsync:MyToolConnector"
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import entry_points

from connectors.base import Connector

logger = logging.getLogger(__name__)

GROUP = "okrsync.connectors"

AnyConnector = type[Connector]  # type: ignore[type-arg]


class UnknownConnectorError(LookupError):
    """No installed connector answers to the given type name."""


@cache
def available() -> dict[str, AnyConnector]:
    """Every installed connector, by its type name."""
    found: dict[str, AnyConnector] = {}
    for entry in entry_points(group=GROUP):
        try:
            loaded = entry.load()
        except Exception:
            logger.exception(
                "Could not load connector %r from %s", entry.name, entry.value
            )
            continue
        if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
            logger.error("Entry point %r is not a Connector subclass", entry.name)
            continue
        found[entry.name] = loaded
    return found


def get(type_name: str) -> AnyConnector:
    """The connector class for a source's `type:`."""
    connectors = available()
    try:
        return connectors[type_name]
    except KeyError:
        names = ", ".join(sorted(connectors)) or "none installed"
        raise UnknownConnectorError(
            f"unknown source type {type_name!r}; installed types: {names}"
        ) from None
