"""priv30: after her erasure, no key the table's stream carries can be confirmed from a guess of her
values by an unkeyed hash.

The link index files a person under ``BLOCK#`` items keyed from her blocking keys (surname, first
name, birth date, postcode, street) and identifier values; the history index under ``NAMED#`` items
keyed from her identifiers and records. The stream (``KEYS_ONLY``) carries the key of every item her
ingest and her erasure wrote or deleted, for 24 hours, whatever the erasure deletes. Keyed by an
unkeyed hash (BLAKE2b), anyone holding the stream confirms "Hana Sato, born 1992-11-30, M4 5JD"
against them; keyed by the HMAC of the audit salt, nobody without the salt can.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from connectors.jsonl import draft_from_flat
from core.governance.history_names import named_pk
from core.identity import IdentityPolicy
from core.link_filed import filed_key
from core.link_index import block_item_key
from core.link_nodes import graph_node, index_keys
from core.linkage import default_model
from core.normalise import normalise_record
from core.privacy import erase_person
from core.schema import Identifier, SourceRecord
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.dynamodb_privacy import DynamoDBErasureStore
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.storage.dynamodb_sync_state import DynamoDBSyncStateStore
from core.suppression import SuppressionCheck
from tests.integration.identity_attack_records import flat, ingest_settings, resolve_lines
from tests.integration.test_identity_attack_erasure import HER, NAMESAKE, NEIGHBOUR
from tests.integration.test_priv29_rekey_upgrade import _stream_keys
from tests.moto_server import server_table

SALT = "priv30-deployed-salt"
#: A third tool's record of hers by her address: it joins her customer, an event naming the address.
HER_MAIL = flat("mail", "9", day=2, first_name="Hana", last_name="Sato", email="hana.sato@corp.jp")


def unkeyed(value: str) -> str:
    """What the previous layout keyed an index item by: 128 bits of BLAKE2b of the value."""
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


def _her_index_keys() -> set[str]:
    keys: set[str] = set()
    for line in [*HER, HER_MAIL]:
        record = normalise_record(draft_from_flat(dict(line)))
        assert isinstance(record, SourceRecord)
        keys |= set(index_keys(graph_node(record, IdentityPolicy()), default_model(), retired=True))
        keys.add(filed_key(record.key))
    return keys


def _her_names() -> set[str]:
    return {
        "email#hana.sato@corp.jp",
        "email#hanasato92@icloud.com",
        "source#crm:contact:1",
        "source#shop:contact:2",
        "source#mail:contact:9",
    }


def test_the_stream_of_her_erasure_confirms_no_guess_of_her_blocking_keys_or_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    with server_table("priv30stream") as (client, table):
        store = DynamoDBProfileStore(client, table, read_workers=1, salt=SALT)
        suppression = DynamoDBSuppressionStore(client, table)
        settings = replace(ingest_settings(), suppression=SuppressionCheck(suppression, SALT))
        # GIVEN Hana joined across two tools by a fuzzy link, a namesake and a neighbour, and a
        # third tool's record joining her by her address (her history names it)
        resolve_lines([*HER, NAMESAKE, NEIGHBOUR], store, settings=settings)
        resolve_lines([HER_MAIL], store, settings=settings)
        before = _stream_keys(client, table)
        assert any(k["PK"]["S"].startswith("BLOCK#") for k in before)
        assert any(k["PK"]["S"].startswith("NAMED#") for k in before)
        # WHEN she is erased
        erased = erase_person(
            Identifier.assemble(kind="email", value="hana.sato@corp.jp"),
            profiles=store,
            erasure=DynamoDBErasureStore(client, table, salt=SALT),
            tools={},
            salt=SALT,
            request_id="req-priv30",
            sync_state=DynamoDBSyncStateStore(client, table),
            suppression=suppression,
            policy=IdentityPolicy(),
            sleep=lambda _: None,
        )
        assert erased.outcome == "erased"
        streamed: set[str] = {k["PK"]["S"] for k in _stream_keys(client, table)}
        # THEN the stream holds her index items' keys (ingest wrote them, the erasure deleted them)
        # under the keyed hash only: a guess of her blocking keys or names hashed without the salt
        # meets none of them
        keys, names = _her_index_keys(), _her_names()
        guessed_blocks = {k for k in keys if "BLOCK#" + unkeyed(k) in streamed}
        guessed_names = {n for n in names if "NAMED#" + unkeyed(n) in streamed}
        assert (guessed_blocks, guessed_names) == (set(), set())
        assert {block_item_key(k, SALT) for k in keys} & streamed  # the erasure's own changes
        assert {named_pk(n, SALT) for n in names} & streamed
        assert [pk for pk in streamed if pk.startswith(("BLOCK#", "NAMED#")) and len(pk) != 6 + 64] == []
