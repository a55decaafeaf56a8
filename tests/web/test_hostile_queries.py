"""Query strings of the UI's pages that no link of the site makes answer a
clean page, never a 500."""

from __future__ import annotations

import pytest

from tests.rpc.hostile import cursor
from tests.web.client import WebClient, WebFactory, text


async def _webhook_page(web: WebFactory) -> tuple[WebClient, str]:
    person = await web.user()
    assert person.api is not None
    team = await person.api.call("create-team", {"name": "Team"})
    hook = await person.api.call(
        "create-webhook", {"teamId": team["id"], "uri": "http://127.0.0.1:9/hook"}
    )
    return person, f"/webhooks/{hook['id']}/history"


@pytest.mark.parametrize("count", ["²", "٣", "9" * 5000, "-1", "1.5", ""])
async def test_a_recovered_notice_with_a_strange_count(web: WebFactory, count: str) -> None:
    person, path = await _webhook_page(web)
    page = await person.get(path, params={"notice": "recovered", "count": count})
    assert page.status_code == 200
    assert "Failed deliveries are queued again." in text(page.text)
    exact = await person.get(path, params={"notice": "recovered", "count": "12"})
    assert "12 failed deliveries are queued again." in text(exact.text)


@pytest.mark.parametrize(
    "query",
    [
        {"until": "9999-12-31"},
        {"since": "9999-12-31"},
        {"since": "9999-12-31", "until": "9999-12-31"},
        {"until": "+99999-01-01"},
    ],
)
async def test_history_dates_past_the_calendar(web: WebFactory, query: dict[str, str]) -> None:
    person, path = await _webhook_page(web)
    page = await person.get(path, params=query)
    assert page.status_code == 200
    assert "Give a date as YYYY-MM-DD, before 9999-12-31." in text(page.text)


async def test_history_first_and_last_days_are_accepted(web: WebFactory) -> None:
    person, path = await _webhook_page(web)
    page = await person.get(path, params={"since": "0001-01-01", "until": "9999-12-30"})
    assert page.status_code == 200 and "Give a date" not in page.text


@pytest.mark.parametrize(
    "query",
    [
        {"q": "a\x00b"},
        {"cursor": cursor(2**63)},
        {"cursor": cursor(2**31)},
        {"status": "\x00", "sort": "\x00"},
    ],
)
async def test_history_hostile_filters(web: WebFactory, query: dict[str, str]) -> None:
    person, path = await _webhook_page(web)
    page = await person.get(path, params=query)
    assert page.status_code in (200, 400), page.text
    assert "Something went wrong" not in page.text
