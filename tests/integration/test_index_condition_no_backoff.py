"""An index update cancelled only by a failed condition is not contention: DynamoDB's index writes
(core.storage.dynamodb_links) send the other actions again at once, and back off only after a
conflict.

An erasure takes the person's records out of every key her write-ahead entries list, and some of
those keys hold none of them (a filing killed before it wrote there, a key since emptied): each such
removal fails its condition and cancels its transaction. The store slept a growing back-off (up to
1 s) after each, as after a conflict: 13.6 of the 87 s of
test_privacy17_pieces_killed[erase-filing] were those sleeps (cProfile, load 7.8), and an erasure
of a person filed under many emptied keys slept seconds for nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

import core.storage.dynamodb_links
from core.link_index import BlockChange
from tests.integration.test_erasure_attacks import STORES


def _sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(core.storage.dynamodb_links.time, "sleep", slept.append)
    return slept


@pytest.mark.parametrize("transaction", [1, 100])
def test_removals_from_keys_that_hold_nothing_go_through_without_a_back_off(
    monkeypatch: pytest.MonkeyPatch, transaction: int
) -> None:
    monkeypatch.setattr(core.storage.dynamodb_links, "_TRANSACTION", transaction)
    with STORES["dynamodb"]() as stores:
        store = stores.profiles
        # GIVEN her record filed under three keys, and six keys that hold nothing
        filed = [f"em:kim{n}" for n in range(3)]
        store.update_blocks([BlockChange(k, add=frozenset({"crm:contact:1"})) for k in filed])
        empty = [f"em:nobody{n}" for n in range(6)]
        slept = _sleeps(monkeypatch)
        # WHEN she is taken out of all nine, the empty ones interleaved with the filed ones
        keys = [*(k for pair in zip(empty[:3], filed, strict=True) for k in pair), *empty[3:]]
        store.update_blocks([BlockChange(k, remove=frozenset({"crm:contact:1"})) for k in keys])
        # THEN she is listed nowhere, and nothing waited: no write conflicted
        assert store.get_blocks([*filed, *empty]) == {}
        assert slept == []


def test_a_conflict_still_backs_off_and_is_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    with STORES["dynamodb"]() as stores:
        store = stores.profiles
        client = store._client
        real = client.transact_write_items
        conflicts = [2]

        def conflicting(**kwargs: Any) -> Any:
            if conflicts[0]:
                conflicts[0] -= 1
                reasons = [{"Code": "TransactionConflict"}] * len(kwargs["TransactItems"])
                raise client.exceptions.TransactionCanceledException(
                    {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons},
                    "TransactWriteItems",
                )
            return real(**kwargs)

        monkeypatch.setattr(client, "transact_write_items", conflicting)
        slept = _sleeps(monkeypatch)
        # WHEN a filing conflicts twice THEN it backs off twice and goes through
        store.update_blocks([BlockChange("em:kim", add=frozenset({"crm:contact:1"}))])
        assert len(slept) == 2
        assert store.get_blocks(["em:kim"])["em:kim"].members == {"crm:contact:1"}
