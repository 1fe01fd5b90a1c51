"""attack30: ``profilesync migrate rekey-identifiers`` given a wrong salt on a table the functions of
this version have not written to yet moves every identifier out of their reach, and marks the table.

revP29 made the migration refuse a salt that the identifier items already keyed by hash were not
keyed with (core/storage/ident_rekey.py ``keyed_by_another_salt``, line 178). That check needs such
an item: right after the deployment (the documented moment to run the migration: "after every
function runs this version"), a quiet table (a night, a weekend, a shop with few sign-ups) holds
none. A mistyped ``PROFILESYNC_AUDIT_SALT``, or another stage's secret, then keys every item with
that salt and writes the marker, so the stores never read the old keys again: every lookup by email
finds nobody (ingest makes a second customer for each person; her erasure by email answers "not
found" and leaves her profile, the privacy failure); no later run finds the items to move them back
(they are keyed now).

Fix idea: the marker carries the salt's fingerprint (``ident_pk("layout", salt)``, say) and a store
that reads a marker of another salt refuses loudly (ConfigurationError naming the salt) instead of
finding nobody; or the migration refuses to mark a table it cannot check, unless told the salt was
checked (``--salt-checked``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from core.storage.dynamodb_reads import DynamoDBProfileReader
from core.storage.ident_rekey import IdentLayout
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.migrate_cli import rekey_table
from profilesync.template import create_table

TABLE = "attack30-profiles"
SALT = "the-stack-audit-salt"
KEY = "email#ann@example.com"


@pytest.fixture
def client() -> Iterator[Any]:
    model_aws_semantics()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, TABLE)  # an old table: no marker
        # written by the previous release: her identifier under its value, nothing keyed yet
        client.put_item(
            TableName=TABLE,
            Item={"PK": {"S": f"IDENT#{KEY}"}, "SK": {"S": "IDENT"}, "customer_id": {"S": "c1"}},
        )
        yield client


def _call(client: Any) -> Any:
    return lambda method, **kwargs: getattr(client, method)(**kwargs)


def _owner_after(client: Any, migration_salt: str) -> str | None:
    """Her owner as the functions (the stack's salt) read it after a migration run with
    ``migration_salt``; "refused: ..." when the migration or the read refused, naming why."""
    try:
        rekey_table(IdentLayout(_call(client), TABLE, migration_salt))
        return DynamoDBProfileReader(client, TABLE, salt=SALT).owner_of(KEY)
    except Exception as error:  # a loud refusal is a fix: its message is checked
        return f"refused: {error}"


def test_control_the_stack_s_salt_moves_her_and_the_functions_find_her(client: Any) -> None:
    assert _owner_after(client, SALT) == "c1"


def test_a_wrong_salt_on_a_quiet_table_is_refused_or_the_functions_still_find_her(client: Any) -> None:
    # GIVEN an old table this version's functions have not written to yet
    # WHEN the migration is run with a mistyped salt
    owner = _owner_after(client, "the-stack-audit-salt-but-mistyped")
    # THEN it (or the functions' read) refused naming the salt, or the functions still find her
    assert owner == "c1" or (owner is not None and owner.startswith("refused") and "salt" in owner), owner
