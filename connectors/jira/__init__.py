"""Jira connector: JQL issue counts, done percentages and field sums."""

from connectors.jira.config import FieldSumParams, JiraConfig
from connectors.jira.connector import JiraConnector

__all__ = ["FieldSumParams", "JiraConfig", "JiraConnector"]
