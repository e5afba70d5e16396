"""Connectors: plug-ins that turn an upstream query into a number with evidence."""
