"""attack15: a Mailchimp member deleted permanently at Mailchimp, then synced.

Mailchimp's "Delete list member" (``POST /lists/{list_id}/members/{subscriber_hash}/actions/
delete-permanent``) "Delete permanently a list member"; it is what the audience page's "Permanently
delete" and a GDPR request handled in Mailchimp do, and the member is then gone: no status
``archived`` left to list (``GET /lists/{list_id}/members/{hash}`` answers 404), while an archived
member (``DELETE .../members/{hash}``) stays listed as ``archived``, which the connector reads as a
deletion. The connector's deletions row (docs/architecture.md, "Records deleted at the vendor")
names only the archived member.

Promise: what profilesync holds of Mailchimp is what Mailchimp holds: after a permanent delete, her
member record and its address leave the profile (after a full refresh at the latest).
"""

from __future__ import annotations

import httpx

from connectors.mailchimp import MailchimpSandbox
from core.normalise import normalise_email
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS, _held
from tests.integration.test_attack13_hostile_values_on_the_wire import tool

REASON = (
    "connectors/mailchimp/_mapping.py:119 reads a deletion only from status archived, and a full "
    "refresh (core/sync.py pull_into_store, cursor=None) never retires a stored record it did not "
    "list: a member deleted permanently at Mailchimp (delete-permanent, its GDPR delete) keeps her "
    "record, address and name in the profile for ever, pushed on to the other tools. Fix idea: a "
    "full refresh retires the stored records of its connector it did not list (it walks every "
    "member), as tombstones dated at the walk's start"
)


def test_a_member_deleted_permanently_at_mailchimp_leaves_the_store() -> None:
    sandbox, connector = tool("mailchimp", people=8)
    assert isinstance(sandbox, MailchimpSandbox)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    try:
        # GIVEN a synced audience
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        with sandbox.lock:
            member = next(m for m in sandbox.members.values() if m["status"] == "subscribed")
        email = normalise_email(member["email_address"])
        assert f"mailchimp:member:{member['contact_id']}" in _held(store)
        assert any(i.value == email for p in store.iter_profiles() for i in p.identifiers)
        # AND one member deleted permanently at Mailchimp
        with httpx.Client(
            transport=sandbox.transport(),
            base_url=f"https://{sandbox.dc}.api.mailchimp.com/3.0",
            auth=("anystring", sandbox.token),
        ) as client:
            path = f"/lists/{sandbox.list_id}/members/{member['id']}/actions/delete-permanent"
            answer = client.post(path)
        assert answer.status_code == 204, answer.text
        # WHEN it is synced, incrementally and then with a full refresh
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        pull_into_store(connector, store, state, cursor=None, settings=SETTINGS, erasure=erasure)
    finally:
        connector.close()
    # THEN the store holds what Mailchimp holds, and nothing of her
    assert set(_held(store)) == {f"mailchimp:{k}" for k in sandbox.record_keys()}
    assert not any(i.value == email for p in store.iter_profiles() for i in p.identifiers)
