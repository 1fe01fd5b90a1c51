"""priv29: the functions key the table's identifier items with the deployment's audit salt (the
``audit-salt`` secret), not the public development salt a store built without one uses; the
profile API finds a customer by email through them."""

from __future__ import annotations

from typing import Any

import pytest

from core.storage.ident_keys import DEFAULT_IDENT_SALT
from core.suppression import keyed_hash
from functions import _governance, merge, pull
from tests.integration.functions.conftest import TABLE, Env, FakeContext, make_env

ROWS = [{"id": 1, "email": "Zoe.Kowalczyk@example.com", "phone": "+44 20 7946 0991", "first_name": "Zoe"}]


@pytest.fixture
def merged(aws: None, monkeypatch: pytest.MonkeyPatch) -> Env:
    env = make_env(monkeypatch, [dict(r) for r in ROWS], page_size=2)
    pull.handler({"connector": "fake"}, FakeContext())
    for message in env.receive():
        assert merge.handler(env.sqs_event([message]), FakeContext()) == {"batchItemFailures": []}
    return env


def test_identifier_items_are_keyed_with_the_deployed_audit_salt(merged: Env) -> None:
    items: list[dict[str, Any]] = merged.dynamodb.scan(TableName=TABLE)["Items"]
    idents = [i for i in items if i["PK"]["S"].startswith("IDENT#") and i["SK"]["S"] == "IDENT"]
    assert {i["ident"]["S"] for i in idents} >= {"email#zoe.kowalczyk@example.com", "phone#+442079460991"}
    for item in idents:
        assert item["PK"]["S"] == "IDENT#" + keyed_hash("a-test-salt", item["ident"]["S"])
        assert item["PK"]["S"] != "IDENT#" + keyed_hash(DEFAULT_IDENT_SALT, item["ident"]["S"])
    # AND the profile API's reader, keyed alike, finds her by email
    _governance.use(None)
    try:
        owner = _governance.governance().sources.reader.owner_of("email#zoe.kowalczyk@example.com")
    finally:
        _governance.use(None)
    assert owner is not None
    assert owner == next(i["customer_id"]["S"] for i in idents if i["ident"]["S"].startswith("email#"))
