"""attack16: Shopify's own privacy material against profilesync's copy of a Shopify shop.

Shopify's mandatory compliance webhooks ("Privacy law compliance",
https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance) are sent to every app that
reads a shop's customers. ``customers/redact`` says a customer's data must go; its documented
payload::

    {"shop_id": 954889, "shop_domain": "{shop}.myshopify.com",
     "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
     "orders_to_redact": [299938, 280263, 220458]}

(the customer's legacy numeric id and the numeric ids of the orders to redact; a reply on Shopify's
community forum reads the page as allowing a customer with only an ``email``). profilesync has no
webhook receiver: a shop's team hands the payload's values to ``privacy erase``. Checked here:

* the payload's values name her as profilesync stores her (``shopify:customer:<customer.id>``, each
  ``shopify:order:<id>``, or her ``email`` alone): one request per value, as a handler loops, erases her
  profile, customer and orders, and nothing of hers comes back at the next pulls (holds: no test fed
  Shopify's own payload before; the attack12 spellings were HubSpot's); her customer named by its
  GID (``gid://shopify/Customer/<id>``, as every Admin GraphQL answer, the API the connector reads,
  names it) finds her too, and ``customers/data_request``'s (the same ids) handed to ``export``
  answers her customer and orders, for the GID too (fix16: the connector's ``ConnectorSpec.stored_id``
  gives the GID's numeric tail, the id as stored);
* the erasure done at Shopify itself (the merchant's "Erase personal data", after which Shopify sends
  that webhook; the sandbox's ``customerRequestDataErasure`` deletes the customer and strips her
  orders as Shopify's redaction does) reaches profilesync through a pull: it did not (rob24: Shopify
  declares ``refresh_lists={"customer"}``, and the next full refresh retires her customer record).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from connectors.shopify import _sandbox_seed as seeding
from connectors.shopify._sandbox import ShopifySandbox
from core.normalise import normalise_email
from core.privacy import erase_person
from core.privacy_export import export_person
from core.privacy_request import stored_ids_of
from core.schema import Identifier
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore
from core.suppression import SuppressionCheck
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS, _held
from tests.integration.test_attack13_hostile_values_on_the_wire import tool
from tests.integration.test_erasure_attacks import SALT

HER = "henrietta.ozolina@example.com"
NAME = ("Henrietta", "Ozolina")
PHONE = "+1 415 555 0186"


def _her_shop() -> tuple[ShopifySandbox, Any, dict[str, Any]]:
    """A seeded Shopify sandbox with her customer and two orders of hers, a connector to it, and
    ``customers/redact``'s payload for her in Shopify's documented shape."""
    sandbox, connector = tool("shopify", people=8)
    assert isinstance(sandbox, ShopifySandbox)
    with sandbox.lock:
        customer = seeding.add_customer(
            sandbox,
            numeric=sandbox._id("customer"),
            first=NAME[0],
            last=NAME[1],
            email=HER,
            phone=PHONE,
            country="US",
            created=T_CHANGES,
            updated=T_CHANGES,
        )
        orders = [
            seeding.add_order(sandbox, customer, total, "USD", "PAID", T_CHANGES, T_CHANGES)
            for total in ("19.99", "42.00")
        ]
    payload = {
        "shop_id": 954889,
        "shop_domain": sandbox.shop,
        "customer": {"id": customer["_num"], "email": HER, "phone": PHONE},
        "orders_to_redact": [o["_num"] for o in orders],
    }
    return sandbox, connector, payload


def _hers(store: InMemoryProfileStore, payload: dict[str, Any], *, orders: bool = True) -> list[str]:
    """What the store holds of her: her record keys (her orders' too unless ``orders`` is false: an
    order Shopify redacted stays at Shopify without her), and any profile holding her address or name."""
    keys = {f"shopify:customer:{payload['customer']['id']}"}
    keys |= {f"shopify:order:{n}" for n in payload["orders_to_redact"]} if orders else set()
    held = [k for k in _held(store) if k in keys]
    email = normalise_email(HER)
    for profile in store.iter_profiles():
        text = profile.model_dump_json().casefold()
        if email in text or NAME[1].casefold() in text:
            held.append(f"profile {profile.customer_id}")
    return held


def _requests(payload: dict[str, Any], how: str) -> list[Identifier]:
    customer = payload["customer"]
    if how == "email only":
        return [Identifier(kind="email", value=customer["email"])]
    if (
        how == "customer GID"
    ):  # the customer's id as the Admin GraphQL API (and its webhooks' admin_graphql_api_id) show it
        return [Identifier(kind="source", value=f"shopify:customer:gid://shopify/Customer/{customer['id']}")]
    named = [Identifier(kind="source", value=f"shopify:customer:{customer['id']}")]
    return named + [
        Identifier(kind="source", value=f"shopify:order:{n}") for n in payload["orders_to_redact"]
    ]


@pytest.mark.parametrize(
    "how",
    [
        "customer and orders",
        "email only",
        "customer GID",
    ],
)
def test_customers_redact_payload_handed_to_erase_erases_her_and_she_stays_erased(how: str) -> None:
    sandbox, connector, payload = _her_shop()
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    suppression = InMemorySuppressionStore(store)
    check = SuppressionCheck(suppression, SALT)
    try:
        # GIVEN the shop synced, her customer and orders in one profile
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        assert len(_hers(store, payload)) == 4, _hers(store, payload)
        with sandbox.lock:
            before = copy.deepcopy((sandbox.customers, sandbox.orders))
        # WHEN customers/redact's values are handed to the erasure, one request each, asking Shopify
        outcomes = [
            erase_person(
                identifier,
                profiles=store,
                erasure=erasure,
                tools={"shopify": connector},
                salt=SALT,
                request_id=f"redact-{n}",
                sync_state=state,
                suppression=suppression,
                requested_by="shopify customers/redact",
            ).outcome
            for n, identifier in enumerate(_requests(payload, how))
        ]
        # THEN the first finds and erases her; nothing of hers is left
        assert outcomes[0] == "erased", outcomes
        assert _hers(store, payload) == []
        assert not sandbox.holds(HER)
        # AND nothing comes back while Shopify still serves her (it redacts 10 days after the
        # request, or up to six months later while recent orders need the data; the sandbox redacts
        # at once, so her customer and orders are put back as they were): two more pulls drop her
        with sandbox.lock:
            sandbox.customers.update(copy.deepcopy(before[0]))
            sandbox.orders.update(copy.deepcopy(before[1]))
        assert sandbox.holds(HER)
        again = pull_into_store(
            connector, store, state, settings=SETTINGS, suppression=check, erasure=erasure
        )
        full = pull_into_store(
            connector, store, state, cursor=None, settings=SETTINGS, suppression=check, erasure=erasure
        )
    finally:
        connector.close()
    assert _hers(store, payload) == []
    assert full.suppressed >= 3, (again, full)


def test_a_customer_erased_at_shopify_leaves_the_store_at_the_next_full_refresh() -> None:
    sandbox, connector, payload = _her_shop()
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    try:
        # GIVEN the shop synced with her customer and orders
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        assert len(_hers(store, payload)) == 4
        # AND the merchant erases her at Shopify (what precedes customers/redact)
        erased = connector.erase(
            [Identifier(kind="source", value=f"shopify:customer:{payload['customer']['id']}")]
        )
        assert [o.found for o in erased] == [True]
        assert not sandbox.holds(HER)
        # WHEN the shop is synced, incrementally and with a full refresh
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        pull_into_store(connector, store, state, cursor=None, settings=SETTINGS, erasure=erasure)
    finally:
        connector.close()
    # THEN profilesync holds what Shopify holds: her orders, stripped of her, and nothing of hers
    assert _hers(store, payload, orders=False) == []


@pytest.mark.parametrize("spelling", ["customer", "customer GID"])
def test_customers_data_request_payload_handed_to_export_answers_her_customer_and_orders(
    spelling: str,
) -> None:
    # Shopify's customers/data_request: {"shop_id", "shop_domain", "orders_requested": [ids],
    # "customer": {"id", "email", "phone"}, "data_request": {"id"}}, the same ids as customers/redact
    _sandbox, connector, payload = _her_shop()
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        pull_into_store(connector, store, state, settings=SETTINGS)
    finally:
        connector.close()
    number = payload["customer"]["id"]
    named = f"gid://shopify/Customer/{number}" if spelling == "customer GID" else str(number)
    # the installed connectors' id spellings, as `privacy export` and the privacy function give them
    exported = export_person(
        store,
        Identifier(kind="source", value=f"shopify:customer:{named}"),
        stored_ids=stored_ids_of([connector.spec]),
    )
    assert exported is not None
    text = repr(exported)  # a frozen dataclass: its repr holds every value it answers
    assert HER in text
    for order in payload["orders_to_redact"]:
        assert f"shopify:order:{order}" in text
