"""The Mixpanel connector runs the shared connector contract suite."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from connectors.base import Window
from connectors.mixpanel import MixpanelConnector
from connectors.testing import ConnectorContract, MetricCase

HOST = "https://mixpanel.test"
SECRET = "mp-contract-secret-0b5e"
ZONE = ZoneInfo("UTC")
WINDOW = Window(datetime(2026, 10, 1, tzinfo=ZONE), datetime(2026, 10, 3, tzinfo=ZONE))


def segmentation(body: Any, status: int = 200) -> Any:
    def routes(router: Any) -> None:
        router.get(f"{HOST}/api/query/segmentation").mock(
            return_value=httpx.Response(status, json=body)
        )

    return routes


def values(**counts: Any) -> dict[str, Any]:
    return {"data": {"series": list(counts), "values": {"Signed up": counts}}}


class TestMixpanelContract(ConnectorContract):
    connector = MixpanelConnector
    config = {
        "type": "mixpanel",
        "project_id": "7",
        "username": "okrs.mp-service-account",
        "secret": SECRET,
        "url": HOST,
    }
    secrets = [SECRET]
    bad_configs = [
        ({**config, "project_id": "seven"}, "project_id"),
        ({**config, "region": "mars"}, "region"),
        ({k: v for k, v in config.items() if k != "secret"}, "secret"),
    ]
    cases = [
        MetricCase(
            "event_count",
            segmentation(values(**{"2026-10-01": 3, "2026-10-02": 4})),
            params={"event": "Signed up"},
            window=WINDOW,
            value=7,
        ),
    ]
    upstream_error = MetricCase(
        "event_count",
        segmentation({"request": "/api/query/segmentation", "error": "bad"}, 400),
        params={"event": "Signed up"},
        window=WINDOW,
    )
    malformed = MetricCase(
        "event_count",
        segmentation(values(**{"2026-10-01": "3"})),
        params={"event": "Signed up"},
        window=WINDOW,
    )
