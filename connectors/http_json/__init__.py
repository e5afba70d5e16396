"""Generic JSON API connector: one number per key result, picked by JMESPath."""

from connectors.http_json.config import HttpJsonConfig, ValueParams
from connectors.http_json.connector import HttpJsonConnector

__all__ = ["HttpJsonConfig", "HttpJsonConnector", "ValueParams"]
