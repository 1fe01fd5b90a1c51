"""The DynamoDB ``ProfileStore``: the one-table layout of DESIGN.md.

| PK                 | SK                    | attributes                                             |
| ------------------ | --------------------- | ------------------------------------------------------ |
| CUSTOMER#<cid>     | PROFILE               | version, hash, owned (SS), data (profile JSON), and    |
|                    |                       | merged_into / merging_into / absorbing during merges;  |
|                    |                       | past 64 KB data is of type B holding owned too         |
|                    |                       | (core.storage.profile_packing) and owned is absent     |
| CUSTOMER#<cid>     | SOURCE#<source key>   | hash, data (the normalised SourceRecord as JSON)       |
| IDENT#<hash>       | IDENT                 | ident, customer_id; source ids: record_hash,           |
|                    |                       | updated_at, run                                        |
| IDENT#<hash>       | HOLDER#<cid>          | ident, customer_id: another customer holds it too      |

``<hash>`` is the identifier key's keyed hash, ``ident`` the key (core.storage.ident_keys): the
table's stream carries keys, never a value.

The client is injected (a boto3 DynamoDB *client*); this module imports neither boto3 nor botocore,
and maps errors through ``client.exceptions``. Reads are strongly consistent: the plan made from
them is guarded by conditions anyway, but a consistent read loses fewer races.

Concurrency: every changeset is one ``TransactWriteItems``. A profile write is conditional on the
``version`` that was read (``attribute_not_exists`` for a new customer) and every identifier write on
the owner that was read, so of two writers that planned from the same state only one commits; the
other gets ``ConditionalCheckFailed`` in the cancellation reasons and re-plans. Several small
changesets are packed into one transaction to keep requests per record low; when one of them loses
its race, the others are sent again without it.

The items and the transaction entry of each operation are built in core.storage.dynamodb_items, the
batch requests' limits and backoff are core.storage.dynamodb_batch, and the ``SyncStateStore`` of the
same table is core.storage.dynamodb_sync_state (all importable from here as before).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.errors import ConflictError, RecordRejectedError, StoreLayoutError
from core.ports import (
    RETIRED_OWNER,
    Changeset,
    CustomerState,
    Operation,
    Ownership,
    ProfileItem,
    PutHistory,
)
from core.schema import Profile, SourceRecord
from core.storage.dynamodb_batch import BATCH_GET_MAX_KEYS as BATCH_GET_MAX_KEYS
from core.storage.dynamodb_batch import BATCH_WRITE_MAX_ITEMS as BATCH_WRITE_MAX_ITEMS
from core.storage.dynamodb_batch import batch_get
from core.storage.dynamodb_batch import batch_put as batch_put
from core.storage.dynamodb_epoch import epoch_key
from core.storage.dynamodb_held import note_holders
from core.storage.dynamodb_items import LIVE_PROFILE_SCAN as LIVE_PROFILE_SCAN
from core.storage.dynamodb_items import Item as Item
from core.storage.dynamodb_items import customer_pk as customer_pk
from core.storage.dynamodb_items import holder_sk as holder_sk
from core.storage.dynamodb_items import is_live_profile as is_live_profile
from core.storage.dynamodb_items import profile_of, transact_item
from core.storage.dynamodb_items import source_sk as source_sk
from core.storage.dynamodb_links import DynamoDBLinkIndex
from core.storage.dynamodb_parts import DynamoDBCustomerParts
from core.storage.dynamodb_scans import DynamoDBScans
from core.storage.dynamodb_sync_state import QUARANTINE_RETENTION_DAYS as QUARANTINE_RETENTION_DAYS
from core.storage.dynamodb_sync_state import DynamoDBSyncStateStore as DynamoDBSyncStateStore
from core.storage.dynamodb_sync_state import cut_utf8 as cut_utf8
from core.storage.dynamodb_sync_state import pushed_sk as pushed_sk
from core.storage.dynamodb_transactions import Prepared, next_batch, prepare
from core.storage.ident_keys import DEFAULT_IDENT_SALT, Salt, ident_of, legacy_fits, legacy_ident_pk
from core.storage.ident_keys import REKEYED_KEY as REKEYED_KEY
from core.storage.ident_keys import ident_pk as ident_pk
from core.storage.ident_rekey import IdentLayout

if TYPE_CHECKING:
    from core.storage.dynamodb_history import DynamoDBHistoryStore

#: AWS limits: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
TRANSACTION_MAX_ITEMS = 100  # TransactWriteItems, raised from 25 in September 2022
LEGACY_TRANSACTION_MAX_ITEMS = 25  # older emulators (moto, old DynamoDB Local) still enforce this


class DynamoDBProfileStore(DynamoDBLinkIndex, DynamoDBCustomerParts, DynamoDBScans):
    """``ProfileStore`` over one DynamoDB table; thread-safe as boto3 clients are. It is also the
    table's ``LinkIndex`` (core.storage.dynamodb_links, its reviews core.storage.dynamodb_reviews)."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        max_items_per_commit: int = TRANSACTION_MAX_ITEMS,
        read_workers: int = 8,
        salt: Salt = DEFAULT_IDENT_SALT,
        mark_empty_table: bool = False,
    ) -> None:
        self._client = client
        self.table_name = table_name
        # mark_empty_table: write the layout marker on an empty table without one (core.storage.ident_mark)
        self.ident_layout = IdentLayout(self._call, table_name, salt, marks_empty=mark_empty_table)
        self.max_items_per_commit = max_items_per_commit
        self._read_workers = read_workers

    @property
    def salt(self) -> str:
        """Keys identifier items (core.storage.ident_keys): the deployment's audit salt."""
        return self.ident_layout.salt

    @property
    def erasure_epoch_key(self) -> str:
        """The epoch a ``NoErasureSince`` checks: this table's (core.ports.ChecksErasureEpoch)."""
        return epoch_key(self._client, self.table_name)

    # -- reads ---------------------------------------------------------------------------------

    def get_owners(self, keys: Sequence[str]) -> dict[str, Ownership]:
        found = self.get_owners_and_tombstones(keys)
        return {k: o for k, o in found.items() if o.customer_id != RETIRED_OWNER}

    def get_owners_and_tombstones(self, keys: Sequence[str]) -> dict[str, Ownership]:
        unique = list(dict.fromkeys(keys))
        layout = self.ident_layout
        upgrading = not layout.known_rekeyed
        wanted = [{"PK": {"S": ident_pk(k, self.salt)}, "SK": {"S": "IDENT"}} for k in unique]
        if upgrading:
            # A table written before identifier items were keyed by hash: the old key is read in
            # the same requests, with the marker that says none is left (core.storage.ident_rekey).
            wanted += [
                {"PK": {"S": legacy_ident_pk(k)}, "SK": {"S": "IDENT"}} for k in unique if legacy_fits(k)
            ]
            if marker_asked := layout.wants_marker():
                wanted.append(dict(REKEYED_KEY))
        # Unprocessed keys mean throttling: back off before asking again (AWS guidance), and give up
        # with a RetryableError after ten such answers in a row, as every other batch read does.
        items = list(batch_get(self._call, self.table_name, wanted))
        if upgrading:
            marker = [i for i in items if i["PK"] == REKEYED_KEY["PK"] and i["SK"] == REKEYED_KEY["SK"]]
            if marker_asked:
                layout.saw_marker(marker[0] if marker else None)
            items = [i for i in items if not marker or i is not marker[0]]
            new = {ident_of(i) for i in items if "ident" in i}
            old = [ident_of(i) for i in items if "ident" not in i and ident_of(i) not in new]
            if old:
                # Moved before any plan is made on them: the plan's conditional writes then find
                # them under their keyed hash (a write of the old key would be lost at the move).
                layout.move(old)
                moved = [{"PK": {"S": ident_pk(k, self.salt)}, "SK": {"S": "IDENT"}} for k in old]
                items += batch_get(self._call, self.table_name, moved)
            items = [i for i in items if "ident" in i]
        out: dict[str, Ownership] = {}
        for item in items:
            key = ident_of(item)
            out[key] = Ownership(
                key=key,
                customer_id=item["customer_id"]["S"],
                record_hash=item["record_hash"]["S"] if "record_hash" in item else None,
                updated_at=datetime.fromisoformat(item["updated_at"]["S"]) if "updated_at" in item else None,
                match=item["match"]["S"] if "match" in item else None,
                run=item["run"]["S"] if "run" in item else None,
            )
        return out

    def get_customers(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]:
        ids = list(dict.fromkeys(customer_ids))
        if len(ids) <= 1 or self._read_workers <= 1:
            states = [self._get_customer(cid) for cid in ids]
        else:
            with ThreadPoolExecutor(max_workers=min(self._read_workers, len(ids))) as pool:
                states = list(pool.map(self._get_customer, ids))
        return {s.customer_id: s for s in states if s is not None}

    def get_profiles(self, customer_ids: Sequence[str]) -> dict[str, ProfileItem]:
        """Profile items only, 100 per BatchGetItem (the push path needs no source snapshots)."""
        out: dict[str, ProfileItem] = {}
        wanted = [{"PK": {"S": customer_pk(c)}, "SK": {"S": "PROFILE"}} for c in dict.fromkeys(customer_ids)]
        only = {"ProjectionExpression": "PK, #d, merged_into", "ExpressionAttributeNames": {"#d": "data"}}
        for item in batch_get(self._call, self.table_name, wanted, only):
            cid = item["PK"]["S"][len("CUSTOMER#") :]
            out[cid] = ProfileItem(
                customer_id=cid,
                profile=Profile.model_validate_json(profile_of(item)[0]) if "data" in item else None,
                merged_into=item.get("merged_into", {}).get("S"),
            )
        return out

    def _get_customer(self, customer_id: str) -> CustomerState | None:
        """One customer's items, read until they agree with each other.

        A Query is not isolated from a concurrent TransactWriteItems (read-committed, item by item),
        so it can return the profile a transaction wrote without the source items it wrote with
        it. A plan built from such a torn read would pass the version condition and lose a record.
        The profile lists its sources and their timestamps: a read is used only when its source
        items match that list (merges in flight excepted: they are finished before planning).
        """
        for attempt in range(6):
            state = self._read_customer(customer_id)
            if state is None or state.profile is None or state.merging_into or state.absorbing:
                return state
            listed = {(ref.key, ref.updated_at) for ref in state.profile.sources}
            read = {(key, snap.updated_at) for key, snap in state.snapshots.items()}
            if listed == read:
                return state
            time.sleep(0.005 * 2**attempt * random.random())
        raise ConflictError(f"customer {customer_id} kept changing while it was read; plan again")

    def _read_customer(self, customer_id: str) -> CustomerState | None:
        items: list[Item] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            # HISTORY# sorts before PROFILE: however long the history grows, it is not read here.
            "KeyConditionExpression": "PK = :pk AND SK >= :p",
            "ExpressionAttributeValues": {":pk": {"S": customer_pk(customer_id)}, ":p": {"S": "PROFILE"}},
            "ConsistentRead": True,
        }
        while True:
            page = self._call("query", **kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        profile_item = next((i for i in items if i["SK"]["S"] == "PROFILE"), None)
        snapshots: dict[str, SourceRecord] = {}
        for item in items:
            if item["SK"]["S"].startswith("SOURCE#"):
                record = SourceRecord.model_validate_json(item["data"]["S"])
                snapshots[record.key] = record
        if profile_item is None and not snapshots:
            return None
        profile_item = profile_item or {}
        document, owned = profile_of(profile_item) if "data" in profile_item else (None, frozenset[str]())
        return CustomerState(
            customer_id=customer_id,
            version=int(profile_item["version"]["N"]) if "version" in profile_item else 0,
            profile=Profile.model_validate_json(document) if document is not None else None,
            profile_hash=profile_item.get("hash", {}).get("S"),
            owned=owned,
            snapshots=snapshots,
            merged_into=profile_item.get("merged_into", {}).get("S"),
            merging_into=profile_item.get("merging_into", {}).get("S"),
            absorbing=frozenset(profile_item.get("absorbing", {}).get("SS", [])),
            add_only=profile_item.get("add_only", {}).get("S"),
        )

    def iter_profiles(self) -> Iterator[Profile]:
        for profiles, _ in self.profile_pages():
            yield from profiles

    def profile_pages(
        self, start: Mapping[str, Any] | None = None, *, items_per_page: int | None = None
    ) -> Iterator[tuple[list[Profile], dict[str, Any] | None]]:
        """Every live profile (a PROFILE item with data: not merged away, not erased), one Scan page
        at a time, each with the key to resume after it (``None`` after the last page).

        A full scan: it reads every item of the table (``items_per_page`` caps the items read per
        page; DynamoDB's own cap is 1 MB), so it is for occasional work such as a reconcile.
        """
        kwargs: dict[str, Any] = {"TableName": self.table_name, **LIVE_PROFILE_SCAN}
        if start:
            kwargs["ExclusiveStartKey"] = dict(start)
        if items_per_page is not None:
            kwargs["Limit"] = items_per_page
        while True:
            page = self._call("scan", **kwargs)
            profiles = [Profile.model_validate_json(profile_of(item)[0]) for item in page.get("Items", [])]
            next_key: dict[str, Any] | None = page.get("LastEvaluatedKey")
            yield profiles, next_key
            if next_key is None:
                return
            kwargs["ExclusiveStartKey"] = next_key

    @property
    def history(self) -> DynamoDBHistoryStore:
        """The customers' histories, in this table (``PutHistory`` writes them)."""
        from core.storage.dynamodb_history import DynamoDBHistoryStore  # it imports this module

        return DynamoDBHistoryStore(self._client, self.table_name, layout=self.ident_layout)

    def inherit_history(self, absorbed: str, survivor: str) -> int:
        """Copy ``absorbed``'s history to ``survivor`` (core.governance.history.HistoryStore)."""
        return self.history.inherit_history(absorbed, survivor)

    # -- writes --------------------------------------------------------------------------------

    def commit(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        # Each changeset is checked alone first (no two operations on one item, 4 MB), then packed
        # with its neighbours into as few transactions as the limits allow (dynamodb_transactions).
        failed: list[Changeset] = []
        queue = [
            prepare(c, [self._transact_item(op) for op in c.operations], self.max_items_per_commit)
            for c in changesets
            if c.operations
        ]
        # The index of the names the events hold, before the events (core.storage.dynamodb_history).
        events = [op.event for c in changesets for op in c.operations if isinstance(op, PutHistory)]
        self.history.put_named([(e.customer_id, e) for e in events])
        # The registry of the markers naming each customer, before the markers (core.storage.dynamodb_held).
        note_holders(self._call, self.table_name, changesets)
        written: list[str] = []  # labels, for a refusal: the changesets written before it
        while queue:
            batch = next_batch(queue, self.max_items_per_commit)
            try:
                lost = self._transact(batch)
            except RecordRejectedError as refused:
                # Each transaction is atomic, the commit is not: say what is written (ingest counts it).
                refused.written |= frozenset(written)
                raise
            if lost is None:  # the endpoint only takes the old 25-item limit: re-pack smaller
                for prepared in batch:
                    prepare(prepared.changeset, prepared.entries, self.max_items_per_commit)
                queue = batch + queue
                continue
            failed.extend(lost)
            if lost:
                queue = [p for p in batch if p.changeset not in lost] + queue
            else:
                written.extend(p.changeset.label for p in batch)
        return failed

    def _transact(self, batch: list[Prepared]) -> list[Changeset] | None:
        refused = next((p.oversized for p in batch if p.oversized is not None), None)
        if refused is not None:  # an item over the limit: refused as DynamoDB refuses it, unsent
            if len(batch) > 1:
                return self._rejected(batch, str(refused), refused)
            raise refused
        items: list[dict[str, Any]] = []
        owner: list[Changeset] = []
        for prepared in batch:
            items.extend(prepared.entries)
            owner.extend([prepared.changeset] * len(prepared.entries))
        exceptions = self._client.exceptions
        try:
            self._client.transact_write_items(TransactItems=items)
        except exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons") or []
            lost: list[Changeset] = []
            for index, reason in enumerate(reasons):
                if reason.get("Code", "None") != "None" and owner[index] not in lost:
                    lost.append(owner[index])
            # Without reasons we cannot tell who lost: every changeset re-plans (safe, slower).
            return lost or [p.changeset for p in batch]
        except exceptions.ClientError as error:
            message = str(error.response.get("Error", {}).get("Message", ""))
            code = error.response.get("Error", {}).get("Code")
            too_many = f"less than or equal to {LEGACY_TRANSACTION_MAX_ITEMS}" in message
            if too_many and self.max_items_per_commit > LEGACY_TRANSACTION_MAX_ITEMS:
                self.max_items_per_commit = LEGACY_TRANSACTION_MAX_ITEMS
                return None
            if code == "ResourceNotFoundException":
                raise StoreLayoutError(
                    f"table {self.table_name!r} does not exist: deploy template.yaml or run "
                    "`profilesync resolve` without --endpoint-url to use the embedded store"
                ) from error
            if code == "ValidationException":
                return self._rejected(batch, message, error)
            raise
        return []

    def _rejected(self, batch: list[Prepared], message: str, error: Exception) -> list[Changeset]:
        """A ValidationException names no item: when several changesets shared the transaction,
        each is sent alone, so the ones DynamoDB accepts are written and the offender is named."""
        if len(batch) > 1:
            lost: list[Changeset] = []
            written: list[str] = []
            refused: RecordRejectedError | None = None
            for prepared in batch:
                try:
                    alone = self._transact([prepared])
                except RecordRejectedError as refusal:
                    refused = refused or refusal
                    continue
                if alone is None:
                    lost.append(prepared.changeset)  # not written (too many items): planned again
                elif alone:
                    lost.extend(alone)
                else:
                    written.append(prepared.changeset.label)
            if refused is not None:
                # After the others were written (which it names): ingest is run again without it.
                refused.written |= frozenset(written)
                raise refused
            return lost
        raise RecordRejectedError(
            f"DynamoDB refused the writes of {batch[0].changeset.label!r}: {message} "
            "(the record is too large or malformed to store; it is quarantined, not retried)"
        ) from error

    def _transact_item(self, op: Operation) -> dict[str, Any]:
        """The entry of ``op`` in a transaction (core.storage.dynamodb_items.transact_item)."""
        return transact_item(self.table_name, op, self.salt)

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client, method)(**kwargs)
        except self._client.exceptions.ResourceNotFoundException as error:
            raise StoreLayoutError(
                f"table {self.table_name!r} does not exist at this endpoint: deploy template.yaml, "
                "or create it with `profilesync.template.create_table`"
            ) from error
        return result
