"""Salesforce deletions end to end: a contact deleted in Salesforce leaves its profile on the next
pull (the person's other records stay), nothing is suppressed, and the same
contact restored from the Recycle Bin (undelete keeps its Id) is part of the profile again."""

from __future__ import annotations

from datetime import timedelta

from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.unit.connectors.salesforce.conftest import Connect, RecordingSandbox


def test_a_deleted_contact_leaves_and_an_undeleted_one_comes_back(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    # GIVEN a store synced from the org, and a contact with won opportunities, known to HubSpot too
    connector = connect(sandbox)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    settings = IngestSettings(sleep=lambda _: None)
    pull_into_store(connector, store, state, settings=settings, erasure=erasure)
    owners = {o["ContactId"] for o in sandbox.objects["Opportunity"].values() if o["ContactId"]}
    contact_id = sorted(i for i in owners if sandbox.objects["Contact"][i]["Email"])[0]
    key = f"salesforce:contact:{contact_id}"
    email = sandbox.objects["Contact"][contact_id]["Email"]
    hubspot = normalise_record(
        RecordDraft(source="hubspot", source_id="h1", updated_at=T_CHANGES, emails=[email])
    )
    assert isinstance(hubspot, SourceRecord)
    ingest([hubspot], store, settings)

    def sources() -> set[str]:
        cid = store.get_owners(["source#hubspot:contact:h1"])["source#hubspot:contact:h1"].customer_id
        (profile,) = [p for p in store.iter_profiles() if p.customer_id == cid]
        return {r.key for r in profile.sources}

    before = sources()
    orders = {k for k in before if k.startswith("salesforce:opportunity:")}
    assert key in before
    assert orders
    # WHEN the contact is deleted in Salesforce and the next pull runs
    sandbox.delete_records({f"contact:{contact_id}"}, at=T_CHANGES + timedelta(seconds=1))
    report = pull_into_store(connector, store, state, settings=settings, erasure=erasure)
    # THEN it left the profile and nothing holds its id as a record any more; the HubSpot record
    # stays, and so do the opportunities, which the contact alone tied to her (by ContactId): they
    # are now a customer of their own, as a resolution from scratch would make them
    assert report.retired is not None
    assert (report.retired.received, report.retired.retired, report.retired.split_customers) == (1, 1, 1)
    assert sources() == before - {key} - orders
    split = [p for p in store.iter_profiles() if {r.key for r in p.sources} == orders]
    assert len(split) == 1
    assert not [p for p in store.iter_profiles() for r in p.sources if r.key == key]
    # WHEN it is restored from the Recycle Bin
    sandbox.undelete(f"contact:{contact_id}", at=T_CHANGES + timedelta(seconds=2))
    back = pull_into_store(connector, store, state, settings=settings, erasure=erasure)
    # THEN it is part of the profile again (not suppressed, not taken for unchanged), and joins
    # her opportunities and her HubSpot record into one profile as before
    assert back.ingest.written == 1
    assert sources() == before
