"""Credentials become the right headers; the source block is checked early."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from connectors import registry
from connectors.jira import JiraConfig, JiraConnector


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def cloud_search(kit, router):
    return router.post(f"{kit.CLOUD_URL}/rest/api/3/search/jql").respond(
        json={"issues": [], "isLast": True}
    )


@pytest.fixture
def dc_search(kit, router):
    return router.post(f"{kit.DC_URL}/rest/api/2/search").respond(
        json={"startAt": 0, "maxResults": 0, "total": 0, "issues": []}
    )


async def test_cloud_sends_basic_auth_with_email_and_api_token(
    kit, make_connector, cloud_search
):
    connector = make_connector(email="bot@acme.test", token=kit.SECRET)

    await connector.fetch(kit.ask("issue_count"))

    headers = cloud_search.calls[0].request.headers
    assert headers["authorization"] == basic("bot@acme.test", kit.SECRET)
    assert headers["accept"] == "application/json"


async def test_data_center_sends_a_token_without_username_as_bearer(
    kit, make_connector, dc_search
):
    connector = make_connector(deployment="datacenter", token=kit.SECRET)

    await connector.fetch(kit.ask("issue_count"))

    headers = dc_search.calls[0].request.headers
    assert headers["authorization"] == f"Bearer {kit.SECRET}"


async def test_data_center_sends_basic_auth_with_a_username(
    kit, make_connector, dc_search
):
    connector = make_connector(deployment="datacenter", email="svc-okr", token="pw")

    await connector.fetch(kit.ask("issue_count"))

    headers = dc_search.calls[0].request.headers
    assert headers["authorization"] == basic("svc-okr", "pw")


async def test_an_open_site_gets_no_authorization_header(
    kit, make_connector, cloud_search
):
    await make_connector().fetch(kit.ask("issue_count"))

    assert "authorization" not in cloud_search.calls[0].request.headers


async def test_requests_keep_the_url_path_prefix(kit, router, make_connector):
    route = router.post("http://127.0.0.1:8930/jira-cloud/rest/api/3/search/jql")
    route.respond(json={"issues": [], "isLast": True})

    await make_connector(url="http://127.0.0.1:8930/jira-cloud/").fetch(
        kit.ask("issue_count")
    )

    assert route.called


def config(**settings) -> JiraConfig:
    return JiraConfig(
        **{"type": "jira", "url": "https://acme.atlassian.test", **settings}
    )


def test_a_trailing_slash_is_stripped_and_the_path_prefix_kept():
    assert (
        config(url="https://jira.acme.test/jira/").url == "https://jira.acme.test/jira"
    )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://jira.acme.test",
        "jira.acme.test",
        "https://",
        "https://u:p@jira.acme.test",
    ],
)
def test_a_url_that_is_not_http_with_a_host_is_refused(url):
    with pytest.raises(ValidationError, match="Jira url"):
        config(url=url)


def test_cloud_with_an_email_but_no_token_is_refused():
    with pytest.raises(ValidationError, match="no `token`"):
        config(email="bot@acme.test")


def test_cloud_with_a_token_but_no_email_is_refused():
    with pytest.raises(ValidationError, match="no `email`") as caught:
        config(token="tok-123")

    assert "tok-123" not in str(caught.value)


def test_data_center_accepts_a_token_alone():
    assert config(deployment="datacenter", token="pat").token is not None


@pytest.mark.parametrize(
    "settings", [{"page_size": 0}, {"page_size": 1001}, {"max_pages": 0}]
)
def test_out_of_range_paging_settings_are_refused(settings):
    with pytest.raises(ValidationError):
        config(**settings)


def test_unknown_settings_are_refused():
    with pytest.raises(ValidationError):
        config(project="MOB")


def test_every_setting_is_described():
    undescribed = [
        name for name, field in JiraConfig.model_fields.items() if not field.description
    ]
    assert undescribed == []


def test_the_connector_is_registered_under_jira():
    assert registry.get("jira") is JiraConnector
    assert JiraConnector.type == "jira"
    assert JiraConnector.config_model is JiraConfig
    assert set(JiraConnector.metrics) == {"issue_count", "done_percent", "field_sum"}
