"""revP24: the DynamoDB index of refused values is read with consistent reads.

An entry is written by merge (``SuppressionCheck.split``) a moment before its record is committed,
and her erasure looks it up after her suppression is written: a merge that checked her suppression
just before it was written has stored the record and its entry a moment before. An eventually
consistent Query may not return that entry yet; once the index is complete the erasure reads no
other way (core.privacy_refused_index.customers_naming), so her record stayed. The ``NAMED#`` index
is queried consistently for the same reason (core.storage.dynamodb_history). Red before the fix:
``DynamoDBRefusedIndex.records`` sent no ``ConsistentRead``."""

from __future__ import annotations

from typing import Any

from core.storage.refused_index import DynamoDBRefusedIndex


class _Recording:
    def __init__(self) -> None:
        self.queries: list[dict[str, Any]] = []

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.queries.append(kwargs)
        if "ExclusiveStartKey" in kwargs:
            return {"Items": [{"SK": {"S": "source#crm:contact:3"}}]}
        return {"Items": [{"SK": {"S": "source#crm:contact:2"}}], "LastEvaluatedKey": {"PK": {"S": "x"}}}


def test_every_page_of_an_index_look_up_is_a_consistent_read() -> None:
    client = _Recording()
    found = DynamoDBRefusedIndex(client, "profiles").records(["aa", "bb"])
    assert found == {h: {"crm:contact:2", "crm:contact:3"} for h in ("aa", "bb")}
    assert len(client.queries) == 4
    assert all(q.get("ConsistentRead") is True for q in client.queries)
