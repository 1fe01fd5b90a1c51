"""A sync that reads a customer's renames on one second across event pages (``PAGE`` = 100) orders
each version by the events after it on its second in its stream's walk, across its pages
(``_event_seconds.counted_across_pages``): a later full refresh dates the kept version as the sync
did and writes nothing. Before, they were counted within one page, and with more renames on one
second than a page holds the refresh wrote a touch (101 renames: a strict xfail)."""

from __future__ import annotations

import pytest

from connectors.stripe._declaration import PAGE
from tests.unit.connectors.stripe.test_stripe_full_refresh_retention import (
    test_a_full_refresh_holds_what_stripe_holds_and_writes_nothing_when_the_store_does as refresh,
)


@pytest.mark.parametrize(
    "renames",
    [2, PAGE, PAGE + 1, 2 * PAGE + 1],
    ids=["two", "a_page", "a_page_and_one", "two_pages_and_one"],
)
def test_renames_on_one_second_then_a_refresh_writes_nothing(renames: int) -> None:
    inner = refresh.hypothesis.inner_test  # type: ignore[attr-defined]
    inner(steps=[(1, "rename", 0)] * renames + [(1, "sync", 0)], after=0)
