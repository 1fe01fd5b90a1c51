"""The cap of the fuzzy suppression entry that holds every erasure's fingerprints under one look-up
key (core.suppression_prints): an entry never holds more than ``MAX_PRINTS_CHARS``, whatever form it
held before (an untagged list of one erasure, as the previous version wrote it, or the tagged
object) and however many erasures add to it; each erasure keeps a leading part of its own prints.

Before the fix, the first namesake added to an untagged list turned it into the tagged object
without counting the first erasure's id and braces: the entry passed the cap by up to 40 characters.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from core.suppression import SuppressionEntry
from core.suppression_prints import MAX_PRINTS_CHARS, fit, merged, prints_by_erasure, without

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _entry(erasure: str, prints: list[dict[str, str]], *, tagged: bool = False) -> SuppressionEntry:
    held = {erasure: prints} if tagged else prints
    return SuppressionEntry("h", "fuzzy", erasure, AT, json.dumps(held, sort_keys=True))


#: One erasure's fingerprints: how many (up to past what one entry holds) and how long each is.
PRINTS = st.tuples(st.integers(1, 9000), st.integers(0, 80))
ERASURES = st.lists(
    st.tuples(st.sampled_from(["req-a", "req-b", "req-c", "req-" + "d" * 36]), PRINTS), max_size=5
)


@settings(max_examples=100, deadline=None)
@given(first=PRINTS, later=ERASURES, old_form=st.booleans(), lift=st.sampled_from(["", "req-a", "req-b"]))
def test_an_entry_stays_within_its_cap_whatever_form_it_held_and_whoever_adds(
    first: tuple[int, int], later: list[tuple[str, tuple[int, int]]], old_form: bool, lift: str
) -> None:
    """GIVEN an entry of one erasure (an untagged list, as before, or tagged) WHEN other erasures add
    their fingerprints (some past what fits) and one is lifted THEN the entry's fingerprint is never
    longer than ``MAX_PRINTS_CHARS``, and each erasure holds a leading part of its own prints."""

    def prints(who: str, count: int, size: int) -> list[dict[str, str]]:
        return [{"k": f"{who}{i}".ljust(size, "x")} for i in range(count)]

    count, size = first
    if old_form:  # as the previous version wrote it: an untagged list, cut to the cap
        held = _entry("req-a", fit(prints("req-a", count, size)))
    else:  # as a store writes an erasure's entry under a new key
        held = merged(None, _entry("req-a", prints("req-a", count, size), tagged=True))
    sent = {"req-a": prints("req-a", count, size)}
    for erasure, (count, size) in later:
        sent[erasure] = prints(erasure, count, size)
        held = merged(held, _entry(erasure, sent[erasure]))
        assert len(held.fingerprint) <= MAX_PRINTS_CHARS, (erasure, len(held.fingerprint) - MAX_PRINTS_CHARS)
    if lift:
        left, _ = without(held, lift)
        sent.pop(lift, None)
        if left is None:
            return
        held = left
        assert len(held.fingerprint) <= MAX_PRINTS_CHARS
    for erasure, kept in prints_by_erasure(held).items():
        assert kept == sent[erasure][: len(kept)]
