"""A key's overloading on DynamoDB killed part way leaves no place behind (core.storage.dynamodb_links).

A ``BLOCK#`` item keeps each member's place in the block's order (``o#<source key>``: her folded
names, birth date, postcode, house and street). The write that marks a crowded key ``overloaded``
drops its members; the places go in the same write (up to 99) and in further updates of up to 100.
A writer killed (or throttled for good) after that first write left an overloaded item with no
member but still holding places, and nothing took them away: a later ADD saw ``overloaded`` and
returned, an erasure's removal is conditioned on members being there, and an overloaded item is never
deleted. An erased person's folded name and birth date stayed in the table.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.link_index import BlockChange
from core.storage.dynamodb import DynamoDBProfileStore
from tests.integration.test_erasure_attacks import STORES

KEY = "sb:OCAFAR:1980"


class _KilledError(RuntimeError):
    pass


class _KilledErrorAfterOverloading:
    """A DynamoDB client whose writer dies just after the write that marks a key overloaded (after
    ``race``, run once before that write, if given)."""

    def __init__(self, client: Any, race: Any = None) -> None:
        self._client = client
        self._race = race
        self.exceptions = client.exceptions
        self.killed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **kwargs: Any) -> Any:
        overloading = "overloaded" in kwargs.get("UpdateExpression", "")
        if overloading and self._race is not None:
            race, self._race = self._race, None
            race()
        response = self._client.update_item(**kwargs)
        if overloading and not self.killed:
            self.killed = True
            raise _KilledError("the writer died after marking the key overloaded")
        return response


def _places(count: int) -> dict[str, str]:
    return {
        f"crm:contact:{i:04d}": f"ada{i}\x1f19800101\x1fls14ap\x1f{i}\x1fquillon rd" for i in range(count)
    }


def _raw(store: DynamoDBProfileStore) -> dict[str, Any]:
    key = {"PK": {"S": store.block_pk(KEY)}, "SK": {"S": "BLOCK"}}  # its keyed hash
    return store._client.get_item(TableName=store.table_name, Key=key, ConsistentRead=True).get("Item") or {}


def _stored_places(store: DynamoDBProfileStore) -> list[str]:
    return sorted(name for name in _raw(store) if name.startswith("o#"))


@pytest.mark.parametrize("members", [3, 140])
@pytest.mark.parametrize("late", [False, True])
def test_an_erasure_after_a_killed_overloading_takes_her_place(members: int, late: bool) -> None:
    """GIVEN a key holding ``members`` records at their places, one short of its limit WHEN a writer
    adds two more (the key overloads) and dies just after the write marking it overloaded (and, if
    ``late``, another writer filed one more record, which fits, between the first's read and that
    write) THEN an
    erasure of the last member (the one filed late, if any) leaves no item holding her place; and
    the killed writer's ADD sent again leaves no place at all."""
    limit = members + 1
    with STORES["dynamodb"]() as stores:
        plain: DynamoDBProfileStore = stores.profiles
        first = _places(members)
        plain.update_blocks([BlockChange(KEY, add=frozenset(first), limit=limit, orders=first)])
        erased = max(first)
        gone = first[erased]
        race = None
        if late:
            erased, gone = "shop:customer:77", "zainab\x1f19800704\x1fls14ap\x1f9\x1fquillon rd"

            def race() -> None:
                filed = BlockChange(KEY, add=frozenset({erased}), limit=limit, orders={erased: gone})
                plain.update_blocks([filed])

        client = _KilledErrorAfterOverloading(plain._client, race)
        killed = DynamoDBProfileStore(client, plain.table_name, read_workers=1)
        two = {"crm:contact:8888": "bo\x1f", "crm:contact:9999": "cy\x1f"}
        more = BlockChange(KEY, add=frozenset(two), limit=limit, orders=two)
        with pytest.raises(_KilledError):
            killed.update_blocks([more])
        assert plain.get_blocks([KEY])[KEY].overloaded

        plain.update_blocks([BlockChange(KEY, remove=frozenset({erased}), limit=limit)])  # her erasure
        assert f"o#{erased}" not in _raw(plain)
        assert gone not in str(stores.rows())

        plain.update_blocks([more])  # the killed writer's batch delivered again
        assert _stored_places(plain) == []
        assert plain.get_blocks([KEY])[KEY].overloaded
