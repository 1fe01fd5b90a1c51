"""A refusal for good (``PushOutcome.refused``) is kept alike by the three sync-state stores: the
person is reported once, skipped while her address stays, sent when it changes (the Mailchimp
sandbox refuses UTF-8 in an address's prefix, as Mailchimp does)."""

from __future__ import annotations

import pytest

from connectors.mailchimp import make_sandbox, subscriber_hash
from core.push_policy import refused
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import push_profiles
from tests.unit.connectors.mailchimp.conftest import connect
from tests.unit.connectors.mailchimp.test_push_erased_meanwhile import OK, World, pushed_while_erased
from tests.unit.connectors.mailchimp.test_push_refused_address import REFUSED, _person

from .conftest import StoreKit


def test_a_refusal_is_kept_alike_on_every_store(kit: StoreKit) -> None:
    sandbox = make_sandbox(people=0, seed=3)
    with connect(sandbox) as connector:
        first = push_profiles(connector, [_person(REFUSED)], kit.sync_state, mode="upsert")
        (mark,) = kit.sync_state.get_pushed("mailchimp", ["cust-refused"]).values()
        assert refused(mark)
        assert mark.remote_id is None
        again = push_profiles(connector, [_person(REFUSED)], kit.sync_state, mode="upsert")
        moved = push_profiles(connector, [_person("new1@example.com")], kit.sync_state, mode="upsert")
    assert (len(first.refused), first.failed) == (1, [])
    assert (again.refused, again.skipped_refused, again.sent) == ([], 1, 0)
    assert (moved.pushed, moved.skipped_refused) == (1, 0)
    assert subscriber_hash("new1@example.com") in sandbox.members
    (pushed,) = kit.sync_state.get_pushed("mailchimp", ["cust-refused"]).values()
    assert not refused(pushed)
    assert pushed.remote_id == subscriber_hash("new1@example.com")


@pytest.mark.parametrize(("email", "outcome"), [(REFUSED, "refused"), (OK, "pushed")])
def test_a_person_erased_while_her_batch_was_sent_leaves_no_pushed_item_on_every_store(
    kit: StoreKit, email: str, outcome: str
) -> None:
    # (red before on each store: the PUSHED# item written after her erasure outlived her)
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    assert kit.suppression is not None
    pushed_while_erased(World(email, (kit.profiles, kit.sync_state, erasure, kit.suppression)), outcome)
