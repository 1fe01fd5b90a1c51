"""The normalising worker's orders read by native/src/norm_order.rs are the Python path's.

``profilesync_native.order`` reads an order of the common shape as core.normalise._money's
``_order`` does, without its Python frame (the amount, the time and the payment references still
read by the Python normalisers), and gives every other order to ``_order_general``. ``_order``
is the oracle: on the orders of tests/unit/test_normalise_fast_steps.py (the common shape with a
field or two odd, missing or extra; not a dict at all) and payment references of any kind, both give
the same ``Order`` (its ``__dict__`` in order, the class's shared set of fields) or the same error,
and a record's orders read through ``_orders`` pickle to the same bytes (a status written as
another string object than Python's would pickle otherwise within a chunk).

Mutations this catches (each built and run): a negative paid amount kept as paid (the refund rule
left out); an id with a space at its end taken (the strip check's last character left out); the
NormalisationError of a payment reference raised instead of handed to ``_order_general``.
"""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import core.normalise._money as money
import profilesync.resolve_native as resolve_native
from core.normalise import use_order_reader
from core.normalise._values import _Collector
from core.schema import _ALL_FIELDS
from tests.native_support import NATIVE, needs_native
from tests.unit.test_normalise_fast_steps import _orders

pytestmark = needs_native

_refs = st.one_of(
    st.none(),
    st.lists(st.sampled_from(["ch_1", "pi_2", "", " x ", None, 3]), max_size=3),
    st.sampled_from(["ch_1", 5, {"a": 1}]),
)


@st.composite
def _orders_with_refs(draw: st.DrawFn) -> Any:
    raw = draw(_orders())
    if isinstance(raw, dict) and draw(st.booleans()):
        raw = {**raw, "payment_refs": draw(_refs)}
    return raw


def _outcome(read: Any, raw: Any) -> tuple[str, Any]:
    try:
        return "value", read(raw)
    except Exception as error:  # (the error is what is compared)
        return type(error).__name__, str(error)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(orders=st.lists(_orders_with_refs(), min_size=1, max_size=6))
@example(orders=[{"id": "o1", "total": "-5.00", "currency": "GBP", "created_at": "2026-01-02T09:00:00Z"}])
@example(orders=[{"id": "o1 ", "total": "5.00", "currency": "GBP", "created_at": "2026-01-02T09:00:00Z"}])
# an id of a lone surrogate (CI's hypothesis run found it: the compiled reader raised UnicodeEncodeError)
@example(orders=[{"id": "\ud800", "total": "19.90", "currency": "GBP", "created_at": "2026-01-02T09:00:00Z"}])
@example(
    orders=[
        {
            "id": "o1",
            "total": "5.00",
            "currency": "GBP",
            "created_at": "2026-01-02T09:00:00Z",
            "payment_refs": 5,
        }
    ]
)
def test_an_order_reads_as_the_python_paths(orders: list[Any]) -> None:
    """GIVEN orders of any shape WHEN read by the compiled function and by ``_order``
    THEN the same order (its values in order, the shared set of fields) or the same error."""
    assert NATIVE is not None
    for raw in orders:
        got, expected = _outcome(NATIVE.order, raw), _outcome(money._order, raw)
        assert got[0] == expected[0]
        if expected[0] != "value":
            assert got == expected
            continue
        assert list(got[1].__dict__.items()) == list(expected[1].__dict__.items())
        assert got[1].__pydantic_fields_set__ is _ALL_FIELDS[type(expected[1])]
        assert got[1].__pydantic_fields_set__ is expected[1].__pydantic_fields_set__
    # WHEN a record's orders are read through _orders both ways THEN the same bytes pickled
    use_order_reader(NATIVE.order)
    try:
        compiled = money._orders(orders, collector := _Collector())
        compiled_dropped = collector.listed()
    finally:
        use_order_reader(None)
    python = money._orders(orders, collector := _Collector())
    assert pickle.dumps(compiled) == pickle.dumps(python)
    assert compiled_dropped == collector.listed()


def test_the_worker_chooses_the_compiled_reader_and_none_restores_the_python_one(monkeypatch: Any) -> None:
    """GIVEN the extension on or off WHEN the worker asks THEN native's ``order`` or None; and
    ``use_order_reader`` sets what ``_orders`` reads each order with."""
    assert NATIVE is not None
    python_order = money._order
    monkeypatch.setattr(resolve_native, "_MODULE", NATIVE)
    try:
        use_order_reader(resolve_native.worker_order_reader())
        assert money._order is NATIVE.order
    finally:
        use_order_reader(None)
    assert money._order is python_order
    monkeypatch.setattr(resolve_native, "_MODULE", None)
    assert resolve_native.worker_order_reader() is None
