"""The embedded AWS: an in-process moto, for ``profilesync demo`` (the Lambda handlers on the local
runtime) and for the tests of the DynamoDB adapter.

``resolve`` and ``sync`` do not use it: their embedded store is SQLite (profilesync.stores), since
moto answers every Query by sorting its whole table. No production path patches moto; the demo's
patches (``model_aws_semantics`` here, ``profilesync.local.model_moto_costs``) are pinned to the
moto versions of pyproject.toml and tested against moto's internals (tests/unit/test_moto_patches.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # moto 5 with current botocore answers DynamoDB Streams calls with 404 unless this is set.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


_PATCHED = False
_TRANSACTIONS = threading.RLock()


def model_aws_semantics() -> None:
    """Make the embedded moto behave like DynamoDB where profilesync depends on it.

    * Transactions are serialisable, as in DynamoDB: moto runs each request in its own server
      thread with no isolation, so two transactions could interleave; here they take a lock.
    * moto backs up the whole table once per item of a transaction, for rollback, which makes a
      transaction cost O(items x table size); the backup here holds only the items it touches.
    * A transaction that fails writes nothing anybody can read, as in DynamoDB: moto writes each item
      as it checks its condition, and rolls back when one failed, so a read meanwhile saw writes
      that never happened (a writer could take a version number it rolled back for the one another
      writer's commit gave next, and its ``version = :v`` held). Every condition is checked first.
    """
    global _PATCHED
    if _PATCHED:
        return
    import copy

    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    real_copy = getattr(models, "copy")  # noqa: B009 - moto does not export it

    class _NoTableCopy:
        """Stands in for the ``copy`` module inside moto's transaction: tables are not copied."""

        @staticmethod
        def deepcopy(obj: Any, memo: Any = None) -> Any:
            return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _TRANSACTIONS:
            _check_first(self, transact_items)
            backups: list[tuple[Any, Any, Any, Any]] = []
            for entry in transact_items:
                op = next(iter(entry.values()))
                table = self.tables.get(op.get("TableName"))
                if table is None:
                    continue
                key = op.get("Item") or op.get("Key") or {}
                if table.hash_key_attr not in key:
                    continue
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = (
                    DynamoType(key[table.range_key_attr])
                    if table.range_key_attr and table.range_key_attr in key
                    else None
                )
                current = table.get_item(hash_value, range_value)
                backups.append((table, hash_value, range_value, copy.deepcopy(current)))
            setattr(models, "copy", _NoTableCopy)  # noqa: B010
            try:
                original(self, transact_items)
            except Exception:
                for table, hash_value, range_value, item in reversed(backups):
                    bucket = table.items[hash_value] if range_value is not None else table.items
                    slot = range_value if range_value is not None else hash_value
                    if item is None:
                        bucket.pop(slot, None)
                    else:
                        bucket[slot] = item
                raise
            finally:
                setattr(models, "copy", real_copy)  # noqa: B010

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _PATCHED = True


def _check_first(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """Raise moto's TransactionCanceledException, with a reason per item, when a condition of
    ``transact_items`` does not hold on the items as they are, before anything is written; the
    rest (validation, one operation per item) is moto's, as before."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import TransactionCanceledException

    reasons: list[tuple[str | None, str | None, Any]] = []
    for entry in transact_items:
        op = next(iter(entry.values()))
        condition = op.get("ConditionExpression")
        table = backend.tables.get(op.get("TableName"))
        if condition is None or table is None:
            reasons.append((None, None, None))
            continue
        item = op.get("Item") or {}
        key = op.get("Key") or {
            name: item[name] for name in (table.hash_key_attr, table.range_key_attr) if name and name in item
        }
        current = backend.get_item(op["TableName"], key)
        holds = get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        ).expr(current)
        if holds:
            reasons.append((None, None, None))
        else:
            old = current.to_json()["Attributes"] if current is not None else None
            wanted = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
            reasons.append(
                ("ConditionalCheckFailed", "The conditional request failed", old if wanted else None)
            )
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)


@contextmanager
def embedded_aws() -> Iterator[None]:
    """Run the block against an in-process moto with local credentials; restores the environment."""
    try:
        from moto import mock_aws
    except ImportError as error:  # pragma: no cover - depends on the install
        from profilesync.cli_errors import UsageError

        raise UsageError(
            "the embedded store needs moto: pip install 'profilesync[local]' (make demo does this), "
            "or pass --endpoint-url to use a DynamoDB endpoint"
        ) from error
    saved = {k: os.environ.get(k) for k in LOCAL_ENV}
    os.environ.update(LOCAL_ENV)
    model_aws_semantics()
    try:
        with mock_aws():
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def dynamodb_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 DynamoDB client with retries suited to a sync job (adaptive, 8 attempts)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=Config(retries={"max_attempts": 8, "mode": "adaptive"}),
    )
