"""revR23: a WooCommerce order whose refund total cannot be read.

rob23's promise (docs/connectors.md, "Order totals"; docs/woocommerce.md): an order counts its total
"exact, less any refunds", and a total that is not an amount is refused with the reason, never
guessed. A refund (``refunds[].total``, a negative string) written ``"-19,90"`` by a plugin is just as
ambiguous. Red on main (5d6f051): the refund was read as nothing, and the order counted its gross
100.00 as paid, with nothing in ``dropped`` (the same for ``"abc"``). Now the order is dropped and
noted with the refund's value, and the person kept.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.woocommerce._mapping import order_draft
from core.normalise import normalise_record
from core.schema import SourceRecord
from tests.unit.test_rob23_amounts_and_trait_names import _woo


def _refunded(refund_total: Any) -> dict[str, Any]:
    return {**_woo("100.00"), "refunds": [{"id": 5, "reason": "", "total": refund_total}]}


@pytest.mark.parametrize("written", ["-19,90", "abc", {"amount": "-5"}])
def test_an_order_whose_refund_cannot_be_read_is_dropped_with_the_reason(written: Any) -> None:
    record = normalise_record(order_draft(_refunded(written)))
    assert isinstance(record, SourceRecord)
    assert record.orders == ()
    [dropped] = record.dropped
    assert dropped.field == "orders[0]"
    assert "refund" in dropped.reason


def test_a_readable_refund_is_still_subtracted() -> None:
    record = normalise_record(order_draft(_refunded("-19.90")))
    assert isinstance(record, SourceRecord)
    assert [str(o.total) for o in record.orders] == ["80.10"]
