"""push30: a push reads its profiles' identifiers against suppression once, shared by every
destination, and is no less safe for it.

Before, each push read every profile's identifiers (four hashes an address) once before the push,
and again for each batch of each destination, before it was sent and before its states were
written: the demo's push phase spent about 40% of its CPU in those reads. core.push_suppression
keeps one answer and reuses it while the store's erasure epoch has not moved.

What must hold whatever the order: a person whose identifier is suppressed after the push read its
answer is not sent to any destination from then on (here the erasure lands at every point of a push
to two destinations, batch by batch), and her push state is not written after her suppression.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws

from connectors.hubspot import HubSpotConnector
from core.connector import Payload, PushOutcome
from core.pipeline import IngestSettings, ingest
from core.push_suppression import PushSuppression
from core.schema import Profile
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry, keyed_hash
from core.sync import push_profiles
from core.testing.records import make_record
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table
from tests.unit.connectors.hubspot.conftest import connect, fast_sandbox

SALT = "push30-salt"
PEOPLE = [f"buyer{n}@example.com" for n in range(4)]
DESTINATIONS = 2


class CountingStore(InMemorySuppressionStore):
    """The in-memory suppression store, counting its reads and the hashes they named."""

    def __init__(self, profiles: InMemoryProfileStore) -> None:
        super().__init__(profiles)
        self.reads = 0
        self.hashes = 0

    def suppressed(self, hashes: Sequence[str]) -> set[str]:
        self.reads += 1
        self.hashes += len(hashes)
        return super().suppressed(hashes)


class Tool:
    """HubSpot's connector (its sandbox in-process), one person a batch, recording what it sent and
    calling ``before`` ahead of each batch with the destination's number and the batch's number."""

    def __init__(self, number: int, before: Callable[[int, int], None]) -> None:
        self.sandbox = fast_sandbox(people=5)
        self.inner: HubSpotConnector = connect(self.sandbox)
        self.spec = dataclasses.replace(self.inner.spec, push_batch_size=1)
        self.number = number
        self.before = before
        self.sent: list[tuple[int, str, tuple[int, int]]] = []
        """(1 when sent after her suppression landed, else 0; the address; the destination and batch)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        batch = len(self.sent)
        self.before(self.number, batch)
        self.sent += [(STEP[0], p.match_key, (self.number, batch)) for p in payloads]
        return self.inner.push(payloads)


STEP = [0]
"""How many suppressions the push has seen land so far (the order an address was sent in)."""


def world() -> tuple[CountingStore, list[Profile]]:
    store = InMemoryProfileStore()
    records = [
        make_record("shop", f"s{n}", email=e, traits={"first_name": f"B{n}"}) for n, e in enumerate(PEOPLE)
    ]
    ingest(records, store, IngestSettings(sleep=lambda _: None))
    return CountingStore(store), sorted(store.iter_profiles(), key=lambda p: p.customer_id)


def suppress(store: CountingStore, email: str) -> None:
    """Her erasure's first step: the suppression entry of her address (the epoch bumped with it)."""
    entry = SuppressionEntry(keyed_hash(SALT, f"email#{email}"), "email", f"erase-{email}", datetime.now(UTC))
    store.suppress([entry])


def push_everywhere(
    check: SuppressionCheck, profiles: list[Profile], before: Callable[[int, int], None]
) -> tuple[list[Tool], list[InMemorySyncStateStore], set[str]]:
    """As the push function does: one shared answer, the blocked left out, each destination pushed."""
    shared = PushSuppression(check)
    blocked = shared.blocked(profiles)
    profiles = [p for p in profiles if p.customer_id not in blocked]
    tools = [Tool(n, before) for n in range(DESTINATIONS)]
    states = [InMemorySyncStateStore() for _ in tools]
    try:
        for tool, state in zip(tools, states, strict=True):
            push_profiles(tool, profiles, state, suppression=shared)  # type: ignore[arg-type]
    finally:
        for tool in tools:
            tool.inner.close()
    return tools, states, blocked


def test_a_push_to_two_destinations_reads_suppression_once() -> None:
    # GIVEN four people, and a push to two destinations, one person a batch
    store, profiles = world()
    check = SuppressionCheck(store, SALT)
    # WHEN they are pushed with nobody erased
    tools, _, _ = push_everywhere(check, profiles, lambda _d, _b: None)
    # THEN everyone reached both tools, and the suppression was read once, for four addresses' hashes
    assert all(sorted(e for _, e, _ in t.sent) == PEOPLE for t in tools)
    # (before: 1, then per destination and batch one before the send and one before the write: 17)
    assert store.reads == 1
    assert store.hashes <= 4 * len(PEOPLE)


#: Every point of the push at which her suppression may land: before destination d's batch b.
POINTS = [(d, b) for d in range(DESTINATIONS) for b in range(len(PEOPLE))]


@pytest.mark.parametrize(("victim", "point"), [(v, p) for v in (0, 2, 3) for p in POINTS])
def test_a_person_suppressed_at_any_point_is_sent_nowhere_after(victim: int, point: tuple[int, int]) -> None:
    # GIVEN four people and a push to two destinations, one person a batch
    store, profiles = world()
    check = SuppressionCheck(store, SALT)
    email = PEOPLE[victim]
    STEP[0] = 0

    def before(destination: int, batch: int) -> None:
        if (destination, batch) == point:  # WHEN she is suppressed just before this batch goes
            suppress(store, email)
            STEP[0] = 1

    tools, states, _ = push_everywhere(check, profiles, before)
    # THEN nothing of hers went to any tool after her suppression, but the batch already checked and
    # on its way when it landed (the window of today's per-batch check, which does not grow)
    late = [at for t in tools for s, e, at in t.sent if e == email and s == 1]
    assert late in ([], [point])
    # AND everyone else reached both tools
    for tool in tools:
        assert {e for _, e, _ in tool.sent if e != email} == set(PEOPLE) - {email}
    # AND a destination recorded her push only when it was sent before her suppression
    her = next(p.customer_id for p in profiles if any(i.key == f"email#{email}" for i in p.identifiers))
    for tool, state in zip(tools, states, strict=True):
        recorded = her in state.get_pushed("hubspot", [her])
        assert recorded == any(e == email and s == 0 for s, e, _ in tool.sent), (tool.number, recorded)
    # AND the suppression was read twice: once for the push, once for all of it after the epoch moved
    assert store.reads == 2


def test_an_answer_read_at_an_epoch_that_moved_is_read_again() -> None:
    # GIVEN an answer read for everyone
    store, profiles = world()
    shared = PushSuppression(SuppressionCheck(store, SALT))
    assert shared.blocked(profiles) == set()
    assert shared.blocked(profiles) == set()  # reused at the same epoch
    assert store.reads == 1
    # WHEN one of them is suppressed (the epoch moves with it)
    suppress(store, PEOPLE[1])
    # THEN the next check reads again and finds her
    her = {p.customer_id for p in profiles if any(i.key == f"email#{PEOPLE[1]}" for i in p.identifiers)}
    assert shared.blocked(profiles) == her
    assert store.reads == 2


def test_a_store_without_an_epoch_is_read_at_every_check() -> None:
    # GIVEN a suppression store that keeps no erasure epoch (a store of another implementation)
    store, profiles = world()

    class NoEpoch:
        def __init__(self) -> None:
            self.reads = 0

        def suppressed(self, hashes: Sequence[str]) -> set[str]:
            self.reads += 1
            return store.suppressed(hashes)

    bare = NoEpoch()
    shared = PushSuppression(SuppressionCheck(bare, SALT))  # type: ignore[arg-type]
    shared.blocked(profiles)
    suppress(store, PEOPLE[0])
    # THEN each check reads it (nothing tells the answer is stale), and the suppression is seen
    assert len(shared.blocked(profiles)) == 1
    assert bare.reads == 2


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    model_aws_semantics()
    with mock_aws():
        made = dynamodb_client()
        create_table(made, "push30")
        yield made


def test_a_look_made_while_an_erasures_entries_are_written_is_not_reused(dynamodb: Any) -> None:
    # GIVEN the DynamoDB suppression store, whose erasure writes its entries with a bump of the epoch
    # in one TransactWriteItems (left31: it bumped, wrote them by BatchWriteItem, and bumped again),
    # and a push's shared answer over it
    store = DynamoDBSuppressionStore(dynamodb, "push30")
    _, profiles = world()
    shared = PushSuppression(SuppressionCheck(store, SALT))
    looked: list[set[str]] = []

    def look(**_: Any) -> None:
        if not looked:  # the push looks while the erasure runs, just before its entries land
            looked.append(shared.blocked(profiles))

    dynamodb.meta.events.register("before-call.dynamodb.TransactWriteItems", look)
    # WHEN a person is suppressed meanwhile
    entry = SuppressionEntry(keyed_hash(SALT, f"email#{PEOPLE[1]}"), "email", "erase-1", datetime.now(UTC))
    store.suppress([entry])
    dynamodb.meta.events.unregister("before-call.dynamodb.TransactWriteItems", look)
    # THEN that look missed her, and the next check (before the erasure asks any tool) finds her:
    # the epoch moved with her entries (push30: before, only before them, and the stale answer was
    # reused until the erasure's next step)
    assert looked == [set()]
    her = {p.customer_id for p in profiles if any(i.key == f"email#{PEOPLE[1]}" for i in p.identifiers)}
    assert shared.blocked(profiles) == her
