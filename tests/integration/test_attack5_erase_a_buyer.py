"""attack5: a buyer erased while profilesync holds only her order (the shop's order names its
customer, her account there, as its owner; the account itself was not pulled yet, or changed since).
The erasure asks the shop to erase the order's customer, which Shopify does 10 days later at the
earliest; a pull before then reads her account, with an address the erasure never saw. Before, only
the order's id and her address were suppressed, and her account came back as a new customer; now
the ids her child records name as their owner are suppressed with her (found by
test_attack5_odd_orders.py). On the in-memory, SQLite and DynamoDB (moto) stores."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from core.schema import Identifier, SourceRecord
from core.testing.records import T0, make_record
from tests.integration.test_erasure_attacks import BOOKKEEPING, STORES, Stores, email

ACCOUNT = "shop:customer:cust-77"
_HERS = re.compile(r"dee[@.]")


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def _order(order_id: str, buyer_email: str) -> SourceRecord:
    return SourceRecord(
        source="shop",
        object_type="order",
        source_id=order_id,
        updated_at=T0,
        identifiers=(
            Identifier(kind="email", value=buyer_email),
            Identifier(kind="source", value=f"shop:order:{order_id}"),
            Identifier(kind="source", value=ACCOUNT),
        ),
        level="child",
        owner=ACCOUNT,
    )


def test_the_account_an_erased_buyers_order_names_stays_erased(stores: Stores) -> None:
    # GIVEN Dee's order at the shop (her account there not pulled), and Bob
    stores.ingest([_order("ord-1", "dee@example.com"), make_record("crm", "bob", email="bob@example.com")])
    # WHEN Dee is erased by her address, and a pull then reads her account, which holds her new one
    report = stores.erase(email("dee@example.com"), "req-dee")
    account = make_record("shop", "cust-77", email="dee.new@example.com", day=3).model_copy(
        update={
            "object_type": "customer",
            "identifiers": (
                Identifier(kind="email", value="dee.new@example.com"),
                Identifier(kind="source", value=ACCOUNT),
            ),
        }
    )
    result = stores.ingest([account, _order("ord-2", "dee.new@example.com")])
    # THEN her account and its later order are dropped as hers; nothing of her is stored; Bob stays
    assert report.outcome == "erased"
    assert (result.suppressed, result.written) == (2, 0)
    assert stores.owner(f"source#{ACCOUNT}") is None
    assert stores.owner("email#dee.new@example.com") is None
    # her addresses ("dee@", "dee.new@"), not the bare letters a random hex event id may hold
    rows = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING)]
    left = [r for r in rows if _HERS.search(f"{r[0]} {r[1]} {r[2]}")]
    assert left == []
    assert stores.owner("email#bob@example.com") is not None
