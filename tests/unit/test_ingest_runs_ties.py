"""``core.ingest_runs.fold`` among copies of one content at the same time and stamp (tie22): the copy
read earliest stands for them, and one read at no time (``read_at`` None: stamped at or before its
read) before any read at a time, whatever order the versions come in (revA22 finding 8: the
tie-break was untested)."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import permutations

import pytest

from core.content_hash import record_hash
from core.ingest_runs import fold
from core.schema import SourceRecord
from core.testing.records import T0, make_record

BASE = make_record("crm", "1", email="ann@example.com")


def _copy(read_at: datetime | None) -> SourceRecord:
    return BASE.model_copy(update={"updated_at": T0, "read_at": read_at})


# Read at or after their stamp: each orders at T0 as the copy with no read time does.
UNREAD, READ_AT_STAMP, READ_LATER = _copy(None), _copy(T0), _copy(T0 + timedelta(seconds=1))


def test_the_copies_tie_on_time_stamp_and_content() -> None:
    copies = (UNREAD, READ_AT_STAMP, READ_LATER)
    assert {(c.ordered_at, c.updated_at, record_hash(c)) for c in copies} == {(T0, T0, record_hash(BASE))}


@pytest.mark.parametrize("order", list(permutations((UNREAD, READ_AT_STAMP, READ_LATER))))
def test_the_copy_with_no_read_time_stands_for_the_tie(order: tuple[SourceRecord, ...]) -> None:
    assert fold(order).read_at is None


@pytest.mark.parametrize("order", list(permutations((READ_AT_STAMP, READ_LATER))))
def test_else_the_copy_read_earliest(order: tuple[SourceRecord, ...]) -> None:
    assert fold(order).read_at == T0
