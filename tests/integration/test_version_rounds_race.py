"""A call's dated versions of several contents of one record are reduced to the newest when the
owners read (core.pipeline.version_rounds) shows no undated stored version; another writer storing
one right after that read makes the newest do nothing against it (the same content, not later than
its bound). The plan's own read sees it, and the record's versions are applied again in rounds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.batch_ingest import ingest_batch
from core.pipeline import IngestSettings, ingest
from tests.integration.test_attack10_undated_programs import _ann, _stored
from tests.integration.test_frozen_merge_repair_interleavings import _kit

CALL = [_ann(3, "Oslo", False), _ann(4, "Bergen", False), _ann(5, "Oslo", False)]
WRITER = [_ann(10, "Oslo", True)]  # another worker: the listing, undated (bound day 10)
NEXT = [_ann(8, "Bergen", True)]  # a later listing, undated, of other content
S = IngestSettings(sleep=lambda _: None)
Entry = Callable[..., Any]


def _serial(name: str, first: list[Any], second: list[Any], then: list[Any]) -> Any:
    with _kit(name) as kit:
        for records in (first, second, then):
            ingest(records, kit.profiles, S)
        return _stored(kit)


@pytest.mark.parametrize("then", [[], NEXT], ids=["alone", "then_a_listing"])
@pytest.mark.parametrize("entry", [ingest, ingest_batch], ids=["ingest", "ingest_batch"])
@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_a_writer_between_the_rounds_read_and_the_commit(name: str, entry: Entry, then: list[Any]) -> None:
    serial = {_serial(name, WRITER, CALL, then), _serial(name, CALL, WRITER, then)}
    with _kit(name) as kit:
        store = kit.profiles
        real = store.get_owners
        done = [False]

        def get_owners(keys: Any, *a: Any, **k: Any) -> Any:
            found = real(keys, *a, **k)
            if not done[0]:
                done[0] = True
                ingest(WRITER, store, S)  # lands right after the call's first owner read
            return found

        store.get_owners = get_owners
        result = entry(CALL, store, S)
        store.get_owners = real
        ingest(then, store, S)
        concurrent = _stored(kit)
    assert concurrent in serial, (concurrent, serial)
    # every version counted once: each written, or found unchanged (one collapsed into another)
    assert result.received == len(CALL) == result.written + result.unchanged + result.stale
