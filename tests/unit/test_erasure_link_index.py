"""Erasure takes a person's records out of the identity index (BLOCK# and REVIEW# items)."""

from __future__ import annotations

from core.identity import IdentityPolicy
from core.link_nodes import graph_node, index_keys
from core.link_scope import LinkageSettings
from core.linkage import default_model
from core.pipeline import IngestSettings, ingest
from core.privacy import erase_person
from core.schema import Identifier
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore
from core.testing.records import make_record
from tests.unit.test_pipeline_linkage import _hana

HANA = {**_hana(), "address": "8 Mill Lane"}


def test_an_erased_person_is_no_longer_found_through_the_index() -> None:
    # GIVEN Hana in two tools (two emails, joined by name, birth date and address) and a neighbour
    policy = IdentityPolicy()
    settings = IngestSettings(sleep=lambda _: None, policy=policy, linkage=LinkageSettings())
    crm = make_record("crm", "1", email="hana.sato@corp.jp", traits=HANA)
    shop = make_record("shop", "2", email="hanasato92@icloud.com", traits=HANA, day=1)
    neighbour = make_record(
        "shop",
        "3",
        email="ken@example.com",
        traits={**HANA, "first_name": "Ken", "date_of_birth": "1960-01-02"},
    )
    profiles, state = InMemoryProfileStore(), InMemorySyncStateStore()
    ingest([crm, shop, neighbour], profiles, settings)
    assert len(list(profiles.iter_profiles())) == 2
    keys = sorted({k for r in (crm, shop) for k in index_keys(graph_node(r, policy), default_model())})
    filed = profiles.get_blocks(keys)
    assert any(crm.key in s.members for s in filed.values())
    # WHEN she is erased by one of her emails
    erase_person(
        Identifier.assemble(kind="email", value="hana.sato@corp.jp"),
        profiles=profiles,
        erasure=InMemoryErasureStore(profiles, state),
        tools={},
        salt="salt",
        request_id="req-1",
        sync_state=state,
        suppression=InMemorySuppressionStore(profiles),
        policy=policy,
    )
    # THEN no index key lists either of her records, and the neighbour is still filed
    after = profiles.get_blocks(keys)
    assert not any({crm.key, shop.key} & (s.members | s.children) for s in after.values())
    assert any(neighbour.key in s.members for s in after.values())
