"""Attack (attack4): a member changes her address at Mailchimp.

Mailchimp lets ``PATCH /lists/{id}/members/{hash}`` change ``email_address``, and a member's ``id`` is
the MD5 of her lower-cased address (the spec: "the `id` is the MD5 hash of their email address";
``contact_id`` is the id that stays). After the change she is listed under a new id, and her old id
is listed nowhere: not archived, not deleted, so no pull reports it gone. Keyed by that id, the old
record stayed in her profile for good with the old address, which was pushed to and matched on as
hers. Records are keyed by ``contact_id`` now. (The test makes the change by hand, as Mailchimp
would: same ``contact_id``, new address and id, ``last_changed`` moved; test_address_moves.py makes
it through the sandbox's PATCH.)
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from connectors._http import RetryPolicy
from connectors.mailchimp import PLUGIN
from connectors.mailchimp._mapping import subscriber_hash
from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES

SETTINGS = IngestSettings(sleep=lambda _: None)


def test_a_member_whose_address_changed_at_mailchimp_keeps_only_the_new_one() -> None:
    sandbox = PLUGIN.sandbox(people=20, seed=4)
    retry = RetryPolicy(max_attempts=3, backoff_floor=0.01, backoff_cap=0.05, sleep=lambda _: None)
    connector = PLUGIN.build(dataclasses.replace(sandbox.settings(), retry=retry))
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    try:
        # GIVEN a synced audience
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        with sandbox.lock:
            old_id, member = next(
                (k, m) for k, m in sorted(sandbox.members.items()) if m["status"] == "subscribed"
            )
            old_address = member["email_address"]
            # WHEN she changes her address at Mailchimp (as PATCH with email_address does)
            new_address = "moved.on@example.com"
            moved = {
                **member,
                "id": subscriber_hash(new_address),
                "email_address": new_address,
                "last_changed": (T_CHANGES + timedelta(minutes=1)).isoformat(),
            }
            del sandbox.members[old_id]
            sandbox.members[moved["id"]] = moved
            sandbox._index = None
        # AND the next pull runs
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
    finally:
        connector.close()
    # THEN her profile holds the new address, and no profile holds the old one or the old record
    addresses = {i.value for p in store.iter_profiles() for i in p.identifiers if i.kind == "email"}
    assert new_address in addresses
    assert old_address.lower() not in addresses
    records = {r.id for p in store.iter_profiles() for r in p.sources}
    assert old_id not in records
