"""Shopify objects <-> drafts and payloads: the pure mapping functions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.shopify import PLUGIN, customer_draft, make_sandbox, order_draft, order_status, payload_for
from connectors.shopify._mapping import draft, gid, gid_tail, shopify_customer_id
from core.normalise import normalise_record
from core.schema import ComputedTraits, Identifier, Profile, Quarantined, SourceRecord, SourceRef

from .conftest import fast_retry

T = datetime(2026, 3, 1, tzinfo=UTC)

CUSTOMER = {
    "id": "gid://shopify/Customer/7000000000042",
    "firstName": "CHLOÉ",
    "lastName": "o'neil",
    "createdAt": "2025-06-01T09:00:00Z",
    "updatedAt": "2026-02-03T10:11:12Z",
    "defaultEmailAddress": {
        "emailAddress": "  Chloe.ONeil42@Example.com ",
        "marketingState": "SUBSCRIBED",
        "marketingUpdatedAt": "2025-12-24T08:00:00Z",
    },
    "defaultPhoneNumber": {"phoneNumber": "+44 20 3000 0021"},
    "defaultAddress": {"countryCodeV2": "GB"},
}

ORDER = {
    "id": "gid://shopify/Order/5200000000007",
    "name": "#1007",
    "email": "CHLOE.ONEIL42@example.com",
    "phone": "+44 (0)20 3000 0021",
    "createdAt": "2026-01-10T12:00:00Z",
    "processedAt": "2025-12-31T23:59:59Z",
    "updatedAt": "2026-01-10T13:00:00Z",
    "cancelledAt": None,
    "displayFinancialStatus": "PAID",
    "totalPriceSet": {"shopMoney": {"amount": "1234.10", "currencyCode": "GBP"}},
}


def test_a_customer_maps_to_its_own_fields_with_the_gid_tail_as_source_id() -> None:
    # GIVEN a Shopify customer as the 2026-01 schema returns it (defaultEmailAddress, not email)
    # WHEN it is mapped and normalised
    result = customer_draft(CUSTOMER)
    record = normalise_record(result)
    # THEN the draft keeps the vendor's values and object, and normalises into one clean record
    assert (result.source, result.object_type, result.source_id) == ("shopify", "customer", "7000000000042")
    assert result.raw == CUSTOMER
    assert isinstance(record, SourceRecord)
    assert {i.key for i in record.identifiers} == {
        "email#chloe.oneil42@example.com",
        "phone#+442030000021",
        "source#shopify:customer:7000000000042",
    }
    assert record.traits == {"first_name": "Chloé", "last_name": "O'Neil", "country": "GB"}
    assert record.consent["email"].granted is True
    assert record.consent["email"].changed_at == datetime(2025, 12, 24, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "changed", "expected"),
    [
        ("SUBSCRIBED", "2025-12-24T08:00:00Z", {"granted": True, "changed_at": "2025-12-24T08:00:00Z"}),
        ("UNSUBSCRIBED", "2026-01-02T00:00:00Z", {"granted": False, "changed_at": "2026-01-02T00:00:00Z"}),
        ("SUBSCRIBED", None, {"granted": True, "changed_at": "2025-06-01T09:00:00Z"}),
        ("NOT_SUBSCRIBED", None, None),
        ("PENDING", "2026-01-02T00:00:00Z", None),
        ("INVALID", None, None),
    ],
)
def test_only_explicit_marketing_decisions_become_consent_with_their_own_timestamp(
    state: str, changed: str | None, expected: dict[str, object] | None
) -> None:
    # GIVEN a customer whose email marketing state is one of Shopify's states
    customer = {
        **CUSTOMER,
        "defaultEmailAddress": {
            **CUSTOMER["defaultEmailAddress"],
            "marketingState": state,
            "marketingUpdatedAt": changed,
        },
    }  # type: ignore[dict-item]
    # WHEN it is mapped
    consent = customer_draft(customer).consent
    # THEN subscribed/unsubscribed are consent dated by the consent (or creation), never by updatedAt
    assert consent.get("email") == expected


def test_an_order_maps_to_its_buyer_identifiers_and_one_exact_order() -> None:
    # WHEN an order is mapped and normalised
    result = order_draft(ORDER)
    record = normalise_record(result)
    # THEN identifiers are only the buyer's email and phone, the money stays exact, the date is processedAt
    assert (result.object_type, result.source_id) == ("order", "5200000000007")
    assert result.traits == {}
    assert result.consent == {}
    assert result.orders == [
        {
            "id": "5200000000007",
            "total": "1234.10",
            "currency": "GBP",
            "created_at": "2025-12-31T23:59:59Z",
            "status": "paid",
        }
    ]
    assert isinstance(record, SourceRecord)
    assert record.orders[0].total == Decimal("1234.10")
    assert {i.kind for i in record.identifiers} == {"email", "phone", "source"}


@pytest.mark.parametrize(
    ("financial", "cancelled", "status"),
    [
        ("PAID", None, "paid"),
        # a partially paid order counts what was received (netPaymentSet): without it, nothing
        ("PARTIALLY_PAID", None, "pending"),
        ("PENDING", None, "pending"),
        ("AUTHORIZED", None, "pending"),
        ("REFUNDED", None, "refunded"),
        ("PARTIALLY_REFUNDED", None, "paid"),
        ("VOIDED", None, "cancelled"),
        ("EXPIRED", None, "cancelled"),
        (None, None, "pending"),
        ("PAID", "2026-01-11T00:00:00Z", "cancelled"),
    ],
)
def test_financial_status_and_cancellation_map_to_the_canonical_status(
    financial: str | None, cancelled: str | None, status: str
) -> None:
    assert order_status({"displayFinancialStatus": financial, "cancelledAt": cancelled}) == status


def test_mapping_never_raises_and_bad_vendor_data_ends_quarantined() -> None:
    # GIVEN vendor objects that are broken in the ways real exports are
    broken = [
        draft(
            "customer",
            {"id": "gid://shopify/Customer/1", "updatedAt": "2026-01-01T00:00:00Z", "firstName": "Walk-in"},
        ),
        draft(
            "customer",
            {
                "id": "gid://shopify/Customer/2",
                "updatedAt": "2026-01-01T00:00:00Z",
                "defaultPhoneNumber": {"phoneNumber": "12"},
            },
        ),
        draft(
            "order",
            {"id": "gid://shopify/Order/3", "updatedAt": "2026-01-01T00:00:00Z", "totalPriceSet": "?"},
        ),
        draft("customer", ["not", "an", "object"]),
    ]
    # WHEN they are normalised
    outcomes = [normalise_record(d) for d in broken]
    # THEN each is quarantined with a reason, none raised
    assert all(isinstance(o, Quarantined) and o.reason for o in outcomes)


def test_the_population_variation_survives_the_sandbox_and_maps_cleanly() -> None:
    # GIVEN the sandbox's customers and orders, built from the shared population with its mess
    # (its bucket restored fast and the bulk operation's polls not waited for: nothing here is timed)
    sandbox = make_sandbox(people=150, seed=11, rate_scale=1000.0)
    connector = PLUGIN.build(dataclasses.replace(sandbox.settings(), retry=fast_retry([])))
    pages = list(connector.pull(None))
    drafts = [d for p in pages for d in connector.to_records(p)]
    outcomes = [normalise_record(d) for d in drafts]
    # THEN cases and phone formats vary in the raw data, yet nearly everything normalises
    raw_emails = [e for d in drafts for e in d.emails]
    assert any(e != e.lower() for e in raw_emails)
    assert len({p[:3] for d in drafts for p in d.phones}) > 1
    quarantined = [o for o in outcomes if isinstance(o, Quarantined)]
    assert 0 < len(quarantined) <= 0.05 * len(outcomes)
    assert all("no usable identifier" in q.reason for q in quarantined)


def _profile(*sources: SourceRef, orders: int = 2) -> Profile:
    return Profile(
        customer_id="cus_1",
        identifiers=(Identifier(kind="email", value="ann@example.com"),),
        sources=sources,
        computed=ComputedTraits(
            lifetime_value={"GBP": Decimal("40.50")},
            order_count=orders,
            average_order_value={"GBP": Decimal("20.25")},
            last_order_at=datetime(2026, 2, 1, 10, tzinfo=UTC) if orders else None,
            segment="repeat",
        ),
    )


def test_a_payload_goes_to_the_customer_gid_with_typed_metafields_and_no_blanks() -> None:
    # GIVEN a profile with a Shopify customer (and an order record, which is not a push target)
    profile = _profile(
        SourceRef(source="shopify", object_type="order", id="5", updated_at=T),
        SourceRef(source="shopify", object_type="customer", id="7000000000042", updated_at=T),
    )
    # WHEN its payload is built
    payload = payload_for(profile, "profilesync")
    # THEN it matches on the customer GID and carries each enriched trait as a typed metafield
    assert payload is not None
    assert payload.match_key == "gid://shopify/Customer/7000000000042"
    assert {m["key"]: (m["type"], m["value"]) for m in payload.body["metafields"]} == {
        "customer_id": ("single_line_text_field", "cus_1"),
        "lifetime_value": ("number_decimal", "40.50"),
        "lifetime_value_currency": ("single_line_text_field", "GBP"),
        "order_count": ("number_integer", "2"),
        "average_order_value": ("number_decimal", "20.25"),
        "last_order_at": ("date", "2026-02-01"),
        "segment": ("single_line_text_field", "repeat"),
    }
    assert all(m["namespace"] == "profilesync" for m in payload.body["metafields"])
    # AND a profile with no orders leaves out the blank traits Shopify would refuse
    bare = payload_for(_profile(*profile.sources, orders=0), "profilesync")
    assert bare is not None
    assert "last_order_at" not in {m["key"] for m in bare.body["metafields"]}


def test_no_shopify_customer_means_a_create_payload_and_duplicates_pick_one_stable_id() -> None:
    # GIVEN profiles without a Shopify customer, and with two (a duplicate in the shop)
    crm_only = _profile(SourceRef(source="hubspot", object_type="contact", id="9", updated_at=T))
    orders_only = _profile(SourceRef(source="shopify", object_type="order", id="9", updated_at=T))
    two = _profile(
        SourceRef(
            source="shopify",
            object_type="customer",
            id="7000000000100",
            updated_at=datetime(2026, 5, 1, tzinfo=UTC),
        ),
        SourceRef(source="shopify", object_type="customer", id="7000000000042", updated_at=T),
    )
    # THEN without a customer the payload is one to create (on the email; push_profiles decides whether
    # the mode and consent allow it), and the choice among two never depends on timestamps
    for stranger in (crm_only, orders_only):
        payload = payload_for(stranger, "profilesync")
        assert payload is not None
        assert payload.group == "create"
        assert payload.match_key == "ann@example.com"
        assert payload.body["customer"] == {"email": "ann@example.com"}
    assert shopify_customer_id(two) == "7000000000042"
    # AND equal profiles give equal hashes (nothing volatile in the body)
    first, second = payload_for(two, "profilesync"), payload_for(two, "profilesync")
    assert first is not None
    assert second is not None
    assert first.hash == second.hash


def test_gids_round_trip() -> None:
    assert gid("Customer", "123") == "gid://shopify/Customer/123"
    assert gid_tail("gid://shopify/Order/456") == "456"
    assert gid_tail(None) == ""
