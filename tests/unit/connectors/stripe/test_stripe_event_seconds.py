"""Stripe's events on one second: ``created`` has a resolution of a second, and ``created[gte]``
returns the whole second.

* A full pull starts its event streams on the second of the newest event: the events already on it
  are not changes made during the walk (the lists return their objects as they are now). Read as
  changes, a customer updated then deleted on that second came back from its update event.
* The sandbox stamps an object's events by Stripe's clock: never before the object's previous event
  (Stripe applies the changes of one object one after another), so the newest event of an object
  carries the object as it is.
* An object changed again on the second of the change the last sync read has two versions of that
  second: the connector dates an update after the versions of its stream read on that second before
  (Stripe lists events newest first, by its clock), and a deletion at the end of its second, so the
  newest version wins in the store, whatever the order of renames, deletions and syncs.
"""

from __future__ import annotations

from datetime import timedelta

from connectors.stripe import PLUGIN, make_sandbox
from connectors.stripe._sandbox import StripeSandbox
from core.connector import Connector
from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from core.testing.clock import days_ago

#: Recent, by this machine's date: the sandbox's clock runs in real time (core.testing.clock).
AT = days_ago(1)
SETTINGS = IngestSettings(sleep=lambda _: None)


def _customers(sandbox: StripeSandbox) -> list[str]:
    return sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))


def _event_drafts(connector: Connector, cursor: str | None) -> list[str]:
    """The records a pull from ``cursor`` takes from Stripe's events, as ``"<type>:<id>"``."""
    pages = [p for p in connector.pull(cursor) if p.object_type.startswith("event:")]
    return [f"{d.object_type}:{d.source_id}" for p in pages for d in connector.to_records(p)]


def test_a_customer_updated_and_deleted_on_the_second_a_full_pull_begins_does_not_come_back() -> None:
    # GIVEN a customer renamed, then deleted, on one second (the newest events Stripe holds)
    sandbox = make_sandbox(people=30, seed=3)
    gone = _customers(sandbox)[0]
    sandbox.touch({gone}, at=AT)
    sandbox.delete_records({gone}, at=AT)
    # WHEN a full pull runs into an empty store
    store = InMemoryProfileStore()
    with PLUGIN.build(sandbox.settings()) as connector:
        pull_into_store(connector, store, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)
    # THEN the deleted customer is in no profile, and the others are
    held = {r.key.removeprefix("stripe:") for p in store.iter_profiles() for r in p.sources}
    assert gone not in held
    assert set(_customers(sandbox)) <= held


def test_a_full_pull_reads_no_event_made_before_it_began_on_that_second_and_every_one_made_after() -> None:
    # GIVEN customers renamed and deleted on one second, more events than one page holds
    sandbox = make_sandbox(people=200, seed=3)
    customers = _customers(sandbox)
    before = customers[:60]
    for key in before:
        sandbox.touch({key}, at=AT)
        sandbox.delete_records({key}, at=AT)
    with PLUGIN.build(sandbox.settings()) as connector:
        # WHEN a full pull begins, and other customers are renamed on that same second during its walk
        pages = connector.pull(None)
        ahead = [next(pages)]
        while ahead[-1].object_type == "event:customer.deleted":  # the deletions before it began
            ahead.append(next(pages))
        first = ahead[-1]
        after = sorted(f"customer:{c['id']}" for c in first.records[:3])  # already read
        for key in after:
            sandbox.touch({key}, at=AT)
        rest = list(pages)
        # THEN no event made before it began is read as a change, and the customers renamed during
        # it reach it as they are now (from their event, or from the list when it read them after)
        drafts = [(p.object_type, d) for p in [*ahead, *rest] for d in connector.to_records(p)]
        from_events = [
            f"{d.object_type}:{d.source_id}" for t, d in drafts if t.startswith("event:") and not d.deleted
        ]
        assert set(from_events) <= set(after), "a customer deleted before the pull came back"
        assert len(from_events) == len(set(from_events))
        # AND the customers deleted before it began come as tombstones, once each (a store that
        # earlier syncs filled retires them; in an empty one a tombstone finds nothing to retire)
        tombstones = [f"{d.object_type}:{d.source_id}" for _, d in drafts if d.deleted]
        assert sorted(tombstones) == sorted(before)
        names = {f"{d.object_type}:{d.source_id}": d.traits.get("full_name") for _, d in drafts}
        now = {k: sandbox.customers[k.split(":", 1)[1]]["name"] for k in after}
        assert {k: names[k] for k in after} == now
        # AND the next pull reads none of them again
        assert _event_drafts(connector, rest[-1].cursor) == []


def test_a_customer_changed_again_stamped_before_its_last_change_is_stamped_at_it() -> None:
    # GIVEN a customer renamed at :01
    sandbox = make_sandbox(people=30, seed=3)
    key = _customers(sandbox)[0]
    customer_id = key.split(":", 1)[1]
    sandbox.touch({key}, at=AT + timedelta(seconds=1))
    # WHEN it is renamed again, asked to be stamped a second earlier
    sandbox.touch({key}, at=AT)
    # THEN the second event is on the first one's second, and is listed first (newest first), with
    # the customer as it is now
    listed = [e for e in sandbox.events.values() if e["data"]["object"]["id"] == customer_id]
    assert [e["created"] for e in listed] == [int((AT + timedelta(seconds=1)).timestamp())] * 2
    with PLUGIN.build(sandbox.settings()) as connector:
        body = connector.context.client("pull").get_json(
            "/v1/events", params={"type": "customer.updated", "limit": 1}
        )
    assert body["data"][0]["data"]["object"]["name"] == sandbox.customers[customer_id]["name"]


def test_a_customer_renamed_again_on_the_second_of_the_rename_the_last_sync_read_is_pulled() -> None:
    # GIVEN a synced store
    sandbox = make_sandbox(people=30, seed=3)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    keys = [f"stripe:{k}" for k in _customers(sandbox)[-10:]]
    with PLUGIN.build(sandbox.settings()) as connector:
        pull_into_store(connector, store, state, settings=SETTINGS)
        # WHEN customers are renamed, synced, and renamed again on the same second, and synced
        for _ in range(2):
            sandbox.touch({k.removeprefix("stripe:") for k in keys}, at=AT)
            pull_into_store(connector, store, state, settings=SETTINGS)
        fresh = InMemoryProfileStore()
        pull_into_store(connector, fresh, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)

    # THEN the store holds each one as a full pull of the tool now gives it
    def versions(held: InMemoryProfileStore) -> dict[str, str | None]:
        return {k: o.record_hash for k, o in held.get_owners([f"source#{k}" for k in keys]).items()}

    assert versions(store) == versions(fresh)
