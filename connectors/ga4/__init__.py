"""Google Analytics 4 connector (GA4 Data API, service account auth)."""

from connectors.ga4.config import GA4Config, MetricParams, ServiceAccount
from connectors.ga4.connector import GA4Connector

__all__ = ["GA4Config", "GA4Connector", "MetricParams", "ServiceAccount"]
