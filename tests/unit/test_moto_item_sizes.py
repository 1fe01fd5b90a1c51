"""tests/moto_item_sizes.py: an item moto builds with each attribute sized once holds what moto's own
``Item.__init__`` holds, and refuses (``ItemSizeTooLarge``) exactly the attributes moto's refuses."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

from tests import moto_item_sizes

_KEY = DynamoType({"S": "CUSTOMER#1"})
_SORT = DynamoType({"S": "PROFILE"})

_numbers = st.integers(-(10**30), 10**30).map(str) | st.decimals(
    allow_nan=False, allow_infinity=False, places=4
).map(str)
_scalars = st.one_of(
    st.text(max_size=20).map(lambda s: {"S": s}),
    _numbers.map(lambda n: {"N": n}),
    st.binary(max_size=20).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.text(max_size=8), min_size=1, max_size=4, unique=True).map(lambda s: {"SS": s}),
    st.lists(st.integers(0, 10**6).map(str), min_size=1, max_size=4, unique=True).map(lambda s: {"NS": s}),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3).map(lambda v: {"L": v})
        | st.dictionaries(st.text(max_size=6), inner, max_size=3).map(lambda v: {"M": v})
    ),
    max_leaves=8,
)
#: Attributes around moto's limit: a few padded so that the sum crosses 405,000 bytes near any of them.
_big = st.integers(0, 140_000).map(lambda n: {"S": "x" * n})
_attributes = st.dictionaries(st.text(min_size=1, max_size=10), _values | _big, max_size=12)


def _held(make: Callable[[], Item]) -> tuple[str, Any]:
    try:
        item = make()
    except ItemSizeTooLarge as refused:
        return "refused", (type(refused), refused.message)
    assert type(item.attrs) is LimitedSizeDict
    return "held", (item.hash_key, item.range_key, [(k, v.to_json()) for k, v in item.attrs.items()])


@contextmanager
def _moto_s_own_code() -> Iterator[None]:
    """moto's own Item.__init__ and DynamoType.size, nested values included, for the block."""
    patched = Item.__init__, DynamoType.size
    Item.__init__ = patched[0].__wrapped__  # type: ignore[attr-defined, method-assign]
    DynamoType.size = patched[1].__wrapped__  # type: ignore[attr-defined, method-assign]
    try:
        yield
    finally:
        Item.__init__, DynamoType.size = patched  # type: ignore[method-assign]


def _moto_s_own(attrs: dict[str, Any]) -> Item:
    with _moto_s_own_code():
        return Item(_KEY, _SORT, attrs)


def test_the_suite_builds_items_with_the_running_sum() -> None:
    # GIVEN the suite's patches (tests/conftest.py), THEN moto's Item.__init__ is the running sum's
    assert getattr(Item.__init__, "__wrapped__", None) is not None
    assert getattr(DynamoType.size, "__wrapped__", None) is not None
    assert f"> {moto_item_sizes.LIMIT}" in inspect.getsource(LimitedSizeDict.__setitem__)


@settings(max_examples=120)
@given(_attributes)
def test_an_item_holds_and_refuses_what_moto_s_own_init_does(attrs: dict[str, Any]) -> None:
    # GIVEN any attributes, some of them large; WHEN an item is made of them both ways
    mine = _held(lambda: Item(_KEY, _SORT, attrs))
    own = _held(lambda: _moto_s_own(attrs))
    # THEN it holds the same values in the same order, or both refuse it with moto's error
    assert mine == own


@settings(max_examples=300)
@given(_values)
def test_a_value_sizes_as_moto_s_own_size_says(value: dict[str, Any]) -> None:
    # GIVEN any attribute value (sets, numbers, binary, nested lists and maps), held as moto holds it
    held = DynamoType(value)
    with _moto_s_own_code():
        own = held.size()
    # THEN its size is what moto's own DynamoType.size answers
    assert held.size() == own


def test_the_limit_is_moto_s_to_the_byte() -> None:
    # GIVEN items whose keys and values add up to moto's limit, and to one byte more
    at_limit = {"a": {"S": "x" * (moto_item_sizes.LIMIT - 1)}}
    over = {"a": {"S": "x" * moto_item_sizes.LIMIT}}
    spread = {"k1": {"S": "x" * 200_000}, "k2": {"S": "x" * (moto_item_sizes.LIMIT - 200_004)}}
    # THEN both ways hold the first and the third, and refuse the second, at the same attribute
    for attrs in (at_limit, over, spread, {**spread, "k3": {"S": "y"}}):
        assert _held(lambda a=attrs: Item(_KEY, _SORT, a)) == _held(lambda a=attrs: _moto_s_own(a))
    assert _held(lambda: Item(_KEY, _SORT, at_limit))[0] == "held"
    assert _held(lambda: Item(_KEY, _SORT, over))[0] == "refused"
