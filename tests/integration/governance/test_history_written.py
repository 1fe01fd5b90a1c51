"""The history every change writes, on the three stores: a record's arrival or change in the change's
own transaction (once, however often the batch is replayed), a merge on the survivor (which inherits
the absorbed customer's events), a split on both customers, and a split from a merge's history event
that restores both customers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from core.governance.changes import survivor_of_merge_event
from core.governance.errors import SplitRefusedError
from core.governance.history import HistoryEvent
from core.governance.unmerge import split_from_event
from core.identity import customer_id_for
from core.pipeline import IngestSettings, ingest
from core.ports import CustomerState
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.records import make_record
from tests.integration.governance.conftest import Stores


def ticking() -> Callable[[], datetime]:
    """A clock one second further on each call: events in the order they were planned."""
    ticks = count()
    start = datetime(2026, 3, 1, tzinfo=UTC)
    return lambda: start + timedelta(seconds=next(ticks))


CLOCK = ticking()


def settings(actor: str = "run:crm:r1", clock: Callable[[], datetime] = CLOCK) -> IngestSettings:
    return IngestSettings(sleep=lambda _: None, actor=actor, clock=clock)


def events_of(stores: Stores, customer_id: str) -> list[HistoryEvent]:
    """The whole history, newest first, through the pages."""
    out: list[HistoryEvent] = []
    after: str | None = None
    while True:
        page = stores.history.list_history(customer_id, limit=2, after=after)
        out.extend(page.events)
        if page.next is None:
            return out
        after = page.next


def customer(stores: Stores, customer_id: str) -> CustomerState:
    return stores.profiles.get_customers([customer_id])[customer_id]


def profile_json(state: CustomerState) -> str:
    """The profile as stored, but for its version (a write counter, which only goes forward)."""
    assert state.profile is not None
    return state.profile.model_dump_json(exclude={"version"})


def two_people() -> tuple[SourceRecord, SourceRecord, str, str]:
    """Ann in the CRM and Bob in the shop, and which of their customers survives a merge of them."""
    ann = make_record("crm", "1", email="ann@example.com", phone="+442079460018", traits={"first_name": "A"})
    bob = make_record("shop", "2", email="bob@example.com", traits={"first_name": "Bob"})
    survivor, absorbed = sorted((customer_id_for(ann.key), customer_id_for(bob.key)))
    return ann, bob, survivor, absorbed


def joining(record: SourceRecord, email: str) -> SourceRecord:
    """``record`` a day later, holding ``email`` too: the update that merges two customers."""
    emails = [i.value for i in record.identifiers if i.kind == "email"] + [email]
    phones = [i.value for i in record.identifiers if i.kind == "phone"]
    source, _, source_id = record.key.partition(":contact:")
    return make_record(source, source_id, email=emails, phone=phones, day=1, traits=dict(record.traits))


def test_a_record_appends_its_arrival_and_its_changes_once_each(stores: Stores) -> None:
    # GIVEN a record ingested, then the same batch replayed
    ann = make_record("crm", "1", email="ann@example.com")
    cid = customer_id_for(ann.key)
    ingest([ann], stores.profiles, settings())
    ingest([ann], stores.profiles, settings())
    # THEN one arrival, by the run that brought it
    [arrived] = events_of(stores, cid)
    assert (arrived.kind, arrived.source_keys, arrived.actor) == ("source_arrived", (ann.key,), "run:crm:r1")
    # WHEN the record changes in its tool, and that change is replayed too
    renamed = make_record("crm", "1", email="ann@example.com", traits={"first_name": "Ann"}, day=1)
    later = settings(actor="run:crm:r2", clock=lambda: datetime(2026, 3, 2, tzinfo=UTC))
    ingest([renamed], stores.profiles, later)
    ingest([renamed], stores.profiles, later)
    # THEN one change event on top, naming its run
    assert [(e.kind, e.actor) for e in events_of(stores, cid)] == [
        ("source_changed", "run:crm:r2"),
        ("source_arrived", "run:crm:r1"),
    ]


def test_a_merge_is_an_event_on_the_survivor_which_inherits_the_absorbed_history(stores: Stores) -> None:
    # GIVEN Ann and Bob apart, then a record from a third tool holding both their emails
    ann, bob, survivor, absorbed = two_people()
    ingest([ann, bob], stores.profiles, settings())
    bridge = make_record("web", "3", email=["ann@example.com", "bob@example.com"], day=1)
    clock = ticking()
    ingest([bridge], stores.profiles, settings("run:web:r9", clock))
    events = events_of(stores, survivor)
    # THEN the survivor's history says who it absorbed, with which records, joined by what
    [merge] = [e for e in events if e.kind == "merge"]
    absorbed_record = ann.key if customer_id_for(ann.key) == absorbed else bob.key
    assert merge.customers == (absorbed,)
    assert merge.source_keys == (absorbed_record,)
    assert set(merge.identifiers) == {"email#ann@example.com", "email#bob@example.com"}
    assert merge.actor == "run:web:r9"
    assert "example.com" not in merge.reason
    assert merge.reason == "joined by a shared email"
    assert survivor_of_merge_event(merge.event_id) == survivor
    # AND the bridge's arrival, and a copy of the absorbed customer's own history
    [arrival] = [e for e in events if e.source_keys == (bridge.key,)]
    assert arrival.kind == "source_arrived"
    [copied] = [e for e in events if e.inherited_from == absorbed]
    assert (copied.kind, copied.source_keys) == ("source_arrived", (absorbed_record,))
    # WHEN the same batch is replayed THEN nothing is appended
    ingest([bridge], stores.profiles, settings("run:web:r10", clock))
    assert events_of(stores, survivor) == events


def test_a_split_by_ingest_is_an_event_on_both_customers(stores: Stores) -> None:
    # GIVEN two records joined by one inbox, then one of them leaves it
    first = make_record("crm", "1", email="family@example.com")
    second = make_record("shop", "2", email="family@example.com")
    ingest([first, second], stores.profiles, settings())
    cid = customer_id_for(first.key)
    moved = make_record("shop", "2", email="bob@example.com", day=1)
    ingest([moved], stores.profiles, settings("run:shop:r2"))
    # THEN the customer's history says which records left for which new customer, and why
    [split] = [e for e in events_of(stores, cid) if e.kind == "split"]
    (new_id,) = split.customers
    assert split.source_keys == (moved.key,)
    assert split.actor == "run:shop:r2"
    assert set(customer(stores, new_id).snapshots) == {moved.key}
    [other] = [e for e in events_of(stores, new_id) if e.kind == "split"]
    assert (other.customers, other.source_keys) == ((cid,), (moved.key,))


def test_a_split_from_the_merge_event_restores_both_customers(stores: Stores) -> None:
    # GIVEN Ann and Bob apart, as stored
    ann, bob, survivor, absorbed = two_people()
    ingest([ann, bob], stores.profiles, settings())
    before = customer(stores, absorbed)
    records = {customer_id_for(ann.key): ann, customer_id_for(bob.key): bob}
    # WHEN the survivor's record takes the absorbed one's email (the accidental merge)
    absorbed_email = next(i.value for i in records[absorbed].identifiers if i.kind == "email")
    update = joining(records[survivor], absorbed_email)
    ingest([update], stores.profiles, settings())
    assert customer(stores, absorbed).merged_into == survivor
    [merge] = [e for e in events_of(stores, survivor) if e.kind == "merge"]
    # AND it is split from its history event
    outcome = split_from_event(stores.profiles, stores.history, merge.event_id, actor="cli:dpo")
    # THEN the absorbed customer is back under its own id, exactly as it was
    assert (outcome.survivor, outcome.restored) == (survivor, absorbed)
    assert outcome.moved == (records[absorbed].key,)
    restored = customer(stores, absorbed)
    assert restored.merged_into is None
    assert restored.snapshots == before.snapshots
    assert profile_json(restored) == profile_json(before)
    assert restored.owned == before.owned  # the email that joined them too, which it owned before
    # AND the survivor is what its own records resolve to on their own (here: in a fresh store)
    fresh = InMemoryProfileStore()
    ingest([update], fresh, settings())
    alone = fresh.get_customers([survivor])[survivor]
    kept = customer(stores, survivor)
    assert kept.snapshots == alone.snapshots
    assert profile_json(kept) == profile_json(alone)
    # AND the identifiers only the absorbed records hold are the restored customer's again
    owners = stores.profiles.get_owners([f"source#{records[absorbed].key}", f"email#{absorbed_email}"])
    assert owners[f"source#{records[absorbed].key}"].customer_id == absorbed
    assert owners[f"email#{absorbed_email}"].customer_id == absorbed  # a lookup finds whom it found
    # AND both histories say who split them, and by which identifiers they had been joined
    for cid, other in ((survivor, absorbed), (absorbed, survivor)):
        [split] = [e for e in events_of(stores, cid) if e.kind == "split"]
        assert (split.actor, split.customers, split.identifiers) == ("cli:dpo", (other,), merge.identifiers)
    # WHEN split again from the same event THEN nothing changes
    again = split_from_event(stores.profiles, stores.history, merge.event_id, actor="cli:dpo")
    assert again.already_split
    assert customer(stores, absorbed).version == restored.version


def test_after_a_split_from_the_event_only_a_change_to_the_joining_record_joins_them_again(
    stores: Stores,
) -> None:
    # GIVEN an accidental merge (the survivor's record took the other's email), split from its event
    ann, bob, survivor, absorbed = two_people()
    ingest([ann, bob], stores.profiles, settings())
    records = {customer_id_for(ann.key): ann, customer_id_for(bob.key): bob}
    absorbed_email = next(i.value for i in records[absorbed].identifiers if i.kind == "email")
    update = joining(records[survivor], absorbed_email)
    ingest([update], stores.profiles, settings())
    [merge] = [e for e in events_of(stores, survivor) if e.kind == "merge"]
    split_from_event(stores.profiles, stores.history, merge.event_id, actor="cli:dpo")
    # WHEN the restored person's own record changes
    source, _, source_id = records[absorbed].key.partition(":contact:")
    changed = make_record(source, source_id, email=absorbed_email, traits={"first_name": "Robert"}, day=2)
    ingest([changed], stores.profiles, settings("run:shop:r3"))
    # THEN the split holds: the email that joined them is the restored customer's again
    assert customer(stores, absorbed).merged_into is None
    # WHEN the record that joined them changes again, still holding that email
    source, _, source_id = update.key.partition(":contact:")
    again = make_record(
        source, source_id, email=[i.value for i in update.identifiers if i.kind == "email"], day=3
    )
    ingest([again], stores.profiles, settings("run:crm:r4"))
    # THEN they merge again (the documented decision: a split refuses no join for good; fix the
    # value in the tool or blocklist it), and the new merge is a new event in the survivor's history
    assert customer(stores, absorbed).merged_into == survivor
    merges = [e for e in events_of(stores, survivor) if e.kind == "merge"]
    assert len(merges) == 2
    assert merges[0].actor == "run:crm:r4"


def test_records_that_changed_go_back_and_records_that_arrived_after_the_merge_stay(stores: Stores) -> None:
    # GIVEN an accidental merge
    ann, bob, survivor, absorbed = two_people()
    ingest([ann, bob], stores.profiles, settings())
    records = {customer_id_for(ann.key): ann, customer_id_for(bob.key): bob}
    absorbed_email = next(i.value for i in records[absorbed].identifiers if i.kind == "email")
    ingest([joining(records[survivor], absorbed_email)], stores.profiles, settings())
    [merge] = [e for e in events_of(stores, survivor) if e.kind == "merge"]
    # AND, since, the absorbed person's record changed and a new record joined by their email
    source, _, source_id = records[absorbed].key.partition(":contact:")
    changed = make_record(source, source_id, email=absorbed_email, traits={"first_name": "Robert"}, day=3)
    newcomer = make_record("web", "9", email=absorbed_email, day=3)
    ingest([changed, newcomer], stores.profiles, settings())
    # WHEN split from the merge's event
    outcome = split_from_event(stores.profiles, stores.history, merge.event_id, actor="cli:dpo")
    # THEN the changed record goes back in its current version; the newcomer stays
    restored = customer(stores, absorbed)
    assert restored.snapshots == {changed.key: changed}
    assert restored.profile is not None
    assert restored.profile.traits["first_name"].value == "Robert"
    assert newcomer.key in customer(stores, survivor).snapshots
    assert outcome.missing == ()


@pytest.mark.parametrize(
    ("event_id", "expected"),
    [
        ("sourc-0123456789abcdef0123", "not a merge event's id"),
        ("merge:cus_nobody:0123456789abcdef0123", "holds no merge event"),
    ],
)
def test_a_split_from_an_id_that_names_no_merge_is_refused(
    stores: Stores, event_id: str, expected: str
) -> None:
    ann, *_ = two_people()
    ingest([ann], stores.profiles, settings())
    with pytest.raises(SplitRefusedError, match=expected):
        split_from_event(stores.profiles, stores.history, event_id, actor="cli:dpo")


def test_an_echo_in_the_batch_that_absorbs_its_customer_keeps_later_versions_stale_and_replays_silent(
    stores: Stores,
) -> None:
    # GIVEN Ann and Bob apart, each record stored as of day 0
    ann, bob, survivor, absorbed = two_people()
    ingest([ann, bob], stores.profiles, settings())
    moved, staying = (ann, bob) if customer_id_for(ann.key) == absorbed else (bob, ann)
    # WHEN one batch brings the record that merges them, and the absorbed customer's record back
    # unchanged but newer (an echo of a push: day 2), which moves to the survivor in the same change
    echo = moved.model_copy(update={"updated_at": moved.updated_at + timedelta(days=2)})
    other_email = next(i.value for i in moved.identifiers if i.kind == "email")
    batch = [joining(staying, other_email), echo]
    assert ingest(batch, stores.profiles, settings()).merged_customers == 1
    assert customer(stores, survivor).snapshots[moved.key].updated_at == moved.updated_at
    merged_events = events_of(stores, survivor)
    # THEN a version from between the snapshot and the echo (day 1), delivered late, is stale
    source, _, source_id = moved.key.partition(":contact:")
    late = make_record(source, source_id, email="late@example.com", day=1)
    assert ingest([late], stores.profiles, settings()).stale == 1
    # AND it cuts the content's run (core.content_run): the unchanged content counts from the echo
    state, events = customer(stores, survivor), events_of(stores, survivor)
    assert state.snapshots[moved.key].updated_at == echo.updated_at
    assert events == merged_events  # a re-dated snapshot appends no history event
    # AND replaying the batch changes neither the customer nor its history
    ingest(batch, stores.profiles, settings())
    assert customer(stores, survivor).snapshots == state.snapshots
    assert profile_json(customer(stores, survivor)) == profile_json(state)
    assert events_of(stores, survivor) == events
