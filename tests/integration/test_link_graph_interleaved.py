"""The link graph's promises when deliveries, retirements, an erasure and review decisions interleave.

Hypothesis draws versions of records of the personas of test_link_graph_promises (Ann in many tools,
often more than a dense blocking key's 8 records, her namesake who may move, a vague record, the
Parkers and their household record), some of which the vendor later deletes. They are delivered
shuffled in batches of a drawn size, each deletion retired at a drawn point of the stream, into the
in-memory, the embedded (SQLite) and, at a smaller size, the DynamoDB (moto) store. Then:

1. the customers and the pending review pairs are those one batch of the latest versions of the
   records not deleted gives on a fresh store;
2. Tom is erased in both: the customers still agree, and no review item names an erased record;
3. a person decides every pending pair (accepted or rejected, drawn) in both, and every version is
   delivered again: the decisions are replayed (the customers still agree, an accepted pair is one
   customer).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.identity import IdentityPolicy
from core.link_review import ReviewContradictsError, decide
from core.pipeline import IngestSettings
from core.retirement import retire_records
from core.schema import Identifier, SourceDeletion
from core.suppression import SuppressionCheck
from tests.integration.identity_attack_records import (
    Flat,
    flat,
    groups,
    ingest_settings,
    latest,
    resolve_lines,
)
from tests.integration.test_erasure_attacks import (
    BOOKKEEPING,
    SALT,
    Stores,
    dynamodb_stores,
    memory_stores,
    sqlite_stores,
)
from tests.integration.test_link_graph_promises import PERSONAS, histories

#: After every version (``flat`` days stay within 2026).
DELETED_AT = datetime(2027, 1, 1, tzinfo=UTC)


def _settings(stores: Stores) -> IngestSettings:
    return replace(ingest_settings(), suppression=SuppressionCheck(stores.suppression, SALT))


def _key(line: Flat) -> str:
    return f"{line['source']}:contact:{line['id']}"


def _retire(stores: Stores, lines: list[Flat]) -> None:
    deletions = [
        SourceDeletion(
            source=line["source"], object_type="contact", source_id=line["id"], deleted_at=DELETED_AT
        )
        for line in lines
    ]
    retire_records(deletions, stores.profiles, stores.erasure, _settings(stores), sleep=lambda _: None)


def _erase_tom(stores: Stores, final: list[Flat]) -> set[str]:
    """Erase the customer of Tom's first record (by its source id: his email may also be the
    household's, and which customer owns a shared value depends on who came first); return the
    record keys it held."""
    toms = sorted(_key(line) for line in final if line.get("first_name") == "Tom")
    if not toms:
        return set()
    tom = Identifier.assemble(kind="source", value=toms[0])
    owner = stores.profiles.get_owners([tom.key]).get(tom.key)
    if owner is None:
        return set()
    state = stores.profiles.get_customers([owner.customer_id])[owner.customer_id]
    erased = set(state.snapshots)
    stores.erase(tom, "req-tom", IdentityPolicy(), _settings(stores))  # as the privacy function does
    return erased


def _same(got: Stores, ref: Stores, when: str) -> None:
    found, expected = groups(got.profiles), groups(ref.profiles)
    assert found == expected, (
        when,
        sorted(map(sorted, found - expected)),
        sorted(map(sorted, expected - found)),
    )


def _same_queue(got: Stores, ref: Stores, when: str) -> None:
    found, expected = _pending(got), _pending(ref)
    assert found == expected, (when, "pending reviews", sorted(found - expected), sorted(expected - found))


def _pending(stores: Stores) -> set[tuple[str, str]]:
    return {(item.a, item.b) for item in stores.profiles.pending_reviews()}


def _items_naming(stores: Stores, keys: set[str], others: set[str]) -> list[Any]:
    pairs = sorted({(a, b) if a < b else (b, a) for a in keys for b in others if a != b})
    return list(stores.profiles.get_reviews(pairs).values()) if pairs else []


def _interleaved(
    stores_of: Callable[[], AbstractContextManager[Stores]],
    versions: list[Flat],
    data: st.DataObject,
    reference: Callable[[], AbstractContextManager[Stores]] | None = None,
) -> None:
    """``reference``: the store of the one batch (``stores_of`` unless given: moto holds one table)."""
    final = latest(versions)
    keys = sorted({_key(line) for line in final})
    deleted = sorted(data.draw(st.sets(st.sampled_from(keys), max_size=3), label="deleted"))
    kept = [line for line in final if _key(line) not in deleted]
    batch = data.draw(st.sampled_from([1, 3, 7, 500]), label="batch")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    shuffled = list(versions)
    random.Random(seed).shuffle(shuffled)
    # Each deletion is retired at a drawn point after the first version of its record was delivered
    # (a deletion of a record never stored leaves nothing to retire: core.retirement).
    first = {key: min(i for i, line in enumerate(shuffled) if _key(line) == key) for key in deleted}
    retirements = sorted(
        (data.draw(st.integers(first[key] + 1, len(shuffled)), label=f"retire {key}"), key) for key in deleted
    )

    with (reference or stores_of)() as ref, stores_of() as got:
        # 1. Deliveries in batches with each deletion retired at its point of the stream.
        resolve_lines(kept, ref.profiles, batch_size=500, settings=_settings(ref))
        at = 0
        for cut, key in [*retirements, (len(shuffled), None)]:
            for start in range(at, cut, batch):
                resolve_lines(
                    shuffled[start : min(cut, start + batch)],
                    got.profiles,
                    batch_size=batch,
                    settings=_settings(got),
                )
            at = max(at, cut)
            if key is not None:
                _retire(got, [line for line in final if _key(line) == key])
        _same(got, ref, "after the deliveries and retirements")
        _same_queue(got, ref, "after the deliveries and retirements")
        assert not _items_naming(got, set(deleted), set(keys))

        # 2. Tom's erasure.
        erased = _erase_tom(ref, kept)
        assert _erase_tom(got, kept) == erased
        _same(got, ref, "after the erasure")
        _same_queue(got, ref, "after the erasure")
        assert not _items_naming(got, erased, set(keys))

        # 3. A person decides every pending pair; every version is delivered again.
        verdicts = {}
        for item in sorted(ref.profiles.pending_reviews(), key=lambda i: i.pair_id):
            verdict = data.draw(st.sampled_from(["accepted", "rejected"]), label=item.pair_id)
            refused = []
            for stores in (ref, got):
                try:
                    decide(stores.profiles, item.pair_id, verdict, by="ops", settings=_settings(stores))
                except ReviewContradictsError:
                    refused.append(stores)  # it contradicts a decision taken: refused on both
            assert len(refused) in (0, 2), item.pair_id
            if not refused:
                verdicts[(item.a, item.b)] = verdict
        _same(got, ref, "after the decisions")
        random.Random(seed + 1).shuffle(shuffled)
        for stores, lines, size in ((ref, kept, 500), (got, shuffled, batch)):
            resolve_lines(lines, stores.profiles, batch_size=size, settings=_settings(stores))
        customers = groups(got.profiles)
        _same(got, ref, "after the decisions and a delivery of every version")
        _same_queue(got, ref, "after the decisions and a delivery of every version")
        # An accepted pair is one customer; a rejected one is refused its link (other evidence may
        # still join its records: docs/identity.md), which the equality with one batch checks.
        of = {key: c for c in customers for key in c}
        for (a, b), verdict in verdicts.items():
            a, b = a.replace(":contact:", ":"), b.replace(":contact:", ":")
            if verdict == "accepted" and a in of and b in of:
                assert of[a] == of[b], (a, b)


@pytest.mark.slow
@pytest.mark.parametrize("stores_of", [memory_stores, sqlite_stores], ids=["memory", "sqlite"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(versions=histories(), data=st.data())
def test_deliveries_retirements_an_erasure_and_decisions_in_any_order_leave_the_graphs_customers(
    stores_of: Callable[[], AbstractContextManager[Stores]], versions: list[Flat], data: st.DataObject
) -> None:
    """GIVEN every version of the personas' records, some later deleted WHEN delivered shuffled in
    batches, each deletion retired at a drawn point, then Tom erased, then every pending pair decided
    and every version delivered again THEN after each step the customers and pending review pairs are
    those of one batch of the latest versions, and no review item names a retired or erased record."""
    _interleaved(stores_of, versions, data)


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(versions=histories(), data=st.data())
def test_the_same_on_dynamodb(versions: list[Flat], data: st.DataObject) -> None:
    """The same steps on the DynamoDB store (moto), at a smaller size."""
    _interleaved(dynamodb_stores, versions[:12], data, reference=memory_stores)


def _namesake_and_nine_anns() -> list[Flat]:
    """Ann's namesake (another birth date: a review pair with each Ann she meets) and nine records
    of Ann: ten records under each key of 12 High Street, a dense block where the namesake meets the
    four Anns next to her only."""
    namesake = flat("n", "1", **PERSONAS["namesake"], email="namesake@example.org")
    return [namesake] + [flat(f"a{i}", "1", **PERSONAS["ann"], email=f"a{i}@example.org") for i in range(9)]


def _an_ann_next_to_the_namesake(pending: set[tuple[str, str]]) -> str:
    return min(key for pair in pending for key in pair if key != "n:contact:1")


def test_a_retired_record_leaves_its_neighbours_in_a_dense_block_paired_as_one_batch_pairs_them() -> None:
    """GIVEN the namesake and nine Anns (the namesake in review with the four Anns next to her) WHEN
    the vendor deletes one of those four THEN the fifth Ann is her neighbour now: the pending pairs
    are those one batch of the nine records left gives (before core.link_relink, the pair stayed
    undecided until one of them changed)."""
    lines = _namesake_and_nine_anns()
    with memory_stores() as ref, memory_stores() as got:
        resolve_lines(lines, got.profiles, batch_size=500, settings=_settings(got))
        before = _pending(got)
        assert len(before) == 4
        gone = _an_ann_next_to_the_namesake(before)
        _retire(got, [line for line in lines if _key(line) == gone])
        rest = [line for line in lines if _key(line) != gone]
        resolve_lines(rest, ref.profiles, batch_size=500, settings=_settings(ref))
        assert _pending(got) == _pending(ref)
        assert len(_pending(got)) == 4  # three of before, and the fifth Ann's
        _same(got, ref, "after the retirement")


@pytest.mark.parametrize(
    "stores_of", [memory_stores, sqlite_stores, dynamodb_stores], ids=["memory", "sqlite", "dynamodb"]
)
def test_an_erased_record_leaves_its_neighbours_in_a_dense_block_paired_as_one_batch_pairs_them(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN the namesake, nine Anns and a lodger (another Ann Lee, born between the namesake and Ann:
    she stands between them in the dense block of 12 High Street) WHEN the lodger is erased, with
    the identity settings ingest uses (the privacy function's and the CLI's: merge's model) THEN the
    pending pairs are those one batch of the ten records left gives (the namesake with the four
    Anns next to her now), and nothing stored names the lodger's record or her address (before
    privacy4, the namesake's pair with the Ann the erasure brought next to her was not listed until
    one of them changed)."""
    lodger = flat(
        "l", "1", **{**PERSONAS["namesake"], "date_of_birth": "1977-04-09"}, email="lodger@example.org"
    )
    lines = [*_namesake_and_nine_anns(), lodger]
    gone = _key(lodger)
    with memory_stores() as ref, stores_of() as got:
        resolve_lines(lines, got.profiles, batch_size=500, settings=_settings(got))
        assert [c for c in groups(got.profiles) if "l:1" in c] == [frozenset({"l:1"})]  # a person of her own
        report = got.erase(
            Identifier.assemble(kind="source", value=gone), "req-ann", IdentityPolicy(), _settings(got)
        )
        assert report.outcome == "erased"
        rest = [x for x in lines if _key(x) != gone]
        resolve_lines(rest, ref.profiles, batch_size=500, settings=_settings(ref))
        assert _pending(got) == _pending(ref)
        assert ("a3:contact:1", "n:contact:1") in _pending(got)  # next to each other once she is gone
        _same(got, ref, "after the erasure")
        # AND no pair, review item or index entry names her record or holds her address
        assert not [pair for pair in _pending(got) if gone in pair]
        assert not _items_naming(got, {gone}, {_key(x) for x in lines})
        left = [row for row in got.rows() if not row[0].startswith(BOOKKEEPING)]
        theirs = (gone, lodger["email"], lodger["date_of_birth"])
        assert not [row for row in left if any(value in str(row).lower() for value in theirs)]
