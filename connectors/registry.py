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


_broken: dict[str, str] = {}
"""Entry points that failed to load, with the reason, for error messages."""


@cache
def available() -> dict[str, AnyConnector]:
    """Every installed connector that loads, by its type name."""
    found: dict[str, AnyConnector] = {}
    for entry in entry_points(group=GROUP):
        try:
            loaded = entry.load()
        except Exception as exc:
            logger.warning("Could not load connector %r: %s", entry.name, exc)
            _broken[entry.name] = f"{type(exc).__name__}: {exc}"
            continue
        if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
            logger.warning("Entry point %r is not a Connector subclass", entry.name)
            _broken[entry.name] = f"{entry.value} is not a Connector subclass"
            continue
        found[entry.name] = loaded
    return found


def get(type_name: str) -> AnyConnector:
    """The connector class for a source's `type:`."""
    connectors = available()
    try:
        return connectors[type_name]
    except KeyError:
        if type_name in _broken:
            raise UnknownConnectorError(
                f"the {type_name!r} connector is installed but does not load "
                f"({_broken[type_name]})"
            ) from None
        names = ", ".join(sorted(connectors)) or "none installed"
        raise UnknownConnectorError(
            f"unknown source type {type_name!r}; installed types: {names}"
        ) from None
