"""Attack (attack4): an erasure handled while a push is sending its batches.

A sync (or the push function) reads the changed profiles, checks them against the suppression once,
then sends them batch after batch: a large push to a rate-limited tool takes minutes. An erasure
request handled meanwhile suppresses the person, asks every tool to delete them, and deletes their
customer; the push then reached her batch and sent her profile anyway. HubSpot (``upsert`` mode)
created her contact again, with her address, name and lifetime value: erased, and back at the tool.

Here the erasure runs inside the push of the first batch (the tool's batch size is one person, so
that she is in a later one), against HubSpot's sandbox.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.hubspot import HubSpotConnector, HubSpotSandbox
from core.connector import Payload, PushOutcome
from core.pipeline import IngestSettings, ingest
from core.privacy import erase_person, identifier_for
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore
from core.suppression import SuppressionCheck
from core.sync import push_profiles
from core.testing.records import make_record
from tests.unit.connectors.hubspot.conftest import connect, fast_sandbox

SALT = "attack4-salt"
PEOPLE = [f"buyer{n}@example.com" for n in range(4)]


class ErasingOnFirstPush:
    """HubSpot's connector, with a batch size of one, and the erasure of a person of a later batch
    handled while the first batch is sent (as a privacy request handled by another process is)."""

    def __init__(self, inner: HubSpotConnector, erase: Callable[[str], None]) -> None:
        self.inner = inner
        self.spec = dataclasses.replace(inner.spec, push_batch_size=1)
        self._erase = erase
        self.sent: list[str] = []
        self.victim = ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        if not self.sent:
            self.victim = min(set(PEOPLE) - {p.match_key for p in payloads})
            self._erase(self.victim)
        self.sent += [p.match_key for p in payloads]
        return self.inner.push(payloads)


@dataclass
class World:
    """An in-memory store with its erasure and suppression, and HubSpot's connector to its sandbox."""

    sandbox: HubSpotSandbox
    hubspot: HubSpotConnector
    store: InMemoryProfileStore = field(default_factory=InMemoryProfileStore)
    state: InMemorySyncStateStore = field(default_factory=InMemorySyncStateStore)

    def __post_init__(self) -> None:
        self.erasure = InMemoryErasureStore(self.store, self.state)
        self.suppression = InMemorySuppressionStore(self.store)
        self.check = SuppressionCheck(self.suppression, SALT)

    def erase(self, email: str) -> str:
        """Erase the person with this address everywhere, HubSpot included; the outcome."""
        return erase_person(
            identifier_for(email=email),
            profiles=self.store,
            erasure=self.erasure,
            tools={"hubspot": self.hubspot},
            salt=SALT,
            request_id=f"attack4-erase-{email}",
            sync_state=self.state,
            suppression=self.suppression,
        ).outcome


def world(people: int) -> World:
    sandbox = fast_sandbox(people=people)
    return World(sandbox, connect(sandbox))


def test_a_person_erased_while_a_push_is_sending_is_not_sent_after_her_erasure() -> None:
    # GIVEN four shop buyers HubSpot does not hold yet, resolved into profiles
    w = world(5)
    sandbox, hubspot, store, state, check = w.sandbox, w.hubspot, w.store, w.state, w.check
    records = [
        make_record("shop", f"s{n}", email=email, traits={"first_name": f"Buyer{n}"})
        for n, email in enumerate(PEOPLE)
    ]
    ingest(records, store, IngestSettings(sleep=lambda _: None, suppression=check))
    profiles = sorted(store.iter_profiles(), key=lambda p: p.customer_id)

    def erase_victim(victim: str) -> None:
        assert w.erase(victim) == "erased"

    tool = ErasingOnFirstPush(hubspot, erase_victim)
    try:
        # WHEN the profiles are pushed (upsert, HubSpot's default) and she is erased meanwhile
        report = push_profiles(tool, profiles, state, suppression=check)  # type: ignore[arg-type]
    finally:
        hubspot.close()
    # THEN nothing of hers was sent after her erasure, and HubSpot does not hold her
    assert tool.victim
    assert tool.victim not in tool.sent
    assert not sandbox.holds(tool.victim)
    # AND everybody else was pushed, and the report says one person was left out as erased
    assert sorted(tool.sent) == sorted(set(PEOPLE) - {tool.victim})
    assert all(sandbox.holds(email) for email in PEOPLE if email != tool.victim)
    assert report.suppressed == 1
    assert report.pushed == len(PEOPLE) - 1
