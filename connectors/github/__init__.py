"""GitHub connector (github.com and GitHub Enterprise Server)."""

from connectors.github.config import GitHubConfig, MilestoneParams, ProjectParams
from connectors.github.connector import GitHubConnector

__all__ = ["GitHubConfig", "GitHubConnector", "MilestoneParams", "ProjectParams"]
