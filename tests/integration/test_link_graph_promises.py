"""The link graph's promises through ingest, on the three stores, whatever the order and batches.

Every version of every record is delivered shuffled in batches of 1, 7 and 500 into the in-memory,
the embedded (SQLite) and the DynamoDB (moto) store, and must leave what one batch of the latest
versions leaves: the same customers, and the same pending review pairs. The records are drawn to
hit what the graph promises:

- one person in up to fourteen tools with no identifier in common (past the cap of fuzzy links per
  record: the cap counts the groups a record joins, so she stays one customer);
- a namesake at her address with another birth date (review items), who may later marry and move
  (the pair stops being a candidate: its pending item leaves the queue);
- a record with her name and address and no birth date (it links to both women; conflicts decide);
- Tom and Sue Parker with an email each, and a nameless household record holding both emails (it
  may join one of them, never both).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.link_scope import LinkageSettings
from core.storage.memory import InMemoryProfileStore
from tests.hypothesis_profiles import examples
from tests.integration.identity_attack_records import (
    Flat,
    flat,
    groups,
    ingest_settings,
    latest,
    resolve_lines,
    sqlite_store,
)
from tests.integration.test_erasure_attacks import dynamodb_stores

HOME = {"last_name": "Lee", "address": "12 High Street", "postcode": "LS1 4AP", "city": "Leeds"}
PERSONAS: dict[str, dict[str, Any]] = {
    "ann": {"first_name": "Ann", "date_of_birth": "1980-01-01", **HOME},
    "namesake": {"first_name": "Ann", "date_of_birth": "1975-06-15", **HOME},
    "vague": {"first_name": "Ann", **HOME},
    "moved": {
        "first_name": "Anna",
        "last_name": "Brown",
        "date_of_birth": "1975-06-15",
        "address": "1 Quay Street",
        "postcode": "BS1 1AA",
        "city": "Bristol",
    },
    "tom": {
        "first_name": "Tom",
        "last_name": "Parker",
        "date_of_birth": "1975-03-02",
        "email": "tom.parker@example.net",
    },
    "sue": {
        "first_name": "Sue",
        "last_name": "Parker",
        "date_of_birth": "1977-09-21",
        "email": "sue.parker@example.net",
    },
    "household": {"email": ["tom.parker@example.net", "sue.parker@example.net"]},
}
#: Mostly Ann, so that she often has more records than the cap of fuzzy links (10).
WEIGHTED = ["ann"] * 6 + ["namesake", "namesake", "vague", "moved", "tom", "sue", "household"]


@st.composite
def histories(draw: st.DrawFn) -> list[Flat]:
    """Versions of up to 16 records in 16 tools; a later version may be another persona."""
    count = draw(st.integers(2, 16))
    versions: list[Flat] = []
    for tool in range(count):
        persona = draw(st.sampled_from(WEIGHTED))
        for n in range(draw(st.integers(1, 3))):
            if n and draw(st.integers(0, 2)) == 0:
                persona = draw(st.sampled_from(WEIGHTED))
            fields = dict(PERSONAS[persona])
            fields.setdefault("email", f"t{tool}.{persona}@example.org")
            versions.append(flat(f"tool{tool:02d}", "1", day=n * 5 + draw(st.integers(0, 3)), **fields))
    return versions


@contextmanager
def _memory() -> Iterator[Any]:
    yield InMemoryProfileStore()


@contextmanager
def _sqlite() -> Iterator[Any]:
    yield sqlite_store()


@contextmanager
def _dynamodb() -> Iterator[Any]:
    with dynamodb_stores() as stores:
        yield stores.profiles


def _pending(store: Any) -> set[tuple[str, str]]:
    return {(item.a, item.b) for item in store.pending_reviews()}


def _outcome(store_of: Callable[[], AbstractContextManager[Any]], lines: list[Flat], batch: int) -> Any:
    with store_of() as store:
        resolve_lines(lines, store, batch_size=batch)
        return groups(store), _pending(store)


HISTORIES = given(versions=histories(), seed=st.integers(0, 2**32 - 1))


@pytest.mark.slow
@pytest.mark.parametrize("store_of", [_memory, _sqlite], ids=["memory", "sqlite"])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@HISTORIES
def test_every_version_shuffled_leaves_the_customers_and_review_queue_of_the_latest_versions(
    store_of: Callable[[], AbstractContextManager[Any]], versions: list[Flat], seed: int
) -> None:
    """GIVEN every version of records of Ann in many tools, her namesake (who may move), a record of
    her name with no birth date, and the Parkers with a nameless household record WHEN delivered
    shuffled in batches of 1, 7 and 500 THEN the customers and the pending review pairs are those one
    batch of the latest versions gives."""
    _check_every_version_shuffled(store_of, versions, seed)


@pytest.mark.slow
@settings(max_examples=examples(ci=2, deep=8), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@HISTORIES
def test_every_version_shuffled_leaves_the_customers_and_review_queue_of_the_latest_versions_on_dynamodb(
    versions: list[Flat], seed: int
) -> None:
    """The property on DynamoDB (moto): 2 histories in ``ci`` (each builds four moto tables, 3.4 CPU
    s), 8 in ``deep``; the in-memory and SQLite stores run 8 in both. The ``ci`` set still fails when
    the DynamoDB store keeps a review item a later version took out of doubt (``drop_reviews_as_read``
    never deleting)."""
    _check_every_version_shuffled(_dynamodb, versions, seed)


def _check_every_version_shuffled(
    store_of: Callable[[], AbstractContextManager[Any]], versions: list[Flat], seed: int
) -> None:
    expected = _outcome(store_of, latest(versions), 500)
    rng = random.Random(seed)
    for batch in (1, 7, 500):
        shuffled = list(versions)
        rng.shuffle(shuffled)
        assert _outcome(store_of, shuffled, batch) == expected, (batch, shuffled)
    customers, _ = expected
    final = latest(versions)
    toms = {f"{line['source']}:{line['id']}" for line in final if line.get("first_name") == "Tom"}
    sues = {f"{line['source']}:{line['id']}" for line in final if line.get("first_name") == "Sue"}
    assert not any(c & toms and c & sues for c in customers), customers


def _ann(
    tool: str, first: str, last: str, dob: str | None, street: str | None, postcode: str, city: str
) -> Flat:
    fields = {"first_name": first, "last_name": last, "date_of_birth": dob, "address": street}
    return flat(tool, "1", **fields, postcode=postcode, city=city, email=f"{tool}@example.org")


def test_a_join_taken_by_a_new_record_frees_the_other_link_of_a_record_past_the_cap() -> None:
    """GIVEN six Ann Lees of Leeds and Bristol and a model whose cap lets a record join one group by
    fuzzy links, where one batch joins Annie of 1975 (no street) with Anne of Oak Road WHEN delivered
    one record at a time, in this order and reversed THEN the customers are those of one batch. Before
    the scope read the other candidates of every record it links, the record arriving last took
    Annie's join elsewhere and her link to Anne (not a candidate of that record) was never weighed."""
    lines = [
        _ann("t00", "Anne", "Leigh", "1980-01-01", "12 High Street", "LS1 4AP", "Leeds"),
        _ann("t01", "Anne", "Lee", None, "5 Oak Road", "LS2 9JT", "Leeds"),
        _ann("t02", "Annie", "Lee", "1975-06-15", None, "LS2 9JT", "Leeds"),
        _ann("t03", "Ann", "Lee", "1980-01-01", None, "BS1 1AA", "Bristol"),
        _ann("t05", "Annie", "Lee", "1975-06-15", "12 High Street", "LS1 4AP", "Leeds"),
        _ann("t04", "Anna", "Leigh", "1975-06-15", "12 High Street", "LS1 4AP", "Leeds"),
    ]
    base = ingest_settings()
    assert base.linkage is not None
    assert base.linkage.model is not None
    model = base.linkage.model.model_copy(update={"max_fuzzy_links_per_record": 1})
    capped = replace(base, linkage=LinkageSettings(model=model, model_name="capped"))
    one_batch = sqlite_store()
    resolve_lines(lines, one_batch, batch_size=500, settings=capped)
    expected = groups(one_batch)
    assert frozenset({"t01:1", "t02:1"}) in expected
    for order in (lines, list(reversed(lines))):
        store = sqlite_store()
        resolve_lines(order, store, batch_size=1, settings=capped)
        assert groups(store) == expected
