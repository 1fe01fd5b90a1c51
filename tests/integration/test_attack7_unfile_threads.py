"""attack7: workers merging versions of Hana's records at once, in threads, then her erasure, on the
in-memory and SQLite stores and on DynamoDB through moto's threaded server. Each worker gets the same
versions (her CRM record moving house and changing her surname, her shop record, her namesake's
record at her address) in its own order and batches, so commits lose to each other and rounds drop
versions another worker overtook (core.link_unfile). After them, the identity index lists each
record under the keys of the version stored only; after her erasure, no index item, review item
or other stored item names one of her records. About 2 s a store (load 9): three workers, six
versions; a seed runs the orders.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from core.governance.history_names import source_name, store_named_pks
from core.identity import IdentityPolicy
from core.storage.dynamodb import DynamoDBProfileStore, DynamoDBSyncStateStore
from core.storage.dynamodb_privacy import DynamoDBErasureStore
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from tests.integration.identity_attack_records import flat, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import CRM, HER, HOME, NAMESAKE, SHOP, _settings
from tests.integration.test_attack6_races import _index_keys
from tests.integration.test_attack7_named_index import named_items
from tests.integration.test_erasure_attacks import BOOKKEEPING, STORES, Stores
from tests.moto_server import server_table
from tests.threads import at_once

CORP, ICLOUD = "hana.sato@corp.jp", "hanasato92@icloud.com"
VERSIONS = [
    CRM,
    flat(
        "crm",
        "1",
        day=2,
        **{**HOME, "address": "5 Canal St", "postcode": "M1 3HE"},
        email="hana.sato@corp.jp",
    ),
    flat(
        "crm",
        "1",
        day=4,
        **{
            **HOME,
            "last_name": "Tanaka",
            "address": "3 Quay Street",
            "postcode": "BS1 1AA",
            "city": "Bristol",
        },
        email="hana.sato@corp.jp",
    ),
    SHOP,
    flat(
        "shop",
        "2",
        day=3,
        **{**HOME, "first_name": "HANA", "address": "5 Canal St"},
        email="hanasato92@icloud.com",
    ),
    NAMESAKE,
]
HERS = ("crm:contact:1", "shop:contact:2")


@contextmanager
def dynamodb_server_stores() -> Iterator[Stores]:
    """The stores on a table of its own on this process's moto threaded server (tests.moto_server)."""
    with server_table("unfile") as (client, table):

        def rows() -> list[tuple[str, str, str]]:
            out: list[tuple[str, str, str]] = []
            kwargs: dict[str, Any] = {"TableName": table}
            while True:
                page = client.scan(**kwargs)
                for item in page["Items"]:
                    rest = {k: v for k, v in item.items() if k not in ("PK", "SK")}
                    out.append((item["PK"]["S"], item["SK"]["S"], str(sorted(rest.items()))))
                if "LastEvaluatedKey" not in page:
                    return sorted(out)
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

        yield Stores(
            DynamoDBProfileStore(client, table, read_workers=1),
            DynamoDBSyncStateStore(client, table),
            DynamoDBErasureStore(client, table),
            DynamoDBSuppressionStore(client, table),
            rows,
        )


OPENED: dict[str, Callable[[], AbstractContextManager[Stores]]] = {
    "memory": STORES["memory"],
    "sqlite": STORES["sqlite"],
    "dynamodb": dynamodb_server_stores,
}


def resolve_at_once(
    stores: Stores, lines: list[Any], workers: int, sizes: list[int], seed: int, timeout: float
) -> list[BaseException]:
    """``workers`` threads started together, each resolving all of ``lines`` in an order and a batch
    size (one of ``sizes``) of its own, drawn from ``seed``; what they raised."""
    rng = random.Random(seed)
    plans = []
    for _ in range(workers):
        shuffled = list(lines)
        rng.shuffle(shuffled)
        plans.append((shuffled, rng.choice(sizes)))
    return at_once(
        *(
            lambda mine=mine, size=size: resolve_lines(  # type: ignore[misc]
                mine, stores.profiles, batch_size=size, settings=_settings(stores)
            )
            for mine, size in plans
        ),
        timeout=timeout,
    )


def _listed(stores: Stores) -> dict[str, set[str]]:
    """Each of her records -> the index keys (of any version) that list it."""
    keys = sorted(set().union(*(_index_keys(v) for v in VERSIONS)))
    blocks = stores.profiles.get_blocks(keys)
    return {r: {k for k, b in blocks.items() if r in b.members} for r in HERS}


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("store", sorted(OPENED))
def test_workers_merging_her_versions_at_once_leave_the_index_as_stored_and_nothing_after_her_erasure(
    store: str, seed: int
) -> None:
    with OPENED[store]() as stores:
        assert resolve_at_once(stores, VERSIONS, 3, [1, 2, 6], seed, timeout=120) == []
        # the index lists each record under its stored version's keys only
        stored = {}
        for record in HERS:
            owner = stores.profiles.get_owners([f"source#{record}"])[f"source#{record}"]
            state = stores.profiles.get_customers([owner.customer_id])[owner.customer_id]
            stored[record] = state.snapshots[record]
        from core.link_nodes import graph_node, index_keys
        from core.linkage import default_model

        expected = {
            r: set(index_keys(graph_node(s, IdentityPolicy()), default_model())) for r, s in stored.items()
        }
        listed = _listed(stores)
        assert {r: listed[r] - expected[r] for r in HERS} == {r: set() for r in HERS}
        # and after her erasure nothing names the records it took (her shop record, moved with
        # her CRM one or not, may be another customer's by the versions stored)
        report = stores.erase(HER, "req-hana", IdentityPolicy(), _settings(stores))
        assert report.outcome == "erased"
        gone = [r for r in HERS if not stores.profiles.get_owners([f"source#{r}"])]
        assert "crm:contact:1" in gone
        listed = _listed(stores)
        assert {r: listed[r] for r in gone} == {r: set() for r in gone}
        assert not [p for p in stores.profiles.pending_reviews() if p.a in gone or p.b in gone]
        left = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING)]
        assert not [r[:2] for r in left for k in gone if k in str(r)]
        named = {pk for r in gone for pk in store_named_pks(stores.profiles.history, source_name(r))}
        assert not [item for item in named_items(stores) if item[0] in named]
