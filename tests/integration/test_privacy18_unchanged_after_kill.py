"""privacy18 (item 3, a decision): a version killed between its filing and its commit leaves her
record listed under keys only that version has; her stored version, delivered again unchanged,
writes nothing, so they stay. They are left on purpose (docs/identity.md, "where a record was
filed"): a record found through a key is compared on its stored version's match fields, and her
erasure takes her out of every key her write-ahead entry lists. These tests hold the two halves of
that on the in-memory, SQLite and DynamoDB (moto) stores: a stranger at the killed version's house
joins nobody and is queued for nobody a clean run would not queue, and her erasure after the
unchanged delivery leaves no index item naming her or the killed version's street.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from core.identity import IdentityPolicy
from core.schema import Identifier
from tests.integration.identity_attack_records import flat, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_attack9_killed_filing import (
    EMAIL,
    FIRST,
    KEY,
    KILLED,
    KILLED_ONLY,
    ON_EACH_STORE,
    _keys,
    _killed_at_commit,
    _listed,
)
from tests.integration.test_attack9_place_programs import STREET
from tests.integration.test_erasure_attacks import Stores
from tests.integration.test_erasure_block_orders import _block_text

#: A stranger in the house only the killed version has: her surname and postcode, nothing else hers.
RUTH = flat(
    "shop", "5", day=3, email="ruth.o@example.net", **STREET, first_name="Ruth", date_of_birth="1955-02-02"
) | {"address": "9 Tanner Row"}


def _customers(stores: Stores) -> set[frozenset[str]]:
    return {frozenset(s.key for s in p.sources) for p in stores.profiles.iter_profiles()}


def _queue(stores: Stores) -> list[tuple[str, str]]:
    return sorted((i.a, i.b) for i in stores.profiles.pending_reviews())


def _killed_then_unchanged(stores: Stores) -> None:
    resolve_lines([FIRST], stores.profiles, settings=_settings(stores))
    _killed_at_commit(stores, KILLED)
    resolve_lines([FIRST], stores.profiles, settings=_settings(stores))  # unchanged: nothing written
    assert _listed(stores) == KILLED_ONLY  # the killed version's keys stay


@ON_EACH_STORE
def test_a_stranger_under_a_killed_versions_keys_joins_as_in_a_clean_run(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    assert set(_keys(RUTH)) & set(KILLED_ONLY)  # she is filed where only the killed version is
    with stores_of() as clean:
        resolve_lines([FIRST, RUTH], clean.profiles, settings=_settings(clean))
        expected = (_customers(clean), _queue(clean))
    with stores_of() as stores:
        _killed_then_unchanged(stores)
        resolve_lines([RUTH], stores.profiles, settings=_settings(stores))
        assert (_customers(stores), _queue(stores)) == expected
        assert frozenset({KEY}) in _customers(stores)


@ON_EACH_STORE
def test_her_erasure_after_an_unchanged_delivery_takes_the_killed_versions_keys(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    with stores_of() as stores:
        _killed_then_unchanged(stores)
        email = Identifier.assemble(kind="email", value=EMAIL)
        report: Any = stores.erase(email, "req-eli", IdentityPolicy(), _settings(stores))
        assert report.outcome == "erased"
        text = _block_text(stores.profiles)
        assert KEY not in text
        assert "tanner" not in text
