"""moto's new items sized once per attribute instead of once per attribute per attribute before it.

moto holds an item's attributes in a ``LimitedSizeDict``, whose ``__setitem__`` checks the 400 KB
limit by summing the size of every key and value already held, then adds the new one's: building an
item of n attributes (every PutItem, every item of a transaction or batch write, every item an
UpdateItem creates) sizes n(n+1)/2 attribute values, each a walk of its nested maps and lists. Here
``Item.__init__`` keeps the running sum instead: the same sums in the same order, so the same
attribute (if any) raises moto's ``ItemSizeTooLarge`` at the same limit, and the item holds the same
``LimitedSizeDict`` of the same ``DynamoType`` values. Nothing else changes: an update that sets an
attribute of a held item still goes through ``LimitedSizeDict.__setitem__`` (moto's own check, on a
value that may have changed in place since), and reads size their results as before.

Each value's size is moto's ``DynamoType.size`` with the kind dispatched on once: moto asks
``is_number()``, ``is_set()``, ``is_list()`` and ``is_map()`` in turn, a method call each, for every
value it sizes (every attribute of every item a read returns, against its 1 MB page limit: the
larger half of the sizing). The same sums of the same ``bytesize`` and ``number_size``, in the same
order.

tests/conftest.py applies both once per process; tests/unit/test_moto_item_sizes.py holds the items and
errors to what moto's own ``Item.__init__`` makes of the same attributes.
"""

from __future__ import annotations

import inspect
from typing import Any

#: moto's limit on the sum, written into ``LimitedSizeDict.__setitem__`` (checked where it is applied).
LIMIT = 405000


def size_items_once() -> None:
    """``Item.__init__`` sizes each attribute once (see the module docstring)."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    original = Item.__init__
    if getattr(original, "__wrapped__", None) is not None:
        return
    # What the running sum stands for: moto's check, word for word (a moto that sizes items
    # another way is left alone, and tests/unit/test_moto_item_sizes.py fails).
    check = inspect.getsource(LimitedSizeDict.__setitem__)
    if f"> {LIMIT}" not in check or "for item in (list(self.keys()) + list(self.values()))" not in check:
        return

    def init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        held = LimitedSizeDict()
        total = 0
        for key, value in attrs.items():
            typed = DynamoType(value)
            # moto: the held keys' and values' sizes, plus the new key's and value's
            total += bytesize(key) + typed.size()
            if total > LIMIT:
                raise ItemSizeTooLarge
            dict.__setitem__(held, key, typed)
        self.attrs = held

    setattr(init, "__wrapped__", original)  # noqa: B010
    Item.__init__ = init  # type: ignore[method-assign]


def size_values_by_kind() -> None:
    """``DynamoType.size`` without a method call per kind asked (see the module docstring)."""
    from moto.dynamodb.models.dynamo_type import DDBType, DynamoType
    from moto.dynamodb.models.utilities import bytesize, number_size

    original = DynamoType.size
    if getattr(original, "__wrapped__", None) is not None:
        return
    number, sets = DDBType.NUMBER, (DDBType.STRING_SET, DDBType.NUMBER_SET, DDBType.BINARY_SET)
    listed, mapped = DDBType.LIST, DDBType.MAP

    def size(self: Any) -> int:
        kind = self.type
        if kind == number:
            return number_size(str(self.value))
        if kind in sets:
            member = kind[0]
            return sum(DynamoType({member: v}).size() for v in self.value)
        if kind == listed:
            return sum(v.size() for v in self.value)
        if kind == mapped:
            # moto wraps each member again (``DynamoType(v)``): a copy of a DynamoType sizes as it does
            return sum(
                bytesize(k) + (v.size() if type(v) is DynamoType else DynamoType(v).size())
                for k, v in self.value.items()
            )
        if isinstance(self.value, bool):
            return 1
        return bytesize(self.value)

    setattr(size, "__wrapped__", original)  # noqa: B010
    DynamoType.size = size  # type: ignore[method-assign]


__all__ = ["LIMIT", "size_items_once", "size_values_by_kind"]
