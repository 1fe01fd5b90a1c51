"""attack17: a Stripe guest charge whose billing phone is written in the payer's own national form.

Stripe's charge object: ``billing_details.phone`` is the "Billing phone number (including
extension)", and ``billing_details.address.country`` the billing country (Stripe API reference,
https://docs.stripe.com/api/charges/object; ``specs/stripe-api.json.gz``, ``billing_details``). The
phone is what the checkout collected, as typed; an Italian payer types her mobile without ``+39``:
``320 555 7788``, ten digits and no trunk ``0``, which is also the shape of a North American number.
In the default region ``US`` it is a *valid* ``+1 320-555-7788`` (a Minnesota area code),
someone else's.

A Stripe customer is read in its address's country (connectors/stripe/_declaration.py
``CUSTOMER_FIELDS`` maps ``address.country`` to the ``country`` trait, and core/normalise/_record.py
``_phone_reader`` reads phones in the record's country first): her number as a customer is ``+39 320
555 7788``. A charge is not: ``CHARGE_FIELDS`` maps no country, so a guest charge (``customer``
null: it joins by its email and phone) has its billing phone read in the default region, as the
American number. The guest charge carries her email and his number, and her profile and the
American's become one (her payments, lifetime value and name beside his).

The same holds for a Stripe customer whose only address is her shipping address (``address`` null,
``shipping.address.country`` set): ``CUSTOMER_FIELDS`` reads ``address.country`` only. Shown on the
mapping and pipeline (``to_records``, ``normalise_record``, ``core.pipeline.ingest``) and, for the
guest charge, through a sync of the Stripe sandbox (``pull_into_store``), and with ``identity.mode:
probabilistic`` too (the charge carries no name, so nothing conflicts with the American's).

Promise: one person, one profile. A guest charge's phone is read in its billing country, as a
customer's is; the American stays a profile of his own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from connectors.stripe import PLUGIN
from connectors.stripe._sandbox_objects import card_charge, new_customer
from core.connector import ConnectorSettings, RawPage
from core.link_scope import LinkageSettings
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import tool

GIULIA = "giulia.ferri@example.it"
DALE = "dale.lindqvist@example.com"
CREATED = 1_764_000_000  # 24 November 2025, epoch seconds


def _address(country: str, city: str, postal_code: str) -> dict[str, Any]:
    return {
        "city": city,
        "country": country,
        "line1": None,
        "line2": None,
        "postal_code": postal_code,
        "state": None,
    }


def _guest_charge(phone: str) -> dict[str, Any]:
    """A captured guest charge (no customer) as Stripe lists it, paid by Giulia in Milan."""
    return {
        "id": "ch_3Giulia",
        "object": "charge",
        "amount": 8900,
        "amount_captured": 8900,
        "amount_refunded": 0,
        "captured": True,
        "refunded": False,
        "paid": True,
        "status": "succeeded",
        "currency": "eur",
        "created": CREATED,
        "customer": None,
        "receipt_email": None,
        "billing_details": {
            "address": _address("IT", "Milano", "20121"),
            "email": GIULIA,
            "name": "Giulia Ferri",
            "phone": phone,
        },
    }


def _dale() -> dict[str, Any]:
    """An American Stripe customer whose number has the same ten digits."""
    return {
        "id": "cus_Dale",
        "object": "customer",
        "created": CREATED,
        "email": DALE,
        "name": "Dale Lindqvist",
        "phone": "(320) 555-7788",
        "address": _address("US", "St. Cloud", "56301"),
    }


def _shipped_customer(phone: str) -> dict[str, Any]:
    """Giulia as a Stripe customer who gave only a shipping address (``address`` null, ``shipping``
    set: "Mailing and shipping address for the customer"), her phone as she typed it."""
    return {
        "id": "cus_Giulia",
        "object": "customer",
        "created": CREATED,
        "email": GIULIA,
        "name": "Giulia Ferri",
        "phone": phone,
        "address": None,
        "shipping": {"address": _address("IT", "Milano", "20121"), "name": "Giulia Ferri", "phone": phone},
    }


def _records(theirs: dict[str, Any]) -> list[SourceRecord]:
    connector = PLUGIN.build(
        ConnectorSettings(credentials={"stripe_api_key": "sk_test_x"}, base_url="http://127.0.0.1:9")
    )
    drafts = [
        *connector.to_records(RawPage(records=[_dale()], cursor=None, object_type="customer")),
        *connector.to_records(RawPage(records=[theirs], cursor=None, object_type=theirs["object"])),
    ]
    records = [normalise_record(d) for d in drafts]
    assert all(isinstance(r, SourceRecord) for r in records)
    return [r for r in records if isinstance(r, SourceRecord)]


def _people(theirs: dict[str, Any], settings: IngestSettings | None = None) -> tuple[Any, Any]:
    store = InMemoryProfileStore()
    ingest(_records(theirs), store, settings)
    profiles = list(store.iter_profiles())
    key = f"stripe:{theirs['object']}:{theirs['id']}"
    hers = [p for p in profiles if any(r.key == key for r in p.sources)]
    his = [p for p in profiles if any(r.key == "stripe:customer:cus_Dale" for r in p.sources)]
    assert len(hers) == 1
    assert len(his) == 1
    return hers[0], his[0]


@pytest.mark.parametrize("record", [_guest_charge, _shipped_customer])
def test_her_number_written_internationally_keeps_the_two_apart(record: Any) -> None:
    """The guard: the same record with ``+39`` written is hers alone (green before and after)."""
    hers, his = _people(record("+39 320 555 7788"))
    assert hers.customer_id != his.customer_id


def test_her_national_number_on_a_guest_charge_is_hers_not_an_americans() -> None:
    # GIVEN a guest charge of Giulia's with her mobile in its Italian national form, and an American
    # Stripe customer whose number has the same ten digits
    # WHEN both are resolved
    hers, his = _people(_guest_charge("320 555 7788"))
    # THEN the American is a person of his own, and her charge's profile holds her Italian number
    assert hers.customer_id != his.customer_id
    assert {i.value for i in hers.identifiers if i.kind == "phone"} == {"+393205557788"}


def test_her_national_number_on_a_customer_with_a_shipping_address_only_is_hers() -> None:
    # GIVEN Giulia as a Stripe customer whose only address is her Italian shipping address, her
    # mobile in its national form, and an American Stripe customer with the same ten digits
    # WHEN both are resolved
    hers, his = _people(_shipped_customer("320 555 7788"))
    # THEN they are two people, and her number is the Italian one
    assert hers.customer_id != his.customer_id
    assert {i.value for i in hers.identifiers if i.kind == "phone"} == {"+393205557788"}


def test_through_a_sync_of_the_stripe_sandbox_she_and_the_american_are_two_people() -> None:
    sandbox, connector = tool("stripe", people=4)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    when = T_CHANGES + timedelta(seconds=5)
    # GIVEN an American customer of the account, and a guest charge Giulia paid from Milan with her
    # mobile in its Italian national form (billing details as the checkout collected them)
    with sandbox.lock:
        dale = new_customer(sandbox, DALE, "Dale Lindqvist", "(320) 555-7788", "US", when)
        charge = card_charge(sandbox, None, 8900, "eur", when)
        charge["billing_details"] = {
            "address": _address("IT", "Milano", "20121"),
            "email": GIULIA,
            "name": "Giulia Ferri",
            "phone": "320 555 7788",
        }
    try:
        # WHEN the account is synced
        run = pull_into_store(connector, store, state, settings=SETTINGS)
    finally:
        connector.close()
    assert run.quarantined == 0
    found = {r.key: p for p in store.iter_profiles() for r in p.sources}
    # THEN her charge and the American are two people
    assert (
        found[f"stripe:charge:{charge['id']}"].customer_id
        != found[f"stripe:customer:{dale['id']}"].customer_id
    )


def test_with_probabilistic_identity_her_guest_charge_is_not_the_americans() -> None:
    hers, his = _people(_guest_charge("320 555 7788"), IngestSettings(linkage=LinkageSettings()))
    assert hers.customer_id != his.customer_id


def test_a_guest_charges_profile_holds_the_billing_name() -> None:
    # GIVEN Giulia's guest charge (her international number: she is a profile of her own)
    hers, _ = _people(_guest_charge("+39 320 555 7788"))
    # THEN her profile says who she is, as her billing details did
    names = {name: trait.value for name, trait in hers.traits.items() if name in ("full_name", "first_name")}
    assert any("Giulia" in str(value) for value in names.values())
