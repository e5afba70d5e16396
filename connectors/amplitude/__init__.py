"""Amplitude connector (Dashboard REST API event segmentation)."""

from connectors.amplitude.config import AmplitudeConfig, EventCountParams
from connectors.amplitude.connector import AmplitudeConnector

__all__ = ["AmplitudeConfig", "AmplitudeConnector", "EventCountParams"]
