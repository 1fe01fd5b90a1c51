"""attack10: versions dated only by a bound (``SourceRecord.undated``, core.undated) in odd orders, with
dated versions of the same and of other content, vendor deletions and the person's erasure, on the
three stores.

Each program is a list of steps on one Stripe customer (``stripe:contact:cus_1``): a version (a day,
a city, undated or not), a deletion at the vendor (core.retirement) at a day, or her erasure. What the
store holds after each step is checked against the rules docs/connectors.md states:

* against a stored version of the same content: unchanged; a dated one later in time moves the stored
  time (a touch), an undated one moves nothing;
* against a stored version of other content: the later in time wins, except that a stored undated
  version gives way to a dated one whatever their times;
* against a stored tombstone: the later in time wins;
* a deletion retires a stored version older than it, or an undated one whatever its time; a stored
  version newer than it (dated) stays;
* once she is erased nothing of hers comes back, whatever arrives after.

Days are distinct within a program, so no two times tie (a tie is ordered by the content hash).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.batch_ingest import ingest_batch
from core.pipeline import IngestSettings, ingest
from core.retirement import SourceDeletion, retire_records
from core.schema import SourceRecord
from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import SuppressionCheck
from core.testing.records import T0, make_record
from tests.hypothesis_profiles import examples
from tests.integration.test_attack10_repair_programs import _erase
from tests.integration.test_frozen_merge_repair_interleavings import _kit

EXAMPLES = int(os.environ.get("UNDATED_EXAMPLES", examples(ci=20, deep=60)))
KEY = "stripe:contact:cus_1"
EMAIL = "ann@example.com"
SALT = "undated-salt"


def _ann(day: int, city: str, undated: bool) -> SourceRecord:
    record = make_record("stripe", "cus_1", email=EMAIL, day=day, traits={"city": city})
    return record.model_copy(update={"undated": True}) if undated else record


@dataclass(frozen=True)
class Held:
    """What the rules say the store holds for her record: a version (its city, the time its
    ``source#`` item orders by, whether it is undated), a tombstone (``city`` None), or nothing."""

    city: str | None
    day: int
    undated: bool = False


def _expect(held: Held | None, step: tuple[Any, ...]) -> Held | None:
    kind = step[0]
    if kind == "version":
        _, day, city, undated = step
        if held is None:
            return Held(city, day, undated)
        if held.city == city:
            # A dated version of it later in time moves the stored time; the version is dated since.
            return Held(city, day, False) if not undated and day > held.day else held
        if held.city is not None and held.undated and not undated:
            return Held(city, day, undated)
        return Held(city, day, undated) if day > held.day else held
    _, day = step
    if held is None or held.city is None:
        return held
    if held.day > day and not held.undated:
        return held
    return Held(None, day)


def _seen(held: Held | None) -> tuple[str | None, int] | None:
    """What a reader can check of ``held``: the city (None: a tombstone) and the stored time."""
    return None if held is None else (held.city, held.day)


def _stored(kit: Any) -> tuple[str | None, int] | None:
    owners = kit.profiles.get_owners_and_tombstones([f"source#{KEY}"])
    owner = owners.get(f"source#{KEY}")
    held = [
        (p, s)
        for p in kit.profiles.iter_profiles()
        for s in p.sources
        if f"{s.source}:{s.object_type}:{s.id}" == KEY
    ]
    if owner is None:
        assert held == []
        return None
    day = (owner.updated_at - T0) // timedelta(days=1)
    if not held:
        return (None, day)
    ((profile, _),) = held
    return (str(profile.traits["city"].value), day)


STEP = st.one_of(
    st.tuples(st.just("version"), st.sampled_from(["Oslo", "Bergen"]), st.booleans()),
    st.tuples(st.just("delete")),
    st.tuples(st.just("erase")),
)


@st.composite
def programs(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    shapes = draw(st.lists(STEP, min_size=1, max_size=6))
    days = draw(st.lists(st.integers(1, 12), min_size=len(shapes), max_size=len(shapes), unique=True))
    steps: list[tuple[Any, ...]] = []
    for shape, day in zip(shapes, days, strict=True):
        if shape[0] == "version":
            steps.append(("version", day, shape[1], shape[2]))
        elif shape[0] == "delete":
            steps.append(("delete", day))
        elif not any(s[0] == "erase" for s in steps):
            steps.append(("erase",))
    return steps


TOUCHED = [("version", 40, "Oslo", True), ("version", 50, "Oslo", False), ("version", 45, "Bergen", False)]
"""An undated version, the same content dated after it (a touch: the stored time moves to day 50),
then other content dated day 45, older than that: stale (it replaced the stored version, whose
snapshot still said undated)."""


def _run(name: str, steps: list[tuple[Any, ...]]) -> None:
    with _kit(name) as kit:
        assert kit.suppression is not None
        base = IngestSettings(sleep=lambda _: None)
        checked = replace(base, suppression=SuppressionCheck(kit.suppression, SALT))
        erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
        held: Held | None = None
        erased = False
        for i, step in enumerate(steps):
            if step[0] == "erase":
                _erase(kit, base, EMAIL, salt=SALT)
                erased = True
            elif step[0] == "version":
                ingest([_ann(step[1], step[2], step[3])], kit.profiles, checked)
            else:
                gone = SourceDeletion(
                    source="stripe",
                    object_type="contact",
                    source_id="cus_1",
                    deleted_at=T0 + timedelta(days=step[1]),
                )
                retire_records([gone], kit.profiles, erasure, checked)
            if erased:
                assert not [p for p in kit.profiles.iter_profiles() if p.sources], (i, step)
                continue
            held = _expect(held, step)
            assert _stored(kit) == _seen(held), (i, step)


@st.composite
def calls(draw: st.DrawFn) -> list[list[tuple[Any, ...]]]:
    """Versions only (no deletion, no erasure), cut into ingest calls of one or more, undated ones
    too (``MIXED_CALLS``), and dated versions of several contents after an undated one
    (``DATED_AFTER_UNDATED``)."""
    steps = [s for s in draw(programs()) if s[0] == "version"]
    out: list[list[tuple[Any, ...]]] = []
    for step in steps:
        if out and draw(st.booleans()):
            out[-1].append(step)
        else:
            out.append([step])
    return out


MIXED_CALLS = {
    "dated then the same undated": [[("version", 1, "Oslo", False), ("version", 2, "Oslo", True)]],
    "undated then the same undated": [[("version", 1, "Oslo", True), ("version", 2, "Oslo", True)]],
    "undated then the same dated before": [
        [("version", 2, "Oslo", False)],
        [("version", 4, "Oslo", True), ("version", 3, "Oslo", False)],
    ],
    "undated then other content dated": [
        [("version", 4, "Oslo", False)],
        [("version", 5, "Bergen", True), ("version", 3, "Oslo", False)],
    ],
}
"""Calls holding an undated version and another of one record. One by one, each goes by its own rule
against what the one before left (an undated version of the same content moves nothing, a dated one
touches, an undated one of other content replaces a dated one older than its bound, a dated one
replaces an undated one). Reduced to one (core.undated.later), the store ended with another time, or
undated where it would be dated: what was stale next was not what it would be had they come one
after the other, and content was lost (``LOST_CONTENT``); core.pipeline.version_rounds applies them
in rounds, one after the other."""


LOST_CONTENT = [
    [("version", 3, "Oslo", False), ("version", 5, "Oslo", True)],
    [("version", 2, "Bergen", False)],
]
"""A dated version and an undated listing of the same content in one call, then an older change of
other content: one by one the dated version stays (Oslo, day 3) and the older change is stale; the
call reduced to one version stored the listing (undated, day 5), which the older change replaced."""

DATED_AFTER_UNDATED = [
    [("version", 6, "Oslo", True)],
    [("version", 3, "Oslo", False)],
    [("version", 5, "Oslo", False), ("version", 4, "Bergen", False)],
]
"""Dated versions of two contents in one call against a stored undated version: one by one Oslo
(day 5, same content, before the bound) moves nothing and Bergen (dated, other content) replaces
the undated version whatever its time; reduced to the newer (Oslo) the call changed nothing."""

DATED_AFTER_UNDATED_THREE = [
    [("version", 10, "Oslo", True)],
    [("version", 3, "Oslo", False), ("version", 4, "Bergen", False), ("version", 5, "Oslo", False)],
]
"""Three contents in a row against a stored undated version: one by one Oslo day 3 moves nothing,
Bergen replaces the undated version and Oslo day 5, later than Bergen, replaces it: Oslo, dated day
5. Bergen and Oslo day 5 reduced to the newer (Oslo) would move nothing (before the bound, day 10)."""


@pytest.mark.parametrize("entry", [ingest, ingest_batch], ids=["ingest", "ingest_batch"])
@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=calls())
def test_versions_in_one_call_hold_to_the_rules_of_versions_ingested_one_by_one(
    name: str, entry: Any, batches: list[list[tuple[Any, ...]]]
) -> None:
    # ingest_batch (profilesync resolve) founds the records the store does not hold on its batch path
    _calls_as_one_by_one(name, batches, entry)


def _calls_as_one_by_one(name: str, batches: list[list[tuple[Any, ...]]], entry: Any) -> None:
    with _kit(name) as kit:
        held: Held | None = None
        for batch in batches:
            entry([_ann(s[1], s[2], s[3]) for s in batch], kit.profiles, IngestSettings(sleep=lambda _: None))
            for step in batch:
                held = _expect(held, step)
            assert _stored(kit) == _seen(held), batch


@pytest.mark.parametrize("name", ["memory", "sqlite"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=programs())
@example(steps=TOUCHED)
def test_undated_versions_deletions_and_erasure_in_any_order_hold_to_the_rules(
    name: str, steps: list[tuple[Any, ...]]
) -> None:
    _run(name, steps)


@pytest.mark.slow
@settings(
    max_examples=max(3, EXAMPLES // 4),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=programs())
def test_undated_versions_deletions_and_erasure_in_any_order_hold_to_the_rules_on_dynamodb(
    steps: list[tuple[Any, ...]],
) -> None:
    _run("dynamodb", steps)


@pytest.mark.parametrize("case", sorted(MIXED_CALLS))
@pytest.mark.parametrize("name", ["memory", "sqlite"])
def test_an_undated_version_and_another_in_one_call(name: str, case: str) -> None:
    test_versions_in_one_call_hold_to_the_rules_of_versions_ingested_one_by_one.hypothesis.inner_test(  # type: ignore[attr-defined]
        name=name, entry=ingest, batches=MIXED_CALLS[case]
    )


def _stored_after(
    name: str, batches: list[list[tuple[Any, ...]]], entry: Any = ingest
) -> tuple[str | None, int] | None:
    """What the store holds of her record after ``batches`` of versions, a call each of ``entry``."""
    with _kit(name) as kit:
        for batch in batches:
            entry([_ann(s[1], s[2], s[3]) for s in batch], kit.profiles, IngestSettings(sleep=lambda _: None))
        return _stored(kit)


@pytest.mark.parametrize("name", ["memory", "sqlite"])
def test_lost_content_versions_one_call_each_keep_the_newer_change(name: str) -> None:
    # GIVEN the LOST_CONTENT versions each in a call of its own THEN Bergen (day 2) is stale
    assert _stored_after(name, [[step] for batch in LOST_CONTENT for step in batch]) == ("Oslo", 3)


@pytest.mark.parametrize("name", ["memory", "sqlite"])
def test_a_dated_version_and_its_undated_listing_in_one_call_lose_no_content(name: str) -> None:
    # GIVEN Oslo dated day 3 and its undated listing (day 5) in one call, then Bergen dated day 2
    # THEN Bergen, older than Oslo's day 3, is stale: Oslo stays, dated day 3
    assert _stored_after(name, LOST_CONTENT) == ("Oslo", 3)


@pytest.mark.parametrize("name", ["memory", "sqlite"])
def test_dated_versions_of_two_contents_in_one_call_after_an_undated_one(name: str) -> None:
    test_versions_in_one_call_hold_to_the_rules_of_versions_ingested_one_by_one.hypothesis.inner_test(  # type: ignore[attr-defined]
        name=name, entry=ingest, batches=DATED_AFTER_UNDATED
    )


@pytest.mark.parametrize("entry", [ingest, ingest_batch], ids=["ingest", "ingest_batch"])
@pytest.mark.parametrize("name", ["memory", "sqlite"])
def test_dated_versions_of_three_contents_in_one_call_after_an_undated_one(name: str, entry: Any) -> None:
    # GIVEN Oslo undated (bound day 10) stored, then Oslo day 3, Bergen day 4 and Oslo day 5 in one call
    # THEN as one by one: Bergen replaced the undated version and Oslo day 5 the older Bergen
    assert _stored_after(name, DATED_AFTER_UNDATED_THREE, entry) == ("Oslo", 5)
    # AND two contents in one call (DATED_AFTER_UNDATED): Bergen replaced the undated Oslo
    assert _stored_after(name, DATED_AFTER_UNDATED, entry) == ("Bergen", 4)
