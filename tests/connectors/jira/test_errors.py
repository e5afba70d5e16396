"""Upstream failures map to the right errors, are retried only when worth it,
and never leak credentials."""

from __future__ import annotations

import httpx
import pytest

from connectors.base import ConfigurationError, ConnectorError, TransientError

JQL_ERROR = (
    "Error in the JQL Query: Expecting operator but got 'MOB'. (line 1, character 9)"
)


@pytest.fixture
def search_url(kit) -> str:
    return f"{kit.CLOUD_URL}/rest/api/3/search/jql"


async def test_rejected_jql_is_a_configuration_error_carrying_jiras_message(
    kit, router, make_connector, search_url, sleeps
):
    route = router.post(search_url).respond(
        400, json={"errorMessages": [JQL_ERROR], "errors": {}}
    )

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask("issue_count", "project MOB"))

    assert JQL_ERROR in caught.value.message
    assert route.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize("status", [401, 403, 404, 410])
async def test_refusals_are_configuration_errors_without_retry(
    kit, router, make_connector, search_url, sleeps, status
):
    route = router.post(search_url).respond(status, json={"errorMessages": ["no"]})

    with pytest.raises(ConfigurationError) as caught:
        await make_connector().fetch(kit.ask("issue_count"))

    assert caught.value.status_code == status
    assert route.call_count == 1
    assert sleeps == []


async def test_a_503_is_retried_after_a_fake_sleep_and_then_succeeds(
    kit, router, make_connector, search_url, sleeps
):
    last = kit.load("search-jql.last.handmade.json")
    router.post(search_url).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=last)]
    )
    connector = make_connector()

    reading = await connector.fetch(kit.ask("issue_count"))

    assert reading.value == len(last["issues"])
    assert len(sleeps) == 1
    assert connector.retry_count == 1
    assert connector.request_count == 2


async def test_a_body_that_is_not_json_is_a_transient_error_after_every_attempt(
    kit, router, make_connector, search_url, sleeps
):
    route = router.post(search_url).respond(
        200, text="<html>maintenance</html>", content_type="text/html"
    )

    with pytest.raises(TransientError):
        await make_connector(max_attempts=3).fetch(kit.ask("issue_count"))

    assert route.call_count == 3
    assert len(sleeps) == 2


async def test_a_non_numeric_value_in_a_numeric_field_is_a_transient_error(
    kit, router, make_connector, search_url
):
    router.get(f"{kit.CLOUD_URL}/rest/api/3/field").respond(
        json=[{"id": "customfield_1", "name": "Points", "schema": {"type": "number"}}]
    )
    router.post(search_url).respond(
        json={
            "issues": [{"id": "1", "key": "TES-1", "fields": {"customfield_1": "5"}}],
            "isLast": True,
        }
    )

    with pytest.raises(TransientError, match="TES-1"):
        await make_connector().fetch(kit.ask("field_sum", field="Points"))


async def test_an_issue_without_a_status_is_a_transient_error(
    kit, router, make_connector, search_url
):
    router.post(search_url).respond(
        json={"issues": [{"id": "1", "key": "TES-1", "fields": {}}], "isLast": True}
    )

    with pytest.raises(TransientError, match="TES-1 without a 'status'"):
        await make_connector().fetch(kit.ask("done_percent"))


async def test_an_unknown_metric_is_a_configuration_error_listing_the_metrics(
    kit, make_connector
):
    with pytest.raises(ConfigurationError, match="issue_count"):
        await make_connector().fetch(kit.ask("velocity"))


async def test_a_missing_query_is_a_configuration_error(kit, make_connector):
    with pytest.raises(ConfigurationError, match="needs a query"):
        await make_connector().fetch(kit.ask("issue_count", "  "))


@pytest.mark.parametrize(
    ("deployment", "email"),
    [("cloud", "bot@acme.test"), ("datacenter", None), ("datacenter", "svc-okr")],
)
async def test_the_token_appears_in_no_error_message_nor_evidence(
    kit, router, make_connector, deployment, email
):
    url = kit.DC_URL if deployment == "datacenter" else kit.CLOUD_URL
    path = (
        "/rest/api/2/search" if deployment == "datacenter" else "/rest/api/3/search/jql"
    )
    ok = {"startAt": 0, "maxResults": 50, "total": 1, "issues": [], "isLast": True}
    router.post(f"{url}{path}").mock(
        side_effect=[
            httpx.Response(401, json={"errorMessages": ["Unauthorized"]}),
            httpx.Response(400, json={"errorMessages": [JQL_ERROR]}),
            httpx.Response(200, text="not json"),
            httpx.Response(200, json={"nothing": True}),
            httpx.Response(200, json=ok),
        ]
    )
    connector = make_connector(
        deployment=deployment, email=email, token=kit.SECRET, max_attempts=1
    )
    texts = []

    for _ in range(4):
        with pytest.raises(ConnectorError) as caught:
            await connector.fetch(kit.ask("issue_count"))
        texts += [caught.value.message, str(caught.value), repr(caught.value)]
    reading = await connector.fetch(kit.ask("issue_count"))
    texts += [reading.evidence.model_dump_json(), *reading.notes]

    assert all(kit.SECRET not in text for text in texts)
    assert kit.SECRET not in repr(connector.config)
