"""revP24: the deployed functions write the index of refused values where priv24 says: merge, which
stores records, writes a record's entries before storing it; pull, which stores nothing (and whose
role holds no ``REFUSED#*``), writes none (functions/_wiring.py: ``index_refused=consistent``).

No test of priv24 ran the functions: the wiring's flag inverted (or merge's left off) passed every
test, and an index the deployed merge never writes is one a completed backfill makes the erasure
trust while it misses every record merged since."""

from __future__ import annotations

import pytest

from functions import merge, pull
from tests.integration.functions.conftest import FakeContext, make_env


def _refused_items(items: list[dict[str, dict[str, str]]]) -> list[tuple[str, str]]:
    return sorted((i["PK"]["S"], i["SK"]["S"]) for i in items if i["PK"]["S"].startswith("REFUSED#"))


def test_merge_writes_a_refused_address_entry_and_pull_writes_none(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a tool whose contact holds a household's phone and, refused, a name and an address
    env = make_env(
        monkeypatch, [{"id": 2, "phone": "+44 20 7946 0555", "email": "Zephyrine <zq@example.org>"}]
    )
    # WHEN pull runs THEN nothing of the index is written (its role could not)
    pull.handler({"connector": "fake"}, FakeContext())
    assert _refused_items(env.items()) == []
    # WHEN merge stores the record THEN its refused address is indexed by it
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    assert [sk for _, sk in _refused_items(env.items())] == ["source#fake:contact:2"]
