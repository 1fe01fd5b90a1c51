"""A process killed between filing a batch in the identity index and committing it, on the in-memory,
SQLite and DynamoDB (moto) stores.

Ingest files a batch's records under their new version's keys, at their new places, before it
commits them (core.link_plan: of two writers adding matching records at once, the one reading second
sees the other). Killed in between, the index holds a version the store never stored: her record
listed under keys only that version has, at its places. The index module says a crash leaves "one
removal too early (re-done when the batch is delivered again)"; but the version killed may never be
stored: a newer one is (it files from the stored version's keys, not the killed one's), and the
killed one, delivered again after it, is dropped as stale. Then the record is still listed where
only the killed version was, and her erasure (which forgets the stored version's keys) leaves that
membership and its place (her folded name, birth date, house and street) in the table.

Found here (strict xfails until filed16): the index needed to know where a record was filed beyond
its stored version. core.link_filed writes it ahead of the filing (a ``fl:`` entry per record),
read by the next version's filing, by a stale version's drop (how the killed one, delivered again
after the newer one, puts the index back here) and by erasure. Delivered again before a newer one,
the killed version itself repairs the index (tested: it is stored and files from there).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from core.identity import IdentityPolicy
from core.link_nodes import graph_node, index_keys
from core.linkage import default_model
from core.schema import Identifier
from tests.integration.identity_attack_records import Flat, flat, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_attack9_place_programs import STREET, _check_places, _record
from tests.integration.test_erasure_attacks import STORES, Stores
from tests.integration.test_erasure_block_orders import _block_text

ELI = {**STREET, "first_name": "Eli", "date_of_birth": "1980-06-06"}
EMAIL = "okafor8@example.com"
KEY = "crm:contact:8"


def _eli(day: int, address: str) -> Flat:
    return flat("crm", "8", day=day, email=EMAIL, **ELI, address=address)


FIRST, KILLED, NEWEST = _eli(0, "23 Quillon Road"), _eli(2, "9 Tanner Row"), _eli(4, "23 Quillon Road")


def _keys(line: Flat) -> list[str]:
    """The index keys a version files her record under (its blocking keys and identifier values)."""
    return sorted(index_keys(graph_node(_record(line), IdentityPolicy()), default_model()))


class _Killed(BaseException):
    """The process dies (not an error anything catches)."""


def _killed_at_commit(stores: Stores, line: Flat) -> None:
    store = stores.profiles

    def commit(changesets: Any) -> Any:
        raise _Killed

    store.commit = commit
    try:
        with pytest.raises(_Killed):
            resolve_lines([line], store, settings=_settings(stores))
    finally:
        del store.commit


ON_EACH_STORE = pytest.mark.parametrize("stores_of", [STORES[n] for n in sorted(STORES)], ids=sorted(STORES))

KILLED_ONLY = sorted(set(_keys(KILLED)) - set(_keys(FIRST)))
"""The keys only the killed version has (its house on Tanner Row: address, house and postcode keys)."""


def _listed(stores: Stores) -> list[str]:
    """The keys of any of her versions that list her record but not her stored (newest) version."""
    blocks = stores.profiles.get_blocks(sorted({*_keys(KILLED), *_keys(FIRST)}))
    return sorted(k for k, b in blocks.items() if KEY in b.members and k not in _keys(NEWEST))


def _kill_then_store_newer(stores: Stores) -> None:
    resolve_lines([FIRST], stores.profiles, settings=_settings(stores))
    _killed_at_commit(stores, KILLED)
    assert _listed(stores) == KILLED_ONLY  # the kill left her under the killed version's own keys
    resolve_lines([NEWEST], stores.profiles, settings=_settings(stores))
    report, _ = resolve_lines([KILLED], stores.profiles, settings=_settings(stores))
    assert report.ingest.stale == 1  # delivered again after the newer one: dropped


@ON_EACH_STORE
def test_a_killed_version_delivered_again_is_stored_and_files_from_there(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Eli's record stored and a version moving her to Tanner Row filed, the process killed
    before its commit WHEN the same version is delivered again THEN it is stored, the index lists her
    under its keys at its places, and after her erasure no index item names her record."""
    with stores_of() as stores:
        resolve_lines([FIRST], stores.profiles, settings=_settings(stores))
        _killed_at_commit(stores, KILLED)
        resolve_lines([KILLED], stores.profiles, settings=_settings(stores))
        _check_places(stores, set())
        email = Identifier.assemble(kind="email", value=EMAIL)
        assert stores.erase(email, "req-eli", IdentityPolicy(), _settings(stores)).outcome == "erased"
        assert KEY not in _block_text(stores.profiles)


@ON_EACH_STORE
def test_a_version_killed_before_its_commit_leaves_nothing_once_a_newer_one_is_stored(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Eli's record stored WHEN a version moving her to Tanner Row is filed and the process
    killed before its commit, then her newest version (back on Quillon Road) stored, then the killed
    version delivered again (stale: dropped) THEN the index lists her under her stored version's
    keys only, at its places."""
    with stores_of() as stores:
        _kill_then_store_newer(stores)
        assert _listed(stores) == []
        _check_places(stores, set())


@ON_EACH_STORE
def test_her_erasure_after_a_killed_version_leaves_no_index_item_naming_her(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN the same (a killed version never stored, a newer one stored) WHEN she is erased THEN no
    index item names her record, and none holds the killed version's street."""
    with stores_of() as stores:
        _kill_then_store_newer(stores)
        email = Identifier.assemble(kind="email", value=EMAIL)
        assert stores.erase(email, "req-eli", IdentityPolicy(), _settings(stores)).outcome == "erased"
        text = _block_text(stores.profiles)
        assert KEY not in text
        assert "tanner" not in text
