"""attack7: people deciding one review pair at once (core.link_review.decide), in threads, on the
in-memory, SQLite and DynamoDB (moto) stores: two reviewers with opposite verdicts, two with the same
one, and a decision racing an ingest of new versions of the pair's records. Whatever the order, the
customers are what the stored decision says, the store is consistent (core.testing.invariants), the
pair is listed as pending only while it is, and every history event of a decision names the
pair's two records. Each test plays 4 rounds (the threads meet in another order each time); on DynamoDB
through moto's threaded server, about 2 s a test (load 9): a decision that applies its own verdict
rather than the one stored last is caught in most runs at this size.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from core.link_index import review_pair_id
from core.link_review import ReviewRefusedError, decide, pending
from core.link_scope import LinkageSettings
from core.pipeline import IngestSettings, ingest
from core.storage.memory import InMemoryProfileStore
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.testing.invariants import store_problems
from core.testing.records import make_record
from tests.integration.test_attack6_erased_and_fuzzy import CRM as HANA_CRM
from tests.integration.test_attack6_erased_and_fuzzy import NAMESAKE, ON_EACH_STORE, _erase_hana, _import
from tests.integration.test_attack7_unfile_threads import dynamodb_server_stores
from tests.integration.test_erasure_attacks import Stores
from tests.threads import at_once

LINKED = IngestSettings(sleep=lambda _: None, linkage=LinkageSettings())
HANA = {"first_name": "Hana", "last_name": "Sato", "date_of_birth": "1992-11-30"}
CRM = make_record("crm", "1", email="hana.sato@corp.jp", traits={**HANA, "address": "8 Mill Lane"})
SHOP = make_record(
    "shop", "2", email="hanasato92@icloud.com", traits={**HANA, "address": "40 Bridge St"}, day=1
)
PAIR = review_pair_id(CRM.key, SHOP.key)


def _together(store: Any) -> bool:
    groups = {frozenset(s.key for s in p.sources) for p in store.iter_profiles()}
    return frozenset({CRM.key, SHOP.key}) in groups


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The profile store, shared by the threads. DynamoDB through moto's threaded server (its
    in-process mock is not made for threads: tests/integration/test_concurrency.py)."""
    if request.param == "memory":
        yield InMemoryProfileStore()
    elif request.param == "sqlite":
        with tempfile.TemporaryDirectory() as folder, SQLiteDatabase(Path(folder) / "r.sqlite3") as database:
            yield SQLiteProfileStore(database)
    else:
        with dynamodb_server_stores() as stores:
            yield stores.profiles


def _check(store: Any) -> None:
    stored = store.review_by_id(PAIR)
    assert stored is not None
    assert _together(store) == (stored.status == "accepted"), stored.status
    assert (PAIR in [p["pair"] for p in pending(store)]) == (stored.status == "pending")
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
    live = {p.customer_id for p in store.iter_profiles()}
    for cid in live:
        for event in store.history.list_history(cid, limit=200).events:
            if event.kind.startswith("review_"):
                assert set(event.source_keys) == {CRM.key, SHOP.key}


@pytest.mark.parametrize(
    "verdicts", [("accepted", "rejected"), ("accepted", "accepted"), ("rejected", "rejected")]
)
def test_two_reviewers_deciding_one_pair_at_once_leave_what_the_stored_decision_says(
    store: Any, verdicts: tuple[str, str]
) -> None:
    ingest([CRM, SHOP], store, LINKED)
    assert PAIR in [p["pair"] for p in pending(store)]
    for round_ in range(4):
        errors = at_once(
            *(
                lambda v=v, by=f"r{n}-{round_}": decide(store, PAIR, v, by=by, settings=LINKED)  # type: ignore[misc]
                for n, v in enumerate(verdicts)
            )
        )
        assert not [e for e in errors if not isinstance(e, ReviewRefusedError)], errors
        _check(store)
        verdicts = verdicts[::-1] if verdicts[0] != verdicts[1] else verdicts


def test_a_decision_racing_new_versions_of_its_records_leaves_what_the_stored_decision_says(
    store: Any,
) -> None:
    ingest([CRM, SHOP], store, LINKED)
    for n, verdict in enumerate(["accepted", "rejected", "accepted", "rejected"]):
        later = [
            r.model_copy(
                update={
                    "traits": {**r.traits, "lifecycle_stage": f"stage {n}"},
                    "updated_at": r.updated_at.replace(year=2027 + n),
                }
            )
            for r in (CRM, SHOP)
        ]
        errors = at_once(
            lambda v=verdict: decide(store, PAIR, v, by="ops", settings=LINKED),  # type: ignore[misc]
            lambda one=later[:1]: ingest(one, store, LINKED),  # type: ignore[misc]
            lambda other=later[1:]: ingest(other, store, LINKED),  # type: ignore[misc]
        )
        assert not [e for e in errors if not isinstance(e, ReviewRefusedError)], errors
        _check(store)


class Killed(BaseException):
    """The process dies here (nothing catches it)."""


def test_a_review_filed_by_an_ingest_killed_before_it_was_listed_is_listed_when_filed_again(
    store: Any,
) -> None:
    """GIVEN an ingest that stores the pair's records and dies before the pair is listed for review
    (DynamoDB: between the REVIEW# item and the PENDING list's update; the other stores: before the
    review item) WHEN one of the records changes (a field the model does not compare) and is
    ingested again THEN the pair is listed as pending: no review is lost for good."""
    real = getattr(store, "_pending", None)
    put = store.put_reviews

    def killed_listing(verb: str, ids: list[str]) -> None:
        if verb == "ADD" and ids:
            raise Killed
        assert real is not None
        real(verb, ids)

    def killed_filing(items: Any) -> None:
        raise Killed

    if real is not None:
        store._pending = killed_listing
    else:
        store.put_reviews = killed_filing
    with pytest.raises(Killed):
        ingest([CRM, SHOP], store, LINKED)
    if real is not None:
        store._pending = real
    store.put_reviews = put
    assert PAIR not in [p["pair"] for p in pending(store)]
    later = SHOP.model_copy(
        update={
            "traits": {**SHOP.traits, "lifecycle_stage": "customer"},
            "updated_at": SHOP.updated_at.replace(year=2027),
        }
    )
    ingest([later], store, LINKED)
    assert PAIR in [p["pair"] for p in pending(store)]


@ON_EACH_STORE
def test_her_erasure_between_her_records_commit_and_their_review_filing_leaves_no_review_item(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN the namesake stored WHEN Hana's CRM record is merged (stored: her customer) and she is
    erased between that commit and the filing of the pair in doubt with the namesake THEN no review
    item names her record afterwards (the filing lands after her erasure dropped her pairs)."""
    with stores_of() as stores:
        _import(stores, [NAMESAKE])
        put = stores.profiles.put_reviews
        erased: list[Any] = []

        def put_reviews(items: Any) -> None:
            if not erased:
                erased.append(_erase_hana(stores))  # the privacy function, at this moment
            put(items)

        stores.profiles.put_reviews = put_reviews
        _import(stores, [HANA_CRM])
        stores.profiles.put_reviews = put
        assert erased
        assert stores.profiles.get_reviews([("crm:contact:1", "mail:contact:3")]) == {}
        assert [item.pair_id for item in stores.profiles.pending_reviews()] == []


def _groups(store: Any) -> set[frozenset[str]]:
    return {frozenset(s.key for s in p.sources) for p in store.iter_profiles()}


def _sequential(verdict: str, moved: Any, decide_first: bool) -> set[frozenset[str]]:
    fresh = InMemoryProfileStore()
    ingest([CRM, SHOP], fresh, LINKED)
    steps = [
        lambda: decide(fresh, PAIR, verdict, by="ops", settings=LINKED),  # type: ignore[arg-type]
        lambda: ingest([moved], fresh, LINKED),
    ]
    for step in steps if decide_first else steps[::-1]:
        with contextlib.suppress(ReviewRefusedError):
            step()
    return _groups(fresh)


MOVED = SHOP.model_copy(
    update={
        "traits": {**SHOP.traits, "last_name": "Tanaka", "address": "3 Quay Street"},
        "updated_at": SHOP.updated_at.replace(year=2027),
    }
)
"""The shop record's new version: she married and moved (another surname and address)."""


def _moved_meanwhile(store: Any, method: str, verdict: str) -> None:
    """Decide the pair, with the moved version ingested right after the decision's ``method`` call."""
    real = getattr(store, method)
    done: list[bool] = []

    def call(*args: Any) -> Any:
        found = real(*args)
        if not done:
            done.append(True)
            ingest([MOVED], store, LINKED)  # another worker, at this moment
        return found

    setattr(store, method, call)
    with contextlib.suppress(ReviewRefusedError):
        decide(store, PAIR, verdict, by="ops", settings=LINKED)  # type: ignore[arg-type]
    setattr(store, method, real)
    assert done


@pytest.mark.parametrize("verdict", ["accepted", "rejected"])
def test_a_version_moving_a_record_away_between_the_decisions_read_and_write_ends_as_in_one_order(
    store: Any, verdict: str
) -> None:
    """GIVEN the pair in review WHEN the shop record's moved version is ingested after a person's
    decision read the pair and before it wrote THEN the customers are what one order of the two
    gives, and the store is consistent."""
    ingest([CRM, SHOP], store, LINKED)
    _moved_meanwhile(store, "review_by_id", verdict)
    assert _groups(store) in (_sequential(verdict, MOVED, True), _sequential(verdict, MOVED, False))
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []


def test_a_version_moving_a_record_away_between_the_decisions_write_and_its_merge_ends_as_in_one_order(
    store: Any,
) -> None:
    """GIVEN the pair in review WHEN a person accepts it and the shop record's moved version is
    ingested between the decision's write and its merge THEN they end apart, as in either order."""
    ingest([CRM, SHOP], store, LINKED)
    _moved_meanwhile(store, "decide_review", "accepted")
    assert _groups(store) in (_sequential("accepted", MOVED, True), _sequential("accepted", MOVED, False))
