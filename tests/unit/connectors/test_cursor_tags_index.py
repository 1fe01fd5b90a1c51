"""``another_version`` and ``latest_of`` (connectors.cursor_tags) read an index of the tags made once
per state; they must answer as their definitions, a scan of the tags in the order delivered, for a
cursor's tuple, a list, Shopify's dict of tags, and HubSpot's ``_returned`` (which keeps its own
index of the list it builds)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bench.cursor_tags import scan_another_version, scan_latest_of, scan_returned
from connectors.cursor_ahead import changed_ahead
from connectors.cursor_tags import another_version, latest_of
from connectors.hubspot._pull import _returned

#: Tags of a few records in a few versions each (record part, version part from small alphabets),
#: so that lists hold several versions of one record, in any order, repeated.
_TAGS = st.builds(lambda r, v: f"{r:08x}{v:08x}", st.integers(0, 3), st.integers(0, 4))


@given(tag=_TAGS, tags=st.lists(_TAGS, max_size=12), kind=st.sampled_from(["tuple", "list", "dict"]))
def test_the_indexed_functions_answer_as_a_scan_of_the_tags(tag: str, tags: list[str], kind: str) -> None:
    # GIVEN any tags delivered, in order, held as a cursor holds them, and a version pulled now
    as_dict = dict.fromkeys(tags, "2026-03-01T12:00:00Z")  # Shopify's skip: tag -> updated_at
    held = {"tuple": tuple(tags), "list": list(tags), "dict": as_dict}[kind]
    # THEN each function answers as its definition over the same tags in the same order
    assert another_version(tag, held) is scan_another_version(tag, held)
    assert latest_of(tag, held) is scan_latest_of(tag, held)
    # AND asking again of an equal state built anew (the index is made once, per state) answers the same
    assert latest_of(tag, tuple(held)) is scan_latest_of(tag, held)


@given(tag=_TAGS, ahead=st.lists(_TAGS, max_size=12))
def test_changed_ahead_is_another_version_than_the_last_delivered(tag: str, ahead: list[str]) -> None:
    # THEN a version counts as changed exactly when the cursor holds a version of its record and the
    # last one held is not this one (the definitions, scanned)
    expected = scan_another_version(tag, ahead) and not scan_latest_of(tag, ahead)
    assert changed_ahead(tag, tuple(ahead)) is expected


@given(seen=st.lists(_TAGS, max_size=12), returned=st.lists(_TAGS, max_size=12))
def test_hubspot_returned_moves_a_version_not_last_of_its_record_to_the_end(
    seen: list[str], returned: list[str]
) -> None:
    # GIVEN the tags a search returned at the watermark before, and those it returned now
    # THEN the state holds them as the scan over the list it builds gives
    assert _returned(tuple(seen), returned) == scan_returned(tuple(seen), returned)
