"""A version a cursor pulls again on its watermark second is dated after the ones delivered there
by the pull itself (``core.version_marks.drafts_of``), not only by a ``to_records`` that remembers
to: a connector author who maps a page by hand gets the newer version kept, and a ``to_records``
that dates (the declared connectors, an author following the earlier advice, an instance wrapper)
is not dated twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from connectors.cursor_seconds import dated
from connectors.instances import InstanceConnector
from connectors.sdk import RestConnector, record_to_draft
from core.connector import Connector, RawPage
from core.schema import RecordDraft
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from core.version_marks import AFTER, drafts_of
from profilesync.testing.contract import T_CHANGES

from .conftest import TinySandbox, declaration


class HandMapped(RestConnector):
    """A third-party connector as an author writes one: the SDK's cursor, its own mapping."""

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        stream = self.declaration.stream_for(page.object_type)
        return [record_to_draft(self.declaration.name, stream, r) for r in page.records]


class HandMappedDating(RestConnector):
    """An author who followed the earlier advice: its own mapping, returned through ``dated``."""

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        stream = self.declaration.stream_for(page.object_type)
        return dated([record_to_draft(self.declaration.name, stream, r) for r in page.records], page.records)


def _tied_and_touched(
    connector: Connector, sandbox: TinySandbox, sync: Callable[[], object], count: int
) -> list[str]:
    """Records added on one second and synced, then each changed again on that second."""
    sync()
    tied = sorted(sandbox.add_records(count, at=T_CHANGES))
    sync()
    sandbox.touch(set(tied), at=T_CHANGES)
    return tied


def test_a_hand_mapped_connector_changed_twice_on_one_second_ends_with_the_second_change() -> None:
    # GIVEN a third-party connector with its own to_records (no dating), synced into a store
    sandbox = TinySandbox(people=5)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    with HandMapped(declaration(page_size=7), sandbox.settings()) as connector:

        def sync() -> object:
            return pull_into_store(connector, store, state)

        # WHEN records delivered on the watermark second change again within it, and it syncs
        tied = _tied_and_touched(connector, sandbox, sync, 12)
        sync()
        fresh = InMemoryProfileStore()
        pull_into_store(connector, fresh, InMemorySyncStateStore(), cursor=None)
    # THEN the store holds every record in its second version, as a full pull reads them
    keys = [f"source#tiny:{k}" for k in tied]
    held = {k: o.record_hash for k, o in store.get_owners(keys).items()}
    assert held == {k: o.record_hash for k, o in fresh.get_owners(keys).items()}
    assert len(held) == len(tied)


@pytest.mark.parametrize("kind", ["declared", "hand_mapped", "hand_mapped_dating", "instance"])
def test_a_marked_version_is_dated_once_whoever_maps_it(kind: str) -> None:
    # GIVEN a record delivered on the watermark second and changed again within it
    sandbox = TinySandbox(people=5)
    cls = {"declared": RestConnector, "hand_mapped": HandMapped}.get(kind, HandMappedDating)
    with cls(declaration(page_size=7), sandbox.settings()) as inner:
        connector: Connector = InstanceConnector(inner, "tiny") if kind == "instance" else inner
        cursor: list[str | None] = [None]

        def sync() -> object:
            cursor[0] = list(connector.pull(cursor[0]))[-1].cursor
            return cursor[0]

        _tied_and_touched(connector, sandbox, sync, 1)
        # WHEN the next pull's pages pass the pull's hook
        drafts = [d for page in connector.pull(cursor[0]) for d in drafts_of(connector, page)]
    # THEN the version is dated one microsecond past the one version delivered there, not two
    assert [d.updated_at for d in drafts] == [T_CHANGES + timedelta(microseconds=2)]


class _Reordering:
    """A mapping that dates its own drafts and returns them in an order of its own (newest first)."""

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        drafts = [RecordDraft(source="t", source_id=r["id"], updated_at=r["at"]) for r in page.records]
        return list(reversed(dated(drafts, page.records)))


def test_a_mapping_that_dates_its_own_drafts_is_not_dated_by_place() -> None:
    # GIVEN a page of an unmarked record then a marked one, mapped in reverse and dated by the mapping
    at = T_CHANGES.replace(microsecond=0)
    page = RawPage(
        records=[{"id": "a", "at": at.isoformat()}, {"id": "b", "at": at.isoformat(), AFTER: 5}],
        cursor=None,
        object_type="contact",
    )
    # WHEN the pull's hook maps it
    drafts = drafts_of(_Reordering(), page)  # type: ignore[arg-type]
    # THEN the marked record alone is dated, once: the unmarked one at its place is left as it is
    assert {d.source_id: d.updated_at for d in drafts} == {
        "a": at.isoformat(),
        "b": at + timedelta(microseconds=5),
    }
