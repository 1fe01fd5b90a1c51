"""The ingest use case against the in-memory store (the fake at the storage port)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.identity import IdentityPolicy, customer_id_for
from core.merge_steps import complete_merge
from core.pipeline import IngestSettings, ResolutionGaveUpError, ingest
from core.ports import Changeset, CustomerState, Ownership
from core.schema import Profile, SourceRecord
from core.split import _hold_together, record_groups, split_customer
from core.storage.memory import InMemoryProfileStore
from core.testing.invariants import store_problems
from tests.conftest import make_record

NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _profiles(store: InMemoryProfileStore) -> list[Profile]:
    return list(store.iter_profiles())


def _assert_consistent(store: InMemoryProfileStore) -> None:
    assert store_problems(_profiles(store), store.ident_owners()) == []


def test_new_attach_merge_and_counts() -> None:
    store = InMemoryProfileStore()
    r1 = ingest([make_record("crm", "1", email="ann@example.com")], store, NO_SLEEP)
    assert (r1.new_customers, r1.written) == (1, 1)
    r2 = ingest([make_record("shop", "1", email="ann@example.com", phone="+442079460018")], store, NO_SLEEP)
    assert (r2.attached, r2.new_customers) == (1, 0)
    ingest([make_record("email", "1", email="bob@example.com")], store, NO_SLEEP)
    assert len(_profiles(store)) == 2
    # a record carrying Bob's email and Ann's phone merges the two customers
    r4 = ingest([make_record("crm", "2", email="bob@example.com", phone="+442079460018")], store, NO_SLEEP)
    assert r4.merged_customers == 1
    [profile] = _profiles(store)
    assert {s.key for s in profile.sources} == {
        "crm:contact:1",
        "shop:contact:1",
        "email:contact:1",
        "crm:contact:2",
    }
    _assert_consistent(store)


def test_unchanged_record_writes_nothing_and_stale_version_is_ignored() -> None:
    store = InMemoryProfileStore()
    ingest([make_record("crm", "1", email="ann@example.com", day=5)], store, NO_SLEEP)
    writes = store.writes
    again = ingest([make_record("crm", "1", email="ann@example.com", day=5)] * 3, store, NO_SLEEP)
    assert again.unchanged == 3
    assert again.written == 0
    assert store.writes == writes
    older = ingest([make_record("crm", "1", email="old@example.com", day=1)], store, NO_SLEEP)
    assert older.stale == 1
    # the older content is kept on the identifier item (its content run's ``T_other``: a copy of
    # the current content older than it would not count): one write, the first time only
    assert store.writes == writes + 1
    assert ingest([make_record("crm", "1", email="old@example.com", day=1)], store, NO_SLEEP).stale == 1
    assert store.writes == writes + 1
    [profile] = _profiles(store)
    assert "email#ann@example.com" in {i.key for i in profile.identifiers}


def test_an_echo_with_only_a_newer_timestamp_changes_no_profile_but_still_makes_older_versions_stale() -> (
    None
):
    # GIVEN Ann's CRM record, first as A (day 1), and her shop record
    store = InMemoryProfileStore()
    ann_a = make_record("crm", "1", email="ann@example.com", traits={"city": "Leeds"}, day=1)
    ingest(
        [ann_a, make_record("shop", "1", email="ann@example.com", traits={"city": "York"}, day=2)],
        store,
        NO_SLEEP,
    )
    [before] = _profiles(store)
    writes = store.writes
    # WHEN the CRM sends A back with a newer modification time only (the echo of a push)
    echo = ingest(
        [make_record("crm", "1", email="ann@example.com", traits={"city": "Leeds"}, day=5)], store, NO_SLEEP
    )
    # THEN it counts as unchanged, moves only the staleness watermark (one write), and the profile is
    # untouched: the shop's newer city still wins, the CRM record keeps its content's time
    assert (echo.unchanged, echo.touched, echo.written) == (1, 1, 0)
    assert store.writes == writes + 1
    [after] = _profiles(store)
    assert after == before
    assert after.traits["city"].value == "York"
    # AND the same echo again writes nothing at all
    again = ingest(
        [make_record("crm", "1", email="ann@example.com", traits={"city": "Leeds"}, day=5)], store, NO_SLEEP
    )
    assert (again.unchanged, again.touched) == (1, 0)
    assert store.writes == writes + 1
    # AND a version older than the echo (day 3, say delivered late) is stale, not stored: but it
    # says the CRM's city was Hull on day 3, so Leeds on day 5 was a change back, which beats the
    # shop's day 2 (as the three CRM versions one by one in time order would have it)
    late = ingest(
        [make_record("crm", "1", email="ann@example.com", traits={"city": "Hull"}, day=3)], store, NO_SLEEP
    )
    assert (late.stale, late.written) == (1, 0)
    [redated] = _profiles(store)
    assert redated.traits["city"].value == "Leeds"
    assert redated.traits["city"].updated_at == make_record("x", "x", day=5).updated_at
    # AND a real change after the echo is written and wins as the newest
    ingest(
        [make_record("crm", "1", email="ann@example.com", traits={"city": "Bath"}, day=6)], store, NO_SLEEP
    )
    [changed] = _profiles(store)
    assert changed.traits["city"].value == "Bath"
    _assert_consistent(store)


def test_a_merge_keeps_the_watermark_an_echo_moved_so_older_versions_stay_stale() -> None:
    # GIVEN two customers, Ann in the CRM and Bo in the shop, each record echoed back later (day 5)
    store = InMemoryProfileStore()
    crm = make_record("crm", "1", email="ann@example.com", traits={"city": "Leeds"}, day=1)
    shop = make_record("shop", "1", email="bo@example.com", traits={"city": "York"}, day=1)
    ingest([crm, shop], store, NO_SLEEP)
    echoes = [r.model_copy(update={"updated_at": r.updated_at + timedelta(days=4)}) for r in (crm, shop)]
    assert ingest(echoes, store, NO_SLEEP).touched == 2
    # WHEN a third record carries both emails, so the two customers merge (one of them moves)
    bridge = make_record("hub", "1", email=["ann@example.com", "bo@example.com"], day=6)
    assert ingest([bridge], store, NO_SLEEP).merged_customers == 1
    # THEN both source identifiers still hold the echo's time, not the snapshot's older one
    idents = store.ident_items()
    for record, echo in zip((crm, shop), echoes, strict=True):
        assert idents[f"source#{record.key}"].updated_at == echo.updated_at
    # AND a version from before the echo (day 3), delivered late, is still stale for either record
    late = [
        make_record("crm", "1", email="ann@example.com", traits={"city": "Hull"}, day=3),
        make_record("shop", "1", email="bo@example.com", traits={"city": "Bath"}, day=3),
    ]
    assert ingest(late, store, NO_SLEEP).stale == 2
    [profile] = _profiles(store)
    assert {profile.traits["city"].value} <= {"Leeds", "York"}
    _assert_consistent(store)


def test_an_update_that_removes_the_shared_identifier_splits_the_customer() -> None:
    # GIVEN Ann and Bo merged by a family inbox each of their records carries
    store = InMemoryProfileStore()
    ann = make_record("crm", "1", email=["ann@example.com", "family@example.com"], traits={"city": "Leeds"})
    bo = make_record("shop", "1", email=["bo@example.com", "family@example.com"], traits={"city": "York"})
    ingest([ann, bo], store, NO_SLEEP)
    [merged] = _profiles(store)
    # WHEN Ann's record is updated to her own address only
    ann_now = make_record("crm", "1", email="ann@example.com", traits={"city": "Leeds"}, day=2)
    result = ingest([ann_now], store, NO_SLEEP)
    # THEN the customer is split in two, as the current records resolve from scratch
    assert (result.written, result.split_customers, result.unsplit) == (1, 1, [])
    fresh = InMemoryProfileStore()
    ingest([ann_now, bo], fresh, NO_SLEEP)
    assert _shape(store) == _shape(fresh)
    by_source = {p.sources[0].source: p for p in _profiles(store)}
    assert by_source["crm"].customer_id == merged.customer_id == customer_id_for(ann.key)
    assert by_source["shop"].customer_id == customer_id_for(bo.key)
    owners = store.ident_owners()
    assert (
        owners["email#family@example.com"]
        == owners["email#bo@example.com"]
        != owners["email#ann@example.com"]
    )
    _assert_consistent(store)
    # AND the same update again changes nothing
    again = ingest([ann_now], store, NO_SLEEP)
    assert (again.unchanged, again.split_customers) == (1, 0)


def test_split_customer_unmerges_what_a_new_blocklist_entry_no_longer_joins() -> None:
    store = InMemoryProfileStore()
    ann = make_record("crm", "1", email=["ann@example.com", "family@example.com"])
    bo = make_record("shop", "1", email=["bo@example.com", "family@example.com"])
    cy = make_record("email", "1", email=["cy@example.com", "family@example.com"])
    ingest([ann, bo, cy], store, NO_SLEEP)
    [merged] = _profiles(store)
    # GIVEN the family inbox is blocklisted afterwards
    strict = IngestSettings(
        policy=IdentityPolicy(blocked_values=frozenset({"family@example.com"})), sleep=lambda _: None
    )
    # WHEN the customer is split under that policy THEN each person is a customer of their own
    created = split_customer(store, merged.customer_id, strict)
    assert len(created) == 2
    assert sorted(len(p.sources) for p in _profiles(store)) == [1, 1, 1]
    assert merged.customer_id in {p.customer_id for p in _profiles(store)}
    fresh = InMemoryProfileStore()
    ingest([ann, bo, cy], fresh, strict)
    assert {g for g, _ in _shape(store)} == {g for g, _ in _shape(fresh)}
    assert split_customer(store, merged.customer_id, strict) == []
    for new_id in created:
        assert split_customer(store, new_id, strict) == []


def test_the_next_change_to_a_customer_splits_what_no_longer_holds_together() -> None:
    # GIVEN Ann and Bo merged by a family inbox, which the guardrails refuse from now on
    store = InMemoryProfileStore()
    ann = make_record("crm", "1", email=["ann@example.com", "family@example.com"])
    bo = make_record("shop", "1", email=["bo@example.com", "family@example.com"])
    ingest([ann, bo], store, NO_SLEEP)
    strict = IngestSettings(
        policy=IdentityPolicy(blocked_values=frozenset({"family@example.com"})), sleep=lambda _: None
    )
    assert len(_profiles(store)) == 1
    # WHEN any change reaches the customer (here a third record of Ann's)
    result = ingest([make_record("email", "1", email="ann@example.com")], store, strict)
    # THEN it is split as the records resolve under the current guardrails
    assert (result.attached, result.split_customers) == (1, 1)
    assert sorted(sorted(s.source for s in p.sources) for p in _profiles(store)) == [
        ["crm", "email"],
        ["shop"],
    ]
    _assert_consistent(store)


class _WritesBetweenReads(InMemoryProfileStore):
    """Runs ``between`` once, between an ingest's read of owners and its read of customers: another
    writer's commit landing in that gap."""

    def __init__(self) -> None:
        super().__init__()
        self.between: Callable[[], None] | None = None

    def get_customers(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]:
        between, self.between = self.between, None
        if between is not None:
            between()
        return super().get_customers(customer_ids)


def test_a_newer_version_stored_between_the_reads_is_not_overwritten() -> None:
    store = _WritesBetweenReads()
    ingest(
        [make_record("crm", "1", email="ann@example.com", traits={"city": "Leeds"}, day=1)], store, NO_SLEEP
    )
    newer = make_record("crm", "1", email="ann@example.com", traits={"city": "Bath"}, day=3)
    store.between = lambda: ingest([newer], store, NO_SLEEP) and None
    # WHEN day 2's version is planned on owners read before day 3's was stored
    result = ingest(
        [make_record("crm", "1", email="ann@example.com", traits={"city": "York"}, day=2)], store, NO_SLEEP
    )
    # THEN it is re-planned and found stale: day 3's version stays
    assert (result.stale, result.retries) == (1, 1)
    [profile] = _profiles(store)
    assert profile.traits["city"].value == "Bath"
    _assert_consistent(store)


def test_a_key_that_left_the_customer_between_the_reads_is_not_taken_for_owned() -> None:
    store = _WritesBetweenReads()
    ann = make_record("crm", "1", email=["ann@example.com", "family@example.com"])
    bo = make_record("shop", "1", email=["bo@example.com", "family@example.com"])
    ingest([ann, bo], store, NO_SLEEP)
    # GIVEN Ann's update splits the customer (the inbox goes with Bo) between the two reads
    ann_now = make_record("crm", "1", email="ann@example.com", day=2)
    store.between = lambda: ingest([ann_now], store, NO_SLEEP) and None
    # WHEN a record with the inbox is planned on owners read before the split
    result = ingest([make_record("email", "1", email="family@example.com")], store, NO_SLEEP)
    # THEN it is re-planned and joins Bo, who holds the inbox now
    assert result.retries == 1
    by_source = {frozenset(s.source for s in p.sources) for p in _profiles(store)}
    assert by_source == {frozenset({"crm"}), frozenset({"shop", "email"})}
    _assert_consistent(store)


def test_a_split_too_large_for_one_transaction_is_reported_and_loses_nothing() -> None:
    # GIVEN a person with four records (one shared phone) glued to Ann by a family inbox
    store = InMemoryProfileStore(max_items_per_commit=12)
    ann = make_record("crm", "1", email=["ann@example.com", "family@example.com"])
    bos = [make_record("shop", str(i), phone="+442079460018") for i in range(4)]
    bridge = make_record("shop", "9", email="family@example.com", phone="+442079460018")
    for batch in ([ann], bos, [bridge]):
        ingest(batch, store, NO_SLEEP)
    [merged] = _profiles(store)
    assert len(merged.sources) == 6
    # WHEN the bridge drops the inbox, and Bo's records are too many to move in one transaction
    result = ingest([make_record("shop", "9", phone="+442079460018", day=3)], store, NO_SLEEP)
    # THEN the update is stored, and the customer is reported as not split, not silently kept
    assert (result.written, result.split_customers, result.unsplit) == (1, 0, [merged.customer_id])
    with pytest.raises(ValueError, match="more than one transaction holds"):
        split_customer(store, merged.customer_id, NO_SLEEP)
    [profile] = _profiles(store)
    assert len(profile.sources) == 6
    _assert_consistent(store)


def test_changed_email_releases_the_old_one_unless_another_source_holds_it() -> None:
    store = InMemoryProfileStore()
    ingest(
        [
            make_record("crm", "1", email="ann@example.com", phone="+442079460018", day=1),
            make_record("shop", "1", email="shared@example.com", phone="+442079460018", day=1),
        ],
        store,
        NO_SLEEP,
    )
    # crm:1 changes its email; shop:1 still holds the phone, nobody else holds ann@
    ingest(
        [make_record("crm", "1", email="ann.lee@example.com", phone="+442079460018", day=2)], store, NO_SLEEP
    )
    owners = store.ident_owners()
    assert "email#ann@example.com" not in owners
    assert "email#ann.lee@example.com" in owners
    # shop:1 drops the phone, but crm:1 still holds it: it stays
    ingest([make_record("shop", "1", email="shared@example.com", day=2)], store, NO_SLEEP)
    assert "phone#+442079460018" in store.ident_owners()
    _assert_consistent(store)


def test_blocklisted_email_does_not_merge_strangers() -> None:
    store = InMemoryProfileStore()
    result = ingest(
        [
            make_record("crm", "1", email="noreply@example.org", phone="+442079460018"),
            make_record("crm", "2", email="noreply@example.org", phone="+442079460019"),
        ],
        store,
        NO_SLEEP,
    )
    assert len(_profiles(store)) == 2
    assert len(result.guardrail_hits) == 2
    assert "email#noreply@example.org" not in store.ident_owners()


class CrashingStore(InMemoryProfileStore):
    """Fails (raises) on the n-th commit, like a Lambda killed mid-way."""

    def __init__(self, crash_at: int, max_items: int) -> None:
        super().__init__(max_items_per_commit=max_items)
        self.crash_at = crash_at
        self.commits = 0

    def commit(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        self.commits += 1
        if self.commits == self.crash_at:
            raise RuntimeError("simulated crash")
        return super().commit(changesets)


def _two_big_customers() -> tuple[list[SourceRecord], list[SourceRecord], SourceRecord]:
    left = [
        make_record("crm", f"l{i}", email="left@example.com", phone=f"+4420794600{i:02d}") for i in range(5)
    ]
    right = [
        make_record("shop", f"r{i}", email="right@example.com", phone=f"+4420794601{i:02d}") for i in range(5)
    ]
    bridge = make_record("email", "b", email=["left@example.com", "right@example.com"])
    return left, right, bridge


def test_merge_too_large_for_one_transaction_runs_in_steps() -> None:
    # GIVEN two customers of 5 sources each, and a store whose transactions hold only 12 operations
    store = InMemoryProfileStore(max_items_per_commit=12)
    left, right, bridge = _two_big_customers()
    ingest(left, store, NO_SLEEP)
    ingest(right, store, NO_SLEEP)
    assert len(_profiles(store)) == 2
    # WHEN a record bridges them
    result = ingest([bridge], store, NO_SLEEP)
    # THEN they end as one profile holding all 11 records, and the store is consistent
    [profile] = _profiles(store)
    assert len(profile.sources) == 11
    assert result.written == 1
    _assert_consistent(store)


@pytest.mark.parametrize("crash_at", range(1, 9))
def test_a_crash_at_any_step_of_a_large_merge_loses_nothing(crash_at: int) -> None:
    store = CrashingStore(crash_at=10_000, max_items=12)
    left, right, bridge = _two_big_customers()
    ingest(left, store, NO_SLEEP)
    ingest(right, store, NO_SLEEP)
    # WHEN the process dies at the n-th commit of the merge
    store.commits, store.crash_at = 0, crash_at
    with contextlib.suppress(RuntimeError):
        ingest([bridge], store, NO_SLEEP)
    # THEN the next delivery of the same record finishes the job
    store.crash_at = 10_000
    ingest([bridge], store, NO_SLEEP)
    [profile] = _profiles(store)
    assert len(profile.sources) == 11
    _assert_consistent(store)


def test_complete_merge_is_idempotent() -> None:
    store = InMemoryProfileStore(max_items_per_commit=12)
    left, right, _ = _two_big_customers()
    ingest(left, store, NO_SLEEP)
    ingest(right, store, NO_SLEEP)
    a, b = sorted(p.customer_id for p in _profiles(store))
    complete_merge(store, b, a, NO_SLEEP)
    complete_merge(store, b, a, NO_SLEEP)
    [profile] = _profiles(store)
    assert profile.customer_id == a
    assert len(profile.sources) == 10
    _assert_consistent(store)


# --- the profile is a function of its source records -------------------------------------------

EMAILS = [f"p{i}@example.com" for i in range(5)]
PHONES = [f"+4420794600{i:02d}" for i in range(4)]


@st.composite
def record_sets(draw: st.DrawFn) -> list[SourceRecord]:
    keys = draw(
        st.sets(
            st.tuples(st.sampled_from(["crm", "shop", "email"]), st.integers(0, 5)), min_size=1, max_size=14
        )
    )
    out = []
    for source, number in sorted(keys):
        emails = draw(st.lists(st.sampled_from(EMAILS), max_size=2, unique=True))
        phones = draw(st.lists(st.sampled_from(PHONES), max_size=1))
        city = draw(st.sampled_from(["", "Leeds", "York", "Bath"]))
        out.append(
            make_record(
                source,
                str(number),
                email=emails,
                phone=phones,
                day=draw(st.integers(0, 3)),
                traits={"city": city} if city else {},
            )
        )
    return out


def _shape(store: InMemoryProfileStore) -> set[tuple[frozenset[str], str]]:
    return {
        (frozenset(s.key for s in p.sources), p.model_dump_json(exclude={"customer_id", "version"}))
        for p in store.iter_profiles()
    }


def _expected_groups(records: list[SourceRecord]) -> set[frozenset[str]]:
    groups: list[tuple[set[str], set[str]]] = []
    for r in records:
        keys = {i.key for i in r.identifiers}
        joined = [g for g in groups if g[1] & keys]
        merged = ({r.key}, keys)
        for g in joined:
            groups.remove(g)
            merged[0].update(g[0])
            merged[1].update(g[1])
        groups.append(merged)
    return {frozenset(g[0]) for g in groups}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=record_sets(), seed=st.integers(0, 2**32 - 1))
def test_same_records_in_any_order_and_any_number_of_times_give_identical_profiles(
    records: list[SourceRecord], seed: int
) -> None:
    policy = IdentityPolicy(max_records_per_identifier={"email": 100, "phone": 100})
    cfg = IngestSettings(policy=policy, sleep=lambda _: None)
    # reference: one batch, in key order
    reference = InMemoryProfileStore()
    ingest(records, reference, cfg)
    # the same records shuffled, some delivered twice or three times, in random batches
    rng = random.Random(seed)
    deliveries = records + [r for r in records if rng.random() < 0.4] * rng.randint(1, 2)
    rng.shuffle(deliveries)
    other = InMemoryProfileStore(max_items_per_commit=rng.choice([12, 100]))
    start = 0
    while start < len(deliveries):
        size = rng.randint(1, 5)
        batch = deliveries[start : start + size]
        result = ingest(batch, other, cfg)
        # nothing is lost: every record delivered is written, or recognised as unchanged or stale
        assert result.received == len(batch) == result.written + result.unchanged + result.stale
        start += size
    assert _shape(other) == _shape(reference)
    assert {g for g, _ in _shape(reference)} == _expected_groups(records)
    _assert_consistent(other)


class _DirtyReadStore(InMemoryProfileStore):
    """Answers the first owner read with an owner whose customer has no items, as a read that saw a
    write in flight (later rolled back) would."""

    def __init__(self) -> None:
        super().__init__()
        self.phantoms_left = 1

    def get_owners_and_tombstones(self, keys: Sequence[str]) -> dict[str, Ownership]:
        # The read ingest plans from (it sees tombstones of retired records too: core.retirement).
        owners = super().get_owners_and_tombstones(keys)
        if self.phantoms_left and keys:
            self.phantoms_left -= 1
            owners[keys[0]] = Ownership(keys[0], "cus_phantom")
        return owners


def test_an_owner_naming_a_customer_with_no_items_is_re_planned_not_a_crash() -> None:
    # GIVEN a store whose first owner read names a customer that does not exist
    store = _DirtyReadStore()
    record = make_record("crm", "1", email="ann@example.com")
    # WHEN the record is ingested
    result = ingest([record], store, NO_SLEEP)
    # THEN the plan is retried on a fresh read and the record lands under a real customer
    assert result.retries == 1
    assert result.written == 1
    assert result.new_customers == 1
    (profile,) = _profiles(store)
    assert profile.customer_id != "cus_phantom"
    _assert_consistent(store)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[SourceRecord], list[SourceRecord]]:
    """A record set, and later versions of some of its records with other identifiers (and a trait
    that tells them apart: a later version with the same content is an echo, which keeps its time)."""
    first = draw(record_sets())
    later = [
        make_record(
            r.source,
            r.source_id,
            email=draw(st.lists(st.sampled_from(EMAILS), max_size=2, unique=True)),
            phone=draw(st.lists(st.sampled_from(PHONES), max_size=1)),
            day=10 + draw(st.integers(0, 3)),
            traits={**r.traits, "note": "later"},
        )
        for r in first
        if draw(st.booleans())
    ]
    return first, later


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), seed=st.integers(0, 2**32 - 1))
def test_updates_in_any_order_give_the_customers_the_current_records_resolve_to(
    history: tuple[list[SourceRecord], list[SourceRecord]], seed: int
) -> None:
    """Updates that add identifiers merge customers, updates that remove them split customers: in
    the end the customers are what the latest version of every record resolves to from scratch."""
    first, later = history
    policy = IdentityPolicy(max_records_per_identifier={"email": 100, "phone": 100})
    cfg = IngestSettings(policy=policy, sleep=lambda _: None)
    latest = {r.key: r for r in first} | {r.key: r for r in later}
    reference = InMemoryProfileStore()
    ingest(list(latest.values()), reference, cfg)
    # every version, shuffled (a later version may come first), in random batches
    rng = random.Random(seed)
    deliveries = first + later
    rng.shuffle(deliveries)
    # A split moves a group of records in one transaction: at most 14 records fit well within 100.
    other = InMemoryProfileStore()
    start = 0
    while start < len(deliveries):
        size = rng.randint(1, 5)
        result = ingest(deliveries[start : start + size], other, cfg)
        assert result.unsplit == []
        start += size
    assert _shape(other) == _shape(reference)
    assert {g for g, _ in _shape(reference)} == _expected_groups(list(latest.values()))
    _assert_consistent(other)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=record_sets(), blocked=st.sets(st.sampled_from(EMAILS + PHONES), max_size=3))
def test_the_quick_check_that_records_hold_together_agrees_with_their_groups(
    records: list[SourceRecord], blocked: set[str]
) -> None:
    policy = IdentityPolicy(blocked_values=frozenset(blocked))
    assert _hold_together(records, policy) == (len(record_groups(records, policy)) == 1)


class _TouchesAlwaysLose(InMemoryProfileStore):
    """Every touch loses its condition (another writer moves the item each time), as the store
    says by returning it; past ``limit`` touch commits it raises, so a loop that never gives up
    fails instead of hanging."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.touch_commits = 0

    def commit(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        if changesets and all(c.label.startswith("touch:") for c in changesets):
            self.touch_commits += 1
            if self.touch_commits > self.limit:
                raise AssertionError(f"{self.touch_commits} touch commits: never gave up")
            return list(changesets)
        return super().commit(changesets)


def test_touches_that_always_lose_are_retried_with_backoff_then_given_up() -> None:
    # GIVEN a stored record, and a store where every touch of it loses its condition
    store = _TouchesAlwaysLose(limit=50)
    ingest([make_record("crm", "1", email="ann@example.com", day=1)], store, NO_SLEEP)
    slept: list[float] = []
    settings = IngestSettings(max_attempts=4, sleep=slept.append)

    # WHEN the same content dated later (a touch) is ingested
    # THEN each lost touch counts an attempt and backs off, and max_attempts gives up
    with pytest.raises(ResolutionGaveUpError):
        ingest([make_record("crm", "1", email="ann@example.com", day=2)], store, settings)
    assert store.touch_commits == 4
    assert len(slept) == 3
