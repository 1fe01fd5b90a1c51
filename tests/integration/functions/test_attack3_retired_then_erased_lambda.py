"""attack3 through the Lambda handlers (moto): the tool deletes one of Ann's records, pull and merge
retire it (its tombstone ``IDENT#source#fake:contact:1``), the privacy handler erases her by her
address, and then the ingest message that carried the deleted record's last version is delivered
again (SQS delivers at least once). No item may name her, and the late message must store nothing."""

from __future__ import annotations

import json

import pytest

from core.storage.ident_keys import ident_of
from functions import merge, privacy, pull
from tests.integration.functions.conftest import Env, FakeContext, make_env


def test_a_retired_record_leaves_no_tombstone_after_the_privacy_handler_erases_its_person(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Ann known from two records of the tool, and Bob; merged; then the tool deletes record 1
    env: Env = make_env(
        monkeypatch,
        [
            {"id": 1, "email": "ann@example.com", "phone": "+44 20 7946 0018"},
            {"id": 2, "email": "ann@example.com"},
            {"id": 3, "email": "bob@example.com"},
        ],
    )
    pull.handler({"connector": "fake"}, FakeContext())
    first = env.receive()
    assert merge.handler(env.sqs_event(first), FakeContext()) == {"batchItemFailures": []}
    env.tool.rows.append({"id": 1, "deleted": True, "updated_at": "2026-02-01T00:00:00Z"})
    pull.handler({"connector": "fake"}, FakeContext())
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    idents = {ident_of(i) for i in env.items() if i["PK"]["S"].startswith("IDENT#")}
    assert "source#fake:contact:1" in idents  # the tombstone
    # WHEN she is erased through the privacy handler
    answer = privacy.handler({"action": "erase", "email": "ann@example.com"}, FakeContext())
    assert (answer["ok"], answer["outcome"]) == (True, "erased")
    # AND the first ingest message, holding record 1's last version, is delivered again
    assert merge.handler(env.sqs_event(first), FakeContext()) == {"batchItemFailures": []}
    # THEN no item (the erasure's hashed bookkeeping aside) names her record ids or values; Bob stays
    bookkeeping = ("SUPPRESS#", "SUPPRESSION#", "AUDIT#", "PENDING#", "ERASURE#")
    left = [i for i in env.items() if not i["PK"]["S"].startswith(bookkeeping)]
    text = json.dumps(left).lower()
    for trace in ("fake:contact:1", "fake:contact:2", "ann@example.com", "+442079460018"):
        assert trace not in text, trace
    assert "bob@example.com" in text
