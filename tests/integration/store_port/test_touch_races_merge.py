"""robust4: a time-only update in one process never goes back in time under another process's merge.

Process A brings records back unchanged with a newer date: a ``TouchSource`` moves their
``source#`` identifiers' times forward (an older version arriving later is then stale). Process B,
at the same time, merges away the customers holding them: its changeset moves the identifiers to
the survivor with the times B read before A's touch. Without a condition on that time B's write
put the old time back, and a later version older than A's was taken as new. B's write is
conditional on the time it read (``PutIdent.expected_at``): it loses, re-reads, and carries A's
time. Interleaved deterministically: A runs, in a thread of its own with a store of its own (its
own SQLite connection, its own DynamoDB client), between B's reads and B's commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from core.merge_steps import complete_merge
from core.pipeline import IngestSettings, ingest
from core.ports import Changeset, PutSource, Tombstone
from core.schema import SourceRecord
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.memory import InMemoryProfileStore
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table
from tests.conftest import make_record

TABLE = "profilesync-race-test"
#: A store for process B, and a function opening another store on the same data for process A.
Stores = tuple[Any, Callable[[], Any]]


def _memory(_: Path) -> Iterator[Stores]:
    store = InMemoryProfileStore()
    yield store, lambda: store


def _sqlite(folder: Path) -> Iterator[Stores]:
    path = folder / "race.sqlite3"
    database = SQLiteDatabase(path)
    others: list[SQLiteDatabase] = []

    def other() -> SQLiteProfileStore:
        others.append(SQLiteDatabase(path))  # a connection of its own, as another process has
        return SQLiteProfileStore(others[-1])

    try:
        yield SQLiteProfileStore(database), other
    finally:
        for db in [database, *others]:
            db.close()


def _dynamodb(_: Path) -> Iterator[Stores]:
    model_aws_semantics()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, TABLE)
        yield (
            DynamoDBProfileStore(client, TABLE, read_workers=1),
            lambda: DynamoDBProfileStore(dynamodb_client(), TABLE, read_workers=1),
        )


BACKENDS = {"memory": _memory, "sqlite": _sqlite, "dynamodb": _dynamodb}


@pytest.fixture(params=sorted(BACKENDS))
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    yield from BACKENDS[request.param](tmp_path)


class Interleaved:
    """Process B's store: before the first commit that ``fires`` says is B's merge, it runs process A
    (in a thread of its own, to its end)."""

    def __init__(self, inner: Any, fires: Callable[[Sequence[Changeset]], bool], other: Callable[[], None]):
        self.inner, self.fires, self.other = inner, fires, other
        self.fired = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def commit(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        if not self.fired and self.fires(changesets):
            self.fired += 1
            errors: list[BaseException] = []

            def run() -> None:
                try:
                    self.other()
                except BaseException as error:  # surfaced below, in the test's thread
                    errors.append(error)

            thread = threading.Thread(target=run)
            thread.start()
            thread.join()
            if errors:
                raise errors[0]
        failed: list[Changeset] = self.inner.commit(changesets)
        return failed


def _merges(changesets: Sequence[Changeset]) -> bool:
    return any(isinstance(op, Tombstone) for c in changesets for op in c.operations)


def _ann_and_bo() -> list[SourceRecord]:
    """Two customers, one record each, on day 1."""
    return [
        make_record("crm", "ann", email="ann@example.com", day=1, traits={"first_name": "Ann"}),
        make_record("shop", "bo", email="bo@example.com", day=1, traits={"first_name": "Bo"}),
    ]


def _touch_both(other: Callable[[], Any]) -> Callable[[], None]:
    """Process A: both records come back unchanged, dated day 9 (the echo of a push)."""

    def run() -> None:
        echoes = [
            r.model_copy(update={"updated_at": r.updated_at + timedelta(days=8)}) for r in _ann_and_bo()
        ]
        result = ingest(echoes, other())
        assert (result.unchanged, result.touched) == (2, 2)

    return run


def _check_times_kept(store: Any) -> None:
    # THEN both identifiers keep A's time: one customer holds them, dated day 9
    owners = store.get_owners(["source#crm:contact:ann", "source#shop:contact:bo"])
    assert len({o.customer_id for o in owners.values()}) == 1
    assert {o.updated_at for o in owners.values()} == {make_record("x", "x", day=9).updated_at}
    # AND a version older than A's echo (day 5), with other content, is stale: not stored (it only
    # moves the start of the stored content's run to the echo, core.content_run, which rewrites
    # the snapshots: a customer merged in steps, whose records share no identifier, is split then)
    late = [
        make_record("crm", "ann", email="ann@example.com", day=5, traits={"first_name": "Old"}),
        make_record("shop", "bo", email="bo@example.com", day=5, traits={"first_name": "Old"}),
    ]
    result = ingest(late, store)
    assert (result.stale, result.written) == (2, 0)
    assert {p.traits["first_name"].value for p in store.iter_profiles()} <= {"Ann", "Bo"}


def test_a_touch_between_a_merge_s_read_and_its_commit_is_not_undone(stores: Stores) -> None:
    store, other = stores
    # GIVEN Ann and Bo, two customers
    ingest(_ann_and_bo(), store)
    # WHEN process B ingests a record joining them (a merge: one customer is absorbed and its
    # source identifier moves) while process A, between B's reads and B's commit, touches both
    joining = make_record("pos", "j", email=["ann@example.com", "bo@example.com"], day=2)
    b = Interleaved(store, _merges, _touch_both(other))
    result = ingest([joining], b, IngestSettings(sleep=lambda _: None))
    assert b.fired == 1
    assert result.merged_customers == 1
    _check_times_kept(store)


def test_a_touch_between_a_merge_in_steps_and_its_move_is_not_undone(stores: Stores) -> None:
    store, other = stores
    # GIVEN Ann and Bo, two customers
    ingest(_ann_and_bo(), store)
    owners = store.get_owners(["source#crm:contact:ann", "source#shop:contact:bo"])
    ann, bo = owners["source#crm:contact:ann"].customer_id, owners["source#shop:contact:bo"].customer_id
    # WHEN Bo's customer is merged into Ann's in steps (core.merge_steps: a merge too large for one
    # transaction), and process A touches both records between the step's read of Bo's
    # identifiers and its handing them over
    b = Interleaved(store, _hands_over, _touch_both(other))
    complete_merge(b, bo, ann, IngestSettings(sleep=lambda _: None))
    assert b.fired == 1
    _check_times_kept(store)


def _hands_over(changesets: Sequence[Changeset]) -> bool:
    return any(c.label.startswith("idents:") for c in changesets)


def test_a_touch_between_a_split_s_read_and_its_commit_is_not_undone(stores: Stores) -> None:
    store, other = stores
    phone = "+44 20 7946 0018"
    # GIVEN Ann and Bo, one customer because their records share a phone
    ingest(
        [
            make_record("crm", "ann", email="ann@example.com", phone=phone, day=1),
            make_record("shop", "bo", email="bo@example.com", phone=phone, day=1),
        ],
        store,
    )
    ann_now = make_record("crm", "ann", email="ann@example.com", day=2)
    bo_then = make_record("shop", "bo", email="bo@example.com", phone=phone, day=1)

    def touch() -> None:
        echoes = [
            r.model_copy(update={"updated_at": r.updated_at + timedelta(days=7)}) for r in (ann_now, bo_then)
        ]
        assert ingest(echoes, other()).touched == 2

    # WHEN process B's update of Ann drops the phone, so B splits the customer, and process A
    # touches both records between the split's read of the identifiers it moves and its commit
    b = Interleaved(store, lambda cs: any(c.label.startswith("split:") for c in cs), touch)
    result = ingest([ann_now], b, IngestSettings(sleep=lambda _: None))
    assert b.fired == 1
    # THEN the split happened, and neither identifier's time went back
    assert (result.split_customers, result.unsplit) == (1, [])
    owners = store.get_owners(["source#crm:contact:ann", "source#shop:contact:bo"])
    assert {o.updated_at for o in owners.values()} == {
        ann_now.updated_at + timedelta(days=7),
        bo_then.updated_at + timedelta(days=7),
    }


def test_a_touch_between_an_update_s_read_and_its_commit_makes_the_older_update_stale(
    stores: Stores,
) -> None:
    store, other = stores
    # GIVEN Ann's record, stored on day 1
    ann = make_record("crm", "ann", email="ann@example.com", day=1, traits={"first_name": "Ann"})
    ingest([ann], store)
    # WHEN process B ingests a changed version dated day 5 while process A, between B's read and
    # its commit, brings day 1's content back dated day 9 (an echo: the tool holds it on day 9)
    changed = make_record("crm", "ann", email="ann@example.com", day=5, traits={"first_name": "Old"})

    def echo() -> None:
        later = ann.model_copy(update={"updated_at": ann.updated_at + timedelta(days=8)})
        assert ingest([later], other()).touched == 1

    writes_ann = lambda cs: any(  # noqa: E731
        isinstance(op, PutSource) and op.record.source_id == "ann" for c in cs for op in c.operations
    )
    b = Interleaved(store, writes_ann, echo)
    result = ingest([changed], b, IngestSettings(sleep=lambda _: None))
    # THEN B's version, older than the echo, is stale once B sees it: the content is day 1's, dated day 9
    assert b.fired == 1
    assert (result.stale, result.written) == (1, 0)
    [profile] = store.iter_profiles()
    assert profile.traits["first_name"].value == "Ann"
    [owner] = store.get_owners(["source#crm:contact:ann"]).values()
    assert owner.updated_at == ann.updated_at + timedelta(days=8)
