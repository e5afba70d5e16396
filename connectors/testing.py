"""A shared test suite that any connector, built in or third-party, runs on itself.

Subclass `ConnectorContract` in a pytest module, fill in the class attributes,
and pytest collects the inherited tests::

    class TestMyToolContract(ConnectorContract):
        connector = MyToolConnector
        config = {"type": "mytool", "url": "https://mytool.test", "token": "s3cret"}
        secrets = ["s3cret"]
        bad_configs = [({"type": "mytool"}, "url")]
        cases = [MetricCase("count", query="x", routes=..., value=3)]
        upstream_error = MetricCase("count", query="x", routes=...)
        malformed = MetricCase("count", query="x", routes=...)

The suite checks that the connector declares its contract, rejects bad
configurations with a message naming the field, returns the right value for
each case, turns an upstream error into a `ConfigurationError` and a
malformed body into a `TransientError`, and never puts a secret into an error
message or evidence. HTTP is faked with respx (a test dependency), so
`routes` receives a respx router to register the upstream's answers on.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from connectors.base import (
    ConfigurationError,
    Connector,
    ConnectorError,
    FetchRequest,
    Reading,
    SourceConfig,
    TransientError,
    Window,
)

Routes = Callable[[Any], None]
"""Registers upstream answers on a `respx.MockRouter`."""


@dataclass
class MetricCase:
    """One fetch and what it should give."""

    metric: str
    routes: Routes
    query: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    window: Window | None = None
    value: float | None = None
    id: str = ""


async def _no_sleep(_seconds: float) -> None:
    return None


class ConnectorContract:
    """Inherit, set the attributes, and pytest runs the contract tests."""

    connector: ClassVar[type[Connector[Any]]]
    config: ClassVar[dict[str, Any]]
    secrets: ClassVar[list[str]] = []
    bad_configs: ClassVar[list[tuple[dict[str, Any], str]]] = []
    cases: ClassVar[list[MetricCase]] = []
    upstream_error: ClassVar[MetricCase | None] = None
    malformed: ClassVar[MetricCase | None] = None

    def test_declares_the_contract(self) -> None:
        connector = self.connector
        assert isinstance(connector.type, str)
        assert connector.type
        assert issubclass(connector.config_model, SourceConfig)
        type_field = connector.config_model.model_fields["type"].annotation
        assert typing.get_args(type_field) == (connector.type,), (
            f"config_model.type should be Literal[{connector.type!r}]"
        )
        assert connector.metrics, "a connector offers at least one metric"
        for name, metric in connector.metrics.items():
            assert metric.name == name
            assert metric.description
            assert issubclass(metric.params, BaseModel)

    def test_every_metric_has_a_case(self) -> None:
        covered = {case.metric for case in self.cases}
        assert covered == set(self.connector.metrics), (
            f"cases cover {sorted(covered)}; metrics are "
            f"{sorted(self.connector.metrics)}"
        )

    def test_bad_configs_name_the_problem(self) -> None:
        for block, expected in self.bad_configs:
            try:
                self.connector.config_model.model_validate(block)
            except ValidationError as exc:
                text = str(exc)
                assert expected in text, f"{expected!r} not in: {text}"
                for secret in self.secrets:
                    assert secret not in text
            else:
                raise AssertionError(f"config was accepted: {block!r}")

    async def test_each_case_gives_its_value(self) -> None:
        for case in self.cases:
            reading = await self._fetch(case)
            assert reading.value == _approx(case.value), case.id or case.metric
            assert reading.evidence.request, "evidence names the request"
            self._assert_no_secret(reading.evidence.model_dump_json())

    async def test_upstream_error_is_a_configuration_error(self) -> None:
        if self.upstream_error is None:
            return
        error = await self._fetch_error(self.upstream_error)
        assert isinstance(error, ConfigurationError), repr(error)
        assert error.message

    async def test_malformed_body_is_a_transient_error(self) -> None:
        if self.malformed is None:
            return
        error = await self._fetch_error(self.malformed)
        assert isinstance(error, TransientError), repr(error)

    async def _fetch(self, case: MetricCase) -> Reading:
        import respx

        config = self.connector.config_model.model_validate(self.config)
        metric = self.connector.metrics[case.metric]
        request = FetchRequest(
            metric=case.metric,
            query=case.query,
            params=metric.params.model_validate(case.params),
            window=case.window,
        )
        with respx.mock(assert_all_mocked=True) as router:
            case.routes(router)
            connector = self.connector("contract", config, sleep=_no_sleep)
            async with connector:
                return await connector.fetch(request)

    async def _fetch_error(self, case: MetricCase) -> ConnectorError:
        try:
            await self._fetch(case)
        except ConnectorError as exc:
            self._assert_no_secret(str(exc))
            return exc
        raise AssertionError("the fetch succeeded")

    def _assert_no_secret(self, text: str) -> None:
        for secret in self.secrets:
            assert secret not in text, "a secret leaked"


def _approx(value: float | None) -> Any:
    if value is None:
        return None
    import pytest

    return pytest.approx(value)
