"""rob23: order totals written with grouping or as JSON numbers, and lone surrogates in trait names.

* WooCommerce's REST API writes ``total`` as a string with a point and no grouping (``"28.44"``); a
  plugin's filter can write ``"1,234.50"`` or a JSON number. Shopify's ``Decimal`` is a string too;
  a shop whose locale writes ``"1.234,50"`` reaches it through an app. What can only mean one amount
  is read exactly (``Decimal``, never float arithmetic); ``"19,90"`` (a decimal comma, or grouping?)
  is refused with the reason, the order dropped and noted in the record's ``dropped``.
  Red before: WooCommerce dropped ``"1,234.50"`` and ``1234.5`` ("missing total"), Shopify and
  ``normalise_money`` refused ``"1.234,50"`` ("ambiguous use of commas"), and WooCommerce's
  ambiguous total was dropped as "missing total".
* A trait name holding a lone surrogate was folded by snake_case into ``_`` and its value kept under
  a name the source never had, with no count; it is dropped and noted like a value (red before:
  ``{"fo_o": "x"}`` kept, nothing in ``dropped``).
* A person-level record with only an ``external_id`` trait (Klaviyo's id of the person in another
  system) is kept, identified by its own source id, and joins no one by that id (red before:
  quarantined "no usable identifier").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.shopify._mapping import order_draft as shopify_order
from connectors.woocommerce._mapping import order_draft as woo_order
from core.errors import NormalisationError
from core.normalise import normalise_money, normalise_record, parse_amount
from core.schema import SourceRecord

READ = [
    ("1,234.50", Decimal("1234.50")),
    ("1.234,50", Decimal("1234.50")),
    ("-1.234.567,5", Decimal("-1234567.5")),
    ("1234.5", Decimal("1234.5")),
    (1234.5, Decimal("1234.5")),
    (0.1, Decimal("0.1")),  # the float's shortest text, not 0.1000000000000000055511151231257827
    (1234, Decimal("1234")),
]
REFUSED = ["19,90", "1.234,5.0", "1,2,3", "12.34,56", "1.23,45"]


@pytest.mark.parametrize(("written", "amount"), READ)
def test_an_amount_that_can_only_be_one_is_read_exactly(written: Any, amount: Decimal) -> None:
    parsed = parse_amount(written)
    assert parsed == amount
    assert isinstance(parsed, Decimal)
    assert str(parsed) == str(amount)


@pytest.mark.parametrize("written", REFUSED)
def test_an_ambiguous_amount_is_refused_with_its_reason(written: str) -> None:
    with pytest.raises(NormalisationError) as refused:
        parse_amount(written)
    assert refused.value.field == "amount"
    assert written in refused.value.reason


def test_money_with_points_for_thousands_and_a_decimal_comma() -> None:
    assert normalise_money("1.234,50", "EUR") == (Decimal("1234.50"), "EUR")


def _woo(total: Any) -> dict[str, Any]:
    return {
        "id": 77,
        "status": "completed",
        "currency": "EUR",
        "total": total,
        "customer_id": 0,
        "date_created_gmt": "2026-03-01T10:00:00",
        "date_modified_gmt": "2026-03-01T10:00:00",
        "billing": {"email": "ann@example.com", "first_name": "Ann"},
        "refunds": [],
    }


def _shopify(total: Any) -> dict[str, Any]:
    money = {"shopMoney": {"amount": total, "currencyCode": "EUR"}}
    return {
        "id": "gid://shopify/Order/77",
        "createdAt": "2026-03-01T10:00:00Z",
        "updatedAt": "2026-03-01T10:00:00Z",
        "email": "ann@example.com",
        "displayFinancialStatus": "PAID",
        "totalPriceSet": money,
        "currentTotalPriceSet": money,
        "customer": None,
    }


MAPPERS = {
    "woocommerce": lambda total: woo_order(_woo(total)),
    "shopify": lambda total: shopify_order(_shopify(total)),
}


@pytest.mark.parametrize(("written", "amount"), [r for r in READ if r[1] > 0])
@pytest.mark.parametrize("tool", sorted(MAPPERS))
def test_an_order_total_that_can_only_be_one_amount_is_kept(tool: str, written: Any, amount: Decimal) -> None:
    record = normalise_record(MAPPERS[tool](written))
    assert isinstance(record, SourceRecord)
    assert [o.total for o in record.orders] == [amount.quantize(Decimal("0.01"))]
    assert record.dropped == ()


@pytest.mark.parametrize("tool", sorted(MAPPERS))
def test_an_ambiguous_order_total_drops_the_order_with_the_reason(tool: str) -> None:
    record = normalise_record(MAPPERS[tool]("19,90"))
    # the person is kept; the order is dropped and noted, saying what was wrong with it
    assert isinstance(record, SourceRecord)
    assert record.orders == ()
    [dropped] = record.dropped
    assert dropped.field == "orders[0]"
    assert dropped.reason == "total: ambiguous use of commas in '19,90'"


def test_a_trait_name_with_a_lone_surrogate_is_dropped_and_noted() -> None:
    draft_traits = {"fo\ud800o": "x", "company": "Acme"}
    record = normalise_record(
        MAPPERS["woocommerce"]("10.00").model_copy(update={"traits": draft_traits, "orders": []})
    )
    assert isinstance(record, SourceRecord)
    assert record.traits == {"company": "Acme"}
    assert [(d.field, d.reason) for d in record.dropped] == [
        ("traits", "trait name holds invalid Unicode (a lone surrogate, U+D800)")
    ]


def test_a_record_with_only_an_external_id_is_one_profile_joined_to_no_one() -> None:
    # GIVEN a Klaviyo profile holding only the shop's id, and a CRM contact whose trait holds the
    # same text, with an email
    from core.pipeline import ingest
    from core.schema import RecordDraft
    from core.storage.memory import InMemoryProfileStore

    at = "2026-03-01T10:00:00Z"
    shop_only = RecordDraft(source="klaviyo", object_type="profile", source_id="01K", updated_at=at)
    shop_only = shop_only.model_copy(update={"traits": {"external_id": "1042"}})
    contact = RecordDraft(
        source="crm",
        source_id="c9",
        updated_at=at,
        emails=["ann@example.com"],
        traits={"external_id": "1042"},
    )
    records = [normalise_record(shop_only), normalise_record(contact)]
    # WHEN normalised THEN both are kept, the first identified by its own source id alone
    assert all(isinstance(r, SourceRecord) for r in records)
    kept = [r for r in records if isinstance(r, SourceRecord)]
    assert [(i.kind, i.value) for i in kept[0].identifiers] == [("source", "klaviyo:profile:01K")]
    # AND ingested they are two profiles: the external id joins no one
    store = InMemoryProfileStore()
    ingest(kept, store)
    assert sorted(len(p.sources) for p in store.iter_profiles()) == [1, 1]


def test_a_person_record_with_neither_external_id_nor_other_evidence_is_still_quarantined() -> None:
    from core.schema import Quarantined, RecordDraft

    bare = RecordDraft(
        source="klaviyo", object_type="profile", source_id="01L", updated_at="2026-03-01T10:00:00Z"
    )
    outcome = normalise_record(bare.model_copy(update={"traits": {"company": "Acme"}}))
    assert isinstance(outcome, Quarantined)
    assert outcome.reason.startswith("no usable identifier")
