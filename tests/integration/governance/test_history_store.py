"""Every HistoryStore: append is idempotent, pages are complete and disjoint in both orders, and a
survivor inherits the history of the customers merged into it, once, however often it is asked."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.governance.history import HistoryEvent, event_id_for
from core.storage.memory_history import InMemoryHistoryStore
from tests.integration.governance.conftest import Stores

T = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def events(
    customer: str, n: int, *, start: datetime = T, step: timedelta = timedelta(minutes=1)
) -> list[HistoryEvent]:
    out = []
    for i in range(n):
        at = start + step * i
        out.append(
            HistoryEvent(
                customer_id=customer,
                event_id=event_id_for(customer, "source_changed", at, str(i)),
                at=at,
                kind="source_changed",
                actor="run:crm:r1",
                reason="record changed",
                source_keys=(f"crm:contact:{customer}-{i}",),
            )
        )
    return out


def all_pages(stores: Stores, customer: str, limit: int, newest_first: bool) -> list[list[HistoryEvent]]:
    pages: list[list[HistoryEvent]] = []
    after = None
    while True:
        page = stores.history.list_history(customer, limit=limit, after=after, newest_first=newest_first)
        pages.append(list(page.events))
        if page.next is None:
            return pages
        after = page.next
        assert len(pages) < 100


@pytest.mark.parametrize("limit", [1, 3, 7, 50])
def test_pages_hold_every_event_once_in_time_order(stores: Stores, limit: int) -> None:
    # GIVEN 7 events of one customer appended out of order, and another customer's events
    mine = events("cus_a", 7)
    shuffled = mine[:]
    random.Random(limit).shuffle(shuffled)
    stores.history.append_history(shuffled)
    stores.history.append_history(events("cus_b", 3))
    for newest_first in (True, False):
        # WHEN they are read page by page
        pages = all_pages(stores, "cus_a", limit, newest_first)
        flat = [e for page in pages for e in page]
        # THEN every event comes once, in order, in pages of ``limit``, and the last page says so
        expected = sorted(mine, key=lambda e: e.sort_key, reverse=newest_first)
        assert flat == expected
        assert all(len(p) == limit for p in pages[:-1])
        assert 0 < len(pages[-1]) <= limit


def test_appending_the_same_events_again_changes_nothing(stores: Stores) -> None:
    batch = events("cus_a", 5)
    stores.history.append_history(batch)
    stores.history.append_history(batch[2:] + batch[:2])
    assert list(stores.history.list_history("cus_a", limit=50).events) == sorted(
        batch, key=lambda e: e.sort_key, reverse=True
    )


def test_events_at_the_same_instant_are_all_kept(stores: Stores) -> None:
    same = events("cus_a", 4, step=timedelta(0))
    stores.history.append_history(same)
    assert len(stores.history.list_history("cus_a", limit=50).events) == 4


def test_a_survivor_inherits_the_history_of_what_was_merged_into_it_once(stores: Stores) -> None:
    # GIVEN A merged into B, then B into C
    a, b, c = events("cus_a", 3), events("cus_b", 2, start=T + timedelta(hours=1)), events("cus_c", 1)
    stores.history.append_history(a + b + c)
    assert stores.history.inherit_history("cus_a", "cus_b") == 3
    assert stores.history.inherit_history("cus_b", "cus_c") == 5
    # WHEN the last merge is retried (a crash after the copy)
    stores.history.inherit_history("cus_b", "cus_c")
    # THEN C holds every event once: its own, B's (inherited from B) and A's (which happened to A)
    held = stores.history.list_history("cus_c", limit=50, newest_first=False).events
    assert len(held) == 6
    assert {(e.customer_id, e.inherited_from) for e in held} == {
        ("cus_c", None),
        ("cus_b", "cus_b"),
        ("cus_a", "cus_b"),
    }
    assert [e.sort_key for e in held] == sorted(e.sort_key for e in held)
    # AND the absorbed customers keep their own history
    assert len(stores.history.list_history("cus_a", limit=50).events) == 3


def test_a_long_history_is_inherited_whole(stores: Stores) -> None:
    stores.history.append_history(events("cus_a", 230, step=timedelta(seconds=1)))
    assert stores.history.inherit_history("cus_a", "cus_b") == 230
    assert sum(len(p) for p in all_pages(stores, "cus_b", 200, True)) == 230


def test_an_unknown_customer_has_an_empty_history(stores: Stores) -> None:
    page = stores.history.list_history("cus_nobody")
    assert page.events == ()
    assert page.next is None


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 25), limit=st.integers(1, 9), newest_first=st.booleans())
def test_paging_property_on_the_in_memory_store(n: int, limit: int, newest_first: bool) -> None:
    store = InMemoryHistoryStore()
    store.append_history(events("cus_a", n, step=timedelta(seconds=random.Random(n).randint(0, 2))))
    seen = []
    after = None
    while True:
        page = store.list_history("cus_a", limit=limit, after=after, newest_first=newest_first)
        seen.extend(page.events)
        if page.next is None:
            break
        after = page.next
    assert len(seen) == len({e.sort_key for e in seen}) == n
