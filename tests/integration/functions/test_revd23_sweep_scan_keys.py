"""revD23: the pull role reads no profile to sweep a full refresh, only the keys of the records.

The sweep (functions._refresh_sweep) needs the keys of the stored records of its source; the pull
role never read a profile before it (its other DynamoDB statements name SYNC#, LEASE#, QUARANTINE#,
BUDGET# and SUPPRESS# partitions only). A Scan cannot be narrowed by partition, but it can by
attribute: template.yaml lets the pull role Scan with ``dynamodb:Select`` SPECIFIC_ATTRIBUTES and
``dynamodb:Attributes`` within the table's keys. Every Scan the pull handler sends (moto, spied at
botocore) must stay inside that statement, or IAM would refuse it in AWS and the sweep would fail.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from botocore.client import BaseClient

from functions import merge, pull
from profilesync.template import load_template
from tests.integration.functions.conftest import SPEC, FakeContext, make_env

ROWS = [{"id": i, "email": f"person{i}@example.com", "first_name": f"P{i}"} for i in range(1, 9)]
#: Words of a DynamoDB expression that are not attribute names.
_WORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "size"} | {
    "begins_with",
    "attribute_exists",
    "attribute_not_exists",
}


def _scan_statements() -> list[dict[str, Any]]:
    role = load_template()["Resources"]["PullRole"]["Properties"]["Policies"]
    statements = [s for p in role for s in p["PolicyDocument"]["Statement"]]
    return [s for s in statements if "dynamodb:Scan" in json.dumps(s["Action"])]


def _attributes(params: dict[str, Any]) -> set[str]:
    """The attribute names a Scan request reads: its projection and its filter."""
    names = params.get("ExpressionAttributeNames", {})
    text = " ".join(params.get(k, "") for k in ("ProjectionExpression", "FilterExpression"))
    text = re.sub(r":\w+", " ", text)  # values
    found = {names.get(t, t) for t in re.findall(r"#?\w+", text) if t not in _WORDS}
    return found | set(params.get("AttributesToGet", []))


def test_the_pull_role_may_scan_keys_only_and_the_sweep_scans_within_it(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the pull role's Scan statement: keys only
    (statement,) = _scan_statements()
    condition = statement.get("Condition", {})
    allowed = set(condition.get("ForAllValues:StringEquals", {}).get("dynamodb:Attributes", []))
    assert allowed
    assert allowed <= {"PK", "SK"}
    assert condition.get("StringEquals", {}).get("dynamodb:Select") == "SPECIFIC_ATTRIBUTES"
    # AND 8 records stored, one since deleted inside the tool
    env = make_env(monkeypatch, [dict(r) for r in ROWS])
    env.tool.spec = dataclasses.replace(SPEC, refresh_lists=frozenset({"contact"}))  # type: ignore[misc]
    pull.handler({"connector": "fake"}, FakeContext())
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    env.tool.rows = [r for r in env.tool.rows if r["id"] != 3]
    scans: list[dict[str, Any]] = []
    send = BaseClient._make_api_call

    def spy(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "Scan":
            scans.append(dict(params))
        return send(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", spy)
    # WHEN a full refresh runs in the pull function
    answer = pull.handler({"connector": "fake", "full_refresh": True}, FakeContext())
    # THEN its sweep found the one record, with Scans the statement allows: no profile data read
    assert answer["sweep"] == {"listed": 7, "stored": 8, "unlisted": 1, "swept": 1}
    assert scans
    for params in scans:
        assert params.get("Select") == "SPECIFIC_ATTRIBUTES"
        assert _attributes(params) <= allowed, params
    # AND merge retires it
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    assert "person3@example.com" not in json.dumps(env.items())
    assert "person4@example.com" in json.dumps(env.items())
