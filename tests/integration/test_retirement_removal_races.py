"""A vendor deletion that removes a customer's only record, racing another writer, on the in-memory,
SQLite and DynamoDB (moto) stores (core.retirement ``_retire_round``, core.retirement_steps
``_retire_from``). Found by this round's review of attack10's fixes:

* a dated version of other content NEWER than the deletion, stored after the deletion was judged on
  the owner read: the removal (erasure steps) deleted it, as the customer's live state was read after
  it landed and nothing compared it with the version judged;
* a version OLDER than the deletion stored between the removal's erasure steps and its tombstone (the
  record's identifier item already gone: stored as a new customer): the tombstone lost its condition,
  the loss was ignored, and the deleted record came back.

Each interleaving must end as one of the two writers' orders run one after the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from core.pipeline import IngestSettings, ingest
from core.retirement import SourceDeletion, retire_records
from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import SuppressionCheck
from core.testing.records import T0, make_record
from tests.integration.store_port.conftest import StoreKit
from tests.integration.test_attack10_repair_programs import READS_AND_WRITES
from tests.integration.test_attack10_undated_programs import SALT, _ann, _stored
from tests.integration.test_frozen_merge_repair_interleavings import _interleaved, _kit

GONE = SourceDeletion(
    source="stripe", object_type="contact", source_id="cus_1", deleted_at=T0 + timedelta(days=20)
)


def _settings(kit: StoreKit) -> IngestSettings:
    assert kit.suppression is not None
    return replace(IngestSettings(sleep=lambda _: None), suppression=SuppressionCheck(kit.suppression, SALT))


def _delete(kit: StoreKit) -> None:
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    retire_records([GONE], kit.profiles, erasure, _settings(kit))


# A newer version of other content than the deletion's, stored after the deletion was judged.


def _act(kit: StoreKit, writer: str) -> None:
    if writer == "newer":
        ingest([_ann(30, "Bergen", False)], kit.profiles, _settings(kit))
    else:
        _delete(kit)


def _outcome(name: str, run: Callable[[StoreKit], None], alone: bool, undated: bool) -> Any:
    with _kit(name) as kit:
        first = [_ann(10 if not undated else 40, "Oslo", undated)]
        if not alone:
            first.append(make_record("crm", "7", email="ann@example.com"))
        ingest(first, kit.profiles, IngestSettings(sleep=lambda _: None))
        run(kit)
        return _stored(kit)


def _check_newer(name: str, alone: bool, undated: bool, after: int) -> None:
    def interleaved(kit: StoreKit) -> None:
        with _interleaved(kit, [("newer", after)], lambda w: _act(kit, w), READS_AND_WRITES):
            _act(kit, "delete")

    got = _outcome(name, interleaved, alone, undated)
    orders = {
        _outcome(name, lambda k: (_act(k, "delete"), _act(k, "newer")), alone, undated),
        _outcome(name, lambda k: (_act(k, "newer"), _act(k, "delete")), alone, undated),
    }
    assert got in orders, (after, got, orders)


@pytest.mark.parametrize("undated", [False, True])
@pytest.mark.parametrize("alone", [True, False])
@pytest.mark.parametrize("name", ["memory", "sqlite"])
@pytest.mark.parametrize("after", range(8))
def test_a_newer_version_racing_the_deletion_of_her_only_record(
    name: str, alone: bool, undated: bool, after: int
) -> None:
    """GIVEN her Stripe record stored (dated day 10, or undated) WHEN a deletion dated day 20 runs and a
    version dated day 30 of other content is stored after the deletion's k-th store call THEN the
    store ends as one of the two orders (the newer version kept)."""
    _check_newer(name, alone, undated, after)


@pytest.mark.parametrize("after", [0, 1])
def test_a_newer_version_racing_the_deletion_on_dynamodb(after: int) -> None:
    """The same on DynamoDB (moto), the record alone, the first interleaving points."""
    _check_newer("dynamodb", True, False, after)


# A version stored between the removal's erasure steps and its tombstone.


def _gap_outcome(name: str, order: str, day: int, undated_first: bool) -> Any:
    with _kit(name) as kit:
        ingest([_ann(40 if undated_first else 5, "Oslo", undated_first)], kit.profiles, _settings(kit))
        erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)

        def other() -> None:
            ingest([_ann(day, "Bergen", False)], kit.profiles, _settings(kit))

        if order == "gap":
            real = erasure.apply
            steps = [0]

            def apply(step: Any) -> Any:
                done = real(step)
                steps[0] += 1
                if steps[0] == 1:
                    other()  # after the first step (her PROFILE and IDENT items gone)
                return done

            erasure.apply = apply  # type: ignore[method-assign]
            retire_records([GONE], kit.profiles, erasure, _settings(kit))
        elif order == "delete-first":
            retire_records([GONE], kit.profiles, erasure, _settings(kit))
            other()
        else:
            other()
            retire_records([GONE], kit.profiles, erasure, _settings(kit))
        return _stored(kit)


@pytest.mark.parametrize("undated_first", [False, True])
@pytest.mark.parametrize("day", [10, 30])
@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_a_version_stored_between_the_removal_steps_and_the_tombstone(
    name: str, day: int, undated_first: bool
) -> None:
    """GIVEN her only record stored WHEN its deletion (day 20) removes her customer and a version dated
    day 10 (older) or 30 (newer) is stored after the removal's first erasure step THEN the store ends as
    one of the two orders: an older version is retired, a newer one kept."""
    got = _gap_outcome(name, "gap", day, undated_first)
    orders = {_gap_outcome(name, o, day, undated_first) for o in ("delete-first", "other-first")}
    assert got in orders, (got, orders)
