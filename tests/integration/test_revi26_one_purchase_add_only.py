"""revI26: a purchase reached by the add-only path one copy at a time still counts once.

core.grow_mark's rule plans a batch in full when the customer's stored records of another type name
payments (the mark's ``refs:`` entries). The add-only path (core.ingest_grow) adds a paying record to
a customer without rewriting the mark, so the mark must already answer for what it adds: the charge
added alone, then its shop's order added alone, are still one purchase.
"""

from __future__ import annotations

from core.pipeline import ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from tests.integration.test_attack19_one_purchase_in_two_tools import _charge, _woo
from tests.integration.test_fix19c_one_purchase import _records, _traits


def _by_kind(records: list[SourceRecord]) -> tuple[list[SourceRecord], SourceRecord, SourceRecord]:
    people = [r for r in records if r.level == "person"]
    (charge,) = [r for r in records if r.source == "stripe" and r.orders]
    (order,) = [r for r in records if r.source == "woocommerce" and r.orders]
    return people, charge, order


def test_the_charge_then_the_order_each_alone_count_one_purchase() -> None:
    # GIVEN the two customers first (one person), then the Stripe charge alone, then the shop's order
    customer, order = _woo()
    records = _records(order, [_charge(order, "ch_3Kovac", str(order["transaction_id"]))], customer)
    people, charge, shop_order = _by_kind(records)
    for first, second in ((charge, shop_order), (shop_order, charge)):
        store = InMemoryProfileStore()
        ingest(people, store)
        ingest([first], store)
        ingest([second], store)
        (profile,) = store.iter_profiles()
        # THEN one order of 34.80 EUR (on main: the second batch took the add-only path, whose mark
        # never listed the first batch's paying type, and added the purchase a second time)
        assert _traits(profile) == (1, {"EUR": "34.80"}, "customer"), (first.source, second.source)
