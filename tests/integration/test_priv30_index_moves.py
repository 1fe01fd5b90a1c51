"""priv30: while a table the previous release wrote is upgraded, the stores read and move its index
items under the unkeyed hash without losing a member, a place, an overloaded key or a customer.

core.storage.dynamodb_block_upgrade moves a ``BLOCK#`` item before its key is read or updated;
core.storage.dynamodb_history reads a name's customers under both keys and forgets both.
"""

from __future__ import annotations

from typing import Any

from core.governance.history_names import named_pk
from core.link_index import BlockChange, block_item_key
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.dynamodb_history import DynamoDBHistoryStore
from tests.integration.test_priv29_rekey_upgrade import _keys
from tests.moto_server import server_table

SALT = "priv30-salt"
KEY = "pf:sw1a1aa:a"


def _old_block(client: Any, table: str, members: list[str], **more: Any) -> None:
    item = {
        "PK": {"S": block_item_key(KEY)},
        "SK": {"S": "BLOCK"},
        **({"records": {"SS": members}} if members else {}),
        **{f"o#{m}": {"S": f"place-{m}"} for m in members},
        **more,
    }
    client.put_item(TableName=table, Item=item)


def test_an_old_item_is_read_with_a_keyed_one_written_meanwhile_and_merged_into_it_when_updated() -> None:
    with server_table("priv30moves") as (client, table):
        store = DynamoDBProfileStore(client, table, read_workers=1, salt=SALT)
        # GIVEN an old item of a key, and the same key filed by this version since (a rolling deploy)
        _old_block(client, table, ["crm:1", "crm:2"])
        client.put_item(
            TableName=table,
            Item={
                "PK": {"S": store.block_pk(KEY)},
                "SK": {"S": "BLOCK"},
                "records": {"SS": ["crm:3"]},
                "o#crm:3": {"S": "place-crm:3"},
                "o#crm:2": {"S": "newer"},
            },
        )
        # WHEN the key is read (by a role that may not write the index: nothing moves)
        state = store.get_blocks([KEY])[KEY]
        # THEN it holds both items' members and places (the keyed item's place wins)
        assert state.members == {"crm:1", "crm:2", "crm:3"}
        assert dict(state.orders) == {"crm:1": "place-crm:1", "crm:2": "newer", "crm:3": "place-crm:3"}
        assert len([pk for pk, _ in _keys(client, table) if pk.startswith("BLOCK#")]) == 2
        # WHEN a member is filed under it
        store.update_blocks([BlockChange(KEY, add=frozenset({"crm:4"}), orders={"crm:4": "place-crm:4"})])
        # THEN one keyed item holds them all, as read, and the old item is gone
        assert store.get_blocks([KEY])[KEY].members == {"crm:1", "crm:2", "crm:3", "crm:4"}
        assert dict(store.get_blocks([KEY])[KEY].orders)["crm:2"] == "newer"
        assert [pk for pk, _ in _keys(client, table) if pk.startswith("BLOCK#")] == [store.block_pk(KEY)]
        # AND an erasure's drop of the item as read drops it
        assert store.drop_blocks_as_read([store.get_blocks([KEY])[KEY]]) == [KEY]
        assert [pk for pk, _ in _keys(client, table) if pk.startswith("BLOCK#")] == []


def test_a_drop_as_read_of_an_old_item_moves_and_drops_it() -> None:
    with server_table("priv30moves") as (client, table):
        store = DynamoDBProfileStore(client, table, read_workers=1, salt=SALT)
        _old_block(client, table, ["crm:1"])
        read = store.get_blocks([KEY])[KEY]
        assert store.drop_blocks_as_read([read]) == [KEY]
        assert [pk for pk, _ in _keys(client, table) if pk.startswith("BLOCK#")] == []


def test_an_update_of_an_old_key_moves_it_first_so_its_limit_holds() -> None:
    with server_table("priv30moves") as (client, table):
        store = DynamoDBProfileStore(client, table, read_workers=1, salt=SALT)
        # GIVEN an old item holding three members, its key's limit four
        _old_block(client, table, ["crm:1", "crm:2", "crm:3"])
        # WHEN two more are filed under it
        store.update_blocks([BlockChange(KEY, add=frozenset({"crm:4", "crm:5"}), limit=4)])
        # THEN the key overloads as one item would (five members past four), under its keyed hash only
        state = store.get_blocks([KEY])[KEY]
        assert (state.overloaded, state.members) == (True, frozenset())
        assert [pk for pk, _ in _keys(client, table) if pk.startswith("BLOCK#")] == [store.block_pk(KEY)]


def test_an_overloaded_old_item_stays_overloaded() -> None:
    with server_table("priv30moves") as (client, table):
        store = DynamoDBProfileStore(client, table, read_workers=1, salt=SALT)
        _old_block(client, table, [], overloaded={"BOOL": True})
        store.update_blocks([BlockChange(KEY, add=frozenset({"crm:9"}))])
        assert store.get_blocks([KEY])[KEY].overloaded


def test_a_name_s_customers_are_read_and_forgotten_under_both_keys_in_order() -> None:
    with server_table("priv30moves") as (client, table):
        history = DynamoDBHistoryStore(client, table, salt=SALT)
        name = "email#ann@example.com"
        # GIVEN customers under the old key (c1, c3, c5) and under the keyed one (c2, c4)
        old, keyed = named_pk(name), named_pk(name, SALT)
        for customer, pk in [("c1", old), ("c3", old), ("c5", old), ("c2", keyed), ("c4", keyed)]:
            client.put_item(TableName=table, Item={"PK": {"S": pk}, "SK": {"S": customer}})
        # WHEN they are read two a page THEN in order, each once, across both keys
        pages, after = [], None
        while True:
            page = history.histories_naming(name, after=after, limit=2)
            pages.append(page.customers)
            if page.next is None:
                break
            after = page.next
        assert [c for p in pages for c in p] == ["c1", "c2", "c3", "c4", "c5"]
        assert all(len(p) <= 2 for p in pages)
        # WHEN they are forgotten THEN no item is left under either key
        history.forget_named([(name, c) for c in ("c1", "c2", "c3", "c4", "c5")])
        assert [pk for pk, _ in _keys(client, table) if pk.startswith("NAMED#")] == []
