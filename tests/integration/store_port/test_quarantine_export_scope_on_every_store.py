"""Her export lists a quarantined record that names someone else in the same value without them.

core.quarantine keys a refused value by every address written whole in it, so an email field
``anne.other@example.com, zq@example.com`` finds Anne's quarantined record for Zéphyrine's export.
Before fixD22 her export (core.privacy_export, and the privacy function's answer) held that record's
raw text: Anne's address and name. Now an item matched only through values that also name other
people shows its key, reason and her identifiers in it, its raw text withheld (core.quarantine_view);
an item with a value naming her alone, or found by her record id, is hers and is shown whole. On the
in-memory, SQLite and DynamoDB stores, items stored with keyed hashes and before them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core.pipeline import IngestSettings, ingest
from core.ports import QuarantineEntry
from core.privacy import erase_person, export_person, identifier_for
from core.privacy_request import PrivacyStores
from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import SuppressionCheck, keyed_hash
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit

SALT = "export-scope-salt"
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
HER = "zq@example.com"
#: What a connector's quarantine says of such a record: it quotes the refused value.
REASON = f"no usable identifier; dropped: email 'anne.other@example.com, {HER}': must contain exactly one @"


def _hashes(*keys: str) -> tuple[str, ...]:
    return tuple(keyed_hash(SALT, k) for k in keys)


def test_her_export_shows_a_record_naming_another_person_without_them(kit: StoreKit) -> None:
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    check = SuppressionCheck(kit.suppression, SALT) if kit.suppression is not None else None
    ingest(
        [make_record("crm", "1", email=HER)],
        kit.profiles,
        IngestSettings(suppression=check, sleep=lambda _: None),
    )  # type: ignore[arg-type]
    shared = json.dumps(
        {"email": f"anne.other@example.com, {HER}", "name": "Anne Other", "phone": "+44 20 7946 0018"}
    )
    kit.sync_state.put_quarantined(
        [
            # Anne's record, her field naming Zéphyrine too: keyed by both addresses, and before hashes
            QuarantineEntry(
                "crm",
                "crm:contact:6",
                REASON,
                shared,
                AT,
                _hashes(f"email#{HER}", "email#anne.other@example.com", "source#crm:contact:6"),
            ),
            QuarantineEntry("crm", "crm:contact:9", REASON, shared, AT),
            # hers: a value naming her alone
            QuarantineEntry(
                "crm",
                "crm:contact:7",
                "email: not an address",
                json.dumps({"email": f"Zéphyrine <{HER}>", "name": "Zéphyrine"}),
                AT,
                _hashes(f"email#{HER}", "source#crm:contact:7"),
            ),
        ]
    )
    stores = PrivacyStores(kit.profiles, erasure, kit.sync_state, kit.suppression, quarantine_of=["crm"])
    found = export_person(kit.profiles, identifier_for(email=HER), stores=stores, salt=SALT)
    assert found is not None
    by_key = {q.key.sk.partition("#")[2]: json.loads(q.raw) for q in found.quarantined}
    reasons = {q.key.sk.partition("#")[2]: q.reason for q in found.quarantined}
    assert reasons["crm:contact:6"] == "no usable identifier; dropped: email (values withheld)"
    assert sorted(by_key) == ["crm:contact:6", "crm:contact:7", "crm:contact:9"]
    for key in ("crm:contact:6", "crm:contact:9"):
        text = json.dumps(by_key[key], ensure_ascii=False)
        assert [t for t in ("anne.other", "Anne Other", "7946") if t in text] == [], text
        assert by_key[key]["yours"] == [HER]
    assert by_key["crm:contact:7"]["name"] == "Zéphyrine"  # hers, whole


def test_her_erasure_keeps_a_record_naming_another_person_without_her(kit: StoreKit) -> None:
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    check = SuppressionCheck(kit.suppression, SALT) if kit.suppression is not None else None
    settings = IngestSettings(suppression=check, sleep=lambda _: None)  # type: ignore[arg-type]
    ingest([make_record("crm", "1", email=HER)], kit.profiles, settings)
    shared = {"email": f"anne.other@example.com, Zéphyrine <{HER.upper()}>", "name": "Anne Other"}
    kit.sync_state.put_quarantined(
        [
            QuarantineEntry(
                "crm",
                "crm:contact:6",
                "email: not an address",
                json.dumps(shared),
                AT,
                _hashes(f"email#{HER}", "email#anne.other@example.com", "source#crm:contact:6"),
            ),
            QuarantineEntry("crm", "crm:contact:9", "email: not an address", json.dumps(shared), AT),
            QuarantineEntry(
                "crm", "crm:contact:7", "bad date", json.dumps({"email": HER}), AT, _hashes(f"email#{HER}")
            ),
        ]
    )
    # WHEN she is erased
    report = erase_person(
        identifier_for(email=HER),
        profiles=kit.profiles,
        erasure=erasure,
        tools={},
        salt=SALT,
        request_id="req-1",
        quarantine_of=["crm"],
        sync_state=kit.sync_state,
        suppression=kit.suppression,
        sleep=lambda _: None,
    )
    assert report.outcome == "erased"
    # THEN her own quarantined record is gone, Anne's two are kept without her address or hash
    left = {q.key.sk.partition("#")[2]: q for q in erasure.quarantined_items("crm")}
    assert sorted(left) == ["crm:contact:6", "crm:contact:9"]
    assert report.counts["quarantined_kept_without_her"] == 2
    for item in left.values():
        raw = json.loads(item.raw)
        assert (raw["name"], "anne.other@example.com" in raw["email"]) == ("Anne Other", True)
        assert HER not in item.raw.lower()
    assert left["crm:contact:6"].subjects == frozenset(
        _hashes("email#anne.other@example.com", "source#crm:contact:6")
    )
    assert left["crm:contact:6"].key.sk.startswith(AT.isoformat())
    # AND her export finds nothing of hers there any more
    stores = PrivacyStores(kit.profiles, erasure, kit.sync_state, kit.suppression, quarantine_of=["crm"])
    found = export_person(kit.profiles, identifier_for(email=HER), stores=stores, salt=SALT)
    assert found is None or found.quarantined == ()
