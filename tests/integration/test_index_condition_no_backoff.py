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

from typing import Any, NoReturn

import pytest

import core.storage.dynamodb_links
from core.errors import RetryableError
from core.link_index import BlockChange
from core.link_scope import LinkageSettings
from core.linkage.blocking import blocking_keys
from core.linkage.fields import from_source_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import STORES


def _sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(core.storage.dynamodb_links.time, "sleep", slept.append)
    return slept


def _conflict(client: Any, request: dict[str, Any]) -> NoReturn:
    """Cancel the transaction ``request`` as DynamoDB does when another writer holds its keys."""
    reasons = [{"Code": "TransactionConflict"}] * len(request["TransactItems"])
    raise client.exceptions.TransactionCanceledException(
        {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons},
        "TransactWriteItems",
    )


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
                _conflict(client, kwargs)
            return real(**kwargs)

        monkeypatch.setattr(client, "transact_write_items", conflicting)
        slept = _sleeps(monkeypatch)
        # WHEN a filing conflicts twice THEN it backs off twice and goes through
        store.update_blocks([BlockChange("em:kim", add=frozenset({"crm:contact:1"}))])
        assert len(slept) == 2
        assert store.get_blocks(["em:kim"])["em:kim"].members == {"crm:contact:1"}


def test_conflicts_early_in_a_long_call_leave_the_later_transactions_their_own_attempts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The attempts are counted per transaction: one that went through starts the next afresh. They
    were counted over the whole call, so a call of many transactions whose first ones had conflicts
    gave up on a later one at its first conflict (or slept the longest back-off before it)."""
    monkeypatch.setattr(core.storage.dynamodb_links, "_TRANSACTION", 1)
    monkeypatch.setattr(core.storage.dynamodb_links.random, "random", lambda: 1.0)
    with STORES["dynamodb"]() as stores:
        store = stores.profiles
        client = store._client
        real = client.transact_write_items
        # the first transaction conflicts as often as one may (_MAX_ATTEMPTS) and goes through, the
        # second conflicts once (the call's transactions go in turn, a conflicted one sent again first)
        most = core.storage.dynamodb_links._MAX_ATTEMPTS
        conflicting_calls = {*range(1, most + 1), most + 2}
        calls = [0]

        def conflicting(**kwargs: Any) -> Any:
            calls[0] += 1
            if calls[0] in conflicting_calls:
                _conflict(client, kwargs)
            return real(**kwargs)

        monkeypatch.setattr(client, "transact_write_items", conflicting)
        slept = _sleeps(monkeypatch)
        # WHEN one call files a record under three keys, a transaction each
        keys = ["em:a", "em:b", "em:c"]
        store.update_blocks([BlockChange(k, add=frozenset({"crm:contact:1"})) for k in keys])
        # THEN every key holds it; the second key's one conflict backed off as a first conflict does
        blocks = store.get_blocks(keys)
        assert {k: blocks[k].members for k in keys} == {k: {"crm:contact:1"} for k in keys}
        assert calls[0] == most + 4
        assert len(slept) == most + 1
        assert slept[-1] == slept[0]


def _ann_in(postcode: str, day: int) -> SourceRecord:
    traits = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-03-07", "postal_code": postcode}
    return make_record("crm", "1", email="ann@example.com", day=day, traits=traits)


def test_one_writer_moving_a_record_cancels_none_of_its_index_writes() -> None:
    """A new version leaves the keys of the retired rules (core.linkage.blocking.RETIRED_RULES) its
    old one may have been filed under by an earlier release; on a table filed since, none holds it.
    Those removals went in the transaction of the version's other index writes: each failed its
    condition and cancelled the whole transaction, sent again without it (a single writer met
    "cancelled" on every record that moved: one cancelled TransactWriteItems here before the fix).
    They go in a pass of their own now: it fails alone (its conditions only) and the other writes
    are not cancelled; a retired key that does list the record still leaves it
    (test_retired_block_keys_on_every_store)."""
    settings = IngestSettings(linkage=LinkageSettings(), sleep=lambda _: None)
    with STORES["dynamodb"]() as stores:
        store = stores.profiles
        ingest([_ann_in("LS1 4AP", 0)], store, settings)
        cancelled: list[list[str]] = []

        def count(parsed: dict[str, Any], model: Any, **_: Any) -> None:
            if parsed.get("Error", {}).get("Code") == "TransactionCanceledException":
                cancelled.append([r.get("Code", "") for r in parsed.get("CancellationReasons", [])])

        store._client.meta.events.register("after-call.dynamodb.TransactWriteItems", count)
        # WHEN the one writer ingests her new version (she moved: new blocking keys)
        result = ingest([_ann_in("YO1 7HH", 1)], store, settings)
        # THEN it is written, with no retry, and no index transaction cancelled a write that could go
        assert (result.written, result.retries) == (1, 0)
        moved = _ann_in("YO1 7HH", 1)
        blocks = store.get_blocks(list(blocking_keys(from_source_record(moved))))
        assert {k: b.members for k, b in blocks.items()} == {k: {moved.key} for k in blocks}
        assert cancelled, "no retired key was removed: the test no longer tests the case"
        assert all(set(reasons) == {"ConditionalCheckFailed"} for reasons in cancelled), cancelled


def test_a_call_under_sustained_contention_gives_up_once_its_back_offs_pass_their_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The attempts are counted per transaction, so a call of many transactions, each conflicting
    a few times and then going through, slept up to 4.24 s each without limit: the call's back-offs
    summed stay within ``_BACKOFF_BUDGET``, and then the batch is given back (RetryableError)."""
    links = core.storage.dynamodb_links
    monkeypatch.setattr(links, "_TRANSACTION", 1)
    monkeypatch.setattr(links.random, "random", lambda: 1.0)  # the longest back-off each time
    with STORES["dynamodb"]() as stores:
        store = stores.profiles
        client = store._client
        real = client.transact_write_items
        conflicts_each = links._MAX_ATTEMPTS - 1  # each transaction would go through on its 8th send
        sent: dict[str, int] = {}

        def conflicting(**kwargs: Any) -> Any:
            key = str(kwargs["TransactItems"][0])
            sent[key] = sent.get(key, 0) + 1
            if sent[key] <= conflicts_each:
                _conflict(client, kwargs)
            return real(**kwargs)

        monkeypatch.setattr(client, "transact_write_items", conflicting)
        slept = _sleeps(monkeypatch)
        # WHEN one call files a record under ten keys, a transaction each, every one contended
        with pytest.raises(RetryableError, match="back-off in this call"):
            store.update_blocks(
                [BlockChange(f"em:k{n}", add=frozenset({"crm:contact:1"})) for n in range(10)]
            )
        # THEN it slept no more than the budget (3.24 s a transaction: three went through)
        assert sum(slept) <= links._BACKOFF_BUDGET
        assert len(sent) == 4
