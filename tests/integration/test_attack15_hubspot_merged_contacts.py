"""attack15: two HubSpot contacts merged at HubSpot, as HubSpot merges contacts today, then synced.

HubSpot's developer changelog ("Updated merge functionality for contacts and companies",
https://developers.hubspot.com/changelog/updated-merge-functionality-for-contacts-and-companies):
merging two contacts creates a new record with a new id; both previous ids point to it (a ``GET`` of
either answers the merged record), so neither is listed any more, and neither is archived (an
archived contact is restorable and answers 404): the ``?archived=true`` list the connector reads
deletions from never names them. The merged record's ``hs_merged_object_ids`` (a calculated
property, ``;``-separated, the "Merged contact IDs" of HubSpot's knowledge base "Merge records")
names the ids it absorbed; the secondary's email becomes one of its ``hs_additional_emails``.

Promise: what profilesync holds of HubSpot is what HubSpot holds (every record pulled is stored or
quarantined, and a record gone at the vendor leaves), so after the merge the profile holds the
merged contact and not the two it replaced, and a value removed from the merged contact at HubSpot
leaves the profile.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from connectors.hubspot._mapping import format_timestamp
from connectors.hubspot._sandbox import HubSpotSandbox
from core.connector import Connector
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import PullReport, pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS, _held
from tests.integration.test_attack13_hostile_values_on_the_wire import tool

REASON = (
    "connectors/hubspot/_mapping.py:30 PULL_PROPERTIES never asks for hs_merged_object_ids, and "
    "connectors/hubspot/_pull.py:170 reads deletions only from ?archived=true: the two contacts HubSpot "
    "merged into a new record (new id; the old ids redirect to it, neither listed nor archived) stay "
    "stored for ever, holding the values the merged record later drops. Fix idea: pull "
    "hs_merged_object_ids and give a tombstone for each absorbed id, dated at the merged record's "
    "createdate (its creation is the merge), through core.retirement as an archived contact is"
)


def _merge(sandbox: HubSpotSandbox, primary: str, secondary: str) -> str:
    """Merge two contacts as HubSpot does today: a new record with a new id, the primary's values,
    the secondary's email added to ``hs_additional_emails``, ``hs_merged_object_ids`` naming both;
    the two old ids no longer listed, and not archived. Returns the new record's key."""
    with sandbox.lock:
        first = sandbox._contacts.pop(primary)
        second = sandbox._contacts.pop(secondary)
        for contact in (first, second):
            sandbox._by_email.pop(contact.email() or "", None)
        properties = {k: v for k, v in first.properties.items() if k not in ("hs_object_id", "createdate")}
        properties["hs_additional_emails"] = second.email() or ""
        properties["hs_merged_object_ids"] = f"{primary};{secondary}"
        when = T_CHANGES + timedelta(seconds=30)
        merged = sandbox._insert(properties, when, when)
        assert merged.properties["createdate"] == format_timestamp(when)
        if second.email():  # (an additional email finds the contact too, as HubSpot's lookups do)
            sandbox._by_email[second.email() or ""] = merged.id
    return f"contact:{merged.id}"


def _sync(
    connector: Connector, store: InMemoryProfileStore, state: InMemorySyncStateStore, **kw: Any
) -> PullReport:
    """A sync as ``profilesync sync`` runs it: with an erasure store, so deletions are retired."""
    erasure = InMemoryErasureStore(store, state)
    return pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure, **kw)


def _two_contacts(sandbox: HubSpotSandbox) -> tuple[str, str]:
    with sandbox.lock:
        ids = sorted((c.id for c in sandbox._contacts.values() if c.email()), key=int)
    return ids[0], ids[1]


def _emails(store: InMemoryProfileStore) -> set[str]:
    return {i.value for p in store.iter_profiles() for i in p.identifiers if i.kind == "email"}


def test_contacts_merged_at_hubspot_leave_the_store() -> None:
    sandbox, connector = tool("hubspot", people=8)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        # GIVEN a synced HubSpot account
        _sync(connector, store, state)
        assert set(_held(store)) == {f"hubspot:{k}" for k in sandbox.record_keys()}
        # AND two of its contacts merged at HubSpot (a new record; the two old ids gone from the list)
        primary, secondary = _two_contacts(sandbox)
        merged = _merge(sandbox, primary, secondary)
        # WHEN it is synced
        run = _sync(connector, store, state)
    finally:
        connector.close()
    assert run.quarantined == 0
    # THEN the store holds what HubSpot holds: the merged record, not the two it replaced
    held = set(_held(store))
    assert f"hubspot:{merged}" in held
    assert held == {f"hubspot:{k}" for k in sandbox.record_keys()}


def test_an_email_removed_from_a_merged_contact_leaves_the_profile() -> None:
    sandbox, connector = tool("hubspot", people=8)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        _sync(connector, store, state)
        primary, secondary = _two_contacts(sandbox)
        with sandbox.lock:
            old = sandbox._contacts[secondary].email()
        assert old in _emails(store)
        # GIVEN two contacts merged at HubSpot, and synced
        merged = _merge(sandbox, primary, secondary)
        _sync(connector, store, state)
        # AND the secondary's address then removed from the merged record (a mistyped or old one)
        with sandbox.lock:
            contact = sandbox._contacts[merged.split(":", 1)[1]]
            contact.properties["hs_additional_emails"] = ""
            contact.updated = T_CHANGES + timedelta(seconds=40)
            sandbox._stamp(contact)
            sandbox._by_modified = None
        # WHEN it is synced
        _sync(connector, store, state)
    finally:
        connector.close()
    # THEN no profile holds the removed address: HubSpot holds it nowhere
    assert old not in _emails(store)


GDPR_REASON = (
    "connectors/hubspot/_pull.py:170 reads deletions only from ?archived=true, and a contact "
    "deleted through HubSpot's GDPR delete (POST /crm/v3/objects/contacts/gdpr-delete, or 'permanently "
    "delete' in HubSpot's privacy tools) is removed at once, never archived: her HubSpot record, "
    "email and name stay in the profile and are pushed on to the other tools for ever. Fix idea: a "
    "full refresh retires the stored HubSpot records it did not list (the walk holds every contact "
    "id), or a periodic id check of stored records (GET /contacts/<id> answers 404 for one deleted "
    "permanently), reported as retirements"
)


def test_a_contact_deleted_at_hubspot_under_gdpr_leaves_the_store() -> None:
    sandbox, connector = tool("hubspot", people=8)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        # GIVEN a synced HubSpot account
        _sync(connector, store, state)
        gone, _ = _two_contacts(sandbox)
        with sandbox.lock:
            email = sandbox._contacts[gone].email()
        assert email in _emails(store)
        # AND one contact deleted at HubSpot with its GDPR delete (the person asked HubSpot)
        with httpx.Client(
            transport=sandbox.transport(),
            base_url="https://api.hubapi.com",
            headers={"Authorization": f"Bearer {sandbox.token}"},
        ) as client:
            answer = client.post("/crm/v3/objects/contacts/gdpr-delete", json={"objectId": gone})
        assert answer.status_code == 204
        # WHEN it is synced, incrementally and then with a full refresh
        _sync(connector, store, state)
        _sync(connector, store, state, cursor=None)
    finally:
        connector.close()
    # THEN the store holds what HubSpot holds, and nothing of her
    assert set(_held(store)) == {f"hubspot:{k}" for k in sandbox.record_keys()}
    assert email not in _emails(store)
