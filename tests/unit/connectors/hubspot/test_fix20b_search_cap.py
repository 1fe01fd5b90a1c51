"""fix20b: more contacts at one watermark than HubSpot's search answers for one query never stop a pull.

HubSpot's search answers at most 10,000 results of one query
(https://developers.hubspot.com/docs/guides/api/crm/search, "Limitations"). A page of contacts that
cannot move the watermark (no readable ``lastmodifieddate``) was followed by offset, so past 10,000
of them every run stopped with ``PaginationError`` naming the cap (rob24's documented limit). The
watermark's query is now walked by ``hs_object_id`` (sorted ascending, ``GT`` the last id read), each
search from its first result (connectors/hubspot/_pull.py ``_walked``).
"""

from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest

from connectors._http import PaginationError
from connectors.hubspot import HubSpotSandbox

from .conftest import SpecChecked, connect, fast_sandbox
from .test_pull_junk_pages import LATER, JunkStamped, T, _keys, _searches, _start

BY_ID = [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]


class JunkOnTheWire(SpecChecked):
    """The sandbox's answers, not checked against the spec (10,400 contacts through the check cost
    about ten CPU seconds more; the other tests here check the same queries), with the contacts
    ``ids`` given ``"last Tuesday"`` for a modification time on the wire."""

    def __init__(self, sandbox: HubSpotSandbox) -> None:
        super().__init__(sandbox)
        self.ids: set[str] = set()
        self.searches: list[tuple[dict[str, object], int]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.sandbox.handle(request)
        response.read()
        if not request.url.path.endswith("/search"):
            return response
        self.searches.append((json.loads(request.content), response.status_code))
        data = json.loads(response.content)
        for contact in data.get("results", []):
            if str(contact.get("id")) in self.ids:
                contact["properties"]["lastmodifieddate"] = contact["updatedAt"] = "last Tuesday"
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, content=json.dumps(data).encode(), headers=headers)


#: More undated contacts than HubSpot's search answers for one query (10,000), by two pages of 200: an
#: offset walk asks past the cap (the bug), the walk by id never does. (25,000 before: each search
#: scans every contact in the sandbox, so the test cost grew with the square of the count.)
BULK = 10_400


@pytest.mark.slow  # (about 3 CPU s: the sandbox searches 10,400 contacts some 55 times)
def test_more_undated_contacts_than_the_cap_at_one_watermark_arrive_once_and_the_cursor_moves() -> None:
    # GIVEN HubSpot's own cap (10,000 results of one query) and, after a full pull, 10,400 contacts
    # on one stamp that no reader can date (a bulk import), then 30 dated after them
    sandbox = fast_sandbox(people=6)
    wire = JunkOnTheWire(sandbox)
    with connect(sandbox, wire) as hubspot:
        cursor = list(hubspot.pull(None))[-1].cursor
        bulk = sandbox.add_records(BULK, at=T)
        good = sandbox.add_records(30, at=LATER)
        wire.ids = {key.split(":", 1)[1] for key in bulk}
        wire.searches.clear()
        # WHEN pulling incrementally (before fix20b: PaginationError, "search answers at most 10000
        # results of one query", on this run and every run after)
        pages = list(hubspot.pull(cursor))
        # THEN every contact comes exactly once
        assert Counter(_keys(pages)) == Counter(bulk | good)
        # AND no search was refused, none asked an offset, and the walk went by record id
        assert {status for _, status in wire.searches} == {200}
        assert {body["after"] for body, _ in wire.searches} == {"0"}
        walked = [body for body, _ in wire.searches if body["sorts"] == BY_ID]
        assert len(walked) >= BULK // 200
        # AND the cursor moved to the dated contacts, so the next run brings nothing again
        assert json.loads(pages[-1].cursor or "")["w"] == int(LATER.timestamp() * 1000)
        assert _keys(list(hubspot.pull(pages[-1].cursor))) == []


def test_the_walk_by_id_asks_the_watermarks_query_in_the_shapes_hubspot_documents() -> None:
    # GIVEN every exchange checked against HubSpot's published spec, a search cap of 300 and 450
    # undated contacts at the watermark
    sandbox = fast_sandbox(people=6, search_result_cap=300)
    checked = JunkStamped(sandbox, set())
    with connect(sandbox, checked) as hubspot:
        cursor = _start(hubspot)
        checked.ids = {key.split(":", 1)[1] for key in sandbox.add_records(450, at=T)}
        watermark = json.loads(cursor)["w"]
        list(hubspot.pull(cursor))
    # THEN each walk search keeps the watermark's filter and adds hs_object_id GT the last id read,
    # ANDed in one filter group, sorted by hs_object_id ascending, from its first result
    walked = [s for s in _searches(checked) if s["sorts"] == BY_ID]
    assert len(walked) >= 3
    lasts = []
    for search in walked:
        (group,) = search["filterGroups"]  # type: ignore[misc]
        first, by_id = group["filters"]
        assert (first["propertyName"], first["value"]) == ("lastmodifieddate", str(watermark))
        assert (by_id["propertyName"], by_id["operator"]) == ("hs_object_id", "GT")
        lasts.append(int(by_id["value"]))
        assert search["after"] == "0"
    assert lasts == sorted(set(lasts))
    assert lasts[0] == 0
    assert all(response.status_code == 200 for _, response in checked.exchanges)


def test_contacts_changed_while_the_walk_reads_them_arrive_in_their_last_version() -> None:
    # GIVEN a search cap of 300 and 700 undated contacts at the watermark; after every search
    # answer one of them changes (HubSpot stamps it now, so it is dated): alternately one the walk
    # has passed and one it has not reached
    sandbox = fast_sandbox(people=6, search_result_cap=300)
    checked = JunkStamped(sandbox, set())
    with connect(sandbox, checked) as hubspot:
        cursor = _start(hubspot)
        bulk = sorted(sandbox.add_records(700, at=T), key=lambda key: int(key.split(":", 1)[1]))
        checked.ids = {key.split(":", 1)[1] for key in bulk}
        changed: list[str] = []

        def change_one() -> None:
            n = len(changed)
            key = bulk[n // 2] if n % 2 == 0 else bulk[-1 - n // 2]
            changed.append(key)
            checked.ids.discard(key.split(":", 1)[1])
            sandbox.touch({key})

        checked.after_answer = change_one
        # WHEN pulling incrementally, then once more with no change made
        first = list(hubspot.pull(cursor))
        checked.after_answer = lambda: None
        second = list(hubspot.pull(first[-1].cursor))
    # THEN every contact arrived, and each changed one's last delivery is its last version
    delivered = [r for p in first + second for r in p.records]
    assert {f"contact:{r['id']}" for r in delivered} == set(bulk)
    final = {f"contact:{r['id']}": r["properties"].get("jobtitle") for r in delivered}
    titles = {f"contact:{c.id}": c.properties.get("jobtitle") for c in sandbox._contacts.values()}
    assert len(changed) >= 4  # (two of them after the walk had read them)
    assert {key: final[key] for key in changed} == {key: titles[key] for key in changed}
    assert all(response.status_code == 200 for _, response in checked.exchanges)


class StuckWalk(JunkStamped):
    """A search that ignores the walk's ``hs_object_id`` bound: every walk page is its first."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/search"):
            body = json.loads(request.content)
            for group in body.get("filterGroups", []):
                for f in group["filters"]:
                    if f["propertyName"] == "hs_object_id":
                        f["value"] = "0"
            request = httpx.Request(
                request.method, request.url, headers=request.headers, content=json.dumps(body).encode()
            )
        return super().__call__(request)


def test_a_walk_whose_pages_bring_no_later_id_stops_with_an_error_instead_of_looping() -> None:
    # GIVEN 450 undated contacts at the watermark, and a search that answers every walk page from the start
    sandbox = fast_sandbox(people=6)
    checked = StuckWalk(sandbox, set())
    with connect(sandbox, checked) as hubspot:
        cursor = _start(hubspot)
        checked.ids = {key.split(":", 1)[1] for key in sandbox.add_records(450, at=T)}
        # WHEN pulling incrementally THEN the pull stops, naming the walk, after a few searches
        with pytest.raises(PaginationError, match="no later contact id"):
            list(hubspot.pull(cursor))
    assert len(_searches(checked)) < 10
