"""fix19a: a Shopify guest order (``customer`` null) names its buyer from the billing address.

attack19 found twelve strangers' guest orders on the shop's own email merged into one profile: the
order mapping took no name, and the query asked for no ``Order.billingAddress``, so a guest order
never counted under the guardrail (``core.identity.limit_holder``). The neighbours here: a billing
address without a name, the shipping address's country as the fallback (as Stripe's guest charges
have it), an order of a customer (no traits), and the billing address arriving through the pages
and the bulk operation's JSON lines the sandbox answers in the shape of Shopify's 2026-01 schema
(``SchemaCheckedTransport`` validates both the documents and the answers).
"""

from __future__ import annotations

from typing import Any

from connectors.shopify import ShopifySandbox
from connectors.shopify import _sandbox_seed as seeding
from connectors.shopify._mapping import draft, order_draft
from core.identity import limit_holder
from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.clock import days_ago
from tests.integration.test_attack17_guest_orders_shared_address import PEOPLE

from .conftest import SchemaCheckedTransport, connect

SHOP = "orders@lakeside-bikes.example"
T = days_ago(3)


def _node(**fields: Any) -> dict[str, Any]:
    """A Shopify order node as the connector's query asks for it, a guest's unless told."""
    money = {"amount": "49.00", "currencyCode": "GBP"}
    node: dict[str, Any] = {
        "id": "gid://shopify/Order/5001",
        "name": "#1001",
        "email": SHOP,
        "phone": None,
        "createdAt": "2026-03-01T10:00:00Z",
        "processedAt": "2026-03-01T10:00:00Z",
        "updatedAt": "2026-03-01T10:00:05Z",
        "cancelledAt": None,
        "displayFinancialStatus": "PAID",
        "totalPriceSet": {"shopMoney": money},
        "currentTotalPriceSet": {"shopMoney": money},
        "customer": None,
        "billingAddress": None,
        "shippingAddress": None,
    }
    node.update(fields)
    return node


def _record(node: dict[str, Any]) -> SourceRecord:
    record = normalise_record(order_draft(node))
    assert isinstance(record, SourceRecord)
    return record


def test_a_guest_orders_billing_name_and_country_are_its_traits_and_it_counts_as_that_person() -> None:
    # GIVEN a guest order billed to Amelia Hart in Britain, made out to the shop's address
    billing = {"firstName": " Amelia ", "lastName": "Hart", "countryCodeV2": "GB"}
    # WHEN mapped
    record = _record(_node(billingAddress=billing))
    # THEN it brings her name and country, and counts under the guardrail as her: the same holder
    # as her other guest order, another holder than a stranger's
    assert dict(record.traits) == {"first_name": "Amelia", "last_name": "Hart", "country": "GB"}
    again = _record(
        _node(id="gid://shopify/Order/5002", billingAddress={"firstName": "AMELIA", "lastName": "Hart"})
    )
    stranger = _record(_node(billingAddress={"firstName": "Oliver", "lastName": "Quinn"}))
    assert limit_holder(record) is not None
    assert limit_holder(record) == limit_holder(again) != limit_holder(stranger)


def test_a_guest_billing_address_without_a_name_names_nobody_but_reads_the_phone_in_its_country() -> None:
    # GIVEN a guest order whose billing address has a country and no name, without a phone
    nameless = {"firstName": None, "lastName": "  ", "countryCodeV2": "IT"}
    record = _record(_node(billingAddress=nameless))
    # THEN it brings the country alone and counts as nobody (nothing tells its buyers apart)
    assert dict(record.traits) == {"country": "IT"}
    assert limit_holder(record) is None
    # AND with a national phone, the phone is read in Italy and the order counts as that phone
    record = _record(_node(billingAddress=nameless, phone="320 555 7788"))
    assert [i.value for i in record.identifiers if i.kind == "phone"] == ["+393205557788"]
    assert limit_holder(record) == "guest phone +393205557788"


def test_without_a_billing_country_the_shipping_country_reads_the_phone_but_names_nobody() -> None:
    # GIVEN a guest order with no billing address, shipped to Italy (a gift: the recipient's name
    # is on the shipping address, which the mapping never takes as the buyer's)
    shipping = {"firstName": "Giulia", "lastName": "Conti", "countryCodeV2": "IT"}
    record = _record(_node(shippingAddress=shipping, phone="320 555 7788"))
    # THEN its country is Italy and its phone Italian; it has no name
    assert dict(record.traits) == {"country": "IT"}
    assert [i.value for i in record.identifiers if i.kind == "phone"] == ["+393205557788"]
    # AND a billing country wins over the shipping one
    billed = _record(_node(billingAddress={"countryCodeV2": "DE"}, shippingAddress=shipping))
    assert dict(billed.traits) == {"country": "DE"}


def test_an_order_of_a_customer_brings_no_traits_from_its_addresses() -> None:
    # GIVEN an order of a customer, billed to someone else's name (a present bought for her)
    billing = {"firstName": "Oliver", "lastName": "Quinn", "countryCodeV2": "FR"}
    record = _record(_node(customer={"id": "gid://shopify/Customer/7"}, billingAddress=billing))
    # THEN it joins the customer by id and brings no name or country
    assert dict(record.traits) == {}
    assert limit_holder(record) is None


def test_a_malformed_billing_address_is_no_name_and_no_crash() -> None:
    # GIVEN billing addresses of shapes Shopify does not send (a string, numbers for names)
    for billing in ("Amelia Hart", {"firstName": 7, "lastName": ["Hart"], "countryCodeV2": 44}):
        # THEN the order maps with no traits, and is still the guest's order
        mapped = draft("order", _node(billingAddress=billing))
        assert mapped.problem is None
        assert dict(_record(_node(billingAddress=billing)).traits) == {}


def _seed_strangers(sandbox: ShopifySandbox) -> set[str]:
    sandbox.clock.set(T)
    with sandbox.lock:
        orders = [
            seeding.add_order(
                sandbox,
                None,
                "49.00",
                "GBP",
                "PAID",
                T,
                T,
                guest={
                    "email": SHOP,
                    "billingAddress": {"firstName": first, "lastName": last, "countryCodeV2": "GB"},
                    "shippingAddress": {"firstName": first, "lastName": last, "countryCodeV2": "GB"},
                },
            )
            for first, last in PEOPLE
        ]
    return {o["id"] for o in orders}


def _profiles_of(nodes: list[dict[str, Any]]) -> list[Any]:
    records = [normalise_record(draft("order", n)) for n in nodes]
    assert all(isinstance(r, SourceRecord) for r in records)
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store)
    return list(store.iter_profiles())


def _pulled_guest_orders(sandbox: ShopifySandbox, transport: SchemaCheckedTransport, threshold: str) -> Any:
    guests = _seed_strangers(sandbox)
    with connect(sandbox, transport, [], bulk_threshold=threshold) as shopify:
        pages = list(shopify.pull(None))
    nodes = [r for p in pages if p.object_type == "order" for r in p.records if r["id"] in guests]
    assert len(nodes) == len(PEOPLE)
    return nodes


def test_paged_guest_orders_bring_their_billing_address_and_strangers_stay_apart(
    sandbox: ShopifySandbox, transport: SchemaCheckedTransport
) -> None:
    # GIVEN twelve strangers' guest orders on the shop's address in a shop below the bulk threshold
    nodes = _pulled_guest_orders(sandbox, transport, threshold="100000")
    # THEN the orders were paged, each answer valid against Shopify's schema, billing names included
    assert "ProfilesyncOrders" in transport.operations()
    assert "ProfilesyncBulkRun" not in transport.operations()
    assert transport.validated_results == len(transport.exchanges)
    assert {(n["billingAddress"]["firstName"], n["billingAddress"]["lastName"]) for n in nodes} == set(PEOPLE)
    # AND resolved, the twelve are twelve profiles, not one
    assert len(_profiles_of(nodes)) == len(PEOPLE)


def test_bulk_exported_guest_orders_bring_their_billing_address_and_strangers_stay_apart(
    sandbox: ShopifySandbox, transport: SchemaCheckedTransport
) -> None:
    # GIVEN the same twelve in a shop a full pull exports with bulk operations (JSON lines)
    nodes = _pulled_guest_orders(sandbox, transport, threshold="1")
    assert "ProfilesyncBulkRun" in transport.operations()
    assert "ProfilesyncOrders" not in transport.operations()
    # THEN each line carries the billing name and country, and the twelve stay apart
    assert all(n["billingAddress"]["countryCodeV2"] == "GB" for n in nodes)
    assert len(_profiles_of(nodes)) == len(PEOPLE)


def test_an_erased_customers_orders_lose_their_addresses_in_the_sandbox(sandbox: ShopifySandbox) -> None:
    # GIVEN a customer with an order billed to her name (the sandbox seeds that from her record)
    order = next(o for o in sandbox.orders.values() if o["billingAddress"] is not None)
    # WHEN she is erased (customerRequestDataErasure redacts her orders' personal data)
    sandbox.purge_records({f"customer:{order['_customer']}"})
    # THEN her orders keep no name or address, so they name nobody
    assert (order["billingAddress"], order["shippingAddress"], order["email"]) == (None, None, None)
