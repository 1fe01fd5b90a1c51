"""The dispatcher's bookkeeping in the profile table: which schedule slot of each instance was started.

| PK                  | SK            | attributes                                     |
| ------------------- | ------------- | ---------------------------------------------- |
| SYNC#<instance>     | SCHEDULE      | last_slot (ISO), first_seen (ISO)              |
| SYNC#_dispatcher    | ALARMS        | config_hash: the document the alarms match     |

``claim`` is conditional (the stored slot is older, or there is none), so two dispatcher invocations
for the same minute (a retried Scheduler delivery, an overlap after a slow run) start a pull once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class DynamoDBScheduleStore:
    """Claims of schedule slots, and the hash of the configuration the freshness alarms were made from."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def claim(self, instance: str, slot: datetime, now: datetime) -> bool:
        """Record ``slot`` as started for ``instance``; False when it (or a later one) already was."""
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"PK": {"S": f"SYNC#{instance}"}, "SK": {"S": "SCHEDULE"}},
                UpdateExpression="SET last_slot = :slot, first_seen = if_not_exists(first_seen, :now)",
                ConditionExpression="attribute_not_exists(last_slot) OR last_slot < :slot",
                ExpressionAttributeValues={":slot": {"S": slot.isoformat()}, ":now": {"S": now.isoformat()}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def first_seen(self, instance: str) -> datetime | None:
        """When the dispatcher first started this instance (None: never)."""
        item = self._get(f"SYNC#{instance}", "SCHEDULE")
        return datetime.fromisoformat(item["first_seen"]["S"]) if item and "first_seen" in item else None

    def alarms_hash(self) -> str | None:
        item = self._get("SYNC#_dispatcher", "ALARMS")
        return item["config_hash"]["S"] if item and "config_hash" in item else None

    def set_alarms_hash(self, value: str) -> None:
        self._client.put_item(
            TableName=self.table_name,
            Item={"PK": {"S": "SYNC#_dispatcher"}, "SK": {"S": "ALARMS"}, "config_hash": {"S": value}},
        )

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._client.get_item(
            TableName=self.table_name, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True
        ).get("Item")
        return item


__all__ = ["DynamoDBScheduleStore"]
