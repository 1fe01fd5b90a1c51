"""rob24: pages of contacts whose ``lastmodifieddate`` no reader can date never stop a HubSpot pull.

Such a contact never moves the watermark (connectors.hubspot._pull), so a search page full of them
asked again from its start answered the same page: the pull stopped with ``PaginationError`` on that
run and every run after. rob24 followed such a page by search's ``paging.next.after`` (an offset),
which stops at search's 10,000-result cap; fix20b walks the watermark's query by record id instead
(tests/unit/connectors/hubspot/test_fix20b_search_cap.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import httpx

from connectors.hubspot import HubSpotConnector, HubSpotSandbox
from core.connector import RawPage
from core.testing.clock import days_ago

from .conftest import SpecChecked, connect, fast_sandbox

#: Noon three days ago (as tests/unit/connectors/hubspot/test_pull.py): in the past whatever the date.
T = days_ago(3)
LATER = T + timedelta(minutes=1)


class JunkStamped(SpecChecked):
    """The sandbox's answers checked against HubSpot's spec, then the contacts ``keys`` given
    ``"last Tuesday"`` for a modification time on the wire; after each search answer,
    ``after_answer`` runs (a change made while the pull pages)."""

    def __init__(
        self, sandbox: HubSpotSandbox, keys: set[str], after_answer: Callable[[], None] = lambda: None
    ) -> None:
        super().__init__(sandbox)
        self.ids = {key.split(":", 1)[1] for key in keys}
        self.after_answer = after_answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = super().__call__(request)
        if not request.url.path.endswith("/search"):
            return response
        data = json.loads(response.content)
        for contact in data.get("results", []):
            if str(contact.get("id")) in self.ids:
                contact["properties"]["lastmodifieddate"] = contact["updatedAt"] = "last Tuesday"
        self.after_answer()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, content=json.dumps(data).encode(), headers=headers)


def _keys(pages: list[RawPage]) -> list[str]:
    return [f"contact:{r['id']}" for page in pages for r in page.records]


def _searches(checked: SpecChecked) -> list[dict[str, object]]:
    return [
        json.loads(r.content) for r, _ in checked.exchanges if r.url.path.endswith("/search") and r.content
    ]


def _start(hubspot: HubSpotConnector) -> str:
    cursor = list(hubspot.pull(None))[-1].cursor
    assert cursor is not None
    return cursor


def test_five_pages_of_junk_stamped_contacts_are_paged_past_and_the_cursor_moves() -> None:
    # GIVEN five search pages (200 each) of contacts with junk modification times, between 30 dated
    # before them and 30 dated later
    sandbox = fast_sandbox(people=6)
    checked = JunkStamped(sandbox, set())
    with connect(sandbox, checked) as hubspot:
        cursor = _start(hubspot)
        early = sandbox.add_records(30, at=T - timedelta(minutes=1))
        junk = sandbox.add_records(1000, at=T)
        good = sandbox.add_records(30, at=LATER)
        checked.ids = {key.split(":", 1)[1] for key in junk}
        # WHEN pulling incrementally
        pages = list(hubspot.pull(cursor))
        # THEN every contact comes once, the watermark moves to the dated ones, and no request was refused
        keys = _keys(pages)
        assert sorted(keys) == sorted(early | junk | good)
        last = json.loads(pages[-1].cursor or "")
        assert last["w"] == int(LATER.timestamp() * 1000)
        assert "o" not in last  # (a run's end hands on no offset)
        assert all(response.status_code == 200 for _, response in checked.exchanges)
        # AND past the first page of junk the watermark's query was walked by record id, every
        # search from its first result (never an offset: search refuses offsets past 10,000)
        searches = _searches(checked)
        assert {s["after"] for s in searches} == {"0"}
        by_id = [
            s for s in searches if s["sorts"] == [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
        ]
        assert len(by_id) >= 5
        # AND the next run brings nothing again
        assert _keys(list(hubspot.pull(pages[-1].cursor))) == []


def test_a_junk_stamped_contact_changed_while_paged_by_offset_loses_no_contact() -> None:
    # GIVEN 450 junk-stamped contacts (three search pages) and ten dated later; once the first page
    # is answered, a contact on it changes (it moves to the end: every later offset shifts by one)
    sandbox = fast_sandbox(people=6)
    answers: list[int] = []
    checked = JunkStamped(sandbox, set(), lambda: answers.append(1))
    with connect(sandbox, checked) as hubspot:
        cursor = _start(hubspot)
        answers.clear()
        junk = sandbox.add_records(450, at=T)
        good = sandbox.add_records(10, at=LATER)
        first = min(junk, key=lambda key: int(key.split(":", 1)[1]))

        def change_once() -> None:
            answers.append(1)
            if len(answers) == 1:
                sandbox.touch({first}, at=T + timedelta(seconds=30))

        checked.ids, checked.after_answer = {key.split(":", 1)[1] for key in junk}, change_once
        # WHEN pulling incrementally
        pages = list(hubspot.pull(cursor))
    # THEN every contact comes (the one that changed twice: in both versions), none is stepped over
    keys = _keys(pages)
    assert set(keys) == junk | good
    assert keys.count(first) == 2


def test_more_junk_than_search_answers_for_one_query_is_walked_past_the_cap() -> None:
    # GIVEN a search that answers at most 300 results of one query (HubSpot: 10,000) and 700 contacts
    # with junk modification times
    sandbox = fast_sandbox(people=6, search_result_cap=300)
    checked = JunkStamped(sandbox, set())
    with connect(sandbox, checked) as hubspot:
        cursor = _start(hubspot)
        junk = sandbox.add_records(700, at=T)
        checked.ids = {key.split(":", 1)[1] for key in junk}
        # WHEN pulling incrementally (before fix20b: PaginationError "at most 10000 results")
        pages = list(hubspot.pull(cursor))
        # THEN every contact comes once and no request was refused
        keys = _keys(pages)
        assert sorted(keys) == sorted(junk)
        assert all(response.status_code == 200 for _, response in checked.exchanges)
