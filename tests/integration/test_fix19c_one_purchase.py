"""fix19c: one purchase seen by two tools (a WooCommerce order paid through its Stripe gateway and the
Stripe charge) counts once, whatever order the records arrive in, and joins no two people.

The WooCommerce objects are the project's fixtures; the charge is shaped as Stripe's charge object, as
in tests/integration/test_attack19_one_purchase_in_two_tools.py, whose helpers these reuse.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from connectors.woocommerce._mapping import customer_draft, order_draft
from core.connector import RawPage
from core.governance.policy import sample_policy
from core.governance.reading import PersonPage
from core.governance.view import Answer, render
from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import Profile, RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore
from tests.integration.test_attack19_one_purchase_in_two_tools import (
    STRIPE,
    _charge,
    _records,
    _stripe_customer,
    _woo,
)


def _profiles(records: list[SourceRecord], batches: int = 1) -> list[Profile]:
    """The profiles after ingesting ``records`` in that order, in ``batches`` runs."""
    store = InMemoryProfileStore()
    size = -(-len(records) // batches)
    for start in range(0, len(records), size):
        ingest(records[start : start + size], store)
    return list(store.iter_profiles())


def _traits(profile: Profile) -> tuple[int, dict[str, str], str | None]:
    computed = profile.computed
    return computed.order_count, {c: str(v) for c, v in computed.lifetime_value.items()}, computed.segment


def test_the_order_names_its_payment_and_the_charge_names_itself_and_its_intent() -> None:
    # GIVEN the fixture order paid through the Stripe gateway and its charge
    customer, order = _woo()
    charge = _charge(order, "ch_3Kovac", str(order["transaction_id"]))
    records = {r.source: r for r in _records(order, [charge], customer) if r.orders}
    # THEN each canonical order carries the payment's references (on main: no such field)
    assert records["woocommerce"].orders[0].payment_refs == (f"stripe:{order['transaction_id']}",)
    assert records["stripe"].orders[0].payment_refs == (
        "stripe:ch_3Kovac",
        f"stripe:{order['transaction_id']}",
    )


def test_whatever_order_and_batches_the_records_arrive_in_the_purchase_counts_once() -> None:
    # GIVEN the four records of one purchase (the Stripe charge may arrive first, or in another run)
    customer, order = _woo()
    records = _records(order, [_charge(order, "ch_3Kovac", str(order["transaction_id"]))], customer)
    seen = []
    for permutation in itertools.permutations(records):
        for batches in (1, 2):
            (profile,) = _profiles(list(permutation), batches)
            seen.append(_traits(profile))
    # THEN every arrival order gives one order of 34.80 EUR, a one-time customer
    assert len(seen) == 48
    assert all(traits == (1, {"EUR": "34.80"}, "customer") for traits in seen)


def test_the_shops_order_wins_over_the_payments_view_of_it() -> None:
    # GIVEN a refund the shop recorded by other means (not through the gateway): the order nets 34.80,
    # the charge on Stripe kept its full 64.70
    customer, order = _woo()
    charge = {**_charge(order, "ch_3Kovac", str(order["transaction_id"])), "amount_refunded": 0}
    (profile,) = _profiles(_records(order, [charge], customer))
    # THEN the shop's order counts (mutation: rank the payment's view first -> 64.70)
    assert _traits(profile) == (1, {"EUR": "34.80"}, "customer")


def test_an_order_the_shop_refunded_by_other_means_counts_nothing_though_its_charge_kept_all() -> None:
    # GIVEN the shop refunded the whole order outside the gateway (store credit, cash): WooCommerce
    # says refunded, the charge on Stripe still kept all of it
    customer, order = _woo()
    refunded = {**order, "status": "refunded", "refunds": [{"id": 1, "total": f"-{order['total']}"}]}
    charge = {**_charge(order, "ch_3Kovac", str(order["transaction_id"])), "amount_refunded": 0}
    (profile,) = _profiles(_records(refunded, [charge], customer))
    # THEN the shop's order decides: no paid order (before fix19c, and with the payment's view
    # ranked first: the charge's 64.70 counted)
    assert profile.computed.order_count == 0
    assert profile.computed.lifetime_value == {}


def test_a_payment_intents_failed_charge_and_its_paid_retry_are_the_orders_one_purchase() -> None:
    # GIVEN the order names the PaymentIntent, whose first charge failed and second succeeded
    customer, order = _woo()
    intent = str(order["transaction_id"])
    failed = {**_charge(order, "ch_3Failed", intent), "status": "failed", "paid": False, "amount_captured": 0}
    paid = _charge(order, "ch_3Paid", intent)
    (profile,) = _profiles(_records(order, [failed, paid], customer))
    assert _traits(profile) == (1, {"EUR": "34.80"}, "customer")


def test_without_the_shops_order_the_paid_charge_of_an_intent_counts() -> None:
    # GIVEN only Stripe's view: a failed charge and its paid retry on one PaymentIntent (the failed
    # one sorts first by id, so the smallest key alone would pick it)
    customer, order = _woo()
    intent = str(order["transaction_id"])
    failed = {
        **_charge(order, "ch_3AFailed", intent),
        "status": "failed",
        "paid": False,
        "amount_refunded": 0,
    }
    paid = _charge(order, "ch_3BPaid", intent)
    records = [
        r for r in _records(order, [failed, paid], customer) if r.source != "woocommerce" or not r.orders
    ]
    (profile,) = _profiles(records)
    # THEN the paid one counts, once (mutation: drop the "paid first" rank -> no paid order at all)
    assert _traits(profile) == (1, {"EUR": "34.80"}, "customer")


def test_an_order_of_the_stripe_gateway_with_no_transaction_id_stays_a_separate_order() -> None:
    customer, order = _woo()
    unpaid_ref = {**order, "transaction_id": ""}
    charge = _charge(order, "ch_3Kovac", str(order["transaction_id"]))
    (profile,) = _profiles(_records(unpaid_ref, [charge], customer))
    # (a guard; mutation caught: a reference written for a blank transaction_id, which normalising
    # refuses, dropping the order -> 1)
    assert profile.computed.order_count == 2


def test_another_gateways_transaction_id_names_no_stripe_payment() -> None:
    # GIVEN a PayPal order whose transaction id happens to equal a Stripe charge's id
    customer, order = _woo()
    paypal = {**order, "payment_method": "ppcp-gateway", "transaction_id": "ch_3Kovac"}
    charge = _charge(order, "ch_3Kovac", "pi_3Other")
    (profile,) = _profiles(_records(paypal, [charge], customer))
    # (a guard; mutation caught: any gateway's transaction_id read as a Stripe payment -> 1)
    assert profile.computed.order_count == 2


def test_a_shared_payment_reference_joins_no_two_people() -> None:
    # GIVEN the shop's order of one customer and a charge naming the same payment, made by another
    # Stripe customer with another email (a payment reference is an order-level fact, not an identity)
    customer, order = _woo()
    charge = _charge(order, "ch_3Kovac", str(order["transaction_id"]))
    stranger = {
        **charge,
        "customer": "cus_Other",
        "billing_details": {**charge["billing_details"], "email": "someone.else@example.org", "phone": None},
    }
    other_customer = {
        **customer,
        "email": "someone.else@example.org",
        "billing": {**customer["billing"], "phone": ""},
    }
    stripe_other = {**_stripe_customer(other_customer), "id": "cus_Other"}
    drafts = [
        customer_draft(customer),
        order_draft(order),
        *STRIPE.to_records(RawPage(records=[stripe_other], cursor=None, object_type="customer")),
        *STRIPE.to_records(RawPage(records=[stranger], cursor=None, object_type="charge")),
    ]
    records = [r for r in (normalise_record(d) for d in drafts) if isinstance(r, SourceRecord)]
    profiles = _profiles(records)
    # THEN two profiles, each with its own order counted (a guard, green before fix19c; mutation
    # caught: a payment reference read as an identifier joins the two)
    assert sorted(p.computed.order_count for p in profiles) == [1, 1]


def test_explain_shows_both_tools_views_with_the_reference_they_share() -> None:
    customer, order = _woo()
    charge = _charge(order, "ch_3Kovac", str(order["transaction_id"]))
    records = _records(order, [charge], customer)
    (profile,) = _profiles(records)
    grant = sample_policy().role("marketing")
    assert grant is not None
    person = PersonPage(customer_id=profile.customer_id, profile=profile, sources=tuple(records))
    view = render(Answer(customer_id=profile.customer_id, person=person), grant)
    listed = {(o["source"], o["id"]): o.get("payment_refs") for o in view.document["orders"]}
    reference = f"stripe:{order['transaction_id']}"
    assert reference in listed[("woocommerce", str(order["id"]))]
    assert reference in listed[("stripe", "ch_3Kovac")]


@pytest.mark.parametrize(
    ("refs", "reason"),
    [
        ("stripe:pi_1", "payment_refs must be a list"),
        (["pi_1"], "'pi_1' is not <processor>:<id>"),
        (["stripe:pi 1"], "is not <processor>:<id>"),
        ([7], "int is not <processor>:<id>"),
    ],
)
def test_a_bad_payment_reference_drops_its_order_with_the_reason(refs: object, reason: str) -> None:
    draft = RecordDraft(
        source="shop",
        object_type="order",
        source_id="1",
        updated_at="2026-01-01T00:00:00Z",
        emails=["ann@example.com"],
        orders=[
            {
                "id": "1",
                "total": "9.99",
                "currency": "EUR",
                "created_at": "2026-01-01T00:00:00Z",
                "payment_refs": refs,
            }
        ],
    )
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord)
    assert record.orders == ()
    assert [d.field for d in record.dropped] == ["orders[0]"]
    assert reason in record.dropped[0].reason


def test_an_order_without_references_serialises_as_before_and_one_with_them_round_trips() -> None:
    customer, order = _woo()
    (plain,) = [r for r in _records({**order, "transaction_id": ""}, [], customer) if r.orders]
    assert "payment_refs" not in plain.model_dump_json()  # stored records of before hash the same
    (named,) = [r for r in _records(order, [], customer) if r.orders]
    again = SourceRecord.model_validate_json(named.model_dump_json())
    assert again.orders[0].payment_refs == named.orders[0].payment_refs
    assert again.orders[0].total == Decimal(named.orders[0].total)
