"""robust4: a pull whose store fails in the middle of its writes resumes and loses nothing.

A pull (core.sync.pull_into_store, what ``profilesync sync --endpoint-url`` and the pull Lambda's
inline mode run) writes through DynamoDB's ``TransactWriteItems`` (records, cursors) and
``BatchWriteItem`` (quarantined records). botocore's event hooks fail the Nth of those requests on
moto, either before it is sent (nothing written) or after DynamoDB applied it (written, but the
caller gets an error, as a lost connection leaves it): the run stops with the error, the next run
resumes from the saved cursor, and the table ends as a clean run leaves it: the same profiles, every
identifier owned once, every malformed record quarantined, the cursor at the end.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from moto import mock_aws

from core.pipeline import IngestSettings
from core.storage.dynamodb import DynamoDBProfileStore, DynamoDBSyncStateStore
from core.sync import pull_into_store
from core.testing.invariants import store_problems
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.local import model_moto_costs
from profilesync.template import create_table
from tests.hypothesis_profiles import DEEP, PROFILE, examples
from tests.unit.test_sync import ListConnector

TABLE = "profilesync-failure-test"
NO_SLEEP = IngestSettings(sleep=lambda _: None)
WRITES = ("TransactWriteItems", "BatchWriteItem")


def _model_aws() -> None:
    """DynamoDB's semantics, and its read costs: moto sorts the whole table for every Query of one
    customer, which was ~40% of this module's time (profilesync.local_moto; results are moto's)."""
    model_aws_semantics()
    model_moto_costs()


class StoreFailureError(Exception):
    """The injected failure (a lost connection: not the data's fault, so not quarantined)."""


class FailNth:
    """Fails the ``nth`` request (1-based) of the write operations, before it is sent or after
    DynamoDB applied it; counts the requests in either case."""

    def __init__(self, client: Any, nth: int | None, after: bool) -> None:
        self.nth, self.after, self.calls, self.failed = nth, after, 0, 0
        for name in WRITES:
            client.meta.events.register(f"before-call.dynamodb.{name}", self._before)
            client.meta.events.register(f"after-call.dynamodb.{name}", self._after)

    def _before(self, **_: Any) -> None:
        self.calls += 1
        if not self.after and self.calls == self.nth:
            self.failed += 1
            raise StoreFailureError(f"connection lost before request {self.calls}")

    def _after(self, **_: Any) -> None:
        if self.after and self.calls == self.nth:
            self.failed += 1
            raise StoreFailureError(f"connection lost after request {self.calls} was applied")


#: People in the pull: each kill point pulls them twice, so fewer in ``make test``.
PEOPLE = examples(ci=30, deep=60)


def _rows() -> list[dict[str, Any]]:
    """``PEOPLE`` people over pages of 7: a third with a second record on another page (merges and
    attaches), a few updated later in the file, and four with no id (quarantined)."""
    rows: list[dict[str, Any]] = [
        {"id": f"p{n}", "email": f"p{n}@example.com", "name": f"P{n}"} for n in range(PEOPLE)
    ]
    rows += [{"id": f"q{n}", "email": f"p{n}@example.com", "name": f"Q{n}"} for n in range(0, PEOPLE, 3)]
    rows += [
        {"id": f"p{n}", "email": f"p{n}@example.com", "name": f"New{n}", "updated_at": "2026-02-01"}
        for n in range(0, PEOPLE, 7)
    ]
    for n in range(4):
        rows.insert(17 * n + 5, {"id": "", "email": f"bad{n}@example.com"})
    return rows


def _pull(client: Any, connector: ListConnector) -> None:
    pull_into_store(
        connector,
        DynamoDBProfileStore(client, TABLE, read_workers=1),
        DynamoDBSyncStateStore(client, TABLE),
        settings=NO_SLEEP,
    )


def _outcome(client: Any) -> tuple[list[str], str | None, int]:
    """The profiles (without ids and versions), the cursor and the quarantined count, after
    checking the table's invariants."""
    store = DynamoDBProfileStore(client, TABLE, read_workers=1)
    profiles = list(store.iter_profiles())
    assert store_problems(profiles, store.ident_owners()) == []
    state = DynamoDBSyncStateStore(client, TABLE)
    canonical = sorted(
        json.dumps(
            {
                "sources": sorted(f"{s.source}:{s.id}" for s in p.sources),
                "identifiers": sorted(i.key for i in p.identifiers),
                "traits": {k: t.value for k, t in p.traits.items()},
            },
            sort_keys=True,
        )
        for p in profiles
    )
    # Each malformed record at least once (a page pulled again after a failure quarantines again).
    quarantined = {json.loads(q.raw)["email"] for q in state.quarantined("fake")}
    return canonical, state.get_sync_state("fake").cursor, len(quarantined)


def _item_kind(body: dict[str, Any]) -> str:
    """An item's kind: its keys' leading words (``CUSTOMER/PROFILE``, ``IDENT/IDENT``); a key whose
    value is a timestamp or an id (a quarantine entry's, a named index's) by ``*``."""
    item = body.get("Item", body.get("Key", {}))
    words = [re.sub(r"#.*", "", item.get(k, {}).get("S", "")) for k in ("PK", "SK")]
    return "/".join(w if re.fullmatch(r"[A-Z_]+", w) else "*" for w in words)


class WriteKinds:
    """Records what each write request writes: the operation and each action's kind, item kind and
    condition (a new customer's ``attribute_not_exists``, a merge's ``version = :v``), by kind."""

    def __init__(self, client: Any) -> None:
        self.kinds: list[str] = []
        for name in WRITES:
            client.meta.events.register(f"before-parameter-build.dynamodb.{name}", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        actions = {
            f"{kind}:{_item_kind(body)}:{body.get('ConditionExpression', '')}"
            for action in params.get("TransactItems", [])
            for kind, body in action.items()
        }
        actions |= {
            f"{kind}:{_item_kind(body)}"
            for requests in params.get("RequestItems", {}).values()
            for request in requests
            for kind, body in request.items()
        }
        self.kinds.append(" ".join([model.name, *sorted(actions)]))


Clean = tuple[tuple[list[str], str | None, int], list[str]]


def _clean_run(client: Any) -> Clean:
    kinds = WriteKinds(client)
    _pull(client, ListConnector(_rows(), page_size=7))
    return _outcome(client), kinds.kinds


def _kill_points(kinds: list[str]) -> list[int]:
    """The write requests failed in turn (1-based): every one in ``make test-deep``; in ``make test``
    the first of each kind of write (``WriteKinds``) and the last write, so that the pull is cut
    before and after each kind with every write of the kinds before it done. The pull's writes are
    6 kinds: quarantine batches (4), named index batches (3), and record transactions of new
    customers, of a merge, of updates and of updates moving an identifier (9, 1, 2, 2 of 60 people
    in deep: 21 writes; 4, 1, 1, 1 of the 30 in ci: 14 writes, the same kinds). The points kept are
    7 of the 21 (the last of each kind as well made 11, until the file cost 16 CPU s), 6 of the 14
    (the last write is the first of its kind). The others cut the pull at another page before the
    same kind of write: the same code and conditions. (Quarantined records put after the cursor
    moves past them fail the before-sent case at these points, with 30 people as with 60; the
    after-applied case let that pass at the 11 as well.)"""
    every = range(1, len(kinds) + 1)
    if PROFILE == DEEP:
        return list(every)
    first = {kind: kinds.index(kind) + 1 for kind in kinds}
    return sorted({*first.values(), len(kinds)})


# (module-scoped: the runner keeps a file's tests together, tests/runner_order.py, so the clean run
# is made once for this file's tests on each worker that takes some of them)
@pytest.fixture(scope="module")
def clean() -> Clean:
    _model_aws()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, TABLE)
        return _clean_run(client)


def test_the_clean_run_writes_every_record_and_moves_the_cursor_to_the_end(clean: Clean) -> None:
    (profiles, cursor, quarantined), kinds = clean
    assert len(profiles) == PEOPLE
    assert cursor == str(len(_rows()))
    assert quarantined == 4
    assert len(kinds) > 10  # records, cursors and quarantine: the failures below land in each
    assert len(set(kinds)) >= 5  # quarantine, named index, new customers, merges, updates


@pytest.mark.parametrize("after", [False, True], ids=["before-sent", "after-applied"])
def test_any_write_failing_mid_run_is_resumed_by_the_next_run_and_loses_nothing(
    clean: Clean, after: bool
) -> None:
    expected, kinds = clean
    _model_aws()
    # One moto for the kill points, each on a table made afresh (and a client of its own, which
    # alone fails its Nth write): starting and stopping moto for each cost about 60 ms of CPU.
    with mock_aws():
        for nth in _kill_points(kinds):
            client = dynamodb_client()
            create_table(client, TABLE)
            # GIVEN a pull whose Nth write request fails (before it is sent, or after it was applied)
            failure = FailNth(client, nth, after)
            connector = ListConnector(_rows(), page_size=7)
            # WHEN the run stops with the failure, and the next run starts from the saved cursor
            with pytest.raises(StoreFailureError):
                _pull(client, connector)
            assert failure.failed == 1
            _pull(client, connector)
            # THEN the table is as a clean run leaves it: nothing lost or twice, the cursor at the end
            assert _outcome(client) == expected, nth
            client.delete_table(TableName=TABLE)
