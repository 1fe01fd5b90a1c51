"""The link index's ``BLOCK#`` items of a table the previous release wrote: read under the unkeyed
hash of their index key beside its keyed hash (core.link_blocks.block_item_key), and moved to the
keyed hash before a writer changes them.

Mixed into ``DynamoDBLinkIndex``. Until the table's layout marker says the indexes are keyed
(``IdentLayout.index_keyed``: ``profilesync migrate rekey-identifiers`` writes it,
core.storage.index_rekey; read with a GetItem at most once a minute while it does not):

* a read of index keys asks for both items of each key in one ``BatchGetItem`` and answers what the
  two hold together (``merged_item``): the old item alone, or the keyed one with the old one's
  members, children and places (a place the keyed item holds wins), overloaded if either is. It
  moves nothing: the profile API's and the review function's roles may read the index, not write it.
* an update, or a drop of items as read, first moves the old items of its keys (one transaction
  each: the copy put where no item is, the old item deleted while it exists); a keyed item already
  there (a writer of the previous release filed under the old key during the deploy) takes what the
  read answered, as above, and the old item is deleted. So a key's limit, its overloaded flag and a
  drop "only as read" keep working on one item, and no member is lost. Moving is idempotent: a key
  moved, or never written the old way, has nothing left to move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.errors import RetryableError
from core.link_blocks import block_item_key
from core.storage.dynamodb_batch import batch_get
from core.storage.ident_rekey import IdentLayout, cancellation_codes

__all__ = ["DynamoDBBlockUpgrade", "merged_item"]

Item = dict[str, Any]
_ATTEMPTS = 5
#: Places one merge update sets (``#o49 = if_not_exists(#o49, :o49), `` is 36 bytes: 50 stay far
#: below DynamoDB's 4 KB expression).
_PLACES_PER_MERGE = 50
_SK = {"S": "BLOCK"}


class DynamoDBBlockUpgrade:
    """Mixed into ``DynamoDBLinkIndex`` (the store sets ``_client``, ``table_name``,
    ``ident_layout`` and ``_call``)."""

    _client: Any
    table_name: str
    ident_layout: IdentLayout

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError  # the store's own (its errors mapped)

    def _blocks_upgrading(self, by_item: Mapping[str, str]) -> list[Item]:
        """The items of ``by_item`` (keyed partition key -> index key), whole, each as its keyed and
        old items hold it together (``merged_item``), read in one ``BatchGetItem``."""
        old_of = {block_item_key(key): pk for pk, key in by_item.items()}
        wanted = [{"PK": {"S": pk}, "SK": _SK} for pk in [*by_item, *old_of]]
        items = list(batch_get(self._call, self.table_name, wanted))
        new = {i["PK"]["S"]: i for i in items if i["PK"]["S"] in by_item}
        for item in items:
            if (pk := old_of.get(item["PK"]["S"])) is not None:
                new[pk] = merged_item(new.get(pk), item, pk)
        return list(new.values())

    def _move_old_blocks(self, keys: Iterable[str]) -> int:
        """Move the old items of index ``keys`` (before an update names them); how many moved."""
        salt = self.ident_layout.salt
        old_of = {block_item_key(k): block_item_key(k, salt) for k in dict.fromkeys(keys)}
        wanted = [{"PK": {"S": pk}, "SK": _SK} for pk in old_of]
        old = list(batch_get(self._call, self.table_name, wanted))
        for item in old:
            self._move_block(item, old_of[item["PK"]["S"]], exists=None)
        return len(old)

    def _move_block(self, item: Item, new_pk: str, *, exists: bool | None) -> None:
        """Move one old item to ``new_pk`` (``exists``: whether an item is there, None: unknown)."""
        old_key = {"PK": item["PK"], "SK": _SK}
        for _ in range(_ATTEMPTS):
            if not exists:
                try:
                    self._call(
                        "transact_write_items",
                        TransactItems=[
                            {
                                "Put": {
                                    "TableName": self.table_name,
                                    "Item": {**item, "PK": {"S": new_pk}},
                                    "ConditionExpression": "attribute_not_exists(PK)",
                                }
                            },
                            {
                                "Delete": {
                                    "TableName": self.table_name,
                                    "Key": old_key,
                                    "ConditionExpression": "attribute_exists(PK)",
                                }
                            },
                        ],
                    )
                    return
                except Exception as error:
                    codes = cancellation_codes(error)
                    if codes is None:
                        raise
                    if codes[1:2] == ["ConditionalCheckFailed"]:
                        return  # another mover took it
                    exists = codes[:1] == ["ConditionalCheckFailed"]
                    if not exists:
                        continue  # a transaction in flight on one of them: try again
            self._merge_into(item, new_pk)
            return
        raise RetryableError(
            "an index item kept changing while it was moved to its keyed hash (a writer of the "
            "previous version still running?); the batch is sent again"
        )

    def _merge_into(self, item: Item, new_pk: str) -> None:
        """The keyed item takes the old item's members, children and places (unless it is
        overloaded), or becomes overloaded if the old one is; the old item goes."""
        key = {"PK": {"S": new_pk}, "SK": _SK}
        if _overloaded(item):
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=key,
                UpdateExpression="SET overloaded = :t REMOVE #r",
                ExpressionAttributeNames={"#r": "records"},
                ExpressionAttributeValues={":t": {"BOOL": True}},
            )
        else:
            adds: dict[str, Any] = {name: item[name] for name in ("records", "children") if name in item}
            places = sorted((name, value) for name, value in item.items() if name.startswith("o#"))
            first = True
            try:
                while first or places:
                    chunk, places = places[:_PLACES_PER_MERGE], places[_PLACES_PER_MERGE:]
                    self._merge_update(key, adds if first else {}, chunk)  # the sets once
                    first = False
            except self._client.exceptions.ConditionalCheckFailedException:
                pass  # the keyed item is overloaded: it takes no member (nor place)
        self._call(
            "delete_item",
            TableName=self.table_name,
            Key={"PK": item["PK"], "SK": _SK},
        )

    def _merge_update(self, key: Item, adds: Mapping[str, Any], places: Sequence[tuple[str, Any]]) -> None:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        parts: list[str] = []
        for n, (name, value) in enumerate(adds.items()):
            names[f"#a{n}"], values[f":a{n}"] = name, value
            parts.append(f"#a{n} :a{n}")
        sets = []
        for n, (name, value) in enumerate(places):
            names[f"#o{n}"], values[f":o{n}"] = name, value
            sets.append(f"#o{n} = if_not_exists(#o{n}, :o{n})")
        expression = " ".join(
            ([f"ADD {', '.join(parts)}"] if parts else []) + ([f"SET {', '.join(sets)}"] if sets else [])
        )
        if not expression:
            return
        self._client.update_item(  # not ``_call``: its condition's failure is caught as it is
            TableName=self.table_name,
            Key=key,
            UpdateExpression=expression,
            ConditionExpression="attribute_not_exists(overloaded)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


def _overloaded(item: Mapping[str, Any] | None) -> bool:
    return bool(item and item.get("overloaded", {}).get("BOOL"))


def merged_item(keyed: Item | None, old: Item, pk: str) -> Item:
    """What a key's keyed item and its old item hold together, under ``pk``: what moving the old
    item makes of them (``DynamoDBBlockUpgrade._move_block``)."""
    if keyed is None:
        return {**old, "PK": {"S": pk}}
    if _overloaded(keyed) or _overloaded(old):
        merged = {k: v for k, v in keyed.items() if k != "records"}
        return {**merged, "overloaded": {"BOOL": True}}
    out: Item = {**{k: v for k, v in old.items() if k.startswith("o#")}, **keyed}
    for name in ("records", "children"):
        held = set(keyed.get(name, {}).get("SS", ())) | set(old.get(name, {}).get("SS", ()))
        if held:
            out[name] = {"SS": sorted(held)}
    return out
