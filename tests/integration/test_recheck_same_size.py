"""revB20 item 3: core.link_recheck.filed_since_read finds a record filed under a key since the key
was read when the key's member count did not change (another writer took the member read there out
and filed one of its own: a swap), on memory, SQLite and DynamoDB (moto). A shortcut on the count
(``len(members) != len(read)``) would leave the swapped-in record's customer apart."""

from __future__ import annotations

import pytest

from core.identity import IdentityPolicy
from core.link_nodes import graph_node, index_keys
from core.link_recheck import filed_since_read
from core.link_scope import LinkageSettings
from core.pipeline import IngestSettings, ingest
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import STORES


@pytest.mark.parametrize("store", sorted(STORES))
def test_a_member_swapped_in_under_a_key_of_the_same_size_is_found(store: str) -> None:
    bea = make_record("crm", "1", email="bea@example.com")
    policy = IdentityPolicy(blocked_values=frozenset(), blocked_patterns=())
    (key,) = [k for k in index_keys(graph_node(bea, policy), None) if "bea@example.com" in k]
    with STORES[store]() as stores:
        profiles = stores.profiles
        ingest([bea], profiles, IngestSettings(sleep=lambda _: None, linkage=LinkageSettings()))
        members = profiles.get_blocks([key], members_only=True)[key].members
        assert members == {bea.key}
        owner = profiles.get_owners([f"source#{bea.key}"])[f"source#{bea.key}"].customer_id
        # GIVEN the key read when it held another record, since taken out: one member then and now
        read_back = {key: frozenset({"shop:contact:gone"})}
        # THEN the record filed there since is found, with its customer
        assert filed_since_read(profiles, read_back, batch=()) == {owner}
        # and a batch's own record is left out
        assert filed_since_read(profiles, read_back, batch=[bea.key]) == set()
