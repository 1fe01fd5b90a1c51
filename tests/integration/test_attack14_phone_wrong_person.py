"""attack14: another person's record keyed by the erased person's number, on every store.

A British number written with a thin space after its country code (``+44<U+2009> 20 7946 0417``) is no
number to phonenumbers' parser; the quarantine's search for numbers in a refused value
(core/quarantine.py ``_phones``) then finds ``20 7946 0417`` on its own, an American number in the
deployment's default region, ``+1 207-946-0417``. The e2e test (tests/e2e/test_attack14_phone_separators.py)
shows it through HubSpot's SDK and the embedded store; here, on the in-memory, SQLite and DynamoDB (moto)
stores with the entries a pull writes (core/sync.py ``quarantine_entries``): the American's erasure takes
the British person's quarantined record, and after it the British person's next bad record is dropped
as the American's instead of quarantined.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.normalise import normalise_record
from core.privacy import erase_person
from core.schema import Identifier, Quarantined, RecordDraft
from core.suppression import SuppressionCheck
from core.sync import quarantine_entries
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import SALT, Stores, stores

__all__ = ["stores"]  # the fixture (every store of test_erasure_attacks), imported for pytest

PAT = "+12079460417"
OTTO_PHONE = "+44\u2009 20 7946 0417"  # +44 20 7946 0417, a thin space after the country code
AT = datetime(2026, 3, 1, tzinfo=UTC)


def _quarantined(stores: Stores, source_id: str) -> int:
    """Quarantine Ottoline's contact (a bad date, her number written as above) as a pull does; how
    many entries were written."""
    draft = RecordDraft(
        source="hubspot",
        source_id=source_id,
        updated_at=AT,
        phones=[OTTO_PHONE],
        traits={"first_name": "Ottoline", "last_name": "Vanterpool"},
        problem="updatedAt 'yesterday' is not a time",
    )
    outcome = normalise_record(draft)
    assert isinstance(outcome, Quarantined)
    entries = quarantine_entries(
        "hubspot", [(outcome, draft)], AT, SuppressionCheck(stores.suppression, SALT)
    )
    stores.sync_state.put_quarantined(entries)
    return len(entries)


def _erase_pat(stores: Stores) -> dict[str, int]:
    report = erase_person(
        Identifier(kind="phone", value=PAT),
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={},
        salt=SALT,
        request_id="req-pat",
        sync_state=stores.sync_state,
        suppression=stores.suppression,
        quarantine_of=("hubspot", "crm"),
    )
    assert (report.found, report.outcome) == (True, "erased")
    return dict(report.counts)


def test_an_americans_erasure_leaves_a_british_persons_quarantined_record(stores: Stores) -> None:
    # GIVEN Pat stored with her American number, and Ottoline's contact quarantined
    stores.ingest([make_record("crm", "1", email="pat@example.com", phone=PAT)])
    assert _quarantined(stores, "115") == 1
    # WHEN Pat is erased by her number
    counts = _erase_pat(stores)
    # THEN Ottoline's quarantined record is still there, and the erasure counted none of Pat's
    assert counts.get("quarantined", 0) == 0, counts
    assert [i.key for i in stores.erasure.quarantined_items("hubspot")] != []


def test_after_an_americans_erasure_a_british_persons_bad_record_is_still_quarantined(stores: Stores) -> None:
    # GIVEN Pat stored and erased
    stores.ingest([make_record("crm", "1", email="pat@example.com", phone=PAT)])
    _erase_pat(stores)
    # WHEN Ottoline's contact is pulled with a bad date THEN it is quarantined (kept, reported), not
    # dropped as Pat's
    assert _quarantined(stores, "116") == 1
