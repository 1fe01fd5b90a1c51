"""A version of a stored record that an ingest filed in the identity index, and that a later round of
the same ingest dropped as suppressed, leaves the index as the stored version files it
(core.link_unfile): none of the keys only the dropped version has, every key of the stored one.

The counterpart of test_attack6_races.py's record dropped at its commit by her suppression, for a
record a customer still holds: an erasure that found nobody by an email suppressed it, and Hana's
new version of her CRM record brings that email."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from connectors.jsonl import draft_from_flat
from core.identity import IdentityPolicy
from core.link_nodes import graph_node, node_orders
from core.normalise import normalise_record
from core.schema import Identifier, SourceRecord
from core.suppression import SuppressionCheck
from tests.integration.identity_attack_records import flat, groups, ingest_settings, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import HOME, ON_EACH_STORE, _import, _settings
from tests.integration.test_attack6_races import _index_keys
from tests.integration.test_erasure_attacks import SALT, CheckedJustBefore, Stores

FIRST = flat("crm", "1", day=0, **HOME, email="hana.sato@corp.jp")
#: A later version of it: another address, and an email an erasure that found nobody suppresses.
MOVED = flat(
    "crm",
    "1",
    day=2,
    **{**HOME, "address": "5 Canal St", "postcode": "M1 3HE"},
    email="flat.5@canal.example",
)


@ON_EACH_STORE
def test_a_held_record_s_version_dropped_as_suppressed_leaves_only_its_stored_version_s_keys(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Hana's CRM record stored, and a merge of a later version of it (another address, an
    email) that checked the suppression just before an erasure by that email (nobody found: the email
    suppressed) WHEN the merge goes on after it THEN the version is dropped as suppressed, Hana's
    customer keeps her stored version, and the index lists her record under every key of the stored
    version and none of the keys only the dropped version has."""
    with stores_of() as stores:
        _import(stores, [FIRST])
        gone = Identifier.assemble(kind="email", value="flat.5@canal.example")
        erased: list[Any] = []

        def erase() -> None:
            report = stores.erase(gone, "req-flat", IdentityPolicy(), _settings(stores))
            assert report.outcome == "not_found", report
            erased.append(report)

        racing = CheckedJustBefore(stores.suppression, erase)
        settings = replace(ingest_settings(), suppression=SuppressionCheck(racing, SALT))
        report, _ = resolve_lines([MOVED], stores.profiles, settings=settings)
        assert erased  # the erasure ran between the check and the commit
        assert report.ingest.suppressed == 1
        assert groups(stores.profiles) == {frozenset({"crm:1"})}
        stored, tried = _index_keys(FIRST), _index_keys(MOVED) - _index_keys(FIRST)
        assert tried  # the dropped version has keys of its own (its address, its email)
        blocks = stores.profiles.get_blocks(sorted(stored | tried))
        assert not [k for k in tried if k in blocks and "crm:contact:1" in blocks[k].members]
        assert sorted(k for k in stored if "crm:contact:1" not in blocks[k].members) == []


def _places(line: Any) -> dict[str, str]:
    """The record's place in the order of each of its blocking keys, as ingest files it."""
    record = normalise_record(draft_from_flat(dict(line)))
    assert isinstance(record, SourceRecord)
    return node_orders(graph_node(record, IdentityPolicy()))


@ON_EACH_STORE
def test_a_dropped_version_s_place_in_a_key_both_versions_hold_goes_back_to_the_stored_one(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Hana's CRM record stored, and a later version of it with another address dropped as
    suppressed at its commit (as above) WHEN the ingest unfiles it THEN under every blocking key of
    the stored version her place in the key's order is the stored version's, not the dropped one's
    (a neighbour search ranks the block from those places, core.linkage.block_order)."""
    with stores_of() as stores:
        _import(stores, [FIRST])
        gone = Identifier.assemble(kind="email", value="flat.5@canal.example")

        def erase() -> None:
            stores.erase(gone, "req-flat", IdentityPolicy(), _settings(stores))

        racing = CheckedJustBefore(stores.suppression, erase)
        settings = replace(ingest_settings(), suppression=SuppressionCheck(racing, SALT))
        report, _ = resolve_lines([MOVED], stores.profiles, settings=settings)
        assert report.ingest.suppressed == 1
        kept, dropped = _places(FIRST), _places(MOVED)
        # the attack needs a key both versions hold where their places differ
        assert [k for k in kept if k in dropped and kept[k] != dropped[k]]
        blocks = stores.profiles.get_blocks(sorted(kept))
        placed = {k: blocks[k].orders.get("crm:contact:1") for k in kept if k in blocks}
        assert placed == {k: kept[k] for k in placed}
        assert set(placed) == set(kept)
