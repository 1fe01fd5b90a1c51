"""Every holder marker naming an erased customer goes with her, under whatever value (lead31).

A marker (``IDENT#<key>`` / ``HOLDER#<customer>``) holds a value in its key. The erasure found them
only under the values her customer holds now; a record that dropped an address keeps its marker
(readers check it against the live customer), so her old mailbox stayed in a key after her erasure
(red on the three stores before ``ErasureStore.held_markers``: the marker under ``mailbox#p0@...``
named her deleted customer). Markers written ahead of a version whose run was killed
(core.ingest_markers) are the other kind: tests/integration/store_port/
test_attack31p_markers_ahead_killed_then_erased.py. On DynamoDB the markers naming a customer are
found through its registry (core.storage.dynamodb_held), written before them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import RecordDraft, SourceRecord
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_left30_markers_ahead_on_every_store import (
    KEY,
    _contact,
    _erase,
    _erasure,
    _settings,
)

MAILBOXES = ["mailbox#p0@gmail.com", "mailbox#p1@gmail.com", "mailbox#q0@gmail.com", "mailbox#q1@gmail.com"]


def test_the_marker_of_an_address_she_dropped_goes_with_her(kit: StoreKit) -> None:
    erasure = _erasure(kit)
    # GIVEN her contact's addresses p.0 and p.1 replaced by q.0 and q.1 in its next version
    ingest([_contact("p", 2, 1)], kit.profiles, _settings(kit))
    ingest([_contact("q", 2, 2)], kit.profiles, _settings(kit))
    (customer,) = {c for holders in erasure.holders(["mailbox#p0@gmail.com"]).values() for c in holders}
    assert set(erasure.held_markers([customer])[customer]) >= {"mailbox#p0@gmail.com", "mailbox#q0@gmail.com"}
    # WHEN she is erased by an address she holds now
    assert _erase(kit, erasure, email="q.0@gmail.com") == "erased"
    # THEN no marker under any of her mailboxes, old or new, is left, nor her registry
    assert erasure.holders(MAILBOXES) == {}
    assert erasure.held_markers([customer]) == {}
    assert erasure.customer_items(customer) == []


def test_markers_of_a_stranger_stay_when_she_is_erased(kit: StoreKit) -> None:
    """The markers another customer registered are not hers: they stay (a mutation reading every
    customer's registry, or the markers of a value rather than of her customers, fails this)."""
    erasure = _erasure(kit)
    ingest([_contact("p", 2, 1)], kit.profiles, _settings(kit))
    other = RecordDraft(
        source="crm",
        object_type="contact",
        source_id="2",
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        emails=["r.0@gmail.com", "r.1@gmail.com"],
    )
    record = normalise_record(other)
    assert isinstance(record, SourceRecord)
    assert ingest([record], kit.profiles, _settings(kit)).written == 1
    assert _erase(kit, erasure, source=KEY) == "erased"
    assert set(erasure.holders(["mailbox#r0@gmail.com", "mailbox#r1@gmail.com"])) == {
        "mailbox#r0@gmail.com",
        "mailbox#r1@gmail.com",
    }
    assert erasure.holders(["mailbox#p0@gmail.com", "mailbox#p1@gmail.com"]) == {}
