"""orph17: the erasure of a customer frozen into one an older version's erasure deleted, left with no
record (an "orphan"): what her frozen profile named is suppressed, and an erasure killed at any
point then sent again leaves nothing of her, on the in-memory, SQLite and DynamoDB (moto) stores
(core.privacy_orphans). Found by the revA17 review.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

import pytest

from core.content_hash import profile_hash
from core.ports import Changeset, MarkMerging, PutProfile
from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import keyed_hash
from tests.integration.store_port.kit_copies import kit_given_once
from tests.integration.store_port.test_frozen_merge_repair import SALT, _frozen
from tests.integration.test_attack10_frozen_orphan import _made, _nothing_left, _orphaned
from tests.integration.test_attack10_repair_programs import _erase
from tests.integration.test_privacy17_orphans import _unsuppressed

STORES = ["memory", "sqlite", "dynamodb"]


def _held(kit: Any, orphan: str) -> list[str]:
    """The identifier keys and record ids (``source#crm:contact:1``) the orphan's profile holds."""
    profile = kit.profiles.get_customers([orphan])[orphan].profile
    return sorted({i.key for i in profile.identifiers} | {f"source#{s.key}" for s in profile.sources})


def _unsuppressed_of(kit: Any, keys: list[str]) -> list[str]:
    hashes = {keyed_hash(SALT, k): k for k in keys}
    done = kit.suppression.suppressed(sorted(hashes))
    return sorted(k for h, k in hashes.items() if h not in done)


@pytest.mark.parametrize("name", STORES)
def test_her_erasure_suppresses_the_record_ids_her_orphan_held(name: str) -> None:
    """GIVEN a customer frozen into one an older version's erasure deleted, left with no record, and
    nothing of hers suppressed (the older erasure's suppression lifted)
    WHEN this version erases her by her email
    THEN every identifier and record id her frozen profile held is suppressed, so the next pull of
    her records drops them (red before orph17: only the email asked for; her ``source#`` ids were
    lost with the tombstone)."""
    with _made(name, "dropped") as (kit, settings, (email, _, _)):
        [(orphan, _, _)] = _frozen(kit.profiles)
        _unsuppressed(kit, email)
        for key in _held(kit, orphan):
            kit.suppression.lift(keyed_hash(SALT, key))
        keys = _held(kit, orphan)
        assert any(k.startswith("source#") for k in keys)
        assert _unsuppressed_of(kit, keys) == keys
        assert _erase(kit, settings, email) == "erased"
        assert _unsuppressed_of(kit, keys) == []
        _nothing_left(kit)


class _Killed(BaseException):
    """The process killed (not an Exception: nothing in the erasure may catch it)."""


def _writers(kit: Any) -> list[tuple[type, str]]:
    """The store methods that write: every kill point of an erasure is before one of their calls."""
    erasure = type(kit.erasure) if kit.erasure is not None else InMemoryErasureStore
    found = [(erasure, "apply"), (erasure, "put_audit"), (type(kit.profiles), "commit")]
    found.append((type(kit.suppression), "suppress"))
    history = getattr(kit.profiles, "history", None)
    if history is not None:
        found.append((type(history), "forget_named"))
    return found


@contextmanager
def _killed_at(kit: Any, at: int | None) -> Iterator[list[str]]:
    """Each write counted (its name listed); the process killed before the ``at``-th one."""
    calls: list[str] = []
    with ExitStack() as stack:
        for cls, name in _writers(kit):
            real = getattr(cls, name)

            def write(self: Any, *args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                if len(calls) == at:
                    raise _Killed(_name)
                calls.append(_name)
                return _real(self, *args, **kwargs)

            stack.enter_context(mock.patch.object(cls, name, write))
        yield calls


def _her_orphan(kit: Any) -> tuple[Any, str, str, list[str]]:
    settings, email, _, _ = _orphaned(kit, "dropped")
    [(orphan, _, _)] = _frozen(kit.profiles)
    keys = _held(kit, orphan)
    _unsuppressed(kit, email)
    for key in keys:
        kit.suppression.lift(keyed_hash(SALT, key))
    return settings, email, orphan, keys


@pytest.mark.parametrize("name", STORES)
def test_her_erasure_killed_at_any_write_then_sent_again_leaves_nothing_of_her_orphan(name: str) -> None:
    """GIVEN a customer frozen into one an older version's erasure deleted, left with no record
    WHEN this version's erasure of her is killed before any of its writes, then sent again
    THEN she is found (erased; not found when only the audit was left to write) and no item of
    that customer is left, its record ids suppressed
    (red before orph17: killed between the repair that made it a tombstone and the tombstone's
    delete, the retry answered ``not_found`` and the tombstone and its history stayed)."""
    # Her orphan made once; each kill point starts from its items put back (kit_copies: on DynamoDB
    # the resolve, the old merge and the old erasure were most of each point's time).
    with kit_given_once(name, lambda kit: _her_orphan(kit)[1:]) as fresh:
        kit, settings, (email, _, _) = fresh()
        with _killed_at(kit, None) as calls:
            assert _erase(kit, settings, email) == "erased"
        points = len(calls)
        assert points > 2
        # killed after its last delete, nothing of her is left: the retry finds nobody (no audit of hers)
        last_delete = max(i for i, call in enumerate(calls) if call == "apply")
        for at in range(points):
            kit, settings, (email, orphan, keys) = fresh()
            with _killed_at(kit, at), pytest.raises(_Killed):
                _erase(kit, settings, email)
            again = _erase(kit, settings, email)
            assert again == ("erased" if at <= last_delete else "not_found"), at
            erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
            assert erasure.customer_items(orphan) == [], at
            assert kit.profiles.get_customers([orphan]) == {}, at
            assert _unsuppressed_of(kit, keys) == [], at
            _nothing_left(kit)


def _second_orphan(kit: Any, orphan: str, into: str) -> str:
    """Another customer frozen into ``into`` (gone), left with no record, holding what ``orphan``'s
    profile holds: as the second of two merges into the survivor an older version's erasure
    deleted, which had dropped its records from it."""
    other = f"{orphan}-second"
    profile = kit.profiles.get_customers([orphan])[orphan].profile.model_copy(update={"customer_id": other})
    put = PutProfile(other, profile, profile_hash(profile), frozenset(), None)
    assert kit.profiles.commit([Changeset(f"put:{other}", (put,))]) == []
    freeze = MarkMerging(other, into, profile.version)  # the version the put wrote
    assert kit.profiles.commit([Changeset(f"freeze:{other}", (freeze,))]) == []
    return other


@pytest.mark.parametrize("name", STORES)
def test_her_erasure_deletes_an_orphan_with_no_record_when_another_of_hers_is_found(name: str) -> None:
    """GIVEN two customers frozen into one an older version's erasure deleted, both holding her
    email: one with her records, one left with none
    WHEN this version erases her by her email
    THEN she is found (erased) through the one with records, and no item of the other is left
    (red before orph17: found, the erasure returned before deleting the other one's tombstone)."""
    with _made(name, "handed") as (kit, settings, (email, _, _)):
        [(orphan, into, _)] = _frozen(kit.profiles)
        assert kit.profiles.get_customers([orphan])[orphan].snapshots
        other = _second_orphan(kit, orphan, into)
        assert sorted(f[0] for f in _frozen(kit.profiles)) == sorted([orphan, other])
        assert _erase(kit, settings, email) == "erased"
        erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
        assert erasure.customer_items(other) == []
        assert kit.profiles.get_customers([orphan, other]) == {}
        _nothing_left(kit)
