"""attack16: WooCommerce's own privacy eraser run at the shop for two people, then synced.

WordPress's "Erase Personal Data" tool (and WooCommerce's privacy eraser, what the connector's own
``erase`` runs over REST: connectors/woocommerce/_erase.py) keeps each order under its id and
anonymises it through ``wp_privacy_anonymize_data``: names and address lines ``[deleted]``, phones
all zeros, and the email **``deleted@site.invalid``**, the same for every person ever erased in every
WordPress shop. ``.invalid`` is reserved (RFC 2606, RFC 6761: never a mailbox), and the blocklist
(core/identity.py ``DEFAULT_BLOCKED_PATTERNS``) had ``*@invalid`` only, which the subdomain escaped
(fix16 added ``*@*.invalid``).

Promise (docs/architecture.md, "Guardrails": the blocklist holds the placeholders software writes
the same for everyone, "strangers joined by one are one customer"; attack15 added ``noemail@``):
the anonymised orders of two erased people are not joined into one customer by the eraser's
placeholder, and that placeholder is no identifier of anyone.
"""

from __future__ import annotations

from core.identity import IdentityPolicy
from core.schema import Identifier
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import tool

PLACEHOLDER = "deleted@site.invalid"


def test_two_people_erased_at_the_shop_are_not_joined_by_the_erasers_placeholder() -> None:
    _sandbox, connector = tool("woocommerce", people=8)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    try:
        # GIVEN a synced shop, and two customers of it with orders of their own
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        buyers = [
            p
            for p in store.iter_profiles()
            if any(s.object_type == "customer" for s in p.sources)
            and any(s.object_type == "order" for s in p.sources)
        ][:2]
        assert len(buyers) == 2
        orders = [{s.key for s in p.sources if s.object_type == "order"} for p in buyers]
        # AND both erased at the shop with WooCommerce's privacy eraser (orders anonymised, account gone)
        accounts = [s.key for p in buyers for s in p.sources if s.object_type == "customer"]
        outcomes = connector.erase([Identifier(kind="source", value=k) for k in accounts])
        assert all(o.found for o in outcomes), outcomes
        # WHEN the shop is synced
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        pull_into_store(connector, store, state, cursor=None, settings=SETTINGS, erasure=erasure)
    finally:
        connector.close()
    # THEN no customer holds orders of both, and the placeholder is nobody's identifier
    joined = [
        p.customer_id
        for p in store.iter_profiles()
        if {s.key for s in p.sources} & orders[0] and {s.key for s in p.sources} & orders[1]
    ]
    assert joined == []
    assert IdentityPolicy().is_blocked(Identifier(kind="email", value=PLACEHOLDER))
