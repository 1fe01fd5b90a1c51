"""attack16: a person erased inside a tool with the tool's own privacy feature, then synced.

A person may ask the shop or the marketing team directly; they erase her in the tool, with the
feature the vendor documents for it, and profilesync only ever sees what the tool serves afterwards.
Each sandbox's erasure is the one the connector's own ``erase`` calls (docs/privacy.md, "Each tool,
completely"), so the vendor's documented behaviour is what is served:

* HubSpot's GDPR delete (``POST /crm/v3/objects/contacts/gdpr-delete``): the contact is gone;
* Mailchimp's ``delete-permanent``: the member is gone (attack15 covered Mailchimp alone);
* Klaviyo's Data Privacy API (``POST /api/data-privacy-deletion-jobs``): the profile is gone;
* Stripe's redaction job (``POST /v1/privacy/redaction_jobs``; Stripe: "You can still access redacted
  objects ... The string [redacted] or a similar placeholder replaces fields that contain personal
  data", https://docs.stripe.com/privacy/redaction-integration): the customer stays under its id;
* Salesforce's delete: the contact is in the Recycle Bin (``queryAll`` lists it ``IsDeleted``);
* WooCommerce's customer delete (``force=true``): the account is gone.
(Shopify's ``customerRequestDataErasure``: tests/integration/test_attack16_shopify_redact.py.)

Promise (docs/architecture.md "Records deleted at the vendor", docs/privacy.md "No copy left"): after
an incremental pull and a full refresh, profilesync holds no record the tool no longer holds, and no
profile holds her address. Holds for HubSpot, Mailchimp and Salesforce; for Klaviyo (rob24) and
WooCommerce (fix16) (their full refresh retires what it no longer lists: ``refresh_lists``), and for Stripe
(a redacted customer or charge is read as a deletion of it: connectors/stripe/_redacted.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.schema import Identifier
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS, _held
from tests.integration.test_attack13_hostile_values_on_the_wire import tool

VENDORS = ["hubspot", "mailchimp", "salesforce", "klaviyo", "woocommerce", "stripe"]


@pytest.mark.parametrize("name", VENDORS)
def test_a_person_erased_inside_the_tool_leaves_the_store(name: str) -> None:
    sandbox, connector = tool(name, people=8)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    try:
        # GIVEN a synced tool, and a person added to it and synced
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        added = {f"{name}:{k}" for k in sandbox.add_records(1, at=T_CHANGES + timedelta(seconds=5))}
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        hers = [p for p in store.iter_profiles() if {s.key for s in p.sources} & added]
        emails = {i.value for p in hers for i in p.identifiers if i.kind == "email"}
        assert len(hers) == 1, hers
        assert emails, hers
        # AND she is erased inside the tool with its own privacy feature
        outcomes = connector.erase([Identifier(kind="source", value=k) for k in sorted(added)])
        assert all(o.found for o in outcomes), outcomes
        # WHEN the tool is synced, incrementally and with a full refresh
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        pull_into_store(connector, store, state, cursor=None, settings=SETTINGS, erasure=erasure)
    finally:
        connector.close()
    # THEN profilesync holds no record the tool no longer holds, and no profile holds her address
    assert set(_held(store)) <= {f"{name}:{k}" for k in sandbox.record_keys()}
    left = [i.value for p in store.iter_profiles() for i in p.identifiers if i.value in emails]
    assert left == []
