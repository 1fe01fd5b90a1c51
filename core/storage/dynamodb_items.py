"""The items of the one-table layout (core.storage.dynamodb): their keys, the Scan filter of live
profiles, and the ``TransactWriteItems`` entry each port ``Operation`` becomes.

Pure: builds request entries, calls no client. ``DynamoDBProfileStore.commit`` packs the entries
(core.storage.dynamodb_transactions) and sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from core.merge import profile_json
from core.ports import (
    DeleteHolder,
    DeleteIdent,
    DeleteSource,
    MarkAbsorbing,
    MarkMerging,
    NoErasureSince,
    Operation,
    PutHistory,
    PutHolder,
    PutIdent,
    PutProfile,
    PutSource,
    Tombstone,
    TouchSource,
    Unsuppressed,
)
from core.storage.dynamodb_epoch import epoch_check
from core.storage.ident_keys import DEFAULT_IDENT_SALT, ident_pk
from core.storage.profile_packing import pack_profile, read_document

Item = dict[str, dict[str, Any]]


def customer_pk(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def source_sk(source_key: str) -> str:
    return f"SOURCE#{source_key}"


def holder_sk(customer_id: str) -> str:
    """The sort key of a ``PutHolder`` marker, next to the key's IDENT item."""
    return f"HOLDER#{customer_id}"


#: The Scan filter of live profiles: PROFILE items with data. A merged-away customer's tombstone and an
#: erased customer's item have none. ``is_live_profile`` is the same test on an item already read.
LIVE_PROFILE_SCAN: Mapping[str, Any] = MappingProxyType(
    {
        "FilterExpression": "SK = :p AND attribute_exists(#d)",
        "ExpressionAttributeNames": {"#d": "data"},
        "ExpressionAttributeValues": {":p": {"S": "PROFILE"}},
    }
)


#: The Scan that lists the customers a merge in flight froze (``DynamoDBProfileStore.frozen_customers``).
#: No index holds the ``merging_into`` mark (adding one would change the table's layout for a rare
#: operator's command), so it reads every item of the table and is billed for all of them, as
#: ``profile_pages`` is; the filter and the projection send back the key and mark of the marked
#: PROFILE items only, a few bytes each, however large the profiles.
FROZEN_SCAN: Mapping[str, Any] = MappingProxyType(
    {
        "FilterExpression": "SK = :p AND attribute_exists(merging_into)",
        "ProjectionExpression": "PK, merging_into",
        "ExpressionAttributeValues": {":p": {"S": "PROFILE"}},
    }
)


def profile_of(item: Mapping[str, Any]) -> tuple[str, frozenset[str]]:
    """A PROFILE item's profile JSON and ``owned`` keys, packed or not (core.storage.profile_packing):
    ``data`` of type S with the ``owned`` set beside it, or of type B holding both."""
    value = item["data"]
    if "S" in value:
        return value["S"], frozenset(item.get("owned", {}).get("SS", ()))
    document, owned = read_document(value["B"])
    return document, owned or frozenset()


#: The Scan that names the stored records of one source (``DynamoDBProfileStore.source_keys``, the
#: sweep of a full refresh: core.refresh_sweep). It reads, and is billed for, every item of the table
#: as ``profile_pages`` is, but sends back the sort key of the ``SOURCE#<source>:`` items alone, never
#: their data: the pull role may Scan with this projection only (template.yaml,
#: ``RefreshSweepScansSourceKeys``: ``dynamodb:Attributes`` PK and SK, ``dynamodb:Select``
#: SPECIFIC_ATTRIBUTES). ``:s`` is ``SOURCE#<source>:``.
SOURCE_KEYS_SCAN: Mapping[str, Any] = MappingProxyType(
    {
        "Select": "SPECIFIC_ATTRIBUTES",
        "FilterExpression": "begins_with(SK, :s)",
        "ProjectionExpression": "SK",
    }
)


def is_live_profile(item: Mapping[str, Any]) -> bool:
    """Whether a table item is a live profile, as ``LIVE_PROFILE_SCAN`` selects them."""
    return item["SK"]["S"] == "PROFILE" and "data" in item


def transact_item(table: str, op: Operation, salt: str = DEFAULT_IDENT_SALT) -> dict[str, Any]:
    """The entry of ``op`` in a ``TransactWriteItems`` request on ``table``; an identifier's items
    are keyed by its keyed hash with ``salt`` and hold the identifier in ``ident``
    (core.storage.ident_keys)."""
    match op:
        case PutProfile():
            document, owned = profile_json(op.profile), sorted(op.owned)
            # Past its threshold the profile and its keys are one binary ``data``, no ``owned`` set
            # (core.storage.profile_packing); under it the item is as it always was.
            packed = pack_profile(document, owned)
            item: Item = {
                "PK": {"S": customer_pk(op.customer_id)},
                "SK": {"S": "PROFILE"},
                "version": {"N": str(op.profile.version)},
                "hash": {"S": op.profile_hash},
                "data": {"S": document} if packed is None else {"B": packed},
            }
            if owned and packed is None:
                item["owned"] = {"SS": owned}
            if op.absorbing:
                item["absorbing"] = {"SS": sorted(op.absorbing)}
            if op.add_only is not None:  # core.grow_mark; absent on items stored before it
                item["add_only"] = {"S": op.add_only}
            if op.expected_version is None:
                return {
                    "Put": {
                        "TableName": table,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            return {
                "Put": {
                    "TableName": table,
                    "Item": item,
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {":v": {"N": str(op.expected_version)}},
                }
            }
        case MarkAbsorbing():
            return {
                "Update": {
                    "TableName": table,
                    "Key": {"PK": {"S": customer_pk(op.customer_id)}, "SK": {"S": "PROFILE"}},
                    "UpdateExpression": "ADD absorbing :a SET version = version + :one",
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {
                        ":a": {"SS": [op.absorbed]},
                        ":one": {"N": "1"},
                        ":v": {"N": str(op.expected_version)},
                    },
                }
            }
        case MarkMerging():
            return {
                "Update": {
                    "TableName": table,
                    "Key": {"PK": {"S": customer_pk(op.customer_id)}, "SK": {"S": "PROFILE"}},
                    "UpdateExpression": "SET merging_into = :into, version = version + :one",
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {
                        ":into": {"S": op.into},
                        ":one": {"N": "1"},
                        ":v": {"N": str(op.expected_version)},
                    },
                }
            }
        case Tombstone():
            return {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "PK": {"S": customer_pk(op.customer_id)},
                        "SK": {"S": "PROFILE"},
                        "version": {"N": str(op.expected_version + 1)},
                        "merged_into": {"S": op.merged_into},
                    },
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {":v": {"N": str(op.expected_version)}},
                }
            }
        case PutSource():
            return {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "PK": {"S": customer_pk(op.customer_id)},
                        "SK": {"S": source_sk(op.record.key)},
                        "hash": {"S": op.record_hash},
                        "data": {"S": op.record.model_dump_json()},
                    },
                }
            }
        case DeleteSource():
            return {
                "Delete": {
                    "TableName": table,
                    "Key": {
                        "PK": {"S": customer_pk(op.customer_id)},
                        "SK": {"S": source_sk(op.source_key)},
                    },
                }
            }
        case TouchSource():
            return {
                "Update": {
                    "TableName": table,
                    "Key": {"PK": {"S": ident_pk(op.key, salt)}, "SK": {"S": "IDENT"}},
                    "UpdateExpression": "SET updated_at = :t" + (", run = :r" if op.run is not None else ""),
                    "ConditionExpression": "record_hash = :h AND updated_at = :p" + _run_condition(op),
                    "ExpressionAttributeValues": {
                        ":t": {"S": op.updated_at.isoformat()},
                        ":h": {"S": op.record_hash},
                        ":p": {"S": op.previous.isoformat()},
                        **({":r": {"S": op.run}} if op.run is not None else {}),
                        **({":q": {"S": op.previous_run}} if op.checks_run and op.previous_run else {}),
                    },
                }
            }
        case PutIdent():
            ident: Item = {
                "PK": {"S": ident_pk(op.key, salt)},
                "SK": {"S": "IDENT"},
                "customer_id": {"S": op.customer_id},
                "ident": {"S": op.key},
            }
            if op.record_hash is not None:
                ident["record_hash"] = {"S": op.record_hash}
            if op.updated_at is not None:
                ident["updated_at"] = {"S": op.updated_at.isoformat()}
            if op.match is not None:
                ident["match"] = {"S": op.match}
            if op.run is not None:  # the content run (core.content_run): absent on items stored before
                ident["run"] = {"S": op.run}
            if op.expected_owner is None:
                return {
                    "Put": {
                        "TableName": table,
                        "Item": ident,
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            if op.expected_at is not None:  # a handover: no touch since the time was read
                return {
                    "Put": {
                        "TableName": table,
                        "Item": ident,
                        "ConditionExpression": "customer_id = :o AND updated_at = :w" + _run_condition(op),
                        "ExpressionAttributeValues": {
                            ":o": {"S": op.expected_owner},
                            ":w": {"S": op.expected_at.isoformat()},
                            **({":q": {"S": op.expected_run}} if op.checks_run and op.expected_run else {}),
                        },
                    }
                }
            return {
                "Put": {
                    "TableName": table,
                    "Item": ident,
                    "ConditionExpression": "customer_id = :o",
                    "ExpressionAttributeValues": {":o": {"S": op.expected_owner}},
                }
            }
        case PutHolder():
            return {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "PK": {"S": ident_pk(op.key, salt)},
                        "SK": {"S": holder_sk(op.customer_id)},
                        "customer_id": {"S": op.customer_id},
                        "ident": {"S": op.key},
                    },
                }
            }
        case DeleteHolder():
            return {
                "Delete": {
                    "TableName": table,
                    "Key": {"PK": {"S": ident_pk(op.key, salt)}, "SK": {"S": holder_sk(op.customer_id)}},
                }
            }
        case PutHistory():
            # core.storage.dynamodb_history imports core.storage.dynamodb, which imports this module.
            from core.storage.dynamodb_history import history_item

            return {"Put": {"TableName": table, "Item": history_item(op.event)}}
        case Unsuppressed():
            # The item an erasure's SuppressionStore writes (core.storage.dynamodb_suppression).
            return {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"PK": {"S": f"SUPPRESS#{op.hash}"}, "SK": {"S": "SUPPRESS"}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        case NoErasureSince():
            # The item every erasure bumps in the transactions that write its suppression entries
            # (core.storage.dynamodb_suppression): moved since the read, the changeset is refused.
            return epoch_check(table, op.epoch)
        case DeleteIdent():
            return {
                "Delete": {
                    "TableName": table,
                    "Key": {"PK": {"S": ident_pk(op.key, salt)}, "SK": {"S": "IDENT"}},
                    "ConditionExpression": "customer_id = :o",
                    "ExpressionAttributeValues": {":o": {"S": op.expected_owner}},
                }
            }
    raise TypeError(f"unknown operation {op!r}")


def _run_condition(op: TouchSource | PutIdent) -> str:
    """The condition on the content run read (``TouchSource.checks_run``, ``PutIdent.checks_run``)."""
    if not op.checks_run:
        return ""
    read = op.previous_run if isinstance(op, TouchSource) else op.expected_run
    return " AND run = :q" if read else " AND attribute_not_exists(run)"
