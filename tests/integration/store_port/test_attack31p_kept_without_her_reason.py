"""attack31p: a quarantined record of another person that her erasure keeps "without her" keeps her
address in its reason, on the three stores.

A refused value can name two people (``anne.other@example.com, zq@example.com``). Her erasure keeps
such a record, Anne's, written again without her (core/quarantine_view.py ``without_her``): her
addresses taken out of its raw values, her keyed hashes out of its subjects, "the rest kept". The rest
includes the entry's ``reason``, which quotes the refused value as the normaliser wrote it ("dropped:
email 'anne.other@example.com, zq@example.com': ..."; tests/integration/store_port/
test_quarantine_export_scope_on_every_store.py's REASON is that form): her address stays in the
entry after her erasure answered, now with no hash of hers to find it by (a later erasure or export
of hers can never reach it). Her export already cuts the reason at the first quoted value
(``as_hers``); the erasure's rewrite does not.

Fix idea: ``without_her`` writes the reason as ``as_hers`` shows it (cut before the first quoted value,
"(values withheld)"), or scrubs her addresses out of it as out of the raw values.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core.pipeline import IngestSettings, ingest
from core.ports import QuarantineEntry
from core.privacy import erase_person, identifier_for
from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import SuppressionCheck, keyed_hash
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit

SALT = "attack31p-reason-salt"
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
HER = "zq@example.com"
REASON = f"no usable identifier; dropped: email 'anne.other@example.com, {HER}': must contain exactly one @"

FIX = (
    "core/quarantine_view.py:65 without_her keeps item.reason as it was, and the reason quotes the refused "
    "value naming her; fix idea: write the reason as as_hers (:41) shows it, or scrub her addresses from it"
)


def _erased_with_annes_record(kit: StoreKit) -> list[str]:
    """Her customer stored, Anne's record quarantined naming both in its email; she is erased. The
    reasons of the items left, by record key order."""
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    check = SuppressionCheck(kit.suppression, SALT) if kit.suppression is not None else None
    ingest(
        [make_record("crm", "1", email=HER)],
        kit.profiles,
        IngestSettings(suppression=check, sleep=lambda _: None),
    )  # type: ignore[arg-type]
    raw = json.dumps({"email": f"anne.other@example.com, {HER}", "name": "Anne Other"})
    hashes = tuple(
        keyed_hash(SALT, k) for k in (f"email#{HER}", "email#anne.other@example.com", "source#crm:contact:6")
    )
    kit.sync_state.put_quarantined([QuarantineEntry("crm", "crm:contact:6", REASON, raw, AT, hashes)])
    report = erase_person(
        identifier_for(email=HER),
        profiles=kit.profiles,
        erasure=erasure,
        tools={},
        salt=SALT,
        request_id="req-31p",
        quarantine_of=["crm"],
        sync_state=kit.sync_state,
        suppression=kit.suppression,
        sleep=lambda _: None,
    )
    assert report.outcome == "erased"
    assert report.counts["quarantined_kept_without_her"] == 1
    left = erasure.quarantined_items("crm")
    assert [HER in item.raw.lower() for item in left] == [False]  # the raw values are scrubbed
    return [item.reason for item in left]


def test_control_annes_record_is_kept_with_her_reason_text(kit: StoreKit) -> None:
    """Passes on main: Anne's record is kept (her address in it is Anne's to mend) and its reason
    still says why. Catches a rewrite that deletes Anne's record with hers."""
    (reason,) = _erased_with_annes_record(kit)
    assert reason.startswith("no usable identifier")


def test_her_address_is_not_left_in_the_reason(kit: StoreKit) -> None:
    (reason,) = _erased_with_annes_record(kit)
    assert HER not in reason.lower()
