"""An example okrsync connector: downloads of an npm package.

Uses the public npm downloads API, which needs no credentials:
``GET https://api.npmjs.org/downloads/point/{first-day}:{last-day}/{package}``
answers ``{"downloads": 1234, "start": "...", "end": "...", "package": "..."}``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.base import (
    Evidence,
    FetchRequest,
    Metric,
    Reading,
    SourceConfig,
    TransientError,
    metric_table,
)
from connectors.http import HttpConnector

_PACKAGE = re.compile(r"^(@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*$")


class NpmConfig(SourceConfig):
    """A `type: npm` source block."""

    type: Literal["npm"] = Field(description="Selects this connector.")
    url: str = Field(
        default="https://api.npmjs.org", description="The downloads API base URL."
    )


class DownloadsParams(BaseModel):
    """Parameters of the `downloads` metric."""

    model_config = ConfigDict(extra="forbid")

    package: str = Field(description="The package name, e.g. react or @acme/ui.")

    @field_validator("package")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _PACKAGE.match(value):
            raise ValueError(f"{value!r} is not an npm package name")
        return value


class NpmDownloadsConnector(HttpConnector[NpmConfig]):
    """Counts a package's downloads over the key result's window."""

    type = "npm"
    config_model = NpmConfig
    metrics = metric_table(
        Metric(
            "downloads",
            "Downloads of an npm package over the window.",
            params=DownloadsParams,
            needs_query=False,
            windowed=True,
        )
    )

    async def fetch(self, request: FetchRequest) -> Reading:
        """Ask for the download count between the window's first and last day."""
        assert isinstance(request.params, DownloadsParams)
        assert request.window is not None, "the engine passes a window"
        days = f"{request.window.first_day}:{request.window.last_day}"
        path = f"/downloads/point/{days}/{request.params.package}"

        body = await self.client.json("GET", path)

        downloads = body.get("downloads") if isinstance(body, dict) else None
        if not isinstance(downloads, int):
            raise TransientError(f"the npm answer to GET {path} had no download count")
        evidence = Evidence(
            request=self.client.describe("GET", path),
            summary={
                "package": body.get("package"),
                "start": body.get("start"),
                "end": body.get("end"),
                "downloads": downloads,
            },
        )
        return Reading(value=float(downloads), evidence=evidence)
