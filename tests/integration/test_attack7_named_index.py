"""attack7: the NAMED# index of the names histories hold (core.governance.history_names), attacked
on the in-memory, SQLite and DynamoDB (moto) stores: a record of hers racing her erasure, histories
naming one value past a page of 100, a backfill run twice. Every item is read raw, so an index item
no history backs (a stale one, keyed by the hash of her address) is seen: the existing attack
suites search items for her values in clear, which a hash never shows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.governance.history import whole_history
from core.governance.history_names import (
    NAMED_PREFIX,
    index_histories,
    indexed_names,
    source_name,
    store_named_pks,
)
from core.identity import IdentityPolicy
from core.link_review import decide
from core.pipeline import IngestSettings, ingest
from core.retirement import SourceDeletion, retire_records
from core.suppression import SuppressionCheck
from core.testing.records import T0, make_record
from tests.integration.test_erasure_attacks import SALT, Stores, email, stores

__all__ = ["stores"]  # the fixture, on the three stores

JOINED = IdentityPolicy()


class Killed(BaseException):
    """The process dies here (nothing catches it)."""


def _pk(stores: Stores, name: str) -> str:
    """The partition key the store keeps ``name``'s index items under (DynamoDB: its keyed hash)."""
    return store_named_pks(stores.profiles.history, name)[0]


def named_items(stores: Stores) -> set[tuple[str, str]]:
    """Every ``NAMED#`` item stored: (partition key, customer)."""
    history = stores.profiles.history
    if hasattr(history, "_named"):  # the in-memory store keeps no items: its index, read as they
        return {(pk, c) for pk, held in history._named.items() for c in held}
    return {(pk, sk) for pk, sk, _ in stores.rows() if pk.startswith(NAMED_PREFIX)}


def stale_named(stores: Stores) -> set[tuple[str, str]]:
    """Index items whose customer's history names nothing under their key."""
    by_customer: dict[str, set[str]] = {}
    out: set[tuple[str, str]] = set()
    for pk, customer in sorted(named_items(stores)):
        if customer not in by_customer:
            names = set()
            for event in whole_history(stores.profiles.history, customer):
                names |= indexed_names(event)
            by_customer[customer] = {pk for n in names for pk in store_named_pks(stores.profiles.history, n)}
        if pk not in by_customer[customer]:
            out.add((pk, customer))
    return out


def _ingest(stores: Stores, records: Any, suppression: Any = None) -> Any:
    check = SuppressionCheck(suppression or stores.suppression, SALT)
    return ingest(records, stores.profiles, IngestSettings(policy=JOINED, suppression=check))


def test_a_record_joining_her_customer_while_she_is_erased_leaves_no_index_item(stores: Stores) -> None:
    """GIVEN Ann stored, and a second record of hers on her address whose merge read her customer
    just before her erasure WHEN the merge writes (its record joins her customer: an event naming
    her address, whose index item goes first) THEN it is dropped as suppressed, and no index item names her
    address or her records: nothing is left keyed by the hash of her address."""
    _ingest(stores, [make_record("crm", "1", email="ann@example.com", phone="+442079460018")])
    erased: list[Any] = []
    real = stores.profiles.commit

    def commit(changesets: Any) -> Any:
        if not erased:  # the privacy function, between the merge's read and its write
            erased.append(stores.erase(email("ann@example.com"), "req-1", JOINED))
        return real(changesets)

    stores.profiles.commit = commit
    result = _ingest(stores, [make_record("shop", "2", email="ann@example.com")])
    stores.profiles.commit = real
    assert [e.outcome for e in erased] == ["erased"]
    assert result.suppressed == 1
    hers = {
        _pk(stores, n) for n in ("email#ann@example.com", "phone#+442079460018", source_name("crm:contact:1"))
    }
    hers |= {_pk(stores, source_name(k)) for k in ("shop:contact:2", "shop:customer:2", "shop:order:2")}
    assert not [item for item in named_items(stores) if item[0] in hers]
    assert stale_named(stores) == set()


def test_a_merge_killed_after_its_index_items_and_sent_again_after_her_erasure_leaves_none(
    stores: Stores,
) -> None:
    """GIVEN Ann stored, and a merge of a second record of hers that read her customer, then her
    erasure, then the merge killed between writing its index items and its transaction (DynamoDB
    writes them first; the other stores write nothing before their transaction) WHEN the queue
    delivers the record again (a new process: nothing says its commit was lost) THEN it is dropped as
    suppressed and no index item names her address."""
    _ingest(stores, [make_record("crm", "1", email="ann@example.com")])
    real_commit = stores.profiles.commit
    transact = getattr(stores.profiles, "_transact", None)

    def killed(*_: Any) -> Any:
        raise Killed

    def commit(changesets: Any) -> Any:
        stores.erase(email("ann@example.com"), "req-1", JOINED)
        if transact is None:
            killed()
        stores.profiles._transact = killed
        return real_commit(changesets)

    stores.profiles.commit = commit
    with pytest.raises(Killed):
        _ingest(stores, [make_record("shop", "2", email="ann@example.com")])
    stores.profiles.commit = real_commit
    if transact is not None:
        stores.profiles._transact = transact
    again = _ingest(stores, [make_record("shop", "2", email="ann@example.com")])
    assert again.suppressed == 1
    assert named_items(stores) == set()


class ErasedAfterRead:
    """A history store that runs ``meanwhile`` right after the first page it reads: a backfill that
    read a history just before an erasure redacted or deleted it, and writes its items after."""

    def __init__(self, history: Any, meanwhile: Any) -> None:
        self.history = history
        self.meanwhile = meanwhile

    def list_history(self, *args: Any, **kwargs: Any) -> Any:
        page = self.history.list_history(*args, **kwargs)
        if self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            run()
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self.history, name)


def test_a_backfill_that_read_her_history_just_before_her_erasure_leaves_no_index_item(
    stores: Stores,
) -> None:
    """GIVEN Ann's two records on her address (one customer: its history names her address, the
    second record joining by it) WHEN ``index-histories`` reads her history, her erasure runs, and
    the backfill writes the items of what it read THEN no index item names her address or is
    stale (her customer and its history are gone)."""
    _ingest(stores, [make_record("crm", "1", email="ann@example.com")])
    _ingest(stores, [make_record("shop", "2", email="ann@example.com", day=1)])
    live = sorted({p.customer_id for p in stores.profiles.iter_profiles()})
    erased: list[Any] = []
    racing = ErasedAfterRead(
        stores.profiles.history,
        lambda: erased.append(stores.erase(email("ann@example.com"), "req-1", JOINED)),
    )
    assert index_histories(racing, live) == (1, 2)
    assert [e.outcome for e in erased] == ["erased"]
    assert named_items(stores) == set()


def test_a_backfill_that_read_a_history_just_before_her_erasure_redacted_it_leaves_no_item_of_hers(
    stores: Stores,
) -> None:
    """GIVEN Ann's record that held her work address and then only her home one (split: the work
    address and its record a customer of their own), that record retired since (its customer
    deleted) WHEN ``index-histories`` reads the history of Ann's customer, which names her work
    address, just before her erasure by the work address redacts it THEN no index item names her
    work address afterwards."""
    _ingest(stores, [make_record("crm", "1", email="ann.work@example.com")])
    _ingest(
        stores,
        [
            make_record("crm", "1", email="ann@example.com", day=1),
            make_record("shop", "2", email="ann.work@example.com", day=1),
        ],
    )
    retire_records(
        [
            SourceDeletion(
                source="shop", object_type="contact", source_id="2", deleted_at=T0 + timedelta(days=2)
            )
        ],
        stores.profiles,
        stores.erasure,
        IngestSettings(policy=JOINED),
    )
    work = _pk(stores, "email#ann.work@example.com")
    assert [item for item in named_items(stores) if item[0] == work]  # her customer's history names it
    live = sorted({p.customer_id for p in stores.profiles.iter_profiles()})
    erased: list[Any] = []
    racing = ErasedAfterRead(
        stores.profiles.history,
        lambda: erased.append(stores.erase(email("ann.work@example.com"), "req-1", JOINED)),
    )
    index_histories(racing, live)
    assert erased
    assert not [item for item in named_items(stores) if item[0] == work]
    assert stale_named(stores) == set()


def _sharing_a_prefix(stores: Stores, digits: int = 5) -> tuple[str, str]:
    """Two addresses whose index hashes begin with the same ``digits`` hex digits."""
    seen: dict[str, str] = {}
    n = 0
    while True:
        name = f"email#p{n}@example.com"
        head = _pk(stores, name)[: len(NAMED_PREFIX) + digits]
        if head in seen:
            return seen[head], name
        seen[head] = name
        n += 1


def test_an_erasure_by_a_value_whose_hash_shares_a_prefix_with_another_leaves_the_other(
    stores: Stores,
) -> None:
    """GIVEN two people's histories, each naming a value of its own that left it, the two values'
    index hashes beginning alike WHEN one value is erased THEN the other's history and index item
    stay as they were: the index is read by the whole hash."""
    first, second = _sharing_a_prefix(stores)
    a, b = first.partition("#")[2], second.partition("#")[2]
    _ingest(stores, [make_record("crm", "1", email=a), make_record("crm", "2", email=b)])
    # each record drops its address for another: the history keeps naming the one it left
    _ingest(
        stores,
        [
            make_record("crm", "1", email="one@example.com", day=1),
            make_record("crm", "2", email="two@example.com", day=1),
            make_record("shop", "1", email=a, day=1),
            make_record("shop", "2", email=b, day=1),
        ],
    )
    before = {item for item in named_items(stores) if item[0] == _pk(stores, second)}
    assert before
    stores.erase(email(a), "req-1", JOINED)
    assert not [item for item in named_items(stores) if item[0] == _pk(stores, first)]
    assert {item for item in named_items(stores) if item[0] == _pk(stores, second)} == before
    assert stale_named(stores) == set()


def test_a_customer_deleted_by_retiring_its_last_record_takes_the_items_of_those_merged_into_it(
    stores: Stores,
) -> None:
    """GIVEN Hana's CRM and shop records in review, two customers, and a person accepting the pair
    (one customer merged into the other; the decision's event, naming both records, is in both
    histories, the merged one's under its tombstone) WHEN the vendors delete both records (her
    customer deleted with what was merged into it) THEN no index item is left, under either."""
    from tests.integration.test_attack7_review_races import CRM, LINKED, PAIR, SHOP

    ingest([CRM, SHOP], stores.profiles, LINKED)
    decide(stores.profiles, PAIR, "accepted", by="ops", settings=LINKED)
    assert len({customer for _, customer in named_items(stores)}) == 2
    deletions = [
        SourceDeletion(
            source=r.source, object_type="contact", source_id=r.source_id, deleted_at=T0 + timedelta(days=9)
        )
        for r in (CRM, SHOP)
    ]
    retire_records(deletions, stores.profiles, stores.erasure, LINKED)
    assert list(stores.profiles.iter_profiles()) == []
    assert named_items(stores) == set()


def test_the_dynamodb_history_and_its_index_are_read_consistently() -> None:
    """An erasure reads a name's index items and the histories they lead to, and a backfill reads
    a page again after writing its items: on DynamoDB a query reads eventually consistent data
    unless it asks otherwise, so an item written or redacted a moment before (a commit just before
    the erasure) could be read as it was. moto answers consistently either way: the queries' own
    arguments are checked."""
    from moto import mock_aws

    from core.storage.dynamodb import DynamoDBProfileStore
    from profilesync.embedded import dynamodb_client, model_aws_semantics
    from profilesync.template import create_table

    model_aws_semantics()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, "consistent")
        queries: list[dict[str, Any]] = []
        real = client.query

        def query(**kwargs: Any) -> Any:
            queries.append(kwargs)
            return real(**kwargs)

        client.query = query
        history = DynamoDBProfileStore(client, "consistent").history
        history.list_history("cus-a")
        history.histories_naming("email#ann@example.com")
        index_histories(history, ["cus-a"])
    assert len(queries) >= 3
    assert [q.get("ConsistentRead") for q in queries] == [True] * len(queries)
