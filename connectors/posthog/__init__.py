"""PostHog connector (US and EU Cloud, self-hosted): HogQL queries and insights."""

from connectors.posthog.config import InsightParams, PostHogConfig
from connectors.posthog.connector import PostHogConnector

__all__ = ["InsightParams", "PostHogConfig", "PostHogConnector"]
