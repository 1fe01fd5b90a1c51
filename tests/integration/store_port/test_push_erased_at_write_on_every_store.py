"""A person erased between the push's last look at suppression and its write of her ``PUSHED#``
item leaves none, on every store.

The push looks at suppression again just before it records what it pushed (fixB22), but the write
itself was unconditional: an erasure finishing between that look and the write (it deletes her
``PUSHED#`` items, her profile, everything) was followed by the write, and the item outlived her,
with Mailchimp's remote id, the MD5 of her address, or a refusal mark keyed on it. The write is now
conditional on the store's erasure epoch (core.erasure_epoch) being the one read before that look.
"""

from __future__ import annotations

import pytest

from connectors.mailchimp import make_sandbox
from core.storage.memory_privacy import InMemoryErasureStore
from tests.interleave import after_call
from tests.unit.connectors.mailchimp.conftest import connect
from tests.unit.connectors.mailchimp.test_push_erased_meanwhile import OK, World
from tests.unit.connectors.mailchimp.test_push_refused_address import REFUSED

from .conftest import StoreKit


@pytest.mark.parametrize(("email", "outcome"), [(REFUSED, "refused"), (OK, "pushed")])
def test_her_erasure_between_the_last_suppression_look_and_the_write_leaves_no_pushed_item(
    kit: StoreKit, email: str, outcome: str
) -> None:
    # GIVEN her profile, pushed to the Mailchimp sandbox
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    assert kit.suppression is not None
    world = World(email, (kit.profiles, kit.sync_state, erasure, kit.suppression))
    # WHEN her erasure runs right after the push's last look before the write: its read of the erasure
    # epoch, which finds the epoch of its one read of suppression (before the batch was sent) and
    # reuses that answer (core.push_suppression; before push30, a second read of suppression)
    looks = ("erasure_epoch", "suppressed")
    hook = after_call(kit.suppression, 3, world.erase, names=looks)
    with connect(make_sandbox(people=0, seed=3)) as connector, hook as made:
        report = world.push(connector)
    # THEN the push was made and reported, her profile is gone, and no PUSHED# item of hers is left
    assert made[:3] == ["erasure_epoch", "suppressed", "erasure_epoch"]
    assert (len(report.refused), report.pushed) == ((1, 0) if outcome == "refused" else (0, 1))
    assert world.profile.customer_id not in {p.customer_id for p in world.store.iter_profiles()}
    # red before on each store: the item written after her erasure (MD5 of her address) outlived her
    assert world.pushed() == {}


def test_a_push_with_no_erasure_meanwhile_records_its_state_once(kit: StoreKit) -> None:
    # GIVEN her profile; WHEN it is pushed with nobody erased
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    assert kit.suppression is not None
    world = World(OK, (kit.profiles, kit.sync_state, erasure, kit.suppression))
    hook = after_call(kit.suppression, None, lambda: None, names=("erasure_epoch", "suppressed"))
    with connect(make_sandbox(people=0, seed=3)) as connector, hook as made:
        report = world.push(connector)
    # THEN her state is recorded, after one read of suppression and two of the epoch (before the
    # send and before the write; no retry of the write)
    assert report.pushed == 1
    assert set(world.pushed()) == {world.profile.customer_id}
    assert made == ["erasure_epoch", "suppressed", "erasure_epoch"]
