"""WooCommerce objects -> drafts: the vendor fixtures, guest and registered orders, statuses, money,
refunds, times in GMT, and junk that must be quarantined rather than fail a page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.woocommerce import customer_draft, order_draft, order_fragment, order_owner, order_status
from core.normalise import normalise_record
from core.schema import Quarantined, SourceRecord

from .conftest import fixture


def test_a_customer_maps_its_account_and_billing_identities_and_its_own_traits() -> None:
    # GIVEN the customer fixture (account email differs from the billing email)
    draft = customer_draft(fixture("customer.json"))
    # THEN both emails identify the person, the modification time is the GMT one, and meta data
    # (where profilesync's own pushed traits live) never comes back as traits
    assert draft.source_id == "318"
    assert draft.object_type == "customer"
    assert draft.emails == ["Mira.Kovac@example.net", "orders@atelier-kovac.example"]
    assert draft.phones == ["+385 1 4812 345"]
    assert draft.updated_at == "2026-09-18T14:40:22"
    assert draft.traits == {
        "first_name": "Mira",
        "last_name": "Kovač",
        "country": "HR",
        "company": "Atelier Kovač",
        "city": "Zagreb",
        "postal_code": "10000",
    }
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord)
    assert record.updated_at.isoformat() == "2026-09-18T14:40:22+00:00"


def test_a_customer_woocommerce_never_saved_is_dated_by_its_creation() -> None:
    customer = {**fixture("customer.json"), "date_modified": None, "date_modified_gmt": None}
    assert customer_draft(customer).updated_at == "2026-04-02T09:14:05"


def test_a_registered_customers_order_carries_the_net_amount_and_leaves_traits_to_the_account() -> None:
    # GIVEN the order fixture: 64.70 EUR, 29.90 refunded, owned by customer 318
    order = fixture("order.json")
    draft = order_draft(order)
    # THEN it is one canonical order of 34.80 EUR, paid, created at the GMT time, joined by billing email
    assert draft.orders == [
        {
            "id": "4127",
            "total": Decimal("34.80"),
            "currency": "EUR",
            "created_at": "2026-09-18T14:38:10",
            "status": "paid",
            # paid through the Stripe gateway: the PaymentIntent it names (fix19c)
            "payment_refs": ["stripe:pi_3Q0000000000000000000000"],
        }
    ]
    assert draft.emails == ["orders@atelier-kovac.example"]
    assert draft.traits == {}
    assert order_owner(order) == "woocommerce:customer:318"
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord)
    assert record.orders[0].total == Decimal("34.80")


def test_a_guest_order_has_no_owner_and_brings_the_guests_names() -> None:
    order = {**fixture("order.json"), "customer_id": 0}
    draft = order_draft(order)
    assert order_owner(order) is None
    assert draft.traits == {"first_name": "Mira", "last_name": "Kovač", "country": "HR"}


@pytest.mark.parametrize(
    ("status", "paid_at", "expected"),
    [
        ("completed", "", "paid"),
        ("processing", "", "paid"),
        ("on-hold", "", "pending"),
        ("pending", "", "pending"),
        ("checkout-draft", "", "pending"),
        ("refunded", "", "refunded"),
        ("cancelled", "", "cancelled"),
        ("failed", "", "cancelled"),
        ("shipped", "2026-09-18T14:38:14", "paid"),
        ("awaiting-pickup", "", "pending"),
    ],
)
def test_order_statuses_map_to_canonical_ones(status: str, paid_at: str, expected: str) -> None:
    assert order_status({"status": status, "date_paid_gmt": paid_at}) == expected


def test_an_order_refunded_in_full_while_still_completed_counts_as_refunded() -> None:
    fragment = order_fragment(
        {
            "id": 9,
            "status": "completed",
            "total": "20.00",
            "currency": "GBP",
            "refunds": [{"total": "-20.00"}],
        }
    )
    assert (fragment["status"], fragment["total"]) == ("refunded", Decimal(0))


@pytest.mark.parametrize(
    "junk", [None, 7, "an order", ["a", "list"], {"id": {"nested": 1}}, {"billing": "x"}]
)
def test_junk_in_a_page_becomes_a_quarantined_record_with_a_reason(junk: Any) -> None:
    for mapper in (customer_draft, order_draft):
        outcome = normalise_record(mapper(junk))
        assert isinstance(outcome, Quarantined)
        assert outcome.reason


def test_an_order_with_an_unreadable_total_keeps_the_person_and_drops_the_amount() -> None:
    draft = order_draft({**fixture("order.json"), "total": "n/a", "refunds": "none"})
    assert draft.orders[0]["total"] == "n/a"  # sent on as it came: normalise says why it is dropped
    outcome = normalise_record(draft)
    assert isinstance(outcome, SourceRecord)
    assert outcome.orders == ()
    assert any(d.field.startswith("order") for d in outcome.dropped)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(
    base=st.sampled_from(["customer.json", "order.json"]),
    changes=st.dictionaries(
        st.sampled_from(
            [
                "id",
                "email",
                "billing",
                "shipping",
                "total",
                "refunds",
                "status",
                "customer_id",
                "date_modified_gmt",
                "date_created_gmt",
                "currency",
                "first_name",
                "meta_data",
            ]
        ),
        _json,
        max_size=5,
    ),
)
@settings(max_examples=120, deadline=None)
def test_any_mutation_of_a_vendor_object_maps_and_normalises_or_quarantines(
    base: str, changes: dict[str, Any]
) -> None:
    # GIVEN a real-shaped customer or order with arbitrary JSON in some of its fields
    record = {**fixture(base), **changes}
    # WHEN it is mapped as either kind and normalised THEN nothing raises: a record or a reasoned quarantine
    for mapper in (customer_draft, order_draft):
        outcome = normalise_record(mapper(record))
        assert isinstance(outcome, SourceRecord | Quarantined)
        if isinstance(outcome, Quarantined):
            assert outcome.reason
