"""The actions of the DynamoDB link index's updates (core.storage.dynamodb_links), and the members'
places in a block's order: split from that module by concern.

A member's place in its block's order (core.linkage.blocking.order_string) is an attribute of its
own, ``o#<source key>``, set with its ADD and removed with its DELETE; an update names at most 100
places (an expression holds 4 KB): a change naming more goes in pieces, a round each (``_rounds``).
An ADD whose condition fails is read back (``_full_or_overloaded``): a full key becomes
``overloaded`` and drops its members and the first 99 places read in one write, then every place
the item still holds. A removal finding no members removes its members' places from an overloaded
item (``_no_records``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.link_index import BlockChange, block_item_key
from core.storage.ident_rekey import IdentLayout

__all__ = ["DynamoDBBlockPlaces"]

_ORDER = "o#"
"""Prefix of the attribute holding one member's place in the block's order."""
_PLACES_PER_UPDATE = 100
"""The most places one update sets or removes: ``#o99 = :o99, `` is 14 bytes, and DynamoDB takes an
expression of at most 4 KB (moto fails one of about 250)."""


class DynamoDBBlockPlaces:
    """Mixed into ``DynamoDBLinkIndex`` (the store sets ``_client``, ``table_name`` and
    ``ident_layout``): the update actions of one key, and the places of its members."""

    _client: Any
    table_name: str
    ident_layout: IdentLayout

    def block_pk(self, key: str) -> str:
        """The partition key of index key ``key``'s item in this table (its keyed hash)."""
        return block_item_key(key, self.ident_layout.salt)

    def _key(self, change: BlockChange) -> dict[str, Any]:
        return {"PK": {"S": self.block_pk(change.key)}, "SK": {"S": "BLOCK"}}

    def _remove_action(self, change: BlockChange, attribute: str, members: frozenset[str]) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(change),
            "UpdateExpression": f"DELETE {attribute} :r",
            "ConditionExpression": f"attribute_exists({attribute})",
            "ExpressionAttributeValues": {":r": {"SS": sorted(members)}},
        }
        if attribute == "records" and _has_places(change.key):
            # Each member's place goes with it (an erasure leaves no folded name behind).
            names = {f"#o{i}": _ORDER + member for i, member in enumerate(sorted(members))}
            update["UpdateExpression"] += " REMOVE " + ", ".join(names)
            update["ExpressionAttributeNames"] = names
        return {"Update": update}

    def _no_records(self, change: BlockChange) -> None:
        """A removal that found no members: the key is gone, or overloaded. An overloading killed
        before it took every place away leaves them on the item (core.storage.dynamodb_links'
        docstring): the members' places go now (an erasure leaves no folded name behind)."""
        if _has_places(change.key):
            self._remove_places(self._key(change), [_ORDER + member for member in change.remove])

    def _remove_places(self, key: dict[str, Any], places: Sequence[str]) -> None:
        """Remove ``places`` (attribute names) from an overloaded item, at most 100 an update; the
        condition writes nothing on an item that is not overloaded (gone, or holding members)."""
        places = sorted(places)
        for start in range(0, len(places), _PLACES_PER_UPDATE):
            names = {f"#o{i}": name for i, name in enumerate(places[start : start + _PLACES_PER_UPDATE])}
            try:
                self._client.update_item(
                    TableName=self.table_name,
                    Key=key,
                    UpdateExpression="REMOVE " + ", ".join(names),
                    ConditionExpression="attribute_exists(overloaded)",
                    ExpressionAttributeNames=names,
                )
            except self._client.exceptions.ConditionalCheckFailedException:
                return

    def _add_children_action(self, change: BlockChange) -> dict[str, Any]:
        room = change.children_limit - len(change.add_children)
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": self._key(change),
                "UpdateExpression": "ADD children :c",
                "ConditionExpression": "attribute_not_exists(children) OR size(children) <= :room",
                "ExpressionAttributeValues": {
                    ":c": {"SS": sorted(change.add_children)},
                    ":room": {"N": str(room)},
                },
            }
        }

    def _add_action(self, change: BlockChange) -> dict[str, Any]:
        room = change.limit - len(change.add)
        # More than the limit at once overloads even a key with no members yet (as the SQLite and
        # in-memory stores do): the condition fails, and the read decides (``_full_or_overloaded``).
        fits = "attribute_not_exists(records) OR " if room >= 0 else "attribute_exists(records) AND "
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(change),
            "UpdateExpression": "ADD records :a",
            "ConditionExpression": f"attribute_not_exists(overloaded) AND ({fits}size(records) <= :room)",
            "ExpressionAttributeValues": {":a": {"SS": sorted(change.add)}, ":room": {"N": str(room)}},
        }
        _set_orders(update, change)
        return {"Update": update}

    def _full_or_overloaded(self, change: BlockChange) -> None:
        """An ADD whose condition failed: the key is overloaded (leave it), or too full to take all
        the new members without passing its limit (some may be there already: read and decide)."""
        key = self._key(change)
        response = self._client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)
        item = response.get("Item") or {}
        read = sorted(name for name in item if name.startswith(_ORDER))
        if item.get("overloaded", {}).get("BOOL"):
            # Places left by an overloading killed part way: this write (sent again) finishes it.
            self._remove_places(key, read)
            return
        members = set(item.get("records", {}).get("SS", ())) | change.add
        if len(members) > change.limit:
            # The members go with the first 99 places read, in one write; then every place the item
            # still holds (the rest, and any a smaller ADD filed between the read and this write: no
            # ADD passes ``overloaded`` after it).
            names = {f"#o{i}": name for i, name in enumerate(read[: _PLACES_PER_UPDATE - 1])}
            after = self._client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="SET overloaded = :t REMOVE " + ", ".join(["records", *names]),
                ExpressionAttributeValues={":t": {"BOOL": True}},
                ReturnValues="ALL_NEW",
                **({"ExpressionAttributeNames": names} if names else {}),
            )
            self._remove_places(key, [n for n in after.get("Attributes", {}) if n.startswith(_ORDER)])
        else:
            update = {
                "UpdateExpression": "ADD records :a",
                "ConditionExpression": "attribute_not_exists(overloaded)",
                "ExpressionAttributeValues": {":a": {"SS": sorted(change.add)}},
            }
            _set_orders(update, change)
            self._client.update_item(TableName=self.table_name, Key=self._key(change), **update)


def _rounds(changes: Sequence[BlockChange], side: str) -> list[list[BlockChange]]:
    """``changes`` whose ``add`` (with its places) or ``remove`` (``side``) names more places than
    ``_PLACES_PER_UPDATE`` cut in pieces: round ``i`` holds each change's ``i``-th piece. A key whose
    pieces go in turn keeps its limit: each piece's ADD is conditioned on the room left for it."""
    rounds: list[list[BlockChange]] = [[]]
    for change in changes:
        members = sorted(change.add if side == "add" else change.remove)
        placed = bool(change.orders) if side == "add" else _has_places(change.key)
        if not placed or len(members) <= _PLACES_PER_UPDATE:
            rounds[0].append(change)
            continue
        for n, start in enumerate(range(0, len(members), _PLACES_PER_UPDATE)):
            piece = frozenset(members[start : start + _PLACES_PER_UPDATE])
            if side == "add":
                orders = {m: change.orders[m] for m in piece if m in change.orders}
                cut = change._replace(add=piece, orders=orders)
            else:
                cut = change._replace(remove=piece)
            if n == len(rounds):
                rounds.append([])
            rounds[n].append(cut)
    return [r for r in rounds if r]


def _has_places(key: str) -> bool:
    """Whether the key's members have places in its item (an id or a review's key has none)."""
    return not key.startswith(("id:", "rv:"))


def _set_orders(update: dict[str, Any], change: BlockChange) -> None:
    """Add ``SET o#<member> = <place>`` for the change's members' places to an ADD's update."""
    if not change.orders:
        return
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = []
    for i, (member, order) in enumerate(sorted(change.orders.items())):
        names[f"#o{i}"] = _ORDER + member
        values[f":o{i}"] = {"S": order}
        sets.append(f"#o{i} = :o{i}")
    update["UpdateExpression"] += " SET " + ", ".join(sets)
    update["ExpressionAttributeNames"] = {**update.get("ExpressionAttributeNames", {}), **names}
    update["ExpressionAttributeValues"] = {**update["ExpressionAttributeValues"], **values}
