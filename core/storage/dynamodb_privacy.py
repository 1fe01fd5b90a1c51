"""The DynamoDB ``ErasureStore``: the deletes, audit items and pending erasures of privacy requests.

| PK                | SK                        | attributes                                              |
| ----------------- | ------------------------- | ------------------------------------------------------- |
| AUDIT#<action>    | <at ISO>#<request id>     | subject_hash, outcome, counts (M), tools (M),           |
|                   |                           | requested_by, invocation                                |
| ERASURE#pending   | <request id>              | subject_hash, created_at, tools (M of L), held,         |
|                   |                           | attempts, requested_by, unheld (L, when any)            |

Each erasure step is one ``TransactWriteItems`` of ``Delete`` requests and the erasure epoch's bump
(so at most 99 deletes; 24 on an emulator that holds the legacy 25): a PROFILE item is deleted
only at the version that was read (``version = :v``), an IDENT item only while the customer still
owns it (``customer_id = :o``). A failed guard cancels the whole step and surfaces as ConflictError,
so core.privacy re-reads the customer and plans again; a step cancelled only by another transaction
in flight on one of its items (``TransactionConflict``: another erasure's step, on the epoch item)
is sent again after a short random pause. The step's bump of the erasure epoch commits with its
deletes (core.erasure_epoch: a batch that read the items before is told, even if the erasure is
killed right after). An audit item is written once
(``attribute_not_exists(PK)``); template.yaml denies the privacy role every delete and update of
``AUDIT#`` items, so the record of a request outlives whoever made it. Like core.storage.dynamodb,
this module takes an injected boto3 client and imports neither boto3 nor botocore.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.errors import ConflictError
from core.privacy_store import AuditRecord, DeleteItem, ItemKey, PendingErasure, QuarantineItem
from core.storage.dynamodb import LEGACY_TRANSACTION_MAX_ITEMS, TRANSACTION_MAX_ITEMS
from core.storage.dynamodb_epoch import bump_epoch, epoch_bump_action
from core.storage.dynamodb_held import read_held
from core.storage.ident_keys import (
    DEFAULT_IDENT_SALT,
    IDENT_PREFIX,
    Salt,
    ident_pk,
    is_legacy_pk,
    legacy_ident_pk,
    physical_pk,
)
from core.storage.ident_rekey import IdentLayout

#: The most bytes a partition key holds (DynamoDB's limit): a longer old key was never written.
_MAX_PK_BYTES = 2048

PENDING_PK = "ERASURE#pending"
#: Sends of one erasure step whose transaction met another in flight on one of its items (the epoch
#: item is in every step: two erasures deleting at the same moment meet there).
_CONFLICT_ATTEMPTS = 6


class DynamoDBErasureStore:
    """``ErasureStore`` over the profile table."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        max_items_per_step: int = TRANSACTION_MAX_ITEMS - 1,
        salt: Salt = DEFAULT_IDENT_SALT,
    ):
        self._client = client
        self.table_name = table_name
        self.max_items_per_step = max_items_per_step
        #: Identifier items are named by their key (``IDENT#email#...``) and keyed by its keyed hash
        #: with the audit salt in the table (core.storage.ident_keys).
        self._layout = IdentLayout(self._plain_call, table_name, salt)

    @property
    def salt(self) -> str:
        return self._layout.salt

    def _plain_call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = getattr(self._client, method)(**kwargs)
        return result

    def _move_old(self, keys: Sequence[str]) -> None:
        """Before a table is marked rekeyed: move the named identifiers' items of the previous
        layout to their keyed hash, so that the guarded deletes find them (core.storage.ident_rekey)."""
        if keys and not self._layout.rekeyed():
            self._layout.move(keys)

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": self.table_name, **kwargs}
        while True:
            page = self._client.query(**request)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def customer_items(self, customer_id: str) -> list[ItemKey]:
        # The customer's partition (profile, records, pushes, history), then its read audit.
        items = [
            item
            for pk in (f"CUSTOMER#{customer_id}", f"READ#{customer_id}")
            for item in self._query(
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
                ProjectionExpression="PK, SK",
                ConsistentRead=True,
            )
        ]
        return [ItemKey(i["PK"]["S"], i["SK"]["S"]) for i in items]

    def apply(self, step: Sequence[DeleteItem]) -> None:
        if not step:
            return
        if len(step) > self.max_items_per_step:
            # Only after a fall back to the legacy limit: the pieces stay in order and every delete
            # keeps its own guard, so splitting loses atomicity between deletes, never safety.
            for start in range(0, len(step), self.max_items_per_step):
                self.apply(step[start : start + self.max_items_per_step])
            return
        self._move_old([d.key.pk[len(IDENT_PREFIX) :] for d in step if is_legacy_pk(d.key.pk)])
        exceptions = self._client.exceptions
        # What a batch read of hers since the suppress bump is forgotten in every warm process
        # (core.erasure_epoch): the bump is one action of the step's transaction, so that the
        # deletes never commit without it (before, it was the next request: an erasure killed
        # between the two left warm processes with her values and the epoch they had seen).
        actions = [*(self._delete(d) for d in step), epoch_bump_action(self.table_name)]
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=actions)
                self._delete_stragglers(step)
                return
            except exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons") or []
                codes = sorted({r.get("Code", "") for r in reasons} - {"None", ""})
                if codes == ["TransactionConflict"] and attempt + 1 < _CONFLICT_ATTEMPTS:
                    # Another transaction on one of its items was in flight (another erasure's
                    # step, which bumps the epoch item too; a push's conditional write): nothing
                    # was written, and no guard failed: the same step is sent again.
                    time.sleep(random.uniform(0, 0.05 * 2**attempt))
                    continue
                raise ConflictError(
                    f"an erasure step lost a race ({', '.join(codes) or 'cancelled'}); re-read and plan again"
                ) from error
            except exceptions.ClientError as error:
                message = str(error.response.get("Error", {}).get("Message", ""))
                if f"less than or equal to {LEGACY_TRANSACTION_MAX_ITEMS}" in message:
                    self.max_items_per_step = LEGACY_TRANSACTION_MAX_ITEMS - 1
                    self.apply(step)
                    return
                raise

    def _delete_stragglers(self, step: Sequence[DeleteItem]) -> None:
        """On a table marked rekeyed: delete the identifier items of the step still under their value
        (the previous layout), which an invocation of the previous release still running wrote after
        the migration's last Scan (attack30: it outlived her erasure, her address in its key). Each
        under the same owner as the keyed item (another's is left: not hers to take); one request
        each, only in an erasure; a key over the 2,048 bytes a partition key holds cannot be one."""
        if not self._layout.rekeyed():
            return  # _move_old moved them before the step
        for delete in step:
            pk = delete.key.pk
            if not is_legacy_pk(pk) or len(pk.encode("utf-8", "replace")) > _MAX_PK_BYTES:
                continue
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "Key": {"PK": {"S": pk}, "SK": {"S": delete.key.sk}},
            }
            if delete.expected_owner is not None:
                request["ConditionExpression"] = "attribute_not_exists(customer_id) OR customer_id = :o"
                request["ExpressionAttributeValues"] = {":o": {"S": delete.expected_owner}}
            try:
                self._client.delete_item(**request)
            except self._client.exceptions.ConditionalCheckFailedException:
                continue  # another customer's: left

    def forget_unkeyed(self, keys: Sequence[str], owner: str) -> int:
        if not self._layout.rekeyed():
            return 0  # _move_old moves them before each step
        gone = 0
        for key in dict.fromkeys(keys):
            pk = legacy_ident_pk(key)
            if len(pk.encode("utf-8", "replace")) > _MAX_PK_BYTES:
                continue
            try:
                self._client.delete_item(
                    TableName=self.table_name,
                    Key={"PK": {"S": pk}, "SK": {"S": "IDENT"}},
                    ConditionExpression="customer_id = :o",
                    ExpressionAttributeValues={":o": {"S": owner}},
                )
                gone += 1
            except self._client.exceptions.ConditionalCheckFailedException:
                continue  # none, or another's: left
        return gone

    def _delete(self, delete: DeleteItem) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"PK": {"S": physical_pk(delete.key.pk, self.salt)}, "SK": {"S": delete.key.sk}},
        }
        if delete.expected_owner is not None and delete.expected_at is not None:
            # The time read too: a touch committed since (core.ports.TouchSource) is not deleted.
            request["ConditionExpression"] = "customer_id = :o AND updated_at = :w"
            request["ExpressionAttributeValues"] = {
                ":o": {"S": delete.expected_owner},
                ":w": {"S": delete.expected_at.isoformat()},
            }
        elif delete.expected_owner is not None:
            request["ConditionExpression"] = "customer_id = :o"
            request["ExpressionAttributeValues"] = {":o": {"S": delete.expected_owner}}
        elif delete.expected_version is not None:
            # A PROFILE item written by the pipeline always has a version; 0 means "none was read".
            request["ConditionExpression"] = (
                "attribute_not_exists(version) OR version = :v"
                if delete.expected_version == 0
                else "version = :v"
            )
            request["ExpressionAttributeValues"] = {":v": {"N": str(delete.expected_version)}}
        return {"Delete": request}

    def put_audit(self, record: AuditRecord) -> None:
        item: dict[str, Any] = {
            "PK": {"S": f"AUDIT#{record.action}"},
            "SK": {"S": f"{record.at.isoformat()}#{record.request_id}"},
            "request_id": {"S": record.request_id},
            "subject_hash": {"S": record.subject_hash},
            "outcome": {"S": record.outcome},
            "counts": {"M": {k: {"N": str(v)} for k, v in sorted(record.counts.items())}},
            "tools": {"M": {k: {"S": v} for k, v in sorted(record.tools.items())}},
        }
        if record.requested_by:
            item["requested_by"] = {"S": record.requested_by}
        if record.invocation:
            item["invocation"] = {"S": record.invocation}
        if record.action == "erase":
            # What the erasure read is forgotten in every warm process (core.erasure_epoch); first,
            # so that no process reads the audit record before the epoch says an erasure ran.
            bump_epoch(self._client, self.table_name)
        try:
            # Written once: an audit record is never replaced, whoever holds the role.
            self._client.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(PK)"
            )
        except self._client.exceptions.ConditionalCheckFailedException as error:
            raise ConflictError(
                f"an audit record of request {record.request_id!r} at {record.at.isoformat()} exists "
                "already; audit records are never overwritten: send the request again"
            ) from error

    def quarantined_items(self, connector: str) -> list[QuarantineItem]:
        items = self._query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"QUARANTINE#{connector}"}},
            ProjectionExpression="PK, SK, #r, reason, subjects",
            ExpressionAttributeNames={"#r": "raw"},  # RAW is a reserved word
        )
        return [
            QuarantineItem(
                ItemKey(i["PK"]["S"], i["SK"]["S"]),
                frozenset(i["subjects"]["SS"]) if "subjects" in i else None,
                i.get("raw", {}).get("S", ""),
                i.get("reason", {}).get("S", ""),
            )
            for i in items
        ]

    def held_markers(self, customer_ids: Sequence[str]) -> dict[str, set[str]]:
        return read_held(self._query, customer_ids)

    def holders(self, keys: Sequence[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        self._move_old(list(keys))
        # On a table marked rekeyed, the markers still under the value too: a previous-release
        # invocation running past the migration's last Scan writes them there (attack31p); the
        # erasure's step deletes both (``_delete_stragglers``).
        legacy = self._layout.rekeyed()
        for key in dict.fromkeys(keys):
            pks = [ident_pk(key, self.salt)]
            if legacy and len((plain := legacy_ident_pk(key)).encode("utf-8", "replace")) <= _MAX_PK_BYTES:
                pks.append(plain)
            found = [
                item
                for pk in pks
                for item in self._query(
                    KeyConditionExpression="PK = :pk AND begins_with(SK, :h)",
                    ExpressionAttributeValues={":pk": {"S": pk}, ":h": {"S": "HOLDER#"}},
                    ProjectionExpression="customer_id",
                    ConsistentRead=True,
                )
            ]
            if found:
                out[key] = {i["customer_id"]["S"] for i in found}
        return out

    def put_pending(self, pending: PendingErasure) -> None:
        item: dict[str, Any] = {
            "PK": {"S": PENDING_PK},
            "SK": {"S": pending.request_id},
            "subject_hash": {"S": pending.subject_hash},
            "created_at": {"S": pending.created_at.isoformat()},
            "tools": {
                "M": {tool: {"L": [{"S": k} for k in keys]} for tool, keys in sorted(pending.tools.items())}
            },
            "held": {"BOOL": pending.held},
            "attempts": {"N": str(pending.attempts)},
        }
        if pending.requested_by:
            item["requested_by"] = {"S": pending.requested_by}
        if pending.unheld:
            item["unheld"] = {"L": [{"S": t} for t in pending.unheld]}
        self._client.put_item(TableName=self.table_name, Item=item)

    def pending_erasures(self) -> list[PendingErasure]:
        items = self._query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": PENDING_PK}},
            ConsistentRead=True,
        )
        found = [
            PendingErasure(
                request_id=i["SK"]["S"],
                subject_hash=i["subject_hash"]["S"],
                created_at=datetime.fromisoformat(i["created_at"]["S"]),
                tools={t: tuple(v["S"] for v in keys["L"]) for t, keys in i["tools"]["M"].items()},
                held=bool(i["held"]["BOOL"]),
                attempts=int(i["attempts"]["N"]),
                requested_by=i.get("requested_by", {}).get("S", ""),
                unheld=tuple(t["S"] for t in i.get("unheld", {}).get("L", ())),
            )
            for i in items
        ]
        return sorted(found, key=lambda p: (p.created_at, p.request_id))

    def delete_pending(self, request_id: str) -> None:
        self._client.delete_item(
            TableName=self.table_name, Key={"PK": {"S": PENDING_PK}, "SK": {"S": request_id}}
        )

    def audit_records(self, action: str) -> list[dict[str, Any]]:
        """The raw audit items of one action, oldest first (for operators and tests)."""
        return self._query(
            KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": f"AUDIT#{action}"}}
        )


__all__ = ["PENDING_PK", "DynamoDBErasureStore"]
