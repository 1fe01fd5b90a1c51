"""A crowded key's update on DynamoDB stays within an expression's 4 KB (core.storage.dynamodb_links).

Each member's place in a ``BLOCK#`` item is an attribute of its own (``o#<source key>``), set by the
ADD that files it (``SET #o0 = :o0, #o1 = :o1, ...``) and removed by the DELETE that takes it out,
or by the write that marks the key overloaded (``REMOVE ..., #o0, #o1, ...``). DynamoDB refuses an
expression longer than 4 KB (a ValidationException; moto fails it from about 250 places on). A batch
filing about 290 records under one key (a ``profilesync resolve --endpoint-url --batch-size 1000``
of a firm's staff at one large-user postcode: ``pf:<postcode>:<initial>``), or a key whose limit
(``max_block_size``) is set past about 550, made an update that never goes through: the batch
failed on every delivery. Every update here is checked against the limit, on moto.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.link_index import BlockChange
from core.storage.dynamodb import DynamoDBProfileStore
from tests.integration.test_erasure_attacks import STORES

#: DynamoDB's longest expression (UpdateExpression, ConditionExpression), in bytes.
MAX_EXPRESSION = 4096
KEY = "pf:ec1a1bb:j"


class _Checked:
    """A DynamoDB client that records the longest expression it is sent."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.exceptions = client.exceptions
        self.longest = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _seen(self, update: dict[str, Any]) -> None:
        for field in ("UpdateExpression", "ConditionExpression"):
            self.longest = max(self.longest, len(update.get(field, "").encode()))

    def transact_write_items(self, **kwargs: Any) -> Any:
        for action in kwargs["TransactItems"]:
            self._seen(next(iter(action.values())))
        return self._client.transact_write_items(**kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        self._seen(kwargs)
        return self._client.update_item(**kwargs)


def _places(count: int, start: int = 0) -> dict[str, str]:
    return {
        f"crm:contact:{i:05d}": f"j{i}\x1fstaff\x1f19800101\x1fec1a1bb" for i in range(start, start + count)
    }


def _raw(store: DynamoDBProfileStore) -> dict[str, Any]:
    key = {"PK": {"S": store.block_pk(KEY)}, "SK": {"S": "BLOCK"}}  # its keyed hash
    return store._client.get_item(TableName=store.table_name, Key=key, ConsistentRead=True).get("Item") or {}


@pytest.mark.parametrize("limit", [100, 1000])
def test_filing_300_records_under_one_key_in_one_batch(limit: int) -> None:
    """GIVEN a key of limit 100 (the default) or 1,000 WHEN one change files 300 records under it
    THEN every expression sent is within 4 KB, and the key holds the 300 at their places (limit
    1,000) or is overloaded with no member and no place (limit 100)."""
    with STORES["dynamodb"]() as stores:
        plain: DynamoDBProfileStore = stores.profiles
        client = _Checked(plain._client)
        store = DynamoDBProfileStore(client, plain.table_name, read_workers=1)
        places = _places(300)
        store.update_blocks([BlockChange(KEY, add=frozenset(places), limit=limit, orders=places)])
        assert client.longest <= MAX_EXPRESSION
        state = store.get_blocks([KEY])[KEY]
        if limit == 100:
            assert (state.overloaded, state.members) == (True, frozenset())
            assert not [n for n in _raw(store) if n.startswith("o#")]
        else:
            assert not state.overloaded
            assert dict(state.orders) == places


def test_taking_600_records_out_of_a_key_and_overloading_one_of_600() -> None:
    """GIVEN a key of limit 1,000 holding 600 records at their places WHEN the 600 are taken out in
    one change THEN the key is gone; and GIVEN 600 again under a key of limit 650 WHEN 100 more come
    THEN it is overloaded with no place left. Every expression sent is within 4 KB."""
    with STORES["dynamodb"]() as stores:
        plain: DynamoDBProfileStore = stores.profiles
        client = _Checked(plain._client)
        store = DynamoDBProfileStore(client, plain.table_name, read_workers=1)
        places = _places(600)
        store.update_blocks([BlockChange(KEY, add=frozenset(places), limit=1000, orders=places)])
        store.update_blocks([BlockChange(KEY, remove=frozenset(places), limit=1000)])
        assert store.get_blocks([KEY]) == {}
        assert _raw(store) == {}
        store.update_blocks([BlockChange(KEY, add=frozenset(places), limit=650, orders=places)])
        more = _places(100, start=600)
        store.update_blocks([BlockChange(KEY, add=frozenset(more), limit=650, orders=more)])
        assert store.get_blocks([KEY])[KEY].overloaded
        assert not [n for n in _raw(store) if n.startswith("o#")]
        assert client.longest <= MAX_EXPRESSION
