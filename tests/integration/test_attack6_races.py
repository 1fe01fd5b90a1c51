"""attack6: races between an erasure and a merge or a review decision, where identity is probabilistic.

The people of test_attack6_erased_and_fuzzy.py (Hana Sato, her namesake at her address), on the
in-memory, SQLite and DynamoDB (moto) stores; each race is made deterministic by a store method that
lets the other side run at the chosen moment. A record of hers dropped at its commit by her
suppression (an erasure ran between the merge's check and its write) leaves no index item or review
pair, and a version of her record that lost a race to a newer one leaves no index item her erasure
does not find (core.link_unfile). A review decision on her pair racing her erasure is refused (her
record held by no customer, or the pair's item gone at the write) and writes nothing naming her.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

import pytest

from connectors.jsonl import draft_from_flat
from core.identity import IdentityPolicy
from core.link_nodes import graph_node, index_keys
from core.link_review import ReviewRefusedError, decide
from core.linkage import default_model
from core.normalise import normalise_record
from core.schema import SourceRecord
from core.suppression import SuppressionCheck
from tests.integration.identity_attack_records import Flat, flat, groups, ingest_settings, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import (
    CRM,
    HOME,
    NAMESAKE,
    ON_EACH_STORE,
    _erase_hana,
    _import,
    _settings,
)
from tests.integration.test_erasure_attacks import BOOKKEEPING, SALT, CheckedJustBefore, Stores

#: Another CRM record of Hana's (a duplicate contact) with her work address and a phone.
DUPLICATE = flat(
    "crm", "7", **{**HOME, "first_name": "HANA"}, email="hana.sato@corp.jp", phone="+447700900123"
)


@ON_EACH_STORE
def test_a_record_dropped_at_its_commit_by_her_suppression_leaves_no_index_or_review_item(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN the namesake stored, and a merge of a CRM record of Hana's (not stored yet) that checked
    the suppression just before her erasure (by her address: nobody found, the address suppressed)
    WHEN the merge goes on after it THEN the record is dropped as suppressed, and nothing names it:
    no pending review pair, no index item."""
    with stores_of() as stores:
        _import(stores, [NAMESAKE])
        erased: list[Any] = []
        racing = CheckedJustBefore(
            stores.suppression, lambda: erased.append(_erase_hana(stores, outcome="not_found"))
        )
        settings = replace(ingest_settings(), suppression=SuppressionCheck(racing, SALT))
        report, _ = resolve_lines([DUPLICATE], stores.profiles, settings=settings)
        assert erased  # the erasure ran between the check and the commit
        assert report.ingest.suppressed == 1
        assert groups(stores.profiles) == {frozenset({"mail:3"})}
        left = [row for row in stores.rows() if not row[0].startswith(BOOKKEEPING)]
        assert not [row[:2] for row in left if "crm:contact:7" in str(row)]
        assert {(item.a, item.b) for item in stores.profiles.pending_reviews()} == set()


#: Hana's CRM record as it was, and two later versions two workers merge at once: each moves her.
FIRST = flat("crm", "1", day=0, **HOME, email="hana.sato@corp.jp")
SECOND = flat(
    "crm", "1", day=2, **{**HOME, "address": "5 Canal St", "postcode": "M1 3HE"}, email="hana.sato@corp.jp"
)
THIRD = flat(
    "crm",
    "1",
    day=4,
    **{**HOME, "last_name": "Tanaka", "address": "3 Quay Street", "postcode": "BS1 1AA", "city": "Bristol"},
    email="hana.sato@corp.jp",
)


def _index_keys(line: Flat) -> set[str]:
    record = normalise_record(draft_from_flat(dict(line)))
    assert isinstance(record, SourceRecord)
    return set(index_keys(graph_node(record, IdentityPolicy()), default_model()))


@ON_EACH_STORE
def test_a_version_that_lost_a_race_to_a_newer_one_leaves_no_index_item_after_her_erasure(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Hana's CRM record stored, and a worker merging a second version of it (another address)
    while another worker merges a third (another name and town) and commits first WHEN the first
    worker's commit fails and it plans again (its version now stale) and Hana is then erased THEN no
    index item lists her record under any key of any of its versions."""
    with stores_of() as stores:
        _import(stores, [FIRST])
        real = stores.profiles.commit
        raced: list[bool] = []

        def commit(changesets: Any) -> Any:
            if not raced:
                raced.append(True)
                _import(stores, [THIRD])  # the other worker, from its read to its commit
            return real(changesets)

        stores.profiles.commit = commit
        report, _ = resolve_lines([SECOND], stores.profiles, settings=_settings(stores))
        stores.profiles.commit = real
        assert raced
        assert report.ingest.stale == 1
        _erase_hana(stores)
        keys = sorted(_index_keys(FIRST) | _index_keys(SECOND) | _index_keys(THIRD))
        blocks = stores.profiles.get_blocks(keys)
        assert not [k for k in keys if k in blocks and "crm:contact:1" in blocks[k].members]
        left = [row for row in stores.rows() if not row[0].startswith(BOOKKEEPING)]
        assert not [row[:2] for row in left if "crm:contact:1" in str(row)]


@ON_EACH_STORE
@pytest.mark.parametrize("verdict", ["accepted", "rejected"])
def test_a_decision_racing_her_erasure_leaves_no_item_naming_her(
    stores_of: Callable[[], AbstractContextManager[Stores]], verdict: str
) -> None:
    """GIVEN Hana and her namesake in review WHEN a person decides the pair and Hana is erased
    between the decision's read of the pair and its write THEN no item (the review item, the
    namesake's history) names Hana's record afterwards, whether the decision was refused or not."""
    with stores_of() as stores:
        _import(stores, [CRM, NAMESAKE])
        (item,) = stores.profiles.pending_reviews()
        read = stores.profiles.review_by_id
        erased: list[Any] = []

        def review_by_id(pair_id: str) -> Any:
            found = read(pair_id)
            if not erased:
                erased.append(_erase_hana(stores))  # the privacy function, at this moment
            return found

        stores.profiles.review_by_id = review_by_id
        with contextlib.suppress(ReviewRefusedError):
            decide(stores.profiles, item.pair_id, verdict, by="ops", settings=_settings(stores))
        stores.profiles.review_by_id = read
        assert erased
        assert groups(stores.profiles) == {frozenset({"mail:3"})}
        assert stores.profiles.get_reviews([(item.a, item.b)]) == {}
        left = [row for row in stores.rows() if not row[0].startswith(BOOKKEEPING)]
        assert not [row[:2] for row in left if "crm:contact:1" in str(row)]


@ON_EACH_STORE
@pytest.mark.parametrize("verdict", ["accepted", "rejected"])
def test_a_decision_whose_write_follows_her_erasure_is_refused_and_writes_nothing(
    stores_of: Callable[[], AbstractContextManager[Stores]], verdict: str
) -> None:
    """GIVEN Hana and her namesake in review WHEN Hana is erased after the decision found both of
    the pair's records held, just before it writes the decision THEN the decision is refused, and no
    item (the review item, the namesake's history) names Hana's record."""
    with stores_of() as stores:
        _import(stores, [CRM, NAMESAKE])
        (item,) = stores.profiles.pending_reviews()
        write = stores.profiles.decide_review
        erased: list[Any] = []

        def decide_review(decided: Any, *read: Any) -> Any:
            if not erased:
                erased.append(_erase_hana(stores))
            return write(decided, *read)

        stores.profiles.decide_review = decide_review
        with pytest.raises(ReviewRefusedError, match="dropped"):
            decide(stores.profiles, item.pair_id, verdict, by="ops", settings=_settings(stores))
        stores.profiles.decide_review = write
        assert erased
        assert groups(stores.profiles) == {frozenset({"mail:3"})}
        assert stores.profiles.get_reviews([(item.a, item.b)]) == {}
        left = [row for row in stores.rows() if not row[0].startswith(BOOKKEEPING)]
        assert not [row[:2] for row in left if "crm:contact:1" in str(row)]
