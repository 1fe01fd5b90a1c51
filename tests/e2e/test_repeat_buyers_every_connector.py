"""A repeat buyer is one profile in every connector that has child objects, on the sync and Lambda paths.

Issue 11 made orders join their owner by the vendor's owner id. The tests that landed with it buy
repeatedly at Shopify (and through flat files); these put one shopper with many child objects into
each vendor that has them, shaped as that vendor's own objects: Shopify orders (``customer.id``),
Stripe charges (``customer``), WooCommerce orders (``customer_id``) and Salesforce opportunities
(``ContactId``). The person is also given more children than the email guardrail's limit (8), so a
child that counts as a holder of the address, or joins by it, shows up as a profile of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.shopify._sandbox_seed import add_customer, add_order
from connectors.stripe._sandbox_objects import new_charge, new_customer
from core.pipeline import IngestSettings
from core.ports import ProfileStore
from core.schema import Profile
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.sync import pull_into_store
from profilesync.registry import get

CHILDREN = 15
AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
EMAIL = "repeat.buyer@example.com"


@dataclass(frozen=True)
class RepeatBuyer:
    """A sandbox holding the shopper, and what her profile must hold."""

    sandbox: Any
    person_key: str
    """``object_type:id`` of her person-level record (the vendor's customer or contact)."""
    child_keys: frozenset[str]
    paid: Decimal
    currency: str


def _shopify() -> RepeatBuyer:
    sandbox = get("shopify").sandbox(people=12, seed=3)  # type: ignore[misc]
    numeric = sandbox._id("customer")
    customer = add_customer(
        sandbox,
        numeric=numeric,
        first="Rae",
        last="Peat",
        email=EMAIL,
        phone=None,
        country="GB",
        created=AT - timedelta(days=400),
        updated=AT,
    )
    orders = [
        add_order(
            sandbox, customer, "20.00", "GBP", "PAID", AT - timedelta(days=k + 1), AT - timedelta(days=k)
        )
        for k in range(CHILDREN)
    ]
    return RepeatBuyer(
        sandbox,
        f"customer:{numeric}",
        frozenset(f"order:{o['legacyResourceId']}" for o in orders),
        Decimal("20.00") * CHILDREN,
        "GBP",
    )


def _stripe() -> RepeatBuyer:
    sandbox = get("stripe").sandbox(people=12, seed=3)  # type: ignore[misc]
    customer = new_customer(sandbox, EMAIL, "Rae Peat", None, "GB", AT - timedelta(days=400))
    before = set(sandbox.charges)
    for k in range(CHILDREN):
        order = {"currency": "gbp", "total": "20.00", "created_at": (AT - timedelta(days=k)).isoformat()}
        new_charge(sandbox, customer, order)
    charges = set(sandbox.charges) - before
    return RepeatBuyer(
        sandbox,
        f"customer:{customer['id']}",
        frozenset(f"charge:{c}" for c in charges),
        Decimal("20.00") * CHILDREN,
        "GBP",
    )


def _woocommerce() -> RepeatBuyer:
    sandbox = get("woocommerce").sandbox(people=12, seed=3)  # type: ignore[misc]
    shop = sandbox.shop
    billing = {"email": EMAIL, "first_name": "Rae", "last_name": "Peat", "country": "GB"}
    customer = shop.add_customer(
        EMAIL, billing, created=AT - timedelta(days=400), modified=AT, first_name="Rae", last_name="Peat"
    )
    orders = [
        shop.add_order(
            customer,
            billing,
            total=Decimal("20.00"),
            currency="GBP",
            status="completed",
            created=AT - timedelta(days=k + 1),
            modified=AT - timedelta(days=k),
        )
        for k in range(CHILDREN)
    ]
    return RepeatBuyer(
        sandbox,
        f"customer:{customer['id']}",
        frozenset(f"order:{o['id']}" for o in orders),
        Decimal("20.00") * CHILDREN,
        "GBP",
    )


def _salesforce() -> RepeatBuyer:
    sandbox = get("salesforce").sandbox(people=12, seed=3)  # type: ignore[misc]
    contact = sandbox._new(
        "Contact",
        {"Email": EMAIL, "FirstName": "Rae", "LastName": "Peat", "MailingCountry": "GB"},
        AT,
    )
    deals = [
        sandbox._new(
            "Opportunity",
            {
                "Name": f"Peat deal {k}",
                "Amount": 20.0,
                "CloseDate": (AT - timedelta(days=k + 1)).date(),
                "StageName": "Closed Won",
                "ContactId": contact["Id"],
            },
            AT - timedelta(days=k + 1),
        )
        for k in range(CHILDREN)
    ]
    return RepeatBuyer(
        sandbox,
        f"contact:{contact['Id']}",
        frozenset(f"opportunity:{d['Id']}" for d in deals),
        Decimal("20.00") * CHILDREN,
        "USD",
    )


BUYERS: dict[str, Callable[[], RepeatBuyer]] = {
    "shopify": _shopify,
    "stripe": _stripe,
    "woocommerce": _woocommerce,
    "salesforce": _salesforce,
}


def _check_one_profile(buyer: RepeatBuyer, profiles: list[Profile]) -> None:
    holding = [
        p
        for p in profiles
        if {f"{s.object_type}:{s.id}" for s in p.sources} & ({buyer.person_key} | buyer.child_keys)
    ]
    assert len(holding) == 1, [sorted(f"{s.object_type}:{s.id}" for s in p.sources) for p in holding]
    [profile] = holding
    keys = {f"{s.object_type}:{s.id}" for s in profile.sources}
    assert buyer.person_key in keys
    assert buyer.child_keys <= keys
    assert profile.computed.order_count >= CHILDREN
    assert profile.computed.lifetime_value.get(buyer.currency, Decimal(0)) >= buyer.paid


@pytest.mark.parametrize("name", sorted(BUYERS))
def test_a_repeat_buyer_is_one_profile_through_sync_on_the_embedded_store(name: str, tmp_path: Path) -> None:
    # GIVEN a vendor holding a shopper and 15 of her child objects, each naming her by the vendor's id
    buyer = BUYERS[name]()
    database = SQLiteDatabase(tmp_path / "sync.sqlite3")
    try:
        store: ProfileStore = SQLiteProfileStore(database)
        connector = get(name).build(buyer.sandbox.settings())
        # WHEN sync pulls it into the embedded store, as `profilesync sync` does
        try:
            state = SQLiteSyncStateStore(database)
            report = pull_into_store(connector, store, state, settings=IngestSettings(sleep=lambda _: None))
        finally:
            connector.close()
        assert report.pulled == report.normalised + report.quarantined
        # THEN she is one profile holding her record and every child, all in lifetime value
        _check_one_profile(buyer, list(store.iter_profiles()))
    finally:
        database.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUYERS))
def test_a_repeat_buyer_is_one_profile_through_the_lambda_handlers(name: str) -> None:
    from profilesync.local import LocalRuntime

    # GIVEN the same vendor, wired as a connector instance of the deployed functions
    buyer = BUYERS[name]()
    with LocalRuntime({name: buyer.sandbox}) as rt:
        # WHEN its schedule fires and the ingest queue settles
        assert rt.pull(name).status == "done"
        rt.settle()
        # THEN she is one profile with every child
        _check_one_profile(buyer, list(rt.wiring.profiles.iter_profiles()))
