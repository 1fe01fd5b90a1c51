"""A crowded key overloading on DynamoDB while another writer files a record under it leaves no place
behind (core.storage.dynamodb_links).

A ``BLOCK#`` item keeps each member's place in the block's order (``o#<source key>``: her folded
names, birth date, postcode, house and street). A writer whose ADD would pass the key's limit reads
the item and marks it ``overloaded``, removing its members and the places it read. Another writer's
smaller ADD can still pass its own condition between that read and that write, setting its record's
place: the ``overloaded`` write then removes the members but not the place it never read. Nothing
lists the record under the key any more, so her erasure (whose removal is conditioned on the
members being there) never takes the place away: her folded name and birth date stay in the table.
"""

from __future__ import annotations

from typing import Any

from core.link_index import BlockChange
from core.storage.dynamodb import DynamoDBProfileStore
from tests.integration.test_erasure_attacks import STORES

KEY = "sb:OCAFAR:1980"
LIMIT = 4
FIRST = {f"crm:contact:{i}": f"ada{i}\x1f19800101\x1fls14ap\x1f1{i}\x1fquillon rd" for i in range(3)}
LATE = "shop:customer:77"
LATE_PLACE = "zainab\x1f19800704\x1fls14ap\x1f9\x1fquillon rd"


class _OverloadRace:
    """A DynamoDB client that runs ``race`` once, just before the write that marks a key overloaded
    (after the read it is decided on)."""

    def __init__(self, client: Any, race: Any) -> None:
        self._client = client
        self._race = race
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **kwargs: Any) -> Any:
        if self._race is not None and "overloaded" in kwargs.get("UpdateExpression", ""):
            race, self._race = self._race, None
            race()
        return self._client.update_item(**kwargs)


def _raw(store: DynamoDBProfileStore) -> dict[str, Any]:
    key = {"PK": {"S": store.block_pk(KEY)}, "SK": {"S": "BLOCK"}}  # its keyed hash
    return store._client.get_item(TableName=store.table_name, Key=key, ConsistentRead=True).get("Item") or {}


def test_a_place_filed_while_the_key_overloads_is_not_left_behind() -> None:
    """GIVEN a key of limit 4 holding three members with their places WHEN a writer adds two more
    (it would pass the limit: it reads the item and marks it overloaded) and, between its read and
    its write, another adds one (it fits: 3 + 1) THEN the item is overloaded with no member and no
    place; and the late record's removal (her erasure) finds nothing of hers either."""
    with STORES["dynamodb"]() as stores:
        plain: DynamoDBProfileStore = stores.profiles
        plain.update_blocks([BlockChange(KEY, add=frozenset(FIRST), limit=LIMIT, orders=FIRST)])

        def race() -> None:
            late = BlockChange(KEY, add=frozenset({LATE}), limit=LIMIT, orders={LATE: LATE_PLACE})
            plain.update_blocks([late])
            assert f"o#{LATE}" in _raw(plain)  # it fitted: filed with its place

        client = _OverloadRace(plain._client, race)
        racing = DynamoDBProfileStore(client, plain.table_name, read_workers=1)
        two = {"crm:contact:8": "bo\x1f", "crm:contact:9": "cy\x1f"}
        racing.update_blocks([BlockChange(KEY, add=frozenset(two), limit=LIMIT, orders=two)])
        assert client._race is None  # the race ran

        state = plain.get_blocks([KEY])[KEY]
        assert state.overloaded
        assert not state.members
        assert not [name for name in _raw(plain) if name.startswith("o#")]
        plain.update_blocks([BlockChange(KEY, remove=frozenset({LATE}), limit=LIMIT)])  # her erasure
        assert "zainab" not in str(stores.rows())
