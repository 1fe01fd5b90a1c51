"""priv30: a table written by the previous release (link and history index items keyed by the
unkeyed hash of what they index, ``BLOCK#<BLAKE2b>`` and ``NAMED#<BLAKE2b>``) keeps working
through the upgrade, with the same link decisions, and is moved to keyed hashes by ``profilesync
migrate rekey-identifiers``; an erasure before the migration finds her old items, and one after it
leaves no key in the table or its stream that a guess of her values hashed without the salt meets.

The old table is written by the previous release's own code (``git archive`` of ``OLD_REVISION``,
as tests/integration/test_priv29_rekey_upgrade.py does), with probabilistic identity.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from core.config import IdentitySection
from core.governance.history_names import source_name
from core.identity import IdentityPolicy
from core.link_filed import filed_key
from core.link_nodes import graph_node, index_keys
from core.link_review_index import partners_key
from core.link_settings import linkage_settings
from core.linkage import default_model
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.ident_keys import REKEYED_KEY
from core.storage.index_rekey import is_unkeyed_index_pk
from core.storage.memory import InMemoryProfileStore
from profilesync.migrate_cli import rekey_table
from tests.integration.previous_release import written_by
from tests.integration.table_copy import Item, all_items, copied_table
from tests.integration.test_priv29_rekey_upgrade import _erase, _groups, _keys, _records, _stream_keys
from tests.integration.test_priv30_index_stream import unkeyed
from tests.moto_server import moto_server_url

#: The last commit of the index keyed by unkeyed hashes (core/link_blocks.py's ``block_item_key``).
OLD_REVISION = "34f932d"
SALT = "deployed-audit-salt"
PEOPLE = 30

#: Run by the previous release's code: ingests the first ``split`` records, probabilistic identity.
OLD_WRITER = """
import json, sys
from connectors.jsonl import draft_from_flat
from core.config import IdentitySection
from core.link_settings import linkage_settings
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.ident_keys import mark_new_table
from core.testing.population import population
from profilesync.embedded import dynamodb_client
url, table, count, split, salt = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
import core.link_blocks as blocks
assert len(blocks.block_item_key("pf:x")) == 6 + 32, "not the previous release"
records = [normalise_record(draft_from_flat(f)) for _, f in population(count, seed=11, malformed_share=0)]
usable = [r for r in records if isinstance(r, SourceRecord)][:split]
client = dynamodb_client(url)
mark_new_table(client, table)  # as the previous release's CLI made it (identifiers keyed)
store = DynamoDBProfileStore(client, table, read_workers=1, salt=salt)
linkage = linkage_settings(IdentitySection(mode="probabilistic"))
settings = IngestSettings(sleep=lambda _: None, linkage=linkage)
for start in range(0, len(usable), 9):
    ingest(usable[start : start + 9], store, settings)
print(json.dumps(len(usable)))
"""


def _settings() -> IngestSettings:
    return IngestSettings(
        sleep=lambda _: None, linkage=linkage_settings(IdentitySection(mode="probabilistic"))
    )


@pytest.fixture(scope="module")
def old_items(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Item], int]:
    """The items of a table the previous release wrote two thirds of the population into, fuzzy
    matching on: written once per module (its code run in a subprocess,
    tests/integration/previous_release.py), copied per test."""
    split = len(_records()) * 2 // 3
    folder = tmp_path_factory.mktemp("old")
    with written_by(folder, OLD_REVISION, OLD_WRITER, "priv30", PEOPLE, split, SALT) as (client, table):
        return all_items(client, table), split


@pytest.fixture
def old_table(old_items: tuple[list[Item], int]) -> Iterator[tuple[Any, str, int]]:
    """A new table holding the previous release's items (tests/integration/table_copy.py)."""
    items, split = old_items
    with copied_table("priv30", items) as (client, table):
        yield client, table, split


def _unkeyed_pks(client: Any, table: str) -> list[str]:
    return [pk for pk, _ in _keys(client, table) if is_unkeyed_index_pk(pk)]


def _guessable(record: SourceRecord) -> set[str]:
    """The unkeyed-hash partition keys a guess of her values gives: her index keys, her names."""
    node = graph_node(record, IdentityPolicy())
    keys = {*index_keys(node, default_model(), retired=True), filed_key(record.key), partners_key(record.key)}
    names = {source_name(record.key), *(i.key for i in record.identifiers)}
    return {"BLOCK#" + unkeyed(k) for k in keys} | {"NAMED#" + unkeyed(n) for n in names}


def test_an_old_index_keeps_its_links_through_the_upgrade_and_the_migration_keys_it(
    old_table: tuple[Any, str, int],
) -> None:
    client, table, split = old_table
    records = _records()
    reference = InMemoryProfileStore()
    ingest(records, reference, _settings())
    # GIVEN the previous release's table: index items under unkeyed hashes, of both kinds
    old = _unkeyed_pks(client, table)
    assert any(pk.startswith("BLOCK#") for pk in old)
    assert any(pk.startswith("NAMED#") for pk in old)
    # WHEN this version ingests half of the rest before the migration (the stack being upgraded)
    middle = split + (len(records) - split) // 2
    store = DynamoDBProfileStore(client, table, read_workers=1, salt=SALT)
    for start in range(split, middle, 5):
        ingest(records[start : min(start + 5, middle)], store, _settings())
    # AND the table is migrated, twice
    out = io.StringIO()
    first = rekey_table(store.ident_layout, progress=10, out=out, index=store)
    again_store = DynamoDBProfileStore(client, table, read_workers=1, salt=SALT)
    again = rekey_table(again_store.ident_layout, out=out, index=again_store)
    # THEN every old index item moved or was deleted, the table is marked, and a second run has
    # nothing to move
    assert first["blocks"] > 0
    assert first["histories"] > 0
    assert first["unkeyed_deleted"] > 0
    assert (first["index_left"], first["index_marked"], first["marked"]) == (0, True, True)
    assert (again["blocks"], again["histories"], again["unkeyed_deleted"], again["index_marked"]) == (
        0,
        0,
        0,
        True,
    )
    assert "link items moved" in out.getvalue()
    assert _unkeyed_pks(client, table) == []
    marker = client.get_item(TableName=table, Key=dict(REKEYED_KEY))["Item"]
    assert marker["index"] == {"S": "keyed"}
    assert "check" in marker
    # WHEN the rest is ingested after the migration, by a store that reads keyed items alone
    after = DynamoDBProfileStore(client, table, read_workers=1, salt=SALT)
    for start in range(middle, len(records), 5):
        ingest(records[start : start + 5], after, _settings())
    assert after.ident_layout.known_index_keyed
    # THEN the customers are the reference's: no link lost before, during or after the upgrade
    assert _groups(after) == _groups(reference)
    # WHEN a person is erased after the migration
    her = next(r for r in records[:split] if {i.kind for i in r.identifiers} >= {"email", "phone"})
    streamed_before = len(_stream_keys(client, table))
    assert _erase(client, table, after, her, "req-priv30").outcome == "erased"
    # THEN no key the erasure put in the stream, nor any key of the table, is a guess of hers
    since = {k["PK"]["S"] for k in _stream_keys(client, table)[streamed_before:]}
    assert any(pk.startswith("BLOCK#") for pk in since)  # her erasure changed her index items
    assert _guessable(her) & (since | {pk for pk, _ in _keys(client, table)}) == set()


def test_an_erasure_before_the_migration_finds_her_old_index_items(old_table: tuple[Any, str, int]) -> None:
    client, table, split = old_table
    records = _records()[:split]
    store = DynamoDBProfileStore(client, table, read_workers=1, salt=SALT)
    members = _block_items(client, table)
    stored = {pk for pk, _ in _keys(client, table)}
    # GIVEN one person whose record is listed under old BLOCK# items and whose names old NAMED#
    # items index (a guess of her values meets both before the erasure)
    her = next(
        r
        for r in records
        if {i.kind for i in r.identifiers} >= {"email", "phone"}
        and any(r.key in i.get("records", {}).get("SS", []) for i in members.values())
        and any(pk.startswith("NAMED#") for pk in _guessable(r) & stored)
    )
    keys = [i.key for i in her.identifiers]
    # WHEN this version erases her from the table the previous release wrote (not migrated yet)
    assert _erase(client, table, store, her, "req-priv30-early").outcome == "erased"
    # THEN no index item, under either key, lists her record or is keyed by a guess of her values
    left = _block_items(client, table)
    assert [pk for pk, item in left.items() if her.key in item.get("records", {}).get("SS", [])] == []
    assert _guessable(her) & {pk for pk, _ in _keys(client, table)} == set()
    assert store.get_owners(keys) == {}


def _block_items(client: Any, table: str) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "begins_with(PK, :b)",
        "ExpressionAttributeValues": {":b": {"S": "BLOCK#"}},
    }
    while True:
        page = client.scan(**request)
        items.update({i["PK"]["S"]: i for i in page.get("Items", [])})
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_the_command_prints_the_index_counts(
    old_table: tuple[Any, str, int], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from profilesync.cli import main

    client, table, _ = old_table
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", SALT)
    argv = ["migrate", "rekey-identifiers", "--endpoint-url", moto_server_url(), "--table", table]
    assert main(argv) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["index_marked"] is True
    assert counts["blocks"] > 0
    assert _unkeyed_pks(client, table) == []
