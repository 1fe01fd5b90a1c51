"""The DynamoDB ``SyncStateStore``: connectors' cursors, what was pushed where, and the quarantine,
in the profile store's table (core.storage.dynamodb).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import ConflictError
from core.ports import PushedState, QuarantineEntry, SyncState
from core.quarantine import QUARANTINE_RETENTION_DAYS as QUARANTINE_RETENTION_DAYS
from core.quarantine import distinct_times
from core.storage.dynamodb_batch import batch_get, batch_put
from core.storage.dynamodb_epoch import epoch_check
from core.storage.dynamodb_items import Item, customer_pk

#: Puts in one conditional write of push states: TransactWriteItems holds 100 actions since
#: September 2022 (core.storage.dynamodb.TRANSACTION_MAX_ITEMS), one of them the epoch's check.
PUSHED_PER_TRANSACTION = 99


def pushed_sk(destination: str) -> str:
    return f"PUSHED#{destination}"


class DynamoDBSyncStateStore:
    """``SyncStateStore`` in the same table: the SYNC#, PUSHED# and QUARANTINE# items.

    | PK                     | SK                      | attributes                                 |
    | ---------------------- | ----------------------- | ------------------------------------------ |
    | SYNC#<connector>       | STATE                   | cursor, version, updated_at, report (JSON) |
    | CUSTOMER#<cid>         | PUSHED#<destination>    | hash, remote_id, pushed_at                 |
    | QUARANTINE#<connector> | <at ISO>#<record key>   | reason, raw, subjects (SS), expires_at     |

    The cursor write is conditional on the version read, so two overlapping runs of one schedule
    cannot move a cursor backwards; the loser gets ConflictError and its data is already durable.
    """

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def get_sync_state(self, connector: str) -> SyncState:
        response = self._client.get_item(
            TableName=self.table_name,
            Key={"PK": {"S": f"SYNC#{connector}"}, "SK": {"S": "STATE"}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            return SyncState(connector)
        return SyncState(
            connector=connector,
            cursor=item["cursor"]["S"] if "cursor" in item else None,
            version=int(item["version"]["N"]),
            updated_at=datetime.fromisoformat(item["updated_at"]["S"]) if "updated_at" in item else None,
            report=item.get("report", {}).get("S", ""),
        )

    def put_sync_state(self, state: SyncState) -> SyncState:
        saved = replace(state, version=state.version + 1, updated_at=state.updated_at or datetime.now(UTC))
        item: Item = {
            "PK": {"S": f"SYNC#{state.connector}"},
            "SK": {"S": "STATE"},
            "version": {"N": str(saved.version)},
            "updated_at": {"S": saved.updated_at.isoformat() if saved.updated_at else ""},
        }
        if saved.cursor is not None:
            item["cursor"] = {"S": saved.cursor}
        if saved.report:
            item["report"] = {"S": saved.report}
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(PK)"}
            if state.version == 0
            else {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(state.version)}},
            }
        )
        try:
            self._client.put_item(TableName=self.table_name, Item=item, **condition)
        except self._client.exceptions.ConditionalCheckFailedException as error:
            raise ConflictError(
                f"sync state of {state.connector!r} was saved by another run since version "
                f"{state.version}; re-read it and go on"
            ) from error
        return saved

    def get_pushed(self, destination: str, customer_ids: Sequence[str]) -> dict[str, PushedState]:
        out: dict[str, PushedState] = {}
        keys = [
            {"PK": {"S": customer_pk(cid)}, "SK": {"S": pushed_sk(destination)}}
            for cid in dict.fromkeys(customer_ids)
        ]
        # the shared batch read (100 keys a request, unprocessed keys sent again with its backoff);
        # eventually consistent, as this read always was (half the read units of a consistent one)
        for item in batch_get(self._call, self.table_name, keys, {"ConsistentRead": False}):
            cid = item["PK"]["S"][len("CUSTOMER#") :]
            out[cid] = PushedState(
                customer_id=cid,
                destination=destination,
                payload_hash=item["hash"]["S"],
                remote_id=item["remote_id"]["S"] if "remote_id" in item else None,
                at=datetime.fromisoformat(item["pushed_at"]["S"]) if "pushed_at" in item else None,
            )
        return out

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """``method`` of the client (core.storage.dynamodb_batch's ``call``)."""
        result: dict[str, Any] = getattr(self._client, method)(**kwargs)
        return result

    def put_pushed(self, states: Sequence[PushedState]) -> None:
        self._batch_put(_pushed_items(states))

    def put_pushed_unless_erased(self, states: Sequence[PushedState], epoch: str) -> bool:
        """One ``TransactWriteItems`` per 99 states (``PUSHED_PER_TRANSACTION``): a ``ConditionCheck``
        that the erasure epoch item still holds the token read (core.storage.dynamodb_epoch), and the
        puts. DynamoDB serialises it with the bump in each erasure step: the write is made
        wholly before the bump (the erasure's read after its steps finds the item and deletes it),
        or it fails. Two states of one customer and tool: the last wins, as with ``put_pushed``. A
        transaction costs 2 write units an item, against 1 for a batch write: 2n + 2 for n states."""
        last = {(s.customer_id, s.destination): s for s in states}
        items = _pushed_items(list(last.values()))
        exceptions = self._client.exceptions
        for start in range(0, len(items), PUSHED_PER_TRANSACTION):
            part = items[start : start + PUSHED_PER_TRANSACTION]
            puts = [{"Put": {"TableName": self.table_name, "Item": item}} for item in part]
            try:
                self._client.transact_write_items(TransactItems=[epoch_check(self.table_name, epoch), *puts])
            except exceptions.TransactionCanceledException:
                return False  # the epoch moved (or a bump was in flight): look at suppression again
        return True

    def put_quarantined(self, entries: Sequence[QuarantineEntry]) -> None:
        items: list[Item] = []
        for e in distinct_times(entries):  # one item each, also for one key at one time
            expires = e.at + timedelta(days=QUARANTINE_RETENTION_DAYS)
            items.append(
                {
                    "PK": {"S": f"QUARANTINE#{e.connector}"},
                    # The sort key holds 1,024 bytes and the item 400 KB: a quarantined record is
                    # often one too large or too odd to store, so what is kept of it is cut to fit.
                    "SK": {"S": f"{e.at.isoformat()}#{quarantine_key_text(e.key)}"},
                    "reason": {"S": cut_utf8(e.reason, 4_000)},
                    "raw": {"S": cut_utf8(e.raw, 100_000)},
                    "expires_at": {"N": str(int(expires.timestamp()))},
                    **({"subjects": {"SS": sorted(set(e.subjects))}} if e.subjects else {}),
                }
            )
        self._batch_put(items)

    def quarantined(self, connector: str) -> list[QuarantineEntry]:
        """The quarantine of one connector, oldest first (for reports and tests)."""
        out: list[QuarantineEntry] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"QUARANTINE#{connector}"}},
        }
        while True:
            page = self._client.query(**kwargs)
            for item in page.get("Items", []):
                at, _, key = item["SK"]["S"].partition("#")
                out.append(
                    QuarantineEntry(
                        connector,
                        key,
                        item["reason"]["S"],
                        item["raw"]["S"],
                        datetime.fromisoformat(at),
                        tuple(sorted(item.get("subjects", {}).get("SS", []))),
                    )
                )
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _batch_put(self, items: list[Item]) -> None:
        batch_put(self._client, self.table_name, items)


def _pushed_items(states: Sequence[PushedState]) -> list[Item]:
    items: list[Item] = []
    for s in states:
        item: Item = {
            "PK": {"S": customer_pk(s.customer_id)},
            "SK": {"S": pushed_sk(s.destination)},
            "hash": {"S": s.payload_hash},
        }
        if s.remote_id:
            item["remote_id"] = {"S": s.remote_id}
        if s.at is not None:
            item["pushed_at"] = {"S": s.at.isoformat()}
        items.append(item)
    return items


def quarantine_key_text(key: str) -> str:
    """A quarantined record's key as its sort key holds it: whole up to 900 bytes in UTF-8; a longer
    one cut to 830 and ended by ``#`` and 64 hex digits of SHA-256 of the whole, so that two keys that
    differ past the cut stay two items (attack30: a page's two records whose ids share their first
    900 bytes were one item, the first lost)."""
    if len(key.encode("utf-8", "replace")) <= 900:
        return cut_utf8(key, 900)
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{cut_utf8(key, 830)}#{digest}"


def cut_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` in UTF-8 (never inside a character), lone surrogates
    replaced: DynamoDB sizes strings in UTF-8 and refuses what cannot be encoded."""
    data = text.encode("utf-8", "replace")
    if len(data) <= max_bytes:
        return data.decode("utf-8")
    return data[:max_bytes].decode("utf-8", "ignore")
