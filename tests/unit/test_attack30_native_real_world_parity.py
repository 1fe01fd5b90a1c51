"""attack30: the compiled normalising and profile code against material we did not write, and values
at the edges of real money and time. All hold on main (promises that hold); each compares the
compiled function with the Python path (``PROFILESYNC_NATIVE=off``'s code), its oracle.

* The 164 addresses of Dominic Sayers' ``isemail`` test set (tests/fixtures/attack30/
  isemail_addresses.json, BSD 3-Clause: RFC 5321/5322 edge cases, quoted local parts, comments,
  folding white space, domain literals, controls) through ``profilesync_native.normalise_email``
  (native/src/norm_email.rs) and ``core.normalise.normalise_email``: the same address or the same
  error.
* Orders as vendors and exports write them (money at 10**15 minor units of JPY and KWD, -0.00, a
  refund, a leap second, offsets +14:00 and -12:00, years 1 and 9999, integer and huge ids) through
  ``profilesync_native.order`` (native/src/norm_order.rs) and ``core.normalise._money._order``.
* New customers whose paid orders sum to 10**15 and up to the compiled sums' bound (10**18), split
  at half a cent (ROUND_HALF_EVEN), at year 1 +14:00 and year 9999 -12:00, through
  ``NativeRows.new_profile`` (native/src/profile*.rs) and ``core.ingest_profile.new_profile``.

Checked able to fail: with core/normalise/_money.py's refund rule taken out of the Python oracle
(a negative paid total kept as paid), ``test_an_order_of_the_edges_reads_as_python_reads_it`` fails on
``-19.90`` (the compiled reader keeps its own rule); a compiled path that rounds averages half up
would fail ``[half a cent]`` (0.01 over two orders: 0.00 half-even, 0.01 half up).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import core.normalise._money as money
from core.ingest_native import NativeRows
from core.ingest_profile import new_profile
from core.merge import MergeRules
from core.normalise import normalise_email
from core.schema import SourceRecord
from tests.native_support import NATIVE, needs_native

pytestmark = needs_native

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "attack30" / "isemail_addresses.json"


def _outcome(read: Any, value: Any) -> tuple[str, Any]:
    try:
        return "value", read(value)
    except Exception as error:  # (the error is what is compared)
        return type(error).__name__, str(error)


def test_the_isemail_addresses_normalise_as_python_normalises_them() -> None:
    assert NATIVE is not None
    addresses = [entry["address"] for entry in json.loads(FIXTURE.read_text(encoding="utf-8"))["addresses"]]
    assert len(addresses) == 164
    differ = [
        (a, got, expected)
        for a in addresses
        if (got := _outcome(NATIVE.normalise_email, a)) != (expected := _outcome(normalise_email, a))
    ]
    assert differ == []


_ORDER = {"id": "o1", "total": "19.90", "currency": "GBP", "created_at": "2026-01-02T09:00:00Z"}


@pytest.mark.parametrize(
    "change",
    [
        {"total": "1000000000000000", "currency": "JPY"},
        {"total": "1000000000000.000", "currency": "KWD"},
        {"total": "0.0001", "currency": "KWD"},
        {"total": "19.905"},
        {"total": "-0.00"},
        {"total": "-19.90"},
        {"total": "1E+3", "currency": "JPY"},
        {"total": "1e400"},
        {"total": 1000000000000000, "currency": "JPY"},
        {"status": "refunded"},
        {"status": "partially_refunded"},
        {"created_at": "2016-12-31T23:59:60Z"},
        {"created_at": "2026-01-02T09:00:00+14:00"},
        {"created_at": "2026-01-02T09:00:00-12:00"},
        {"created_at": "0001-01-01T00:00:00+14:00"},
        {"created_at": "9999-12-31T23:59:59-12:00"},
        {"created_at": "2026-01-02T09:00:00.1234567Z"},
        {"id": 123},
        {"id": 2**70},
        {"id": "𝒪1"},
        {"currency": "jpy"},
    ],
)
def test_an_order_of_the_edges_reads_as_python_reads_it(change: dict[str, Any]) -> None:
    assert NATIVE is not None
    raw = {**_ORDER, **change}
    got, expected = _outcome(NATIVE.order, raw), _outcome(money._order, raw)
    assert got[0] == expected[0]
    if got[0] == "value":
        assert list(got[1].__dict__.items()) == list(expected[1].__dict__.items())
    else:
        assert got == expected


def _buyer(
    number: int, orders: list[tuple[str, str, str]], at: str = "2026-01-02T09:00:00+00:00"
) -> SourceRecord:
    return SourceRecord.model_validate(
        {
            "source": "shop",
            "object_type": "customer",
            "source_id": str(number),
            "updated_at": datetime.fromisoformat(at),
            "identifiers": [{"kind": "source", "value": f"shop:customer:{number}"}],
            "orders": [
                {
                    "id": f"o{number}-{n}",
                    "total": Decimal(total),
                    "currency": currency,
                    "created_at": datetime.fromisoformat(when),
                    "status": "paid",
                }
                for n, (total, currency, when) in enumerate(orders)
            ],
        }
    )


T = "2026-01-02T09:00:00+00:00"
GROUPS = {
    "JPY at 10**15": [_buyer(1, [("1000000000000000", "JPY", T), ("999999999999999", "JPY", T)])],
    "KWD at 10**12": [
        _buyer(1, [("1000000000000.000", "KWD", T), ("0.001", "KWD", T), ("-0.001", "KWD", T)])
    ],
    "the sums' bound": [_buyer(1, [("999999999999999999", "JPY", T), ("1", "JPY", T)])],
    "half a cent": [_buyer(1, [("0.01", "EUR", T), ("0.00", "EUR", T)])],
    "three halves": [_buyer(1, [("0.03", "EUR", T), ("0.00", "EUR", T)]), _buyer(2, [("0.02", "GBP", T)])],
    "year 1 +14:00": [
        _buyer(1, [("5.00", "EUR", "0001-01-01T00:00:00+14:00"), ("7", "EUR", "0001-01-01T10:00:00+00:00")])
    ],
    "year 9999 -12:00": [
        _buyer(
            1,
            [
                ("5.00", "EUR", "9999-12-31T23:59:59-12:00"),
                ("7.00", "GBP", "9999-12-31T23:59:59.999999+14:00"),
            ],
            at="9999-12-31T23:59:59-12:00",
        )
    ],
    "one instant in two zones": [
        _buyer(
            1, [("5.00", "EUR", "2026-01-02T23:00:00-01:00"), ("7.00", "GBP", "2026-01-03T00:00:00+00:00")]
        )
    ],
}
RULES = {
    "default": MergeRules(),
    "thresholds at the edges": MergeRules(
        vip_lifetime_value={
            "JPY": Decimal("1999999999999999"),
            "KWD": Decimal("1000000000000.001"),
            "*": Decimal("0.01"),
        }
    ),
}


@pytest.mark.parametrize("rules", list(RULES), ids=list(RULES))
@pytest.mark.parametrize("group", list(GROUPS), ids=list(GROUPS))
def test_a_new_customer_at_the_edges_is_written_as_python_writes_it(group: str, rules: str) -> None:
    assert NATIVE is not None
    records = sorted(GROUPS[group], key=lambda r: r.key)
    built = NativeRows(NATIVE).new_profile("cus_edge", records, RULES[rules])
    if built is not None:  # declined: the Python path writes it
        assert built == new_profile("cus_edge", records, RULES[rules])
