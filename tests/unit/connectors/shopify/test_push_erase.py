"""Pushing enriched traits as customer metafields, and GDPR erasure."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from connectors.shopify import ShopifyConnector, ShopifySandbox, customer_draft
from core.connector import Payload
from core.schema import ComputedTraits, Identifier, Profile, SourceRef

from .conftest import SchemaCheckedTransport, connect

T = datetime(2026, 11, 20, 12, tzinfo=UTC)


def profile_for(customer_number: int, n: int, orders: int = 2) -> Profile:
    return Profile(
        customer_id=f"cus_{n}",
        identifiers=(Identifier(kind="email", value=f"p{n}@example.com"),),
        sources=(SourceRef(source="shopify", object_type="customer", id=str(customer_number), updated_at=T),),
        computed=ComputedTraits(
            lifetime_value={"GBP": Decimal("12.50") * orders},
            order_count=orders,
            average_order_value={"GBP": Decimal("12.50")},
            last_order_at=T if orders else None,
            segment="repeat" if orders > 1 else "prospect",
        ),
    )


def some_payloads(sandbox: ShopifySandbox, connector: ShopifyConnector, count: int) -> list[Payload]:
    numbers = [n for n in sorted(sandbox.customers) if sandbox.customers[n]["defaultEmailAddress"]][:count]
    payloads = [connector.from_profile(profile_for(number, i)) for i, number in enumerate(numbers)]
    assert all(p is not None for p in payloads)
    return [p for p in payloads if p is not None]


def metafield_calls(transport: SchemaCheckedTransport) -> list[list[dict[str, str]]]:
    return [e.variables["metafields"] for e in transport.exchanges if "metafieldsSet" in e.query]


def test_push_sets_metafields_in_calls_of_at_most_25_and_defines_them_once(
    sandbox: ShopifySandbox, connector: ShopifyConnector, transport: SchemaCheckedTransport
) -> None:
    # GIVEN seven payloads of seven metafields each
    payloads = some_payloads(sandbox, connector, 7)
    # WHEN they are pushed in the connector's batch size, twice
    outcomes = []
    for start in range(0, len(payloads), connector.spec.push_batch_size):
        outcomes += connector.push(payloads[start : start + connector.spec.push_batch_size])
    connector.push(payloads[:1])
    # THEN every payload succeeded, one metafieldsSet per batch of three, never over 25 metafields
    assert [o.ok for o in outcomes] == [True] * 7
    assert [o.remote_id for o in outcomes] == [p.match_key for p in payloads]
    calls = metafield_calls(transport)
    assert [len(c) for c in calls] == [21, 21, 7, 7]
    # AND the shop holds the values on each customer, typed by the definitions made on the first push
    number = int(payloads[0].match_key.rsplit("/", 1)[-1])
    assert {k: m["value"] for (ns, k), m in sandbox.customers[number]["_metafields"].items()} == {
        "customer_id": "cus_0",
        "lifetime_value": "25.00",
        "lifetime_value_currency": "GBP",
        "order_count": "2",
        "average_order_value": "12.50",
        "last_order_at": "2026-11-20",
        "segment": "repeat",
    }
    operations = transport.operations()
    assert operations.count("ProfilesyncMetafieldDefinitions") == 1
    assert operations.count("ProfilesyncCreateDefinition") == 7
    assert {d["type"]["name"] for d in sandbox.definitions.values()} == {
        "single_line_text_field",
        "number_decimal",
        "number_integer",
        "date",
    }


def test_existing_definitions_are_not_created_again(
    sandbox: ShopifySandbox, transport: SchemaCheckedTransport, waits: list[float]
) -> None:
    # GIVEN a shop where an earlier connector already defined the metafields
    first = connect(sandbox, transport, waits)
    first.push(some_payloads(sandbox, first, 1))
    # WHEN a new connector pushes
    second = connect(sandbox, transport, waits)
    second.push(some_payloads(sandbox, second, 1))
    # THEN it only looked the definitions up
    assert transport.operations().count("ProfilesyncCreateDefinition") == 7
    assert transport.operations().count("ProfilesyncMetafieldDefinitions") == 2


def test_a_refused_value_fails_only_its_own_record_and_the_others_are_saved(
    sandbox: ShopifySandbox, connector: ShopifyConnector, transport: SchemaCheckedTransport
) -> None:
    # GIVEN three payloads where the second carries a value Shopify refuses, and a fourth whose
    # customer no longer exists
    good_a, bad, good_b = some_payloads(sandbox, connector, 3)
    broken = [{**m, "value": "12,50"} if m["key"] == "lifetime_value" else m for m in bad.body["metafields"]]
    bad = Payload(bad.customer_id, bad.match_key, {"metafields": broken})
    gone = Payload("cus_gone", "gid://shopify/Customer/999", good_a.body)
    # WHEN they are pushed together
    outcomes = connector.push([good_a, bad, good_b])
    (missing,) = connector.push([gone])
    # THEN metafieldsSet is atomic, so the innocent ones were sent again and saved; the bad one reports
    # Shopify's own message and is not worth retrying
    assert [o.ok for o in outcomes] == [True, False, True]
    assert "Value must be a valid number_decimal" in str(outcomes[1].error)
    assert "INVALID_VALUE" in str(outcomes[1].error)
    assert not outcomes[1].retryable
    assert [len(c) for c in metafield_calls(transport)] == [21, 14, 7]
    assert not missing.ok
    assert not missing.retryable
    assert "Owner subject does not exist" in str(missing.error)
    assert sandbox.pushed_traits(_email_of(sandbox, good_b))["customer_id"] == good_b.customer_id


def _email_of(sandbox: ShopifySandbox, payload: Payload) -> str:
    number = int(payload.match_key.rsplit("/", 1)[-1])
    return str(sandbox.customers[number]["defaultEmailAddress"]["emailAddress"])


def test_the_echo_of_a_push_changes_nothing_but_the_timestamp(
    sandbox: ShopifySandbox, connector: ShopifyConnector
) -> None:
    # GIVEN every customer as pulled, then traits pushed to some of them
    before = {
        d.source_id: d
        for p in connector.pull(None)
        for d in connector.to_records(p)
        if d.object_type == "customer"
    }
    cursor = list(connector.pull(None))[-1].cursor
    payloads = some_payloads(sandbox, connector, 3)
    connector.push(payloads)
    # WHEN the next incremental pull brings the pushed customers back (their updatedAt moved)
    echo = [d for p in connector.pull(cursor) for d in connector.to_records(p)]
    # THEN they are exactly those customers, and only their timestamp differs
    assert sorted(d.source_id for d in echo) == sorted(p.match_key.rsplit("/", 1)[-1] for p in payloads)
    for draft in echo:
        old = before[draft.source_id]
        assert draft.updated_at != old.updated_at
        assert draft.model_dump(exclude={"updated_at", "raw"}) == old.model_dump(
            exclude={"updated_at", "raw"}
        )
        assert customer_draft(draft.raw or {}).consent == old.consent


def test_erase_requests_erasure_of_every_matching_customer_and_reports_absence(
    sandbox: ShopifySandbox, connector: ShopifyConnector, transport: SchemaCheckedTransport
) -> None:
    # GIVEN customers found by email (in any case), by phone, and by source id
    numbers = [n for n in sorted(sandbox.customers) if sandbox.customers[n]["defaultPhoneNumber"]][:3]
    by_email = str(sandbox.customers[numbers[0]]["defaultEmailAddress"]["emailAddress"]).upper()
    by_phone = "+44208" + "0000001"
    sandbox.add_records(1, at=T)
    new_customer = max(sandbox.customers)
    identifiers = [
        Identifier(kind="email", value=by_email.lower()),
        Identifier(kind="phone", value=by_phone),
        Identifier(kind="source", value=f"shopify:customer:{numbers[2]}"),
        Identifier(kind="email", value="nobody@example.com"),
        Identifier(kind="source", value="hubspot:contact:1"),
    ]
    # WHEN they are erased
    outcomes = connector.erase(identifiers)
    # THEN each present person was erased through customerRequestDataErasure, the absent ones reported
    assert [o.found for o in outcomes] == [True, True, True, False, False]
    assert numbers[0] not in sandbox.customers
    assert numbers[2] not in sandbox.customers
    assert new_customer not in sandbox.customers
    assert not sandbox.holds(by_email)
    assert "erasure requested for gid://shopify/Customer/" in outcomes[0].detail
    # AND erasing again finds nothing (Shopify's DOES_NOT_EXIST is "not found", not a failure)
    assert [o.found for o in connector.erase(identifiers[:3])] == [False, False, False]
    assert transport.operations().count("ProfilesyncErase") == 4  # the source id is tried without a lookup
