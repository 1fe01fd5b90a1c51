"""Her erasure on the three stores, naming her by a record id spelt as the vendor shows it
(``HubSpot:Contact:124``): it names the record stored (``hubspot:contact:124``) for an export, an
erasure and the lifting of its suppression; a key as written that names a record (a file's source in
capitals) stays as written.

Red before (pfix22): ``HubSpot:Contact:124`` answered ``not_found`` and left her; lifting by it lifted
nothing.
"""

from __future__ import annotations

from core.pipeline import IngestSettings, ingest
from core.privacy import ErasureReport, erase_person, export_person, identifier_for, lift_suppression
from core.privacy_store import ErasureStore
from core.schema import Identifier
from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import SuppressionCheck, keyed_hash
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.unit.test_erasure import Tool

SALT = "port-salt"


def _erasure(kit: StoreKit) -> ErasureStore:
    return kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)


def _stored(kit: StoreKit, *records: object) -> None:
    check = SuppressionCheck(kit.suppression, SALT) if kit.suppression is not None else None
    ingest(list(records), kit.profiles, IngestSettings(suppression=check, sleep=lambda _: None))  # type: ignore[arg-type]


def _erase(
    kit: StoreKit, erasure: ErasureStore, identifier: Identifier, request_id: str, tool: Tool | None = None
) -> ErasureReport:
    """Her erasure, asking ``tool`` (as ``crm``) and searching the quarantine of ``crm``."""
    return erase_person(
        identifier,
        profiles=kit.profiles,
        erasure=erasure,
        tools={"crm": tool} if tool is not None else {},  # type: ignore[dict-item]
        salt=SALT,
        request_id=request_id,
        quarantine_of=["crm"],
        sync_state=kit.sync_state,
        suppression=kit.suppression,
        sleep=lambda _: None,
    )


def _hashes(*keys: str) -> tuple[str, ...]:
    return tuple(keyed_hash(SALT, k) for k in keys)


def test_a_record_id_spelt_in_other_case_names_the_record_stored(kit: StoreKit) -> None:
    erasure = _erasure(kit)
    # GIVEN her HubSpot record, and a file's record whose source is spelt in capitals
    _stored(
        kit,
        make_record("hubspot", "124", email="ann@example.com"),
        make_record("CRM", "7", email="cat@example.com"),
    )
    # THEN an export by her record id as the vendor shows it finds her
    found = export_person(kit.profiles, identifier_for(source="HubSpot:Contact:124"), erasure=erasure)
    assert found is not None
    assert found.customer_id is not None
    # AND an erasure so spelt erases her, and one naming the file's record as stored erases it
    for spelt in ("HubSpot:Contact:124", "CRM:contact:7"):
        report = _erase(kit, erasure, identifier_for(source=spelt), f"req-{spelt}")
        assert report.outcome == "erased", spelt
    assert kit.profiles.get_owners(["email#ann@example.com", "email#cat@example.com"]) == {}


def test_a_suppression_is_lifted_by_the_record_id_spelt_as_at_her_erasure(kit: StoreKit) -> None:
    erasure = _erasure(kit)
    assert kit.suppression is not None
    _stored(kit, make_record("hubspot", "124", email="ann@example.com"))
    # GIVEN her erasure by her record id as the vendor shows it
    spelt = identifier_for(source="HubSpot:Contact:124")
    report = _erase(kit, erasure, spelt, "req-spelt")
    assert report.outcome == "erased"
    # WHEN she signs up again and her suppression is lifted by the same spelling
    lifted = lift_suppression(
        spelt,
        suppression=kit.suppression,
        erasure=erasure,
        salt=SALT,
        request_id="req-lift",
        requested_by="dpo",
    )
    # THEN every entry of that erasure is lifted, and her record is stored again
    assert lifted == report.counts["suppressed"] > 0
    assert (
        kit.suppression.suppressed(list(_hashes("email#ann@example.com", "source#hubspot:contact:124")))
        == set()
    )
