"""What a Stripe guest charge and a customer with only a shipping address say of the person
(connectors/stripe/_declaration.py ``guest_charge_traits``, ``customer_shipping_traits``): the
country their phones are read in, and a guest's name. attack17's integration tests show the
over-merge; these pin the field paths (https://docs.stripe.com/api/charges/object,
https://docs.stripe.com/api/customers/object)."""

from __future__ import annotations

from typing import Any

from connectors.stripe import PLUGIN
from core.connector import ConnectorSettings, RawPage
from core.normalise import normalise_record
from core.schema import SourceRecord

ADDRESS = {
    "city": "Milano",
    "country": "IT",
    "line1": None,
    "line2": None,
    "postal_code": "20121",
    "state": None,
}


def _draft(record: dict[str, Any]) -> Any:
    connector = PLUGIN.build(
        ConnectorSettings(credentials={"stripe_api_key": "sk_test_x"}, base_url="http://127.0.0.1:9")
    )
    (draft,) = connector.to_records(RawPage(records=[record], cursor=None, object_type=record["object"]))
    return draft


def _charge(customer: str | None, billing_address: Any, shipping: Any = None) -> dict[str, Any]:
    return {
        "id": "ch_1",
        "object": "charge",
        "amount": 500,
        "amount_captured": 500,
        "amount_refunded": 0,
        "captured": True,
        "refunded": False,
        "paid": True,
        "status": "succeeded",
        "currency": "eur",
        "created": 1_764_000_000,
        "customer": customer,
        "billing_details": {
            "address": billing_address,
            "email": "giulia@example.it",
            "name": " Giulia Ferri ",
            "phone": "320 555 7788",
        },
        "shipping": shipping,
    }


def test_a_guest_charge_brings_the_billing_name_and_address() -> None:
    draft = _draft(_charge(None, ADDRESS))
    assert draft.traits == {
        "full_name": "Giulia Ferri",
        "country": "IT",
        "city": "Milano",
        "postal_code": "20121",
    }
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord)
    assert [i.value for i in record.identifiers if i.kind == "phone"] == ["+393205557788"]


def test_a_charge_of_a_customer_brings_no_traits() -> None:
    """It joins its customer's profile by the customer id: the payer of one charge (a gift, a
    colleague's card) must not rename the customer or move her country."""
    assert _draft(_charge("cus_1", ADDRESS)).traits == {}


def test_a_guest_charge_without_a_billing_country_reads_its_shipping_address() -> None:
    draft = _draft(_charge(None, {**ADDRESS, "country": None}, {"address": {**ADDRESS, "city": "Roma"}}))
    assert draft.traits["country"] == "IT"
    assert draft.traits["city"] == "Roma"


def _customer(address: Any) -> dict[str, Any]:
    return {
        "id": "cus_1",
        "object": "customer",
        "created": 1_764_000_000,
        "email": "giulia@example.it",
        "name": "Giulia Ferri",
        "phone": "320 555 7788",
        "address": address,
        "shipping": {"address": ADDRESS, "name": "Giulia Ferri", "phone": None},
    }


def test_a_customer_without_an_address_reads_her_shipping_address() -> None:
    assert _draft(_customer(None)).traits["country"] == "IT"


def test_a_customer_with_an_address_keeps_it_over_her_shipping_address() -> None:
    draft = _draft(_customer({**ADDRESS, "country": "FR", "city": "Nice"}))
    assert (draft.traits["country"], draft.traits["city"]) == ("FR", "Nice")
