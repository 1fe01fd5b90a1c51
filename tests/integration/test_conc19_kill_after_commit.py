"""revA19 item 3: a writer killed between its commit and its re-check (core.link_recheck) leaves
the two apart; a changed version of either record joins them (docs/identity.md, Ingest step 1,
Limit; delivering either again unchanged does not: an unchanged record reads no index key, as
revA19's scratch test showed).

Writer 1 (Ann's CRM record) reads its keys; writer 2 (her shop record) runs whole between that read
and writer 1's commit (so finds crm:1 filed but not stored); writer 1 dies right after its commit.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.identity_attack_records import groups, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_erasure_attacks import STORES
from tests.integration.test_lean17_writer_between_batches import ANN_CRM, ANN_SHOP
from tests.interleave import after_call

APART = {frozenset({"crm:1"}), frozenset({"shop:2"})}
ONE = {frozenset({"crm:1", "shop:2"})}


class _Killed(BaseException):
    """The process dies (not an error anything catches)."""


def _killed_after_commit(store: str, stores: Any, s: Any) -> None:
    # writer 1's calls, alone on a store of the same kind: where its read of its keys is
    with STORES[store]() as probe, after_call(probe.profiles, None, lambda: None) as made:
        resolve_lines([ANN_CRM], probe.profiles, settings=_settings(probe))
    commit = made.index("commit")
    read = commit + 1 - made[commit::-1].index("get_blocks")  # the read just before the commit
    shop_running = [False]

    def shop() -> None:
        shop_running[0] = True
        resolve_lines([ANN_SHOP], stores.profiles, settings=s)
        shop_running[0] = False

    real_commit = stores.profiles.commit

    def commit_then_die(*args: Any, **kwargs: Any) -> Any:
        done = real_commit(*args, **kwargs)
        if not shop_running[0]:
            raise _Killed
        return done

    stores.profiles.commit = commit_then_die
    try:
        with pytest.raises(_Killed), after_call(stores.profiles, read, shop):
            resolve_lines([ANN_CRM], stores.profiles, settings=s)
    finally:
        del stores.profiles.commit


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@pytest.mark.parametrize("again", ["crm", "shop"])
def test_a_changed_version_of_either_joins_them(store: str, again: str) -> None:
    with STORES[store]() as stores:
        s = _settings(stores)
        _killed_after_commit(store, stores, s)
        assert groups(stores.profiles) == APART
        line = ANN_CRM if again == "crm" else ANN_SHOP
        changed = dict(line, phone="+44 7700 900123", updated_at="2026-02-01T00:00:00Z")
        resolve_lines([changed], stores.profiles, settings=s)
        assert groups(stores.profiles) == ONE
