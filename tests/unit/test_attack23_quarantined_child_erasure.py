"""attack23: her erasure reaches her quarantined child records (a converted lead, an order).

A child with an owner id (a Shopify order, a Salesforce opportunity, left28's converted lead with
``same_person_as_owner``) normalises to its owner's source key: that link is how it joins her. When
such a record is quarantined (a bad ``updated_at``), ``core.sync.quarantine_entries`` keys it by
``core.quarantine.identifier_keys``: its own source key and its raw emails and phones, but not its
owner link. Her erasure by the address of her contact then finds her customer (the contact's
address, the contact's source key) and not these items: her converted lead (her webinar address,
her name) and her order (her shipping address) stay in the quarantine with their raw content, and
sync keeps writing them there after she is erased (a record of an erased person is dropped only
when one of its keys is suppressed).

Fixed: core/quarantine.py identifier_keys adds the owner link (``owner_key``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.privacy import erase_person, identifier_for
from core.schema import Quarantined, RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore
from core.suppression import SuppressionCheck
from core.sync import quarantine_entries

SALT = "attack23-salt"
T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AT = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
HOME = "ingrid@example.no"
WORK = "ihalvorsen@fjordtech.example"


def _contact() -> RecordDraft:
    return RecordDraft(
        source="salesforce",
        object_type="contact",
        source_id="0031",
        updated_at=T,
        emails=[HOME],
        traits={"first_name": "Ingrid", "last_name": "Halvorsen"},
    )


def _lead(updated_at: object = "not a time") -> RecordDraft:
    # her converted lead, as connectors/salesforce/_connector.py to_records maps it
    return RecordDraft(
        source="salesforce",
        object_type="lead",
        source_id="00Q1",
        updated_at=updated_at,
        emails=[WORK],
        traits={"first_name": "Ingrid", "last_name": "Halvorsen", "company": "Fjordtech"},
        owner_type="contact",
        owner_id="0031",
        same_person_as_owner=True,
    )


def _order(updated_at: object = "not a time") -> RecordDraft:
    # her order: no email of its own (or a gift recipient's), her shipping address in its traits
    return RecordDraft(
        source="salesforce",
        object_type="order",
        source_id="801",
        updated_at=updated_at,
        traits={"first_name": "Ingrid", "last_name": "Halvorsen", "address_line1": "Storgata 1"},
        owner_type="contact",
        owner_id="0031",
    )


class _World:
    def __init__(self) -> None:
        self.profiles = InMemoryProfileStore()
        self.state = InMemorySyncStateStore()
        self.erasure = InMemoryErasureStore(self.profiles, self.state)
        self.suppression = InMemorySuppressionStore()
        self.check = SuppressionCheck(self.suppression, SALT)

    def ingest(self, *drafts: RecordDraft) -> None:
        records = [normalise_record(d) for d in drafts]
        assert all(isinstance(r, SourceRecord) for r in records), records
        ingest(records, self.profiles, IngestSettings(suppression=self.check, sleep=lambda _: None))  # type: ignore[arg-type]

    def quarantine(self, *drafts: RecordDraft) -> int:
        bad = []
        for draft in drafts:
            outcome = normalise_record(draft)
            assert isinstance(outcome, Quarantined), outcome
            bad.append((outcome, draft))
        entries = quarantine_entries("salesforce", bad, AT, self.check)
        self.state.put_quarantined(entries)
        return len(entries)

    def erase(self, email: str) -> str:
        report = erase_person(
            identifier_for(email=email),
            profiles=self.profiles,
            erasure=self.erasure,
            tools={},
            salt=SALT,
            request_id="req-1",
            quarantine_of=["salesforce"],
            sync_state=self.state,
            suppression=self.suppression,
            sleep=lambda _: None,
        )
        return report.outcome

    def left(self) -> list[str]:
        return sorted(q.key.sk.partition("#")[2] for q in self.erasure.quarantined_items("salesforce"))


def test_control_her_quarantined_lead_is_found_by_its_own_address() -> None:
    # GIVEN her contact stored and her converted lead quarantined (a bad updated_at)
    world = _World()
    world.ingest(_contact(), _lead(T))
    world.quarantine(_lead())
    # WHEN she is erased by the lead's own address
    assert world.erase(WORK) == "erased"
    # THEN the quarantined version of the lead is gone (found by that address)
    assert world.left() == []


def test_her_erasure_by_her_contacts_address_takes_her_quarantined_lead_and_order_out() -> None:
    # GIVEN her contact stored, and her converted lead and her order quarantined before they were
    # ever stored (their first versions came with a bad updated_at)
    world = _World()
    world.ingest(_contact())
    assert world.quarantine(_lead(), _order()) == 2
    # WHEN she is erased by her contact's address
    assert world.erase(HOME) == "erased"
    # THEN nothing of hers is left in the quarantine: both name her contact as their owner
    assert world.left() == []


def test_her_quarantined_child_records_are_not_kept_after_she_is_erased() -> None:
    # GIVEN she is erased (her contact by its address)
    world = _World()
    world.ingest(_contact())
    assert world.erase(HOME) == "erased"
    # WHEN her converted lead and her order, both naming her contact as owner, arrive malformed
    kept = world.quarantine(_lead(), _order())
    # THEN they are dropped, not kept with her name and address (her contact's key is suppressed)
    assert (kept, world.left()) == (0, [])


def test_resolve_leaves_her_malformed_order_line_out_of_its_quarantine_file() -> None:
    # GIVEN her customer's record id suppressed in a table (she was erased there)
    from core.normalise import NormaliseOptions
    from profilesync.erased_quarantine import erased_check

    world = _World()
    world.ingest(
        RecordDraft(source="shop", object_type="customer", source_id="ann-1", updated_at=T, emails=[HOME])
    )
    assert world.erase(HOME) == "erased"
    erased = erased_check(world.check, NormaliseOptions())
    # WHEN ``resolve --endpoint-url`` meets a malformed order line naming her customer as its owner
    raw = {
        "source": "shop",
        "object_type": "order",
        "id": "9",
        "owner_id": "ann-1",
        "owner_type": "customer",
        "updated_at": "soon",
        "shipping_name": "Ingrid Halvorsen",
        "shipping_address": "Storgata 1",
    }
    line = Quarantined(source="shop", source_id="9", reason="updated_at missing or invalid", raw=raw)
    # THEN it is hers (her record id is suppressed): dropped, not written with her address
    assert erased(line)


def test_her_export_by_her_contacts_address_lists_her_quarantined_lead_and_order() -> None:
    # GIVEN her contact stored, and her converted lead and her order quarantined
    from core.privacy import export_person
    from core.privacy_request import PrivacyStores

    world = _World()
    world.ingest(_contact())
    assert world.quarantine(_lead(), _order()) == 2
    # WHEN she asks for her data by her contact's address
    stores = PrivacyStores(
        world.profiles, world.erasure, world.state, world.suppression, quarantine_of=["salesforce"]
    )
    found = export_person(world.profiles, identifier_for(email=HOME), stores=stores, salt=SALT)
    # THEN her export lists both quarantined records (they hold her name and addresses)
    assert found is not None
    listed = sorted(q.key.sk.partition("#")[2] for q in found.quarantined)
    assert listed == ["salesforce:lead:00Q1", "salesforce:order:801"]
