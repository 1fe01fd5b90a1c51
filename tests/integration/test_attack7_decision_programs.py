"""attack7: random programs of deliveries, review decisions, erasures, sign-ups again and vendor
deletions over Hana's records (her CRM record moving house and changing her surname, her shop
record) and her namesake's at her address, in probabilistic identity, on the in-memory and SQLite
stores (40 programs of up to 12 steps, 15 in the ci profile, ``ATTACK7_EXAMPLES`` for more) and a
few on DynamoDB (moto).

attack6's programs (test_attack6_fuzzy_programs.py) have no review decisions: here a person decides
a pending pair (accepts or rejects it) at any point, or a pair already decided again. After every
step the store is consistent (core.testing.invariants), every ``NAMED#`` item is backed by its
history (tests/integration/test_attack7_named_index.py), and nothing names a record an erasure took
and no later delivery stored again: no review item, no index item, no ``NAMED#`` item, no other
stored item (the erasure's bookkeeping aside). A decision on a pair with such a record is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.governance.history_names import source_name, store_named_pks
from core.identity import IdentityPolicy
from core.link_review import ReviewRefusedError, decide
from core.privacy import lift_suppression
from core.retirement import retire_records
from core.schema import Identifier, SourceDeletion
from core.testing.invariants import store_problems
from tests.hypothesis_profiles import examples
from tests.integration.identity_attack_records import resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_attack6_fuzzy_programs import DELETED_AT, _key
from tests.integration.test_attack7_named_index import named_items, stale_named
from tests.integration.test_attack7_unfile_threads import VERSIONS
from tests.integration.test_erasure_attacks import BOOKKEEPING, SALT, STORES, Stores

EXAMPLES = int(os.environ.get("ATTACK7_EXAMPLES", examples(ci=15, deep=40)))
KEYS = sorted({_key(v) for v in VERSIONS})
EVERYTHING = ("deliver", list(range(len(VERSIONS))))

STEP = st.one_of(
    st.tuples(st.just("deliver"), st.lists(st.integers(0, len(VERSIONS) - 1), min_size=1, max_size=4)),
    st.tuples(st.just("decide"), st.sampled_from(["accepted", "rejected"]), st.integers(0, 3)),
    st.tuples(st.just("erase"), st.sampled_from(KEYS)),
    st.tuples(st.just("again"), st.integers(0, 3)),
    st.tuples(st.just("retire"), st.sampled_from(KEYS)),
)


def _owned(stores: Stores) -> set[str]:
    return {k.removeprefix("source#") for k in stores.profiles.get_owners([f"source#{k}" for k in KEYS])}


def _run(stores: Stores, steps: list[tuple[Any, ...]]) -> None:
    erased: set[str] = set()
    decided: list[str] = []
    requests: list[Identifier] = []
    for n, step in enumerate(steps):
        when = (n, step)
        if step[0] == "deliver":
            resolve_lines([VERSIONS[i] for i in step[1]], stores.profiles, settings=_settings(stores))
        elif step[0] == "decide":
            pairs = [p.pair_id for p in stores.profiles.pending_reviews()] + decided
            if not pairs:
                continue
            pair = pairs[step[2] % len(pairs)]
            item = stores.profiles.review_by_id(pair)
            try:
                decide(stores.profiles, pair, step[1], by="ops", settings=_settings(stores))
                decided.append(pair)
            except ReviewRefusedError:
                # only a pair that is gone, or with a record nobody holds
                assert item is None or not {item.a, item.b} <= _owned(stores), when
        elif step[0] == "erase":
            before = _owned(stores)
            if step[1] not in before:
                continue
            named = Identifier.assemble(kind="source", value=step[1])
            report = stores.erase(named, f"req-{n}", IdentityPolicy(), _settings(stores))
            assert report.outcome == "erased", (when, report)
            requests.append(named)
            erased |= before - _owned(stores)
        elif step[0] == "again":
            if requests:
                lift_suppression(
                    requests[step[1] % len(requests)],
                    suppression=stores.suppression,
                    erasure=stores.erasure,
                    salt=SALT,
                    request_id=f"again-{n}",
                    requested_by="dpo",
                )
        else:
            source, _, source_id = step[1].split(":")
            deletion = SourceDeletion(
                source=source, object_type="contact", source_id=source_id, deleted_at=DELETED_AT
            )
            retire_records(
                [deletion], stores.profiles, stores.erasure, _settings(stores), sleep=lambda _: None
            )
        erased -= _owned(stores)  # delivered again after a sign-up again: stored, hers again
        assert store_problems(list(stores.profiles.iter_profiles()), stores.profiles.ident_owners()) == [], (
            when
        )
        assert stale_named(stores) == set(), when
        if not erased:
            continue
        pairs = sorted({(a, b) if a < b else (b, a) for a in erased for b in KEYS if a != b})
        assert stores.profiles.get_reviews(pairs) == {}, (when, erased)
        named = {pk for k in erased for pk in store_named_pks(stores.profiles.history, source_name(k))}
        assert not [i for i in named_items(stores) if i[0] in named], (when, erased)
        rows = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING)]
        assert not [r[:2] for r in rows for k in erased if k in str(r)], (when, erased)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=12))
def test_random_programs_with_review_decisions_leave_nothing_of_an_erased_record(
    store: str, steps: list[tuple[Any, ...]]
) -> None:
    opened: Callable[[], AbstractContextManager[Stores]] = STORES[store]
    with opened() as stores:
        _run(stores, [EVERYTHING, *steps])


@settings(max_examples=max(EXAMPLES // 8, 4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=8))
def test_the_same_on_dynamodb(steps: list[tuple[Any, ...]]) -> None:
    with STORES["dynamodb"]() as stores:
        _run(stores, [EVERYTHING, *steps])
