"""The delivery history on the webhook page, the delivery page, re-sending
and recovering."""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hookline.delivery.worker import Worker
from hookline.services import Services
from tests.delivery.conftest import eventually
from tests.delivery.test_worker import verify
from tests.helpers import Api, ApiFactory, team_with_members
from tests.reliability.harness import Receiver
from tests.web.client import WebClient, WebFactory, text

DASH = "\u2013"  # between the first and last row shown: 41-60 of 212
ROW = re.compile(r'<tr class="delivery delivery-(\w+)">')


async def _hooked(
    web: WebFactory, uri: str, **options: Any
) -> tuple[WebClient, Api, dict[str, Any]]:
    person = await web.user()
    assert person.api is not None
    team = await person.api.call("create-team", {"name": "Team"})
    hook = await person.api.call("create-webhook", {"teamId": team["id"], "uri": uri, **options})
    return person, person.api, hook


async def test_results_attempts_and_resend(
    web: WebFactory, receiver: Receiver, worker: Worker
) -> None:
    person, _api, hook = await _hooked(web, f"{receiver.base}/ok")
    page_path = f"/webhooks/{hook['id']}/history"

    async def succeeded() -> str | None:
        page = (await person.get(page_path)).text
        return page if ROW.findall(page) == ["succeeded"] else None

    page = await eventually(succeeded)
    assert '<span class="code ok">200</span>' in page
    words = text(page)
    assert "ping" in words and " ms " in words and receiver.base in words
    delivery = re.search(r'href="/deliveries/([^"]+)"', page)
    assert delivery
    delivery_path = f"/deliveries/{delivery.group(1)}"
    details = await person.get(delivery_path)
    words = text(details.text)
    assert "Attempt 1" in words and "webhook-signature" in words and "webhook-id" in words
    assert '"webhookId": "' + hook["id"] + '"' in words
    assert "Status 200" in words and "ok" in words
    resent = await person.submit(f"{delivery_path}/resend", {"back": "delivery"})
    assert resent.headers["location"] == f"{delivery_path}?notice=resent"

    async def two_attempts() -> bool:
        return "Attempt 2" in (await person.get(delivery_path)).text

    await eventually(two_attempts)
    from_history = await person.submit(f"{delivery_path}/resend")
    assert from_history.headers["location"] == f"{page_path}?notice=resent"


async def test_failures_show_their_error(
    web: WebFactory, receiver: Receiver, worker: Worker
) -> None:
    person, _api, hook = await _hooked(web, f"{receiver.base}/500")
    page_path = f"/webhooks/{hook['id']}/history"

    async def failed() -> str | None:
        page = (await person.get(page_path + "?status=failed")).text
        return page if ROW.findall(page) == ["failed"] else None

    page = await eventually(failed)
    assert '<span class="code bad">500</span>' in page
    assert "unexpected status 500" in text(page)
    assert ROW.findall((await person.get(page_path + "?status=succeeded")).text) == []
    listing = text((await person.get(f"/teams/{hook['teamId']}/webhooks")).text)
    assert "Last delivery was not successful: unexpected status 500" in listing
    recovered = await person.submit(
        f"/webhooks/{hook['id']}/recover",
        {"since": (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")},
    )
    assert recovered.headers["location"] == f"{page_path}?notice=recovered&count=1"
    assert (
        "1 failed delivery is queued again."
        in (await person.get(f"{page_path}?notice=recovered&count=1")).text
    )


async def test_filters_sorting_and_paging(web: WebFactory) -> None:
    person, api, hook = await _hooked(web, "http://127.0.0.1:9/hook")
    for n in range(30):
        await api.call("create-project", {"teamId": hook["teamId"], "name": f"p{n}"})
    path = f"/webhooks/{hook['id']}/history"
    first = (await person.get(path)).text
    assert len(ROW.findall(first)) == 20 and f"1{DASH}20 of 31" in text(first)
    assert 'rel="prev"' not in first
    assert 'data-sortable="client"' not in first  # paged: sorting goes to the server
    following = re.search(r'href="([^"]+)" rel="next"', first)
    assert following
    second = (await person.get(following.group(1).replace("&amp;", "&"))).text
    assert len(ROW.findall(second)) == 11 and f"21{DASH}31 of 31" in text(second)
    assert 'rel="next"' not in second
    previous = re.search(r'href="([^"]+)" rel="prev"', second)
    assert previous and "page=" not in previous.group(1)
    searched = (await person.get(path + "?q=ping")).text
    assert len(ROW.findall(searched)) == 1 and "1 delivery matches." in text(searched)
    assert 'data-sortable="client"' in searched
    by_duration = (await person.get(path + "?sort=-duration")).text
    assert 'aria-sort="descending" data-sort-key="duration"' in by_duration
    today = datetime.now(UTC).date()
    window = f"?since={today - timedelta(days=3)}&until={today - timedelta(days=1)}"
    empty = (await person.get(path + window)).text
    assert ROW.findall(empty) == [] and "No delivery matches these filters." in empty
    assert len(ROW.findall((await person.get(path + f"?since={today}&until={today}")).text)) == 20
    bad = (await person.get(path + "?since=yesterday&until=2020-01-01&status=lost")).text
    assert 'id="history-since-error"' in bad and 'id="history-status-error"' in bad
    backwards = (await person.get(path + "?since=2026-02-01&until=2026-01-01")).text
    assert "The end date comes before the start date." in backwards
    beyond = await person.get(path + "?page=99")
    assert beyond.status_code == 200 and "There is no page 99: the history has 2." in text(
        beyond.text
    )
    assert (await person.get(path + "?page=-3")).status_code == 200


async def test_search_runs_over_the_whole_history_and_payloads(web: WebFactory) -> None:
    """A match on page 3 is found from page 1; the payload's text is searched."""
    person, api, hook = await _hooked(web, "http://127.0.0.1:9/hook")
    await api.call("create-project", {"teamId": hook["teamId"], "name": "Needle in a haystack"})
    for n in range(45):
        await api.call("create-project", {"teamId": hook["teamId"], "name": f"hay {n}"})
    path = f"/webhooks/{hook['id']}/history"
    assert "Needle" not in (await person.get(path)).text
    third = (await person.get(path + "?page=3")).text
    assert f"41{DASH}47 of 47" in text(third)
    found = (await person.get(path + "?q=needle+IN")).text
    assert len(ROW.findall(found)) == 1 and f"1{DASH}1 of 1" in text(found)
    assert "1 delivery matches." in text(found)
    assert "data-filter-table" not in found  # nothing filters only the rows shown
    words = text((await person.get(path + "?q=hay")).text)
    assert f"1{DASH}20 of 46" in words and "46 deliveries match." in words  # and the haystack


async def test_times_have_seconds_and_relative_words(web: WebFactory) -> None:
    person, api, hook = await _hooked(web, "http://127.0.0.1:9/hook")
    page = await api.call("get-webhook-deliveries", {"webhookId": hook["id"]})
    shown = text((await person.get(f"/deliveries/{page['items'][0]['id']}")).text)
    assert re.search(
        r"Created \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC \((just now|\d+ s ago)\)", shown
    )


async def test_recover_form_errors(web: WebFactory) -> None:
    person, _api, hook = await _hooked(web, "http://127.0.0.1:9/hook")
    path = f"/webhooks/{hook['id']}/recover"
    page = await person.submit(path, {"since": "last week", "until": "later"})
    assert page.status_code == 400
    assert 'id="recover-since-error"' in page.text and 'id="recover-until-error"' in page.text
    page = await person.submit(path, {"since": "2026-01-02T00:00", "until": "2026-01-01T00:00"})
    assert page.status_code == 400 and "Until must come after since" in page.text


async def test_viewers_and_outsiders(web: WebFactory, api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("viewer",))
    hook = await members["owner"].call(
        "create-webhook", {"teamId": team["id"], "uri": "http://127.0.0.1:9/hook"}
    )
    page = await members["owner"].call("get-webhook-deliveries", {"webhookId": hook["id"]})
    delivery_path = f"/deliveries/{page['items'][0]['id']}"
    viewer = await web.of(members["viewer"])
    details = await viewer.get(delivery_path)
    assert details.status_code == 200 and "Re-send" not in details.text
    assert "Not sent yet" in details.text and '"name": "ping"' in text(details.text)
    assert (await viewer.submit(f"{delivery_path}/resend")).status_code == 403
    outsider = await web.user()
    assert (await outsider.get(delivery_path)).status_code == 404
    assert (await outsider.submit(f"{delivery_path}/resend")).status_code == 404
    assert (await outsider.get(f"/deliveries/{uuid.uuid4()}")).status_code == 404


async def test_a_batch_shows_the_exact_body_it_sent(
    web: WebFactory, receiver: Receiver, fast: Services
) -> None:
    """The page shows every event of the batch, byte for byte what the
    receiver got, so its signature checks out against what is shown."""
    person, api, hook = await _hooked(web, f"{receiver.base}/ok", maxEventsPerRequest=5)
    for n in range(4):
        await api.call("create-project", {"teamId": hook["teamId"], "name": f"Batch {n}"})
    worker = Worker(fast)
    await worker.start()
    try:
        await eventually(lambda: sum(len(json.loads(r.body)) for r in receiver.requests) == 5)

        async def recorded() -> bool:
            page = await api.call("get-webhook-deliveries", {"webhookId": hook["id"]})
            return all(d["status"] == "succeeded" for d in page["items"])

        await eventually(recorded)
    finally:
        await worker.stop()
    [request] = receiver.requests
    page = await api.call("get-webhook-deliveries", {"webhookId": hook["id"], "search": "Batch 2"})
    shown = (await person.get(f"/deliveries/{page['items'][0]['id']}")).text
    exact = re.search(r'<pre tabindex="0" class="exact-body"[^>]*>([^<]*)</pre>', shown)
    assert exact, text(shown)[-3000:]
    assert html.unescape(exact.group(1)).encode() == request.body
    assert "This request carried 5 events" in text(shown)
    for n in range(4):
        assert f"Batch {n}" in text(shown)
    verify(hook["secret"], request)


async def test_an_unsent_transit_delivery_previews_as_transit(web: WebFactory) -> None:
    person, api, hook = await _hooked(
        web, "http://127.0.0.1:9/hook", mtype="application/transit+json"
    )
    page = await api.call("get-webhook-deliveries", {"webhookId": hook["id"]})
    shown = text((await person.get(f"/deliveries/{page['items'][0]['id']}")).text)
    assert "as Transit" in shown and '"~:name"' in shown


async def test_dates_are_iso_8601_in_24_hours_everywhere(web: WebFactory) -> None:
    """Browser date pickers show the reader's locale (mm/dd/yyyy, 12-hour):
    the filters take and show ISO 8601 text instead."""
    person, _api, hook = await _hooked(web, "http://127.0.0.1:9/hook")
    page = (await person.get(f"/webhooks/{hook['id']}/recover")).text
    assert 'type="date"' not in page and 'type="datetime-local"' not in page
    since = re.search(r'id="recover-since" name="since" type="text" value="([^"]+)"', page)
    assert since and re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", since.group(1))
    done = await person.submit(f"/webhooks/{hook['id']}/recover", {"since": "2026-01-01 13:05"})
    assert done.status_code == 303
