"""Prometheus connector (and servers with its HTTP API: Thanos, Mimir, ...)."""

from connectors.prometheus.config import PrometheusConfig
from connectors.prometheus.connector import PrometheusConnector

__all__ = ["PrometheusConfig", "PrometheusConnector"]
