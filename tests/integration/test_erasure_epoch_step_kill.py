"""DynamoDB: an erasure killed right after a step of deletes has still bumped the erasure epoch.

The epoch bump after a step of deletes was a separate ``UpdateItem`` after the step's
``TransactWriteItems``: an erasure killed between the two (a Lambda timeout) left the epoch where
the suppress bump had put it, so a warm process that had read her stored values while the tools
were asked (a namesake's batch compared with her records) kept them cached for good. The bump is
now one more action of the step's transaction. Moto, the table built from template.yaml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import core.privacy as privacy
from core.errors import ConflictError
from core.privacy_store import DeleteItem, ItemKey
from core.storage.dynamodb_epoch import read_epoch
from tests.integration.test_erasure_epoch import (
    HER,
    HERS,
    OLA,
    BatchStarts,
    Stores,
    _erase_elsewhere,
    _resolve,
    dynamodb_pair,
)
from tests.integration.test_erasure_epoch_kills import MID_BATCH, PER


@pytest.fixture
def warm_on_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stores, Stores, BatchStarts]]:
    with dynamodb_pair() as (a, b):
        starts = BatchStarts(monkeypatch)
        _resolve(a, HERS)
        _resolve(a, OLA)  # A knows the epoch
        yield a, b, starts


def _deletes_her_items(request: dict[str, Any]) -> bool:
    return any(
        "Delete" in action and action["Delete"]["Key"]["PK"]["S"].startswith("CUSTOMER#")
        for action in request["TransactItems"]
    )


@pytest.mark.parametrize("batch", sorted(MID_BATCH))
def test_an_erasure_killed_right_after_a_step_of_deletes_reaches_the_next_batch(
    warm_on_dynamodb: tuple[Stores, Stores, BatchStarts], monkeypatch: pytest.MonkeyPatch, batch: str
) -> None:
    a, b, starts = warm_on_dynamodb
    client = b.erasure._client  # type: ignore[attr-defined]
    table = b.erasure.table_name  # type: ignore[attr-defined]
    real_transact, real_ask = client.transact_write_items, privacy.ask_tools
    epochs: list[str] = []
    seen_mid_batch: list[str] = []

    def ask(*args: Any, **kwargs: Any) -> Any:
        seen_mid_batch.append(read_epoch(client, table))
        _resolve(a, MID_BATCH[batch])  # A reads her stored values after the suppress bump
        return real_ask(*args, **kwargs)

    def transact(**request: Any) -> Any:
        answer = real_transact(**request)
        if _deletes_her_items(request):
            epochs.append(read_epoch(client, table))
            raise ConnectionError("the Lambda timed out right after a step of deletes")
        return answer

    # GIVEN A warm with her values; WHEN B erases her, A runs a batch while the tools are asked, and
    # B is killed right after its first step of deletes commits
    with monkeypatch.context() as m:
        m.setattr(privacy, "ask_tools", ask)
        m.setattr(client, "transact_write_items", transact)
        with pytest.raises(ConnectionError):
            _erase_elsewhere(b, monkeypatch, HER, "req-kill")
    assert len(epochs) == len(seen_mid_batch) == 1
    # THEN the step's commit moved the epoch from the one A's mid-erasure batch saw (red before: the
    # bump was the request after the transaction, never made)
    assert epochs[0] != seen_mid_batch[0]
    # AND A's next batch, of someone else, starts with nothing cached
    _resolve(a, PER)
    assert starts.held[-1] == {}, starts.held[-1]


def _cancelled(client: Any, code: str) -> Exception:
    """DynamoDB's answer to a transaction it cancelled, as botocore raises it (its documented shape:
    one reason per action, ``None`` for those that were not the cause)."""
    response = {
        "Error": {"Code": "TransactionCanceledException", "Message": f"Transaction cancelled [{code}, None]"},
        "CancellationReasons": [{"Code": code}, {"Code": "None"}],
    }
    error: Exception = client.exceptions.TransactionCanceledException(response, "TransactWriteItems")
    return error


@pytest.mark.parametrize(("code", "sent"), [("TransactionConflict", 2), ("ConditionalCheckFailed", 1)])
def test_a_step_that_met_another_erasures_transaction_is_sent_again(
    monkeypatch: pytest.MonkeyPatch, code: str, sent: int
) -> None:
    # GIVEN a customer's item, and a step of the erasure that DynamoDB cancels once: another
    # erasure's step was in flight on the epoch item (TransactionConflict), or a guard failed
    with dynamodb_pair() as (a, b):
        _resolve(a, HERS)
        client = b.erasure._client  # type: ignore[attr-defined]
        table = b.erasure.table_name  # type: ignore[attr-defined]
        customer = f"CUSTOMER#{next(iter(a.profiles.iter_profiles())).customer_id}"
        real = client.transact_write_items
        calls: list[int] = []

        def transact(**request: Any) -> Any:
            calls.append(len(request["TransactItems"]))
            if len(calls) == 1:
                raise _cancelled(client, code)
            return real(**request)

        monkeypatch.setattr(client, "transact_write_items", transact)
        step = (DeleteItem(ItemKey(customer, "PUSHED#nowhere")),)
        before = read_epoch(client, table)
        # WHEN the step is applied
        if code == "TransactionConflict":
            b.erasure.apply(step)
            # THEN it is sent again whole, with its bump, and the epoch moved once
            assert read_epoch(client, table) not in {before, ""}
            assert calls == [2, 2]
        else:
            # THEN a lost guard is a lost race at once: the customer is read again and planned again
            with pytest.raises(ConflictError):
                b.erasure.apply(step)
            assert read_epoch(client, table) == before
        assert len(calls) == sent
