"""Mixpanel connector (Query API segmentation, service account auth)."""

from connectors.mixpanel.config import EventCountParams, MixpanelConfig
from connectors.mixpanel.connector import MixpanelConnector

__all__ = ["EventCountParams", "MixpanelConfig", "MixpanelConnector"]
