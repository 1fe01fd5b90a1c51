"""attack31p: an erased person's broken line is kept when her long address straddles the 500-character cut.

connectors/jsonl ``_bad_line`` keeps a broken line's first 500 characters (``_HEAD``) and, for a longer
line, the addresses written past them (``beyond_head``, attack30's fix), read from
``text[_HEAD - 64:]`` "so a value the cut splits is read whole". An address may be 254 characters
(RFC 5321); one longer than 64 that starts before character 436 and ends after 500 is whole in
neither part: the head keeps its start, ``beyond_head`` its tail (``abelle.lee-whitmore...@...``),
and profilesync/erased_quarantine.py reads two addresses that are not hers. After her erasure by that
address her line stays in ``resolve``'s quarantine file, with her address's first 65 to 99
characters in the head and the rest beside it. The same line with the address a few characters later
(wholly past the overlap) is hers and dropped (the control).

Addresses that long are rare but real: a department mailbox under a long subdomain, a county in the
domain (this one: 99 characters).

Fix idea: read ``beyond_head`` from the start of the string literal the cut falls in (the last
unescaped quote before character 500), or with an overlap of the longest address (254), not 64.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.jsonl import line_outcome
from core.normalise import NormaliseOptions
from core.schema import Quarantined
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from profilesync.erased_quarantine import erased_check

HER = "annabelle.lee-whitmore.accounts-payable@customer-services.north-yorkshire.harbourlightsbakery.co.uk"
PREFIX = '{"source": "crm", "id": "7", "note": "'
BEFORE = '", "email": "'


def _erased(entry: Quarantined) -> bool:
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, "attack31p-cut")
    key = f"email#{HER}"
    store.suppress([SuppressionEntry(check.hash(key), "email", "req-1", datetime(2026, 1, 1, tzinfo=UTC))])
    return erased_check(check, NormaliseOptions(default_region="GB"))(entry)


def _broken_line_with_her_address_at(start: int) -> Quarantined:
    """Her broken line (a trailing comma), her address starting at character ``start``."""
    pad = "x" * (start - len(PREFIX) - len(BEFORE))  # a note long enough to put it there
    text = PREFIX + pad + BEFORE + HER + '", "first_name": "Ann",}'
    assert text.index(HER) == start
    entry = line_outcome(1, text, len(text), "crm")
    assert isinstance(entry, Quarantined), entry
    return entry


REASON = (
    "connectors/jsonl/__init__.py:227 reads beyond_head from text[_HEAD - 64:], so an address over 64 "
    "characters that straddles character 500 is whole in neither the head nor beyond_head, and "
    "profilesync/erased_quarantine.py reads two addresses that are not hers; fix idea: read from the "
    "start of the string literal the cut falls in, or with an overlap of 254"
)


@pytest.mark.parametrize("start", [403, 420, 435])
def test_her_broken_line_with_her_address_across_the_cut_is_hers(start: int) -> None:
    # GIVEN she was erased by her 99-character address
    assert len(HER) == 99
    # WHEN her broken line writes it from character `start` to past character 500
    entry = _broken_line_with_her_address_at(start)
    assert start < 436 < 500 < start + len(HER)
    # THEN it is hers: dropped from the quarantine file
    assert _erased(entry)


@pytest.mark.parametrize("start", [300, 436, 480])
def test_control_her_address_whole_in_one_part_is_hers(start: int) -> None:
    """Passes on main: whole in the head (300), or whole past the overlap (436, 480) and kept in
    ``beyond_head``. Catches ``beyond_head`` read from character 500 (no overlap: 436 and 480 fail)
    or not at all."""
    assert _erased(_broken_line_with_her_address_at(start))
