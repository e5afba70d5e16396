"""Schemathesis drives every operation of the OpenAPI document against the app.

Each operation gets generated requests (valid and invalid) with an admin token,
and every answer goes through Schemathesis's default checks: no 5xx, a status
code, content type, headers and body the document declares for that
operation, invalid input refused, wrong methods answered 405 with a correct
`Allow`. Only the check that schema-valid input is accepted is left out (see
the test).

The app runs in process on Schemathesis's own event loop, so the service is
set up in the app's lifespan (on that loop) rather than in an async fixture.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.python import asgi

from app.api import create_app
from app.clock import FrozenClock
from app.mapping import load_mapping_set
from app.service import Service
from app.settings import Settings
from connectors import registry
from connectors.base import (
    Connector,
    Evidence,
    FetchRequest,
    Metric,
    Reading,
    SourceConfig,
    metric_table,
)
from tests.helpers import new_token

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)

MAPPING = """\
version: 1
sources:
  fake:
    type: fake
objectives:
  - id: obj-1
    title: Ship the thing
    period: 2026-Q4
    team: red
    key_results:
      - {id: kr-1, title: Issues closed, source: fake, metric: count,
         query: q1, target: 100}
  - id: manual
    title: Hand-tracked
    period: 2026-Q4
    key_results:
      - {id: by-hand, title: Interviews done, target: 20}
"""

EXAMPLES_PER_OPERATION = 25


class ContractConfig(SourceConfig):
    type: Literal["fake"]


class ContractConnector(Connector[ContractConfig]):
    """A source that always reads 42, so a sync succeeds without any network."""

    type = "fake"
    config_model = ContractConfig
    metrics = metric_table(Metric("count", "A fixed number."))

    async def fetch(self, request: FetchRequest) -> Reading:
        return Reading(value=42.0, evidence=Evidence(request="FAKE count"))


async def _public_address(host: str, port: int) -> list[str]:
    # Subscription URLs are checked by resolving their host; answer from a
    # documentation range instead of asking a real resolver.
    return ["203.0.113.7"]


def _no_network(request: httpx.Request) -> httpx.Response:
    # The webhook sender is not started here; this only guarantees that
    # nothing the test provokes can leave the machine.
    raise httpx.ConnectError("the contract test sends nothing", request=request)


class Prepared:
    """The app and the admin token, once the lifespan has set the service up."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.token = ""


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prepared]:
    folder = tmp_path_factory.mktemp("contract")
    mapping = folder / "okrs.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")

    with pytest.MonkeyPatch.context() as patch:
        installed = {**registry.available(), "fake": ContractConnector}
        patch.setattr(registry, "available", lambda: installed)
        service = _service(folder, mapping)
        result = Prepared(create_app(service, manage=False))
        result.app.router.lifespan_context = _lifespan(service, mapping, result)
        # Entering a client starts the lifespan, which stays up until the
        # shutdown below: the first generated request already has the token.
        with asgi.get_client(result.app):
            pass
        assert result.token, "the lifespan did not set the service up"
        yield result
        # The lifespan stays up for the whole module; end it (and the
        # service) while the fake connector is still installed.
        asgi.shutdown_lifespans()


def _service(folder: Path, mapping: Path) -> Service:
    async def no_sleep(_seconds: float) -> None:
        return None

    settings = Settings(
        database_url=f"sqlite:///{folder / 'contract.db'}",
        mappings=[mapping],
        sync_interval=0,
    )
    service = Service(
        settings,
        clock=FrozenClock(NOW),
        sleep=no_sleep,
        transport=httpx.MockTransport(_no_network),
    )
    service.sender.resolve = _public_address
    return service


def _lifespan(
    service: Service, mapping: Path, result: Prepared
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.database.prepare()
        await service.use_mappings(load_mapping_set([mapping], env={}))
        await service.sync()
        result.token = await new_token(service, "admin")
        try:
            yield
        finally:
            await service.close()

    return lifespan


def _document_app() -> FastAPI:
    # Parametrizing needs the document at import, before any fixture runs;
    # the document does not depend on data, so an app over a service that is
    # never started serves it. Requests go to the prepared app.
    settings = Settings(database_url="sqlite://", mappings=[], sync_interval=0)
    return create_app(Service(settings), manage=False)


schema = schemathesis.openapi.from_asgi("/openapi.json", _document_app())


# The webhook receivers are included: generated deliveries carry no valid
# signature, so they answer the 401 or 404 the document declares for them.
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_keeps_to_the_openapi_document(
    case: schemathesis.Case, prepared: Prepared
) -> None:
    case.call_and_validate(
        app=prepared.app,
        headers={"Authorization": f"Bearer {prepared.token}"},
        # Some rules are beyond what a JSON schema says: a cursor must be one
        # the API gave out, a subscription URL must resolve to a public
        # address, an event name must be known. Answering 422 to such
        # schema-valid input is right, so that one check does not apply.
        excluded_checks=[positive_data_acceptance],
    )


def test_the_token_the_generated_requests_carry_is_accepted(
    prepared: Prepared,
) -> None:
    # Without this, a setup that lost the token would pass the contract test
    # on documented 401s alone.
    headers = {"Authorization": f"Bearer {prepared.token}"}
    with asgi.get_client(prepared.app) as client:
        response = client.get("/api/v1/key-results/kr-1", headers=headers)

    assert response.status_code == 200
    assert response.json()["value"] == 42.0


class TestWhatSchemathesisFound:
    """Each answer Schemathesis once caught breaking the contract, pinned."""

    def call(
        self,
        prepared: Prepared,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        sent = {"Authorization": f"Bearer {prepared.token}", **(headers or {})}
        with asgi.get_client(prepared.app) as client:
            return client.request(method, path, headers=sent, **kwargs)

    @pytest.mark.parametrize(
        ("path", "allowed"),
        [
            ("/api/v1/subscriptions", {"GET", "POST"}),
            ("/api/v1/subscriptions/sub_x", {"GET", "DELETE"}),
            ("/api/v1/objectives", {"GET"}),
        ],
    )
    def test_a_wrong_method_lists_every_method_of_the_path_in_allow(
        self, prepared: Prepared, path: str, allowed: set[str]
    ) -> None:
        response = self.call(prepared, "PATCH", path)

        assert response.status_code == 405
        assert response.headers["content-type"] == "application/problem+json"
        assert set(response.headers["allow"].split(", ")) == allowed

    def test_a_body_that_is_not_utf8_is_a_documented_400(
        self, prepared: Prepared
    ) -> None:
        response = self.call(
            prepared,
            "POST",
            "/api/v1/tokens",
            data=b"\xff",
            headers={"Content-Type": "application/json"},
        )

        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"

    def test_a_control_character_in_posted_mapping_text_is_a_422(
        self, prepared: Prepared
    ) -> None:
        response = self.call(
            prepared, "POST", "/api/v1/mappings/validate", json={"text": "\x1f"}
        )

        assert response.status_code == 422
        body = response.json()
        assert body["type"] == "urn:okrsync:problem:invalid-mapping"
        assert "invalid YAML" in body["errors"][0]["message"]

    @pytest.mark.parametrize(
        "path",
        [
            "/api/v1/objectives?updated_since=0.5",
            "/api/v1/key-results/kr-1/history?since=1700000000",
        ],
    )
    def test_a_unix_time_is_refused_where_a_date_time_is_documented(
        self, prepared: Prepared, path: str
    ) -> None:
        response = self.call(prepared, "GET", path)

        assert response.status_code == 422
        assert "ISO 8601" in response.json()["detail"]
