"""The Amplitude connector runs the shared connector contract suite."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from connectors.amplitude import AmplitudeConnector
from connectors.base import Window
from connectors.testing import ConnectorContract, MetricCase

HOST = "https://amplitude.test"
API_KEY = "amp-contract-api-key-51d0"
SECRET_KEY = "amp-contract-secret-key-c3a8"
ZONE = ZoneInfo("UTC")
WINDOW = Window(datetime(2026, 10, 1, tzinfo=ZONE), datetime(2026, 10, 3, tzinfo=ZONE))


def segmentation(body: Any, status: int = 200) -> Any:
    def routes(router: Any) -> None:
        router.get(f"{HOST}/api/2/events/segmentation").mock(
            return_value=httpx.Response(status, json=body)
        )

    return routes


class TestAmplitudeContract(ConnectorContract):
    connector = AmplitudeConnector
    config = {
        "type": "amplitude",
        "api_key": API_KEY,
        "secret_key": SECRET_KEY,
        "url": HOST,
    }
    secrets = [API_KEY, SECRET_KEY]
    bad_configs = [
        ({**config, "region": "apac"}, "region"),
        ({**config, "url": "amplitude.test"}, "url"),
        ({k: v for k, v in config.items() if k != "secret_key"}, "secret_key"),
    ]
    cases = [
        MetricCase(
            "event_count",
            segmentation(
                {
                    "data": {
                        "series": [[3, 4]],
                        "seriesCollapsed": [[{"setId": "", "value": 6}]],
                        "xValues": ["2026-10-01", "2026-10-02"],
                    }
                }
            ),
            params={"event": "Play Song", "measure": "uniques"},
            window=WINDOW,
            value=6,
        ),
    ]
    upstream_error = MetricCase(
        "event_count",
        segmentation({"error": "invalid event"}, 400),
        params={"event": "Play Song"},
        window=WINDOW,
    )
    malformed = MetricCase(
        "event_count",
        segmentation({"data": {"series": [["3"]]}}),
        params={"event": "Play Song"},
        window=WINDOW,
    )
