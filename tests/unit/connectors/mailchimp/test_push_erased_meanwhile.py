"""A person erased while her push is on the wire leaves no ``PUSHED#`` item, and a refusal mark is a
keyed hash of her address, not a bare digest anyone can reverse from a list of addresses.

revC22: the push wrote its states after the batch came back, without looking again: an erasure
handled meanwhile (it deletes her ``PUSHED#`` items) was undone by the write, leaving a refusal mark
``refused:`` + blake2b(her address), or a push's remote id, Mailchimp's MD5 of her address. The
push is made against the Mailchimp sandbox (its batch subscribe answers as Mailchimp's spec says).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.mailchimp import make_sandbox
from core.connector import Payload, PushOutcome
from core.pipeline import IngestSettings, ingest
from core.ports import PushedState
from core.privacy import erase_person, identifier_for
from core.push_policy import REFUSED_PREFIX, refusal
from core.schema import ConsentState, Profile
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore
from core.suppression import SuppressionCheck
from core.sync import push_profiles
from core.testing.records import make_record

from .conftest import connect
from .test_push_refused_address import REFUSED

SALT = "fixB22-salt"
OK = "plain.person@example.com"


class World:
    """One person in a store, her push to the Mailchimp sandbox, and her erasure (the in-memory
    stores, or one backend's: ``tests/integration/store_port``)."""

    def __init__(self, email: str, stores: tuple[Any, Any, Any, Any] | None = None) -> None:
        self.email = email
        if stores is None:
            store, state = InMemoryProfileStore(), InMemorySyncStateStore()
            stores = (store, state, InMemoryErasureStore(store, state), InMemorySuppressionStore(store))
        self.store, self.state, self.erasure, self.suppression = stores
        self.check = SuppressionCheck(self.suppression, SALT)
        consent = {"email": ConsentState(granted=True, changed_at=datetime(2026, 1, 1, tzinfo=UTC))}
        record = make_record("shop", "s1", email=email, traits={"first_name": "Jose"}, consent=consent)
        ingest([record], self.store, IngestSettings(sleep=lambda _: None, suppression=self.check))
        (self.profile,) = list(self.store.iter_profiles())

    def erase(self) -> None:
        out = erase_person(
            identifier_for(email=self.email),
            profiles=self.store,
            erasure=self.erasure,
            tools={},
            salt=SALT,
            request_id="r1",
            sync_state=self.state,
            suppression=self.suppression,
        )
        assert out.outcome == "erased", out.outcome

    def pushed(self) -> dict[str, PushedState]:
        return self.state.get_pushed("mailchimp", [self.profile.customer_id])

    def push(self, connector: Any) -> Any:
        return push_profiles(connector, [self.profile], self.state, mode="upsert", suppression=self.check)


class ErasedWhileSent:
    """The connector, with the person's erasure handled while her batch is on the wire."""

    def __init__(self, inner: Any, erase: Any) -> None:
        self.inner, self._erase, self.spec = inner, erase, inner.spec

    def from_profile(self, profile: Profile) -> Payload | None:
        return self.inner.from_profile(profile)  # type: ignore[no-any-return]

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        out: list[PushOutcome] = self.inner.push(payloads)
        self._erase()
        return out


@pytest.mark.parametrize(("email", "outcome"), [(REFUSED, "refused"), (OK, "pushed")])
def test_a_person_erased_while_her_batch_was_sent_leaves_no_pushed_item(email: str, outcome: str) -> None:
    pushed_while_erased(World(email), outcome)


def pushed_while_erased(world: World, outcome: str) -> None:
    """Her push, her erasure handled while the batch is on the wire: no ``PUSHED#`` item is left."""
    with connect(make_sandbox(people=0, seed=3)) as connector:
        report = world.push(ErasedWhileSent(connector, world.erase))
    assert world.profile.customer_id not in {p.customer_id for p in world.store.iter_profiles()}
    assert (len(report.refused), report.pushed) == ((1, 0) if outcome == "refused" else (0, 1))
    # red before: the mark (refused:blake2b of her address), or Mailchimp's MD5 of it, outlived her
    assert world.pushed() == {}


def test_a_refusal_mark_is_keyed_with_the_audit_salt_and_honoured() -> None:
    world = World(REFUSED)
    with connect(make_sandbox(people=0, seed=3)) as connector:
        first = world.push(connector)
        again = world.push(connector)
    (mark,) = (s.payload_hash for s in world.pushed().values())
    bare = hashlib.blake2b(REFUSED.encode(), digest_size=16).hexdigest()
    assert len(first.refused) == 1
    assert bare not in mark  # red before: the mark was the bare digest, reversed by hashing a list
    assert (
        mark
        == refusal(REFUSED, world.check.hash)
        != refusal(REFUSED, SuppressionCheck(world.suppression, "other").hash)
    )
    assert (again.skipped_refused, again.sent, again.calls) == (1, 0, 0)


def test_a_bare_mark_of_an_earlier_version_is_honoured_and_keyed() -> None:
    world = World(REFUSED)
    bare = REFUSED_PREFIX + hashlib.blake2b(REFUSED.encode(), digest_size=16).hexdigest()
    at = datetime(2026, 1, 2, tzinfo=UTC)
    world.state.put_pushed([PushedState(world.profile.customer_id, "mailchimp", bare, None, at)])
    with connect(make_sandbox(people=0, seed=3)) as connector:
        report = world.push(connector)
    assert (report.skipped_refused, report.sent, report.calls) == (1, 0, 0)
    (left,) = world.pushed().values()
    assert left.payload_hash == refusal(REFUSED, world.check.hash)  # red before: left bare
