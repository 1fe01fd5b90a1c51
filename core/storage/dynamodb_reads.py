"""The profile API's reads of DynamoDB, and its read audit.

| PK                 | SK                              | attributes                                        |
| ------------------ | ------------------------------- | ------------------------------------------------- |
| IDENT#<hash>       | IDENT                           | customer_id (read with a GetItem)                 |
| CUSTOMER#<cid>     | PROFILE, PUSHED#..., SOURCE#... | read with one Query, ``SK >= "PROFILE"``          |
| READ#<cid>         | <at, fixed width>#<request id>  | principal, role, route, lookup, fields,           |
|                    |                                 | expires_at (TTL: the retention, 90 days)          |

**Two reads for a live, unmerged customer.** A lookup by email reads the IDENT item (a GetItem of
one small item) and then the customer with one Query whose key condition starts at ``PROFILE``: the
profile item, the few PUSHED# items and the SOURCE# items, and nothing of the history
(``HISTORY#`` sorts before ``PROFILE``) however long it grows. A role that reads no source records
gets its answer from a GetItem of the profile item alone. Reads are eventually consistent (half the
read units): an answer may lag a write by a second, and a read does not plan writes. Unlike ingest's
read, this one does not wait out a torn read (a profile written in the same transaction as source
items the Query did not see yet); the next read shows both.

**The read audit is in the table, with a TTL.** One PutItem per read, under the customer read:
"who looked at this person in the last 90 days" is one Query of ``READ#<cid>`` (for the export and
for ``GET /profiles/{id}/reads``), and erasing the person can delete those items with the rest. A
CloudWatch Logs line would cost no table write, but answering per person means a Logs Insights
query over every log line of the retention period, and a person's lines could not be erased.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import StoreLayoutError
from core.governance.reading import DEFAULT_SOURCES_PAGE, PersonPage, ReadRecord
from core.schema import Profile, SourceRecord
from core.storage.dynamodb import customer_pk
from core.storage.dynamodb_batch import batch_get
from core.storage.dynamodb_items import profile_of
from core.storage.ident_keys import (
    DEFAULT_IDENT_SALT,
    REKEYED_KEY,
    Salt,
    ident_pk,
    legacy_fits,
    legacy_ident_pk,
)
from core.storage.ident_rekey import IdentLayout

READ_PREFIX = "READ#"
#: Items of a customer's partition that sort between PROFILE and the first SOURCE#: the profile item
#: and its PUSHED# items (one per destination). A Query's Limit counts them too.
_AHEAD_OF_SOURCES = 1 + 16
#: How long a read is kept: the export answers "who looked at this person in the last 90 days".
READ_RETENTION_DAYS = 90


def read_pk(customer_id: str) -> str:
    return f"{READ_PREFIX}{customer_id}"


def _stamp(at: datetime) -> str:
    """Fixed width, so the sort key's text order is time order."""
    return f"{at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"


class DynamoDBProfileReader:
    """``ProfileReader`` over the profile table: the fewest reads an answer needs."""

    def __init__(
        self, client: Any, table_name: str, *, consistent: bool = False, salt: Salt = DEFAULT_IDENT_SALT
    ) -> None:
        self._client = client
        self.table_name = table_name
        self.consistent = consistent
        self._layout = IdentLayout(self._call, table_name, salt)  # keys identifier items: the audit salt

    @property
    def salt(self) -> str:
        return self._layout.salt

    def owner_of(self, key: str) -> str | None:
        if not self._layout.known_rekeyed:
            return self._owner_while_upgrading(key)
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={"PK": {"S": ident_pk(key, self.salt)}, "SK": {"S": "IDENT"}},
            ProjectionExpression="customer_id",
            ConsistentRead=self.consistent,
        )
        item = response.get("Item")
        return None if item is None else str(item["customer_id"]["S"])

    def _owner_while_upgrading(self, key: str) -> str | None:
        """Before ``profilesync migrate rekey-identifiers`` marked the table: the keyed item, else the
        item under the value (this role moves nothing), with the marker, in one BatchGetItem."""
        marker = self._layout.wants_marker()
        keyed = {"PK": {"S": ident_pk(key, self.salt)}, "SK": {"S": "IDENT"}}
        wanted = [keyed, {"PK": {"S": legacy_ident_pk(key)}, "SK": {"S": "IDENT"}}][: 1 + legacy_fits(key)]
        found = {
            i["PK"]["S"]: i
            for i in batch_get(
                self._call,
                self.table_name,
                wanted + [dict(REKEYED_KEY)] * marker,
                # as owner_of's GetItem: eventually consistent (half the units), the owner alone
                # (and the marker's salt check, core.storage.ident_keys.verify_salt)
                {
                    "ConsistentRead": self.consistent,
                    "ProjectionExpression": "PK, customer_id, #c",
                    "ExpressionAttributeNames": {"#c": "check"},
                },
            )
        }
        if marker:
            self._layout.saw_marker(found.get(REKEYED_KEY["PK"]["S"]))
        item = found.get(keyed["PK"]["S"]) or found.get(legacy_ident_pk(key))
        return None if item is None else str(item["customer_id"]["S"])

    def read_person(
        self, customer_id: str, *, sources: bool, limit: int = DEFAULT_SOURCES_PAGE, offset: int = 0
    ) -> PersonPage | None:
        if not sources:
            return self._profile_only(customer_id)
        wanted = offset + limit + 1  # one more than the page: whether another follows is then known
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND SK >= :p",
            "ExpressionAttributeValues": {":pk": {"S": customer_pk(customer_id)}, ":p": {"S": "PROFILE"}},
            "ConsistentRead": self.consistent,
            # The profile item and the PUSHED# items (one per destination) come before the sources.
            "Limit": wanted + _AHEAD_OF_SOURCES,
        }
        profile_item: dict[str, Any] | None = None
        records: list[SourceRecord] = []
        while True:
            page = self._call("query", **kwargs)
            for item in page.get("Items", []):
                sk = item["SK"]["S"]
                if sk == "PROFILE":
                    profile_item = item
                elif sk.startswith("SOURCE#") and len(records) < wanted:
                    records.append(SourceRecord.model_validate_json(item["data"]["S"]))
            if len(records) >= wanted or "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            kwargs["Limit"] = wanted - len(records) + _AHEAD_OF_SOURCES
        if profile_item is None and not records:
            return None
        merged_into = (profile_item or {}).get("merged_into", {}).get("S")
        profile = _profile(profile_item)
        if merged_into:
            return PersonPage(customer_id, profile, merged_into)
        chosen = records[offset : offset + limit]
        more = len(records) > offset + limit
        return PersonPage(customer_id, profile, None, tuple(chosen), offset + limit if more else None)

    def _profile_only(self, customer_id: str) -> PersonPage | None:
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={"PK": {"S": customer_pk(customer_id)}, "SK": {"S": "PROFILE"}},
            ProjectionExpression="#d, merged_into",
            ExpressionAttributeNames={"#d": "data"},
            ConsistentRead=self.consistent,
        )
        item = response.get("Item")
        if item is None:
            return None
        return PersonPage(customer_id, _profile(item), item.get("merged_into", {}).get("S"))

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        return table_call(self._client, self.table_name, method, **kwargs)


def _profile(item: dict[str, Any] | None) -> Profile | None:
    if item is None or "data" not in item:
        return None
    return Profile.model_validate_json(profile_of(item)[0])


class DynamoDBReadAudit:
    """``ReadAudit`` over the profile table: ``READ#<cid>`` items that expire after the retention."""

    def __init__(self, client: Any, table_name: str, *, retention_days: int = READ_RETENTION_DAYS) -> None:
        self._client = client
        self.table_name = table_name
        self.retention_days = retention_days

    def record_read(self, record: ReadRecord) -> None:
        expires = record.at + timedelta(days=self.retention_days)
        self._call(
            "put_item",
            TableName=self.table_name,
            Item={
                "PK": {"S": read_pk(record.customer_id)},
                "SK": {"S": f"{_stamp(record.at)}#{record.request_id}"},
                "principal": {"S": record.principal},
                "role": {"S": record.role},
                "route": {"S": record.route},
                "lookup": {"S": record.lookup},
                "fields": {"L": [{"S": f} for f in record.fields]},
                "expires_at": {"N": str(int(expires.timestamp()))},
            },
        )

    def reads_of(self, customer_id: str, *, since: datetime, limit: int = 100) -> list[ReadRecord]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND SK >= :since",
            "ExpressionAttributeValues": {
                ":pk": {"S": read_pk(customer_id)},
                ":since": {"S": _stamp(since)},
            },
            "ScanIndexForward": False,
            "Limit": max(1, limit),
        }
        out: list[ReadRecord] = []
        while len(out) < limit:
            page = self._call("query", **kwargs)
            for item in page.get("Items", []):
                stamp, _, request_id = item["SK"]["S"].partition("#")
                out.append(
                    ReadRecord(
                        customer_id=customer_id,
                        at=datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
                        request_id=request_id,
                        principal=item["principal"]["S"],
                        role=item["role"]["S"],
                        route=item["route"]["S"],
                        lookup=item["lookup"]["S"],
                        fields=tuple(v["S"] for v in item.get("fields", {}).get("L", [])),
                    )
                )
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return out[:limit]

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        return table_call(self._client, self.table_name, method, **kwargs)


def table_call(client: Any, table_name: str, method: str, **kwargs: Any) -> dict[str, Any]:
    """``client.<method>(**kwargs)``, a missing table turned into StoreLayoutError (what to do)."""
    try:
        result: dict[str, Any] = getattr(client, method)(**kwargs)
    except client.exceptions.ResourceNotFoundException as error:
        raise StoreLayoutError(
            f"table {table_name!r} does not exist at this endpoint: deploy template.yaml, "
            "or create it with `profilesync.template.create_table`"
        ) from error
    return result


__all__ = [
    "READ_PREFIX",
    "READ_RETENTION_DAYS",
    "DynamoDBProfileReader",
    "DynamoDBReadAudit",
    "read_pk",
    "table_call",
]
