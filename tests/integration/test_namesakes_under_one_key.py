"""Several erased namesakes under one fuzzy look-up key (core.suppression_prints), on the in-memory,
SQLite and DynamoDB (moto) stores through the ``SuppressionStore`` port.

Four Hana Satos born the same day, each with her own address, postcode, city and email: their
fingerprints share the ``fuzzy#nd:`` key (name and birth date). Each is erased (her email entry and
her stored record's fingerprints) and lifted (she signed up again) in an order hypothesis draws,
an erasure possibly run twice (a retried request). After every step, a queued record of each one
(her name, birth date, postcode and city; no street, so the shared key is its only look-up key)
is dropped at merge exactly while her own erasure stands: another's erasure neither drops it nor,
lifted, lets it through.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.identity import IdentityPolicy
from core.schema import SourceRecord
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry, SuppressionStore, keyed_hash
from core.suppression_fuzzy import fingerprint_entries
from core.suppression_prints import prints_by_erasure
from core.testing.records import make_record
from tests.integration.identity_attack_records import product_linkage
from tests.integration.test_erasure_attacks import SALT, STORES

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
POLICY = IdentityPolicy()
MODEL = product_linkage().model
NAME = {"first_name": "Hana", "last_name": "Sato", "date_of_birth": "1992-11-30"}
PLACES = [
    ("8 Mill Lane", "M4 5JD", "Manchester"),
    ("12 Oak Road", "E1 6AN", "London"),
    ("3 Quay Street", "BS1 4DJ", "Bristol"),
    ("41 Castle Hill", "LA1 1YN", "Lancaster"),
]
PEOPLE = range(len(PLACES))


def _stored(i: int) -> SourceRecord:
    address, postcode, city = PLACES[i]
    traits = {**NAME, "address": address, "postcode": postcode, "city": city}
    return make_record("crm", str(i), email=f"hana{i}@example.com", traits=traits)


def _queued(i: int) -> SourceRecord:
    _, postcode, city = PLACES[i]
    return make_record("shop", f"q{i}", traits={**NAME, "postcode": postcode, "city": city})


def _email_hash(i: int) -> str:
    return keyed_hash(SALT, f"email#hana{i}@example.com")


def _erase(store: SuppressionStore, i: int) -> None:
    email = SuppressionEntry(_email_hash(i), "email", f"req-{i}", AT)
    store.suppress([email, *fingerprint_entries([_stored(i)], POLICY, SALT, f"req-{i}", AT)])


#: The look-up key every namesake's fingerprint is filed under (her name and birth date).
(SHARED,) = set.intersection(
    *({e.hash for e in fingerprint_entries([_stored(i)], POLICY, SALT, "r", AT)} for i in PEOPLE)
)


STEPS = st.lists(st.tuples(st.sampled_from(["erase", "lift"]), st.sampled_from(list(PEOPLE))), max_size=12)


def test_the_namesakes_share_one_key_and_each_record_links_to_her_own_fingerprint_only() -> None:
    """The premise: one nd key for all four, and a queued record dropped by its own person's
    fingerprint alone (each erased alone)."""
    keys = {e.hash for i in PEOPLE for e in fingerprint_entries([_stored(i)], POLICY, SALT, "r", AT)}
    assert len(keys) == 1 + len(PLACES)  # one shared nd key, one na key each
    for i in PEOPLE:
        with STORES["memory"]() as stores:
            _erase(stores.suppression, i)
            check = SuppressionCheck(stores.suppression, SALT)
            _, dropped = check.split([_queued(j) for j in PEOPLE], MODEL, POLICY)
            assert [r.source_id for r in dropped] == [f"q{i}"]


@pytest.mark.parametrize("store", sorted(STORES))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_each_namesakes_records_are_dropped_exactly_while_her_erasure_stands(
    store: str, steps: list[tuple[str, int]]
) -> None:
    with STORES[store]() as stores:
        suppression = stores.suppression
        check = SuppressionCheck(suppression, SALT)
        standing: set[int] = set()
        for action, i in steps:
            if action == "erase":
                _erase(suppression, i)
                standing.add(i)
            else:
                lifted = suppression.lift(_email_hash(i))
                assert bool(lifted) == (i in standing)
                standing.discard(i)
            _, dropped = check.split([_queued(j) for j in PEOPLE], MODEL, POLICY)
            assert {r.source_id for r in dropped} == {f"q{j}" for j in standing}, (action, i)
            held = suppression.entry(SHARED)  # one entry, each standing erasure's prints in it
            assert held is not None if standing else held is None
            if held is not None:
                by = prints_by_erasure(held)
                assert set(by) == {f"req-{j}" for j in standing}
                assert all(len(prints) == 1 for prints in by.values())


class _Racing:
    """A DynamoDB client that lets another erasure or lift write the shared entry between a fuzzy
    entry's read and its conditional write (once)."""

    def __init__(self, client: Any, race: Callable[[], None]) -> None:
        self._client = client
        self._race: Callable[[], None] | None = race
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _raced(self, name: str, kwargs: dict[str, Any]) -> Any:
        # a transaction's writes (the fuzzy entries of one ``suppress``) race like a single write
        writes = [next(iter(w.values())) for w in kwargs.get("TransactItems", [])] or [kwargs]
        keys = [w.get("Item", w.get("Key", {})).get("PK", {}).get("S") for w in writes]
        if self._race is not None and f"SUPPRESS#{SHARED}" in keys:
            race, self._race = self._race, None
            race()
        return getattr(self._client, name)(**kwargs)

    def put_item(self, **kwargs: Any) -> Any:
        return self._raced("put_item", kwargs)

    def delete_item(self, **kwargs: Any) -> Any:
        return self._raced("delete_item", kwargs)

    def transact_write_items(self, **kwargs: Any) -> Any:
        return self._raced("transact_write_items", kwargs)


@pytest.mark.parametrize("racer", ["erase", "lift"])
def test_an_erasure_racing_another_on_the_shared_dynamodb_entry_keeps_both(racer: str) -> None:
    """GIVEN namesakes 0 (and, for a lift, 2) erased WHEN namesake 1's erasure reads the shared entry
    and, before it writes, namesake 2 is erased (or lifted) THEN its conditional write fails, is
    read and made again: each standing erasure's fingerprint is in the entry, and only those."""
    with STORES["dynamodb"]() as stores:
        plain = stores.suppression
        assert isinstance(plain, DynamoDBSuppressionStore)
        _erase(plain, 0)
        if racer == "lift":
            _erase(plain, 2)

        def race() -> None:
            if racer == "erase":
                _erase(plain, 2)
            else:
                plain.lift(_email_hash(2))

        client = _Racing(plain._client, race)
        _erase(DynamoDBSuppressionStore(client, plain.table_name), 1)
        assert client._race is None  # the race ran
        held = plain.entry(SHARED)
        assert held is not None
        standing = {0, 1, 2} if racer == "erase" else {0, 1}
        assert set(prints_by_erasure(held)) == {f"req-{j}" for j in standing}
        _, dropped = SuppressionCheck(plain, SALT).split([_queued(j) for j in PEOPLE], MODEL, POLICY)
        assert {r.source_id for r in dropped} == {f"q{j}" for j in standing}


def test_an_entry_written_by_the_previous_version_is_its_owners_and_takes_a_namesakes_beside() -> None:
    """GIVEN namesake 0's erasure written as the previous version wrote it on DynamoDB (its
    fingerprints an untagged list, no ``version``) WHEN namesake 1 is erased, then 0 lifted THEN the
    entry holds both, then 1's alone: the untagged list was read as its owner's."""
    with STORES["dynamodb"]() as stores:
        store = stores.suppression
        assert isinstance(store, DynamoDBSuppressionStore)
        _erase(store, 0)
        client, table, key = store._client, store.table_name, {"PK": {"S": f"SUPPRESS#{SHARED}"}}
        item = client.get_item(TableName=table, Key=key | {"SK": {"S": "SUPPRESS"}})["Item"]
        assert json.loads(item["fingerprint"]["S"])[0]  # one erasure's: an untagged list
        client.put_item(TableName=table, Item={k: v for k, v in item.items() if k != "version"})

        _erase(store, 1)
        held = store.entry(SHARED)
        assert held is not None
        assert held.erasure == "req-0"
        assert set(prints_by_erasure(held)) == {"req-0", "req-1"}
        assert store.lift(_email_hash(0))
        held = store.entry(SHARED)
        assert held is not None
        assert held.erasure == "req-1"
        assert set(prints_by_erasure(held)) == {"req-1"}
        _, dropped = SuppressionCheck(store, SALT).split([_queued(j) for j in PEOPLE], MODEL, POLICY)
        assert [r.source_id for r in dropped] == ["q1"]
