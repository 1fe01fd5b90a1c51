"""The DynamoDB store's ``ReadsCustomerParts`` (core.ports): a customer's profile item alone (one
GetItem), and the snapshots of a few of its records (BatchGetItem, 100 keys a request), both
strongly consistent: what an add-only batch of a growing customer reads (core.ingest_grow), instead
of the Query of the whole partition whose read units grow with the customer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.ports import CustomerState
from core.schema import SourceRecord
from core.storage.dynamodb_batch import batch_get
from core.storage.dynamodb_items import customer_pk, profile_of, source_sk
from core.storage.parts_state import LazyProfileState


class DynamoDBCustomerParts:
    """Mixed into ``DynamoDBProfileStore`` (which sets ``table_name`` and ``_call``)."""

    table_name: str

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError  # the store's own (its errors mapped)

    def get_customer_head(self, customer_id: str) -> CustomerState | None:
        item = self._call(
            "get_item",
            TableName=self.table_name,
            Key={"PK": {"S": customer_pk(customer_id)}, "SK": {"S": "PROFILE"}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        document, owned = profile_of(item) if "data" in item else (None, frozenset[str]())
        return LazyProfileState.read(
            document,
            customer_id=customer_id,
            version=int(item["version"]["N"]) if "version" in item else 0,
            profile_hash=item.get("hash", {}).get("S"),
            owned=owned,
            snapshots={},
            merged_into=item.get("merged_into", {}).get("S"),
            merging_into=item.get("merging_into", {}).get("S"),
            absorbing=frozenset(item.get("absorbing", {}).get("SS", [])),
            add_only=item.get("add_only", {}).get("S"),
        )

    def get_snapshots(self, customer_id: str, keys: Sequence[str]) -> dict[str, SourceRecord]:
        out: dict[str, SourceRecord] = {}
        pk = customer_pk(customer_id)
        wanted = [{"PK": {"S": pk}, "SK": {"S": source_sk(k)}} for k in dict.fromkeys(keys)]
        for item in batch_get(self._call, self.table_name, wanted):
            record = SourceRecord.model_validate_json(item["data"]["S"])
            out[record.key] = record
        return out


__all__ = ["DynamoDBCustomerParts"]
