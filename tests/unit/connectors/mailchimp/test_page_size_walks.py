"""Mailchimp's ``page_size`` over its small end: any size from 2 walks any audience to its end.

A page after the first starts one member back (the overlap check), so it brings ``page_size - 1``
new members at most: at 1 it brought none and the walk asked for the same page forever. Generated
audiences, page sizes and ties (members changed on one second, across page boundaries), a full pull
and then an incremental one: every walk ends, and each member comes once. A walk that makes no
progress is stopped by the number of its requests (far more than a walk of the audience needs),
not by time: a stopped example is found again at once while Hypothesis shrinks it.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.mailchimp import MailchimpSandbox, make_sandbox
from tests.hypothesis_profiles import examples

from .conftest import connect
from .test_pull import T, keys_of


class NoProgressError(AssertionError):
    """A pull asked for more pages than walking its audience could take."""


class Bounded:
    """The sandbox's handler, refusing to answer past ``limit`` requests."""

    def __init__(self, sandbox: MailchimpSandbox, limit: int) -> None:
        self.sandbox, self.limit, self.requests = sandbox, limit, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.requests > self.limit:
            raise NoProgressError(f"{self.requests} requests: the walk made no progress")
        return self.sandbox.handle(request)


@settings(max_examples=examples(ci=25, deep=150), deadline=None)
@given(
    people=st.integers(min_value=0, max_value=30),
    size=st.integers(min_value=2, max_value=9),
    ties=st.lists(st.integers(min_value=1, max_value=12), max_size=3),
    seed=st.integers(min_value=0, max_value=3),
)
def test_any_page_size_from_2_walks_every_member_once_full_then_incremental(
    people: int, size: int, ties: list[int], seed: int
) -> None:
    # GIVEN an audience, and a connector asking for pages of ``size``
    sandbox = make_sandbox(people=people, seed=seed)
    options = {**sandbox.settings().options, "page_size": str(size)}
    # (a walk needs a request per new member at most, and a few to probe and count: 10 x that is ample)
    bounded = Bounded(sandbox, limit=10 * (people + sum(ties) + 10))
    with connect(sandbox, bounded, options=options) as connector:
        # WHEN it pulls everything
        pages = list(connector.pull(None))
        # THEN every member comes once, in pages of at most ``size``
        assert Counter(keys_of(pages)) == Counter(sandbox.record_keys())
        assert all(len(p.records) <= size for p in pages)
        # AND WHEN members change in blocks on one second each, the next pull brings exactly them
        changed: set[str] = set()
        for i, count in enumerate(ties):
            changed |= sandbox.add_records(count, at=T + timedelta(seconds=i))
        rest = list(connector.pull(pages[-1].cursor))
        assert Counter(keys_of(rest)) == Counter(changed)
