"""An item's size by DynamoDB's rule, for the SQLite and in-memory stores' rows: the one way the three
stores weigh an item against the 400 KB line (docs/architecture.md, "Limits").

DynamoDB counts each attribute's name and value: a string's UTF-8 bytes, a binary value's raw
bytes, a number about one byte per two significant digits and one more, a string set the sum of its
strings; the type descriptors weigh nothing
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
core.storage.dynamodb_transactions ``item_size`` applies it to the items the DynamoDB store sends.
A SQLite row (pk, sk, version, hash, owner, updated_at, data, attrs) is the same item in columns;
``row_bytes`` weighs each column under the attribute name the DynamoDB layout gives it for that kind
of item (core.storage.dynamodb_items), and a PROFILE row's ``attrs`` JSON as the attributes it holds
there (``owned``, ``absorbing``, ``merged_into``, ...), so a PROFILE item weighs the same on the three.
"""

from __future__ import annotations

import json
from typing import Final

__all__ = ["number_bytes", "row_bytes", "utf8_len"]

#: An item as the SQLite store writes it: pk, sk, version, hash, owner, updated_at, data, attrs.
Row = tuple[str, str, int | None, str | None, str | None, str | None, str | bytes | None, str | None]

#: The history event's ``kind`` and ``at`` that the DynamoDB item holds beside its JSON
#: (core.storage.dynamodb_history ``history_item``), which the row keeps inside its JSON only: the
#: names (6 bytes), an ISO time with its microseconds and offset (32) and the longest kind (15),
#: with room.
_HISTORY_BESIDE: Final = 6 + 32 + 32


def utf8_len(text: str) -> int:
    """The UTF-8 bytes of ``text`` (a lone surrogate as the 3 bytes it is written in)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def number_bytes(number: int) -> int:
    """A number attribute's value: one byte per two significant digits, and one more."""
    digits = str(abs(number)).strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def _value(value: str | bytes) -> int:
    return len(value) if isinstance(value, bytes) else utf8_len(value)


#: ``IDENT#`` and 64 hex digits in place of ``IDENT#``, and the attribute name ``ident``.
_IDENT_KEYED_EXTRA = 64 + len("ident")


def row_bytes(row: Row, *, bound: bool = False) -> int:
    """The size DynamoDB gives the item ``row`` stands for (``PK`` and ``SK`` and each attribute it
    holds, by name and value). ``bound``: a PROFILE row's ``attrs`` weighed as its JSON text, never
    less than the attributes it holds (each character's JSON escape is at least its UTF-8 bytes),
    without parsing it: the ``owned`` set of a growing customer is thousands of keys, each batch."""
    pk, sk, version, item_hash, owner, updated_at, data, attrs = row
    size = 4 + utf8_len(pk) + utf8_len(sk)  # "PK", "SK" and the keys
    if pk.startswith("IDENT#"):
        # DynamoDB keys an identifier's items by its keyed hash and keeps the key in ``ident``
        # (core.storage.ident_keys): the row's ``IDENT#<key>`` weighs ``IDENT#<64 hex>`` + ``ident``.
        size += _IDENT_KEYED_EXTRA
    if version is not None:
        size += 7 + number_bytes(version)  # "version"
    if sk == "IDENT":
        # customer_id, record_hash, updated_at, match (in ``data``), run (in ``attrs``)
        size += _named(owner, 11) + _named(item_hash, 11) + _named(updated_at, 10)
        return size + _named(data, 5) + _named(attrs, 3)
    size += _named(item_hash, 4) + _named(owner, 11) + _named(updated_at, 10) + _named(data, 4)
    if sk.startswith("HISTORY#"):
        size += _HISTORY_BESIDE
    if attrs is None:
        return size
    if sk != "PROFILE":
        return size + 5 + utf8_len(attrs)  # no other item keeps ``attrs``: weighed as one text
    if bound:
        return size + utf8_len(attrs)
    for name, value in json.loads(attrs).items():
        if isinstance(value, list):
            if value:  # DynamoDB holds no empty set: the attribute is left out
                size += utf8_len(name) + sum(utf8_len(member) for member in value)
        elif isinstance(value, str):
            size += utf8_len(name) + utf8_len(value)
        else:
            size += utf8_len(name) + number_bytes(int(value))
    return size


def _named(value: str | bytes | None, name_bytes: int) -> int:
    return 0 if value is None else name_bytes + _value(value)
