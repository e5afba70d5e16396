"""milestone_percent: by number in one request, by title through Link pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import respx
from pydantic import BaseModel

from connectors.base import ConfigurationError, FetchRequest, TransientError
from connectors.github import GitHubConnector, MilestoneParams

API = "https://api.github.com"
RECORDED_REPO = "PyGithub/PyGithub"
LIST_URL = f"{API}/repos/{RECORDED_REPO}/milestones"

MakeConnector = Callable[..., GitHubConnector]


def milestone(repo: str, which: int | str) -> FetchRequest:
    params = MilestoneParams(repo=repo, milestone=which)
    return FetchRequest(metric="milestone_percent", query=None, params=params)


def variant(recorded: dict[str, Any], number: int, title: str) -> dict[str, Any]:
    """Another milestone shaped like the recorded one."""
    return {**recorded, "number": number, "title": title, "id": 9000 + number}


def page_url(page: int) -> str:
    return f"{LIST_URL}?state=all&per_page=2&page={page}"


async def test_recorded_milestone_by_number_gives_closed_share(
    make_connector: MakeConnector, nock
) -> None:
    [route] = nock.register("milestone.get")
    recorded = nock.body("milestone.get")
    opened, closed = recorded["open_issues"], recorded["closed_issues"]

    reading = await make_connector().fetch(milestone(RECORDED_REPO, 1))

    assert reading.value == pytest.approx(100 * closed / (opened + closed))
    assert reading.evidence.summary == {
        "milestone": recorded["number"],
        "title": recorded["title"],
        "open": opened,
        "closed": closed,
        "state": recorded["state"],
    }
    assert reading.evidence.request == f"GET {API}/repos/{RECORDED_REPO}/milestones/1"
    assert reading.evidence.requests == 1
    assert route.call_count == 1


async def test_milestone_number_given_as_digit_string_uses_the_number_endpoint(
    make_connector: MakeConnector, nock
) -> None:
    [route] = nock.register("milestone.get")

    await make_connector().fetch(milestone(RECORDED_REPO, "1"))

    assert route.call_count == 1


async def test_recorded_listed_milestone_by_title_is_two_of_twelve(
    make_connector: MakeConnector, nock
) -> None:
    [route] = nock.register("milestones.list")
    [recorded] = nock.body("milestones.list")
    opened, closed = recorded["open_issues"], recorded["closed_issues"]

    reading = await make_connector().fetch(milestone(RECORDED_REPO, recorded["title"]))

    assert reading.value == pytest.approx(100 * closed / (opened + closed))
    assert reading.value == pytest.approx(100 * 2 / 12)
    assert route.calls.last.request.url.params["state"] == "all"
    assert route.calls.last.request.url.params["per_page"] == "100"


async def test_title_found_on_second_page_follows_the_link_header(
    make_connector: MakeConnector, router: respx.MockRouter, nock
) -> None:
    exchange = nock.load("milestones.list")[0]
    [recorded] = nock.body("milestones.list")
    first_page = [variant(recorded, 5, "Backlog"), variant(recorded, 6, "v0.9")]
    router.get(LIST_URL, params={"page": "2"}).mock(
        return_value=nock.response(
            exchange, json_body=[recorded] + [variant(recorded, 7, "Later")]
        )
    )
    first = router.get(LIST_URL, params={"per_page": "2"}).mock(
        return_value=nock.response(
            {**exchange, "headers": nock.link(next=page_url(2), last=page_url(2))},
            json_body=first_page,
        )
    )

    reading = await make_connector(per_page=2).fetch(
        milestone(RECORDED_REPO, recorded["title"])
    )

    opened, closed = recorded["open_issues"], recorded["closed_issues"]
    assert reading.value == pytest.approx(100 * closed / (opened + closed))
    assert reading.evidence.requests == 2
    assert reading.evidence.summary["milestone"] == recorded["number"]
    assert reading.evidence.request == f"GET {LIST_URL}?state=all&per_page=2"
    assert first.call_count == 1


async def test_title_not_found_lists_the_titles_seen(
    make_connector: MakeConnector, router: respx.MockRouter, nock
) -> None:
    [recorded] = nock.body("milestones.list")
    router.get(LIST_URL, params={"page": "2"}).respond(
        json=[variant(recorded, 7, "Later")]
    )
    router.get(LIST_URL).respond(
        json=[variant(recorded, 5, "Backlog"), variant(recorded, 6, "v0.9")],
        headers=nock.link(next=page_url(2)),
    )

    with pytest.raises(ConfigurationError) as caught:
        await make_connector(per_page=2).fetch(milestone(RECORDED_REPO, "v1.0"))

    message = caught.value.message
    assert "'v1.0' was not found in PyGithub/PyGithub" in message
    assert "'Backlog', 'v0.9', 'Later'" in message


async def test_title_not_found_caps_the_titles_listed(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    many = [{"number": n, "title": f"m{n}"} for n in range(1, 31)]
    router.get(LIST_URL).respond(json=many)

    with pytest.raises(ConfigurationError, match="and 10 more") as caught:
        await make_connector().fetch(milestone(RECORDED_REPO, "v1.0"))

    assert "'m20'" in caught.value.message
    assert "'m21'" not in caught.value.message


async def test_title_match_is_exact(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(LIST_URL).respond(
        json=[{"number": 1, "title": "V2.0", "open_issues": 1, "closed_issues": 1}]
    )

    with pytest.raises(ConfigurationError, match="'V2.0'"):
        await make_connector().fetch(milestone(RECORDED_REPO, "v2.0"))


async def test_empty_milestone_has_no_value(
    make_connector: MakeConnector, router: respx.MockRouter, nock
) -> None:
    body = nock.body("milestone.get")
    body.update(open_issues=0, closed_issues=0, number=3, title="v3.0 planning")
    router.get(f"{API}/repos/acme/app/milestones/3").respond(json=body)

    reading = await make_connector().fetch(milestone("acme/app", 3))

    assert reading.value is None
    assert reading.evidence.summary["open"] == 0
    assert reading.evidence.summary["closed"] == 0
    assert "no issues" in reading.notes[0]


async def test_milestone_without_counts_is_transient_naming_the_endpoint(
    make_connector: MakeConnector, router: respx.MockRouter, nock
) -> None:
    body = nock.body("milestone.get")
    del body["closed_issues"]
    router.get(f"{API}/repos/acme/app/milestones/1").respond(json=body)

    with pytest.raises(TransientError, match="'closed_issues'") as caught:
        await make_connector().fetch(milestone("acme/app", 1))

    assert f"GET {API}/repos/acme/app/milestones/1" in caught.value.message


async def test_milestone_list_of_the_wrong_shape_is_transient(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    router.get(LIST_URL).respond(json={"message": "surprise"})

    with pytest.raises(TransientError, match="not a list of milestones"):
        await make_connector(max_attempts=1).fetch(milestone(RECORDED_REPO, "v1"))


async def test_next_link_to_the_same_page_stops_as_a_loop(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    same = f"{LIST_URL}?state=all&per_page=100"
    route = router.get(LIST_URL).respond(
        json=[{"number": 1, "title": "a"}], headers={"link": f'<{same}>; rel="next"'}
    )

    with pytest.raises(TransientError, match="looped"):
        await make_connector().fetch(milestone(RECORDED_REPO, "zzz"))

    assert route.call_count == 1


async def test_paging_beyond_max_pages_names_the_cap(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    for page in (2, 3):
        router.get(LIST_URL, params={"page": str(page)}).respond(
            json=[{"number": page, "title": f"p{page}"}],
            headers={"link": f'<{page_url(page + 1)}>; rel="next"'},
        )
    router.get(LIST_URL).respond(
        json=[{"number": 1, "title": "p1"}],
        headers={"link": f'<{page_url(2)}>; rel="next"'},
    )

    with pytest.raises(ConfigurationError, match="more than 2 pages") as caught:
        await make_connector(per_page=2, max_pages=2).fetch(
            milestone(RECORDED_REPO, "zzz")
        )

    assert "max_pages" in caught.value.message


async def test_next_link_to_another_server_is_not_followed(
    make_connector: MakeConnector, router: respx.MockRouter, token: str
) -> None:
    elsewhere = router.get("https://evil.example.test/page2").respond(json=[])
    router.get(LIST_URL).respond(
        json=[{"number": 1, "title": "a"}],
        headers={"link": '<https://evil.example.test/page2>; rel="next"'},
    )

    with pytest.raises(ConfigurationError, match="another server"):
        await make_connector(token=token).fetch(milestone(RECORDED_REPO, "zzz"))

    assert elsewhere.call_count == 0


async def test_relative_next_link_is_resolved_against_the_page_url(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    base = "http://127.0.0.1:8930/github"
    url = f"{base}/repos/acme/app/milestones"
    router.get(url, params={"page": "2"}).respond(
        json=[{"number": 2, "title": "v2.0", "open_issues": 1, "closed_issues": 3}]
    )
    router.get(url).respond(
        json=[{"number": 1, "title": "v1.0"}],
        headers={"link": '<?state=all&per_page=100&page=2>; rel="next"'},
    )

    reading = await make_connector(url=base).fetch(milestone("acme/app", "v2.0"))

    assert reading.value == pytest.approx(75.0)


async def test_enterprise_milestone_links_stay_under_api_v3(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    base = "https://ghe.example.test/api/v3"
    url = f"{base}/repos/acme/app/milestones"
    second = router.get(url, params={"page": "2"}).respond(
        json=[{"number": 4, "title": "v2.1", "open_issues": 3, "closed_issues": 1}]
    )
    router.get(url).respond(
        json=[{"number": 1, "title": "v2.0"}],
        headers={"link": f'<{url}?state=all&per_page=100&page=2>; rel="next"'},
    )

    reading = await make_connector(url=base).fetch(milestone("acme/app", "v2.1"))

    assert reading.value == pytest.approx(25.0)
    assert second.calls.last.request.url.path == "/api/v3/repos/acme/app/milestones"


async def test_params_of_another_model_are_revalidated(
    make_connector: MakeConnector, router: respx.MockRouter
) -> None:
    class Loose(BaseModel):
        repo: str
        milestone: int | str

    request = FetchRequest(
        metric="milestone_percent",
        query=None,
        params=Loose(repo="not-a-repo", milestone=1),
    )

    with pytest.raises(ConfigurationError, match="owner/name"):
        await make_connector().fetch(request)
