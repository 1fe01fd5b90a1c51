"""times19: identical content decides a trait the same in any order and any batching.

Versions of one record with the same content and different times (a tool re-exporting an unchanged
contact, the echo of our own push) count from the start of the content's latest run (core.content_run):
the earliest time of the current content after the newest time of any other content of that record.
The reference here works that out from all of a record's versions at once, by the definition, and
the profile from those snapshots (core.merge.build_profile); the stores, fed the same versions in any
order and any batching (``core.ingest`` on the three stores, ``profilesync resolve --batch-size 1``
and ``20000``), must end with the same traits, consent and provenance times.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.content_run import RUN_KEPT, ContentRun
from core.merge import DEFAULT_RULES, build_profile, record_hash
from core.pipeline import IngestSettings, ingest
from core.schema import ConsentState, Profile, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.records import T0, make_record
from tests.hypothesis_profiles import examples
from tests.integration.resolve_files import resolved
from tests.integration.store_port.conftest import KITS, StoreKit
from tests.integration.store_port.test_touch_races_merge import BACKENDS, Interleaved
from tests.integration.test_frozen_merge_repair_interleavings import _kit

pytestmark = pytest.mark.slow

SETTINGS = IngestSettings(sleep=lambda _: None)
EMAIL = "ann@example.com"
SOURCES = ("crm", "mail", "shop")

#: A version: the tool, the first name, the email consent, and the time in hours after 1 January.
Version = tuple[str, str, bool, int]


def _record(version: Version) -> SourceRecord:
    source, name, granted, hours = version
    record = make_record(source, "1", email=EMAIL, traits={"first_name": name})
    at = T0 + timedelta(hours=hours)
    # A consent the tool dates by the record's own time (hashed without it: core.content_hash).
    consent = {"email": ConsentState(granted=granted, changed_at=at)}
    return record.model_copy(update={"updated_at": at, "consent": consent})


def _line(version: Version) -> dict[str, Any]:
    source, name, granted, hours = version
    at = (T0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"source": source, "id": "1", "updated_at": at, "email": EMAIL, "first_name": name,
            "consent": {"email": granted}}  # fmt: skip


def reference_snapshot(versions: Iterable[SourceRecord]) -> SourceRecord:
    """By the definition: the current content is the newest version's (a tie of times broken by
    the stamp, then the hash: ``core.content_run.key``); it counts from its earliest version after
    the newest version of any other content, and of the copies at that time (stamped ahead of one
    read), the snapshot is the one with the largest stamp (a function of the set, tie22)."""

    def order(r: SourceRecord) -> tuple[datetime, datetime, str]:
        return (r.ordered_at, r.updated_at, record_hash(r))

    seen = sorted(versions, key=order)
    current = record_hash(seen[-1])
    after = max((order(r) for r in seen if record_hash(r) != current), default=None)
    run = [r for r in seen if record_hash(r) == current and (after is None or order(r) > after)]
    return [r for r in run if r.ordered_at == run[0].ordered_at][-1]


def reference_profile(records: Iterable[SourceRecord]) -> Profile:
    by_key: dict[str, list[SourceRecord]] = {}
    for record in records:
        by_key.setdefault(record.key, []).append(record)
    return build_profile("reference", [reference_snapshot(v) for v in by_key.values()], DEFAULT_RULES)


def decided(profile: Profile) -> dict[str, Any]:
    """What a profile decided, and from which record and time: traits and consent."""
    return {
        "traits": {n: (str(t.value), t.source, t.updated_at) for n, t in profile.traits.items()},
        "consent": {c: (v.granted, v.source, v.changed_at) for c, v in profile.consent.items()},
    }


def _cli_decided(profile: dict[str, Any]) -> dict[str, Any]:
    """``resolve``'s output line as ``decided`` reads a profile (provenance beside the traits)."""
    provenance = profile["provenance"]
    return {
        "traits": {
            n: (v, provenance[n]["source"], datetime.fromisoformat(provenance[n]["updated_at"]))
            for n, v in profile["traits"].items()
        },
        "consent": {
            c: (v["granted"], v["source"], datetime.fromisoformat(v["changed_at"]))
            for c, v in profile["consent"].items()
        },
    }


@st.composite
def histories(draw: st.DrawFn) -> list[Version]:
    """Versions of 1-3 records of one person: some unchanged at several times, some changed; times
    on a coarse grid, so that they tie within and across records."""
    tools = draw(st.lists(st.sampled_from(SOURCES), min_size=1, max_size=3, unique=True))
    out: list[Version] = []
    for tool in tools:
        contents = draw(
            st.lists(st.tuples(st.sampled_from(["Ann", "Mel"]), st.booleans()), min_size=1, max_size=3)
        )
        for name, granted in contents:
            hours = draw(st.lists(st.sampled_from([0, 12, 24, 36, 48, 60]), min_size=1, max_size=3))
            out.extend((tool, name, granted, h) for h in hours)
    return out


XFAIL_CASE = [("crm", "Ann", True, 0), ("mail", "Mel", True, 36), ("crm", "Ann", True, 48)]
"""The strict xfail's case (test_attack11_same_content_times): Ann 1 Jan and 3 Jan, Mel 2 Jan."""
CUT_CASE = [
    ("crm", "Ann", True, 48),
    ("crm", "Ann", True, 0),
    ("crm", "Mel", True, 24),
    ("mail", "Bo", True, 36),
]
"""Ann 3 Jan, Ann 1 Jan, then other content of the same record on 2 Jan: Ann counts from 3 Jan."""


def _ingest_shuffled(kit: StoreKit, records: list[SourceRecord], seed: int) -> None:
    rng = random.Random(seed)
    deliveries = records + [r for r in records if rng.random() < 0.3]  # some delivered twice
    rng.shuffle(deliveries)
    start = 0
    while start < len(deliveries):
        size = rng.randint(1, len(deliveries))
        result = ingest(deliveries[start : start + size], kit.profiles, SETTINGS)
        assert result.received == result.written + result.unchanged + result.stale
        start += size


def fed_shuffled(store: str, records: list[SourceRecord], seed: int) -> Profile:
    """The one profile ``store`` holds when fed ``records`` shuffled (some twice), in batches of
    random sizes (``_ingest_shuffled``); delivering them all again after that writes nothing."""
    with _kit(store) as kit:
        _ingest_shuffled(kit, records, seed)
        (profile,) = kit.profiles.iter_profiles()
        again = ingest(records, kit.profiles, SETTINGS)
        assert (again.written, again.touched) == (0, 0)
    return profile


@pytest.mark.parametrize("store", sorted(KITS))
@settings(max_examples=examples(ci=12, deep=60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), seed=st.integers(0, 2**32 - 1))
@example(history=XFAIL_CASE, seed=1)
@example(history=CUT_CASE, seed=2)
def test_versions_in_any_order_and_batching_decide_as_all_of_them_at_once(
    store: str, history: list[Version], seed: int
) -> None:
    # GIVEN versions of 1-3 records, some of one content at several times
    records = [_record(v) for v in history]
    expected = decided(reference_profile(records))
    # WHEN a store is fed them shuffled (some twice), in batches of random sizes (and all again,
    # which writes nothing)
    profile = fed_shuffled(store, records, seed)
    # THEN it decided every trait and consent as the reference, from the same records and times
    assert decided(profile) == expected
    assert sorted((s.key, s.updated_at) for s in profile.sources) == sorted(
        (s.key, s.updated_at) for s in reference_profile(records).sources
    )


def _resolve(folder: Path, versions: list[Version], batch_size: int) -> dict[str, Any]:
    (profile,) = resolved(folder, [_line(v) for v in versions], batch_size)
    return _cli_decided(profile)


@settings(max_examples=examples(ci=10, deep=40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), seed=st.integers(0, 2**32 - 1))
@example(history=XFAIL_CASE, seed=3)
@example(history=CUT_CASE, seed=4)
def test_resolve_decides_the_same_one_by_one_and_in_one_batch_in_any_order(
    history: list[Version], seed: int
) -> None:
    # GIVEN the versions as lines of the JSON-lines source, in a random order
    lines = list(history)
    random.Random(seed).shuffle(lines)
    with TemporaryDirectory() as tmp:
        # WHEN resolved one line at a time and all in one batch
        one = _resolve(Path(tmp) / "one", lines, 1)
        together = _resolve(Path(tmp) / "all", lines, 20_000)
    # THEN both decide every trait as all the versions at once do, from the same times
    assert one == together == decided(reference_profile([_record(v) for v in history]))


OBSERVATION = st.tuples(st.sampled_from([0, 1, 2, 3, 4, 5, 6]), st.sampled_from(["a", "b", "c"]))


@settings(max_examples=examples(ci=300, deep=2000), deadline=None)
@given(observations=st.lists(OBSERVATION, min_size=1, max_size=12), seed=st.integers(0, 2**32 - 1))
def test_a_content_run_is_a_function_of_the_set_of_observations(
    observations: list[tuple[int, str]], seed: int
) -> None:
    # GIVEN observations (hour, content) with ties; WHEN folded in two orders, and merged in halves
    timed = [(T0 + timedelta(hours=h), c) for h, c in observations]
    shuffled = list(timed)
    random.Random(seed).shuffle(shuffled)
    cut = len(shuffled) // 2
    halves = ContentRun.of(shuffled[:cut]).merged(ContentRun.of(shuffled[cut:])) if cut else None
    run = ContentRun.of(timed)
    # THEN the state is the same, and what the definition gives
    assert ContentRun.of(shuffled) == run
    assert halves in (None, run)
    ordered = sorted(set(timed))
    current = ordered[-1][1]
    after = max((o for o in ordered if o[1] != current), default=None)
    assert run.record_hash == current
    assert run.other == after
    assert run.times == tuple(t for t, c in ordered if c == current and (after is None or (t, c) > after))


def test_past_its_bound_a_run_can_only_count_from_later_than_the_truth() -> None:
    # GIVEN a content seen at more distinct times than a run keeps, from hour 0 to hour 40
    hours = range(0, 2 * RUN_KEPT + 10, 1)
    run = ContentRun.of((T0 + timedelta(hours=h), "a") for h in hours)
    assert len(run.times) == RUN_KEPT + 1
    # WHEN another content older than all but the newest few arrives late (hour 30.5)
    cut = run.observe(T0 + timedelta(hours=30, minutes=30), "b")
    # THEN the truth is hour 31, which the run no longer holds: it counts from the newest it kept
    assert cut.first == run.last > T0 + timedelta(hours=31)
    # AND before the cut reaches past the kept times it is exact
    early = run.observe(T0 + timedelta(hours=3, minutes=30), "b")
    assert early.first == T0 + timedelta(hours=4)


def _day(day: int) -> datetime:
    return T0 + timedelta(days=day)


def _contact(source: str, name: str, granted: bool, day: int) -> SourceRecord:
    record = make_record(source, "1", email=EMAIL, day=day, traits={"first_name": name})
    return record.model_copy(
        update={"consent": {"email": ConsentState(granted=granted, changed_at=_day(day))}}
    )


@pytest.mark.parametrize("store", sorted(KITS))
def test_a_push_echo_leaves_another_tools_newer_first_name_and_opt_out_winning(store: str) -> None:
    # GIVEN Ann's CRM contact (day 1: first name Ann, email consent granted, dated by the contact's
    # own time as HubSpot's mapping does), her newsletter record (day 3: Annie, opted out), and the
    # echo of our push of her lifetime value to the CRM: the CRM re-stamped the contact (day 5), its
    # first name and consent unchanged
    crm, mail, echo = (
        _contact("crm", "Ann", True, 1),
        _contact("mail", "Annie", False, 3),
        _contact("crm", "Ann", True, 5),
    )
    assert record_hash(crm) == record_hash(echo)
    for order in itertools.permutations([crm, mail, echo]):
        for size in (1, 2, 3):
            with _kit(store) as kit:
                # WHEN they arrive in this order, in calls of this size
                for start in range(0, 3, size):
                    ingest(list(order[start : start + size]), kit.profiles, SETTINGS)
                # THEN the newsletter's newer first name and opt-out win: the echo is no change
                (profile,) = kit.profiles.iter_profiles()
                assert (profile.traits["first_name"].value, profile.traits["first_name"].updated_at) == (
                    "Annie",
                    _day(3),
                ), (order, size)
                assert (profile.consent["email"].granted, profile.consent["email"].source) == (
                    False,
                    "mail:contact:1",
                ), (order, size)
                # AND the CRM contact counts from day 1, its watermark is the echo's day 5
                (source,) = [s for s in profile.sources if s.source == "crm"]
                assert source.updated_at == _day(1)
                owner = kit.profiles.get_owners([f"source#{crm.key}"])[f"source#{crm.key}"]
                assert owner.updated_at == _day(5)


def _forget_runs(kit: StoreKit) -> None:
    """Take the ``run`` attribute off every identifier item: the items as a release before kept them."""
    profiles = kit.profiles
    if kit.name == "memory":
        for key, item in list(profiles._idents.items()):
            profiles._idents[key] = (*item[:4], None)
    elif kit.name == "sqlite":
        with profiles.database.writing() as conn:
            conn.execute("UPDATE items SET attrs = NULL WHERE sk = 'IDENT'")
    else:
        client, table = profiles._client, profiles.table_name
        for item in client.scan(TableName=table)["Items"]:
            if item["SK"]["S"] == "IDENT" and "run" in item:
                key = {"PK": item["PK"], "SK": item["SK"]}
                client.update_item(TableName=table, Key=key, UpdateExpression="REMOVE run")


@pytest.mark.parametrize("store", sorted(KITS))
def test_an_item_stored_before_runs_were_kept_behaves_as_before_until_a_newer_version(store: str) -> None:
    with _kit(store) as kit:
        # GIVEN Ann's CRM contact of day 1, echoed on day 5, and the newsletter's Mel of day 3, stored
        # by a release that kept no content run (the identifier item: hash, watermark day 5)
        ingest([_contact("crm", "Ann", True, 1), _contact("mail", "Mel", True, 3)], kit.profiles, SETTINGS)
        ingest([_contact("crm", "Ann", True, 5)], kit.profiles, SETTINGS)
        _forget_runs(kit)
        key = "source#crm:contact:1"
        assert kit.profiles.get_owners([key])[key].run is None

        def first_name() -> tuple[str, datetime]:
            (profile,) = kit.profiles.iter_profiles()
            return str(profile.traits["first_name"].value), profile.traits["first_name"].updated_at

        assert first_name() == ("Mel", _day(3))
        # WHEN an older copy (day 0) and an older version of other content (day 4) arrive: as
        # before, nothing older than the watermark joins the run or cuts it (T_other is unknown)
        assert ingest([_contact("crm", "Ann", True, 0)], kit.profiles, SETTINGS).unchanged == 1
        assert ingest([_contact("crm", "Bo", True, 4)], kit.profiles, SETTINGS).stale == 1
        assert first_name() == ("Mel", _day(3))
        # WHEN a newer copy arrives (day 7): a touch, which starts keeping the run
        assert ingest([_contact("crm", "Ann", True, 7)], kit.profiles, SETTINGS).touched == 1
        run = kit.profiles.get_owners([key])[key].run
        assert run is not None
        assert ContentRun.decode("h", run).times == (_day(5), _day(7))
        # THEN a version of other content between the two (day 6) cuts the run: Ann counts from day 7
        assert ingest([_contact("crm", "Bo", True, 6)], kit.profiles, SETTINGS).stale == 1
        assert first_name() == ("Ann", _day(7))
        assert kit.profiles.get_owners([key])[key].updated_at == _day(7)


def test_an_older_copy_that_moves_the_start_back_rewrites_the_profile_but_adds_no_history() -> None:
    # GIVEN Ann's CRM contact stored from its 3 January copy, beside the newsletter's Mel of 2 January
    store = InMemoryProfileStore()
    ingest([_contact("crm", "Ann", True, 3), _contact("mail", "Mel", True, 2)], store, SETTINGS)
    (before,) = store.iter_profiles()
    assert before.traits["first_name"].value == "Ann"
    events = store.history.list_history(before.customer_id).events
    # WHEN its 1 January copy (the same content) arrives late
    late = ingest([_contact("crm", "Ann", True, 1)], store, SETTINGS)
    # THEN Ann counts from 1 January: Mel wins, the record counted unchanged, not written
    (after,) = store.iter_profiles()
    assert (after.traits["first_name"].value, after.traits["first_name"].updated_at) == ("Mel", _day(2))
    assert (late.unchanged, late.written) == (1, 0)
    # AND the customer's history holds no new event: its records' content did not change
    assert store.history.list_history(after.customer_id).events == events


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_a_touch_of_the_run_between_another_touch_s_read_and_its_commit_is_not_undone(
    backend: str, tmp_path: Path
) -> None:
    made = BACKENDS[backend](tmp_path)
    store, other = next(made)
    try:
        # GIVEN Ann's CRM contact of day 1, echoed on day 5 (its run: days 1 and 5)
        ingest([_contact("crm", "Ann", True, 1), _contact("crm", "Ann", True, 5)], store, SETTINGS)
        key = "source#crm:contact:1"

        def copy_of_day_4() -> None:
            assert ingest([_contact("crm", "Ann", True, 4)], other(), SETTINGS).unchanged == 1

        # WHEN a copy of day 3 is planned as a touch of the run (the watermark stays day 5), and
        # another process touches the run with a copy of day 4 between that read and its commit
        b = Interleaved(
            store, lambda changesets: any(c.label.startswith("touch:") for c in changesets), copy_of_day_4
        )
        assert ingest([_contact("crm", "Ann", True, 3)], b, SETTINGS).unchanged == 1
        assert b.fired == 1
        # THEN the run holds both copies: the later commit lost its condition and was planned again
        run = store.get_owners([key])[key].run
        assert run is not None
        assert ContentRun.decode("h", run).times == (_day(1), _day(3), _day(4), _day(5))
    finally:
        made.close()
