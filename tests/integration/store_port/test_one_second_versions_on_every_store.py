"""Connector record versions and keys on each of the three stores.

* Stripe's events are stamped in whole seconds; the connector orders the versions of one second by
  microseconds (connectors/stripe/_connector.py), so every store must keep them and compare them as
  they are: the newest rename wins, and a deletion on that second retires the customer.
* Mailchimp's records moved from member-id keys to contact-id keys: the first pull from an earlier
  version's cursor retires the former keys, on every store, losing and adding no profile.
"""

from __future__ import annotations

import dataclasses
import json

from connectors.mailchimp import PLUGIN as MAILCHIMP
from connectors.stripe import PLUGIN, make_sandbox
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from core.testing.clock import days_ago

from .conftest import StoreKit

#: Recent, by this machine's date: the sandbox's clock runs in real time (core.testing.clock).
AT = days_ago(1)
SETTINGS = IngestSettings(sleep=lambda _: None)


def test_renames_on_one_second_each_read_by_a_sync_end_on_the_newest_and_a_deletion_retires(
    kit: StoreKit,
) -> None:
    # GIVEN a synced store
    sandbox = make_sandbox(people=12, seed=7)
    customers = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))
    renamed, gone = customers[:3], customers[3]
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    with PLUGIN.build(sandbox.settings()) as connector:

        def sync() -> None:
            pull_into_store(connector, kit.profiles, kit.sync_state, settings=SETTINGS, erasure=erasure)

        sync()
        # WHEN customers are renamed three times on one second with a sync after each rename, and
        # another is renamed, synced, renamed and deleted on that second
        for _ in range(3):
            sandbox.touch({*renamed, gone}, at=AT)
            sync()
        sandbox.touch({gone}, at=AT)
        sandbox.delete_records({gone}, at=AT)
        sync()
        fresh = InMemoryProfileStore()
        pull_into_store(connector, fresh, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)

    # THEN the store holds each renamed customer as Stripe now does, and not the deleted one
    keys = [f"source#stripe:{k}" for k in renamed]
    stored = {k: o.record_hash for k, o in kit.profiles.get_owners(keys).items()}
    assert stored == {k: o.record_hash for k, o in fresh.get_owners(keys).items()}
    held = {r.key for p in kit.profiles.iter_profiles() for r in p.sources}
    assert f"stripe:{gone}" not in held
    assert {f"stripe:{k}" for k in renamed} <= held


def test_records_keyed_by_member_id_move_to_contact_ids_and_no_profile_is_lost_or_added(
    kit: StoreKit,
) -> None:
    # GIVEN a store an earlier Mailchimp version filled (records keyed by member id), and its cursor
    sandbox = MAILCHIMP.sandbox(people=40, seed=5)
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    with MAILCHIMP.build(sandbox.settings()) as connector:
        pages = list(connector.pull(None))
        records = []
        for page in pages:
            member_id = {m["contact_id"]: m["id"] for m in page.records if isinstance(m, dict)}
            for draft in connector.to_records(page):
                old = normalise_record(draft.model_copy(update={"source_id": member_id[draft.source_id]}))
                if not draft.deleted and isinstance(old, SourceRecord):
                    records.append(old)
        ingest(records, kit.profiles, SETTINGS)
        cursor = json.loads(pages[-1].cursor or "{}")
        kit.sync_state.put_sync_state(
            dataclasses.replace(
                kit.sync_state.get_sync_state("mailchimp"), cursor=json.dumps({**cursor, "v": 2})
            )
        )
        before = {p.customer_id: {r.id for r in p.sources} for p in kit.profiles.iter_profiles()}
        # WHEN the next pull runs
        pull_into_store(connector, kit.profiles, kit.sync_state, settings=SETTINGS, erasure=erasure)
    # THEN every profile holds the same members, under their contact ids only
    contact = {m["id"]: m["contact_id"] for m in sandbox.members.values()}
    after = {p.customer_id: {r.id for r in p.sources} for p in kit.profiles.iter_profiles()}
    assert after == {cid: {contact[i] for i in ids} for cid, ids in before.items()}
    owners = kit.profiles.get_owners([f"source#mailchimp:member:{i}" for ids in before.values() for i in ids])
    assert all(o.customer_id not in after for o in owners.values()), "a former key still names a customer"
