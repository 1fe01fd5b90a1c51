"""Her erasure on the three stores: naming her by a record id spelt as the vendor shows it
(``HubSpot:Contact:124``), which names the record stored (``hubspot:contact:124``) for an export, an
erasure and the lifting of its suppression (a key as written that names a record, a file's source in
capitals, stays as written); and the tools of her quarantined records asked for them, each item's
record id confirmed by the keyed hash the item holds (an older item's object type too), also by a
request sent again after a kill before our copies were deleted.

Red before (pfix22): ``HubSpot:Contact:124`` answered ``not_found`` and left her, and lifting by it
lifted nothing; the tool was asked for her customer's record only (``source#crm:contact:1``), never
for the quarantined ``crm:contact:7`` and ``crm:8`` (a key without its object type), whose ids were
not suppressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from core.pipeline import IngestSettings, ingest
from core.ports import QuarantineEntry
from core.privacy import ErasureReport, erase_person, export_person, identifier_for, lift_suppression
from core.privacy_store import ErasureStore
from core.schema import Identifier
from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import SuppressionCheck, keyed_hash
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.unit.test_erasure import Tool

SALT = "port-salt"
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


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


def test_her_erasure_asks_the_tool_for_her_quarantined_records(kit: StoreKit) -> None:
    erasure = _erasure(kit)
    _stored(
        kit,
        make_record("crm", "1", email="ann@example.com"),
        make_record("crm", "2", email="bob@example.com"),
    )
    ann = "email#ann@example.com"
    kit.sync_state.put_quarantined(
        [
            # this version's key, with the object type
            QuarantineEntry(
                "crm",
                "crm:contact:7",
                "email: not an address",
                "{}",
                AT,
                _hashes(ann, "source#crm:contact:7"),
            ),
            # an older item's key, without it: its type is one her records there have
            QuarantineEntry("crm", "crm:8", "bad date", "{}", AT, _hashes(ann, "source#crm:contact:8")),
            # an item stored before the hashes were: found by its raw values, deleted, its tool not asked
            QuarantineEntry("crm", "crm:9", "bad date", '{"email": "ANN@example.com"}', AT),
            # hers and Bob's in one field: the tool's record is theirs as much as hers; our copy is kept
            # without her (fixD22)
            QuarantineEntry(
                "crm",
                "crm:contact:6",
                "email: not an address",
                '{"email": "ann@example.com, Bob@example.com"}',
                AT,
                _hashes(ann, "email#bob@example.com", "source#crm:contact:6"),
            ),
            # Bob's, left alone
            QuarantineEntry("crm", "crm:contact:5", "bad date", "{}", AT, _hashes("email#bob@example.com")),
        ]
    )
    tool = Tool("crm", {"crm:contact:1", "crm:contact:2", "crm:contact:6", "crm:contact:7", "crm:contact:8"})
    # WHEN Ann is erased by her email, asking the tool
    report = _erase(kit, erasure, identifier_for(email="ann@example.com"), "req-22", tool)
    # THEN the tool was asked for her record and her two quarantined ones it could be sure of, and
    # holds Bob's and the one shared with him; the receipt says two were not asked
    assert sorted(tool.asked) == ["source#crm:contact:1", "source#crm:contact:7", "source#crm:contact:8"]
    assert tool.ids == {"crm:contact:2", "crm:contact:6"}
    assert (report.outcome, report.tools) == ("erased", {"crm": "erased"})
    assert (report.counts["quarantined"], report.counts["quarantined_not_asked"]) == (4, 2)
    kept = {q.key.sk.partition("#")[2]: q for q in erasure.quarantined_items("crm")}
    assert sorted(kept) == ["crm:contact:5", "crm:contact:6"]
    assert "ann@" not in kept["crm:contact:6"].raw.lower()
    # AND their record ids are suppressed with hers, so a pull drops them
    assert kit.suppression is not None
    wanted = _hashes("source#crm:contact:7", "source#crm:contact:8", "source#crm:contact:1")
    assert kit.suppression.suppressed(list(wanted)) == set(wanted)
    assert kit.suppression.suppressed(list(_hashes("source#crm:contact:6"))) == set()  # Bob's too


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


class KilledError(Exception):
    """The process killed at a write."""


def test_an_erasure_killed_before_deleting_her_quarantined_records_is_finished_when_sent_again(
    kit: StoreKit,
) -> None:
    erasure = _erasure(kit)
    _stored(kit, make_record("crm", "1", email="ann@example.com"))
    ann = "email#ann@example.com"
    kept = QuarantineEntry("crm", "crm:contact:7", "bad date", "{}", AT, _hashes(ann, "source#crm:contact:7"))
    kit.sync_state.put_quarantined([kept])
    apply = erasure.apply

    def killed_at_the_quarantine(step: Sequence[object]) -> None:
        if any(getattr(d, "key", None) and d.key.pk.startswith("QUARANTINE#") for d in step):  # type: ignore[attr-defined]
            raise KilledError
        apply(step)  # type: ignore[arg-type]

    erasure.apply = killed_at_the_quarantine  # type: ignore[method-assign]
    tool = Tool("crm", {"crm:contact:1"})  # the tool erased its copy of record 7 already (a 404)

    def erase() -> ErasureReport:
        return _erase(kit, erasure, identifier_for(email="ann@example.com"), "req-killed", tool)

    # GIVEN her erasure killed when it deletes her quarantined record (her customer deleted already)
    try:
        erase()
    except KilledError:
        pass
    else:  # pragma: no cover - the step above must be reached
        raise AssertionError("the erasure never deleted her quarantined record")
    assert [q.key.sk.partition("#")[2] for q in erasure.quarantined_items("crm")] == ["crm:contact:7"]
    # WHEN the request is sent again
    erasure.apply = apply  # type: ignore[method-assign]
    tool.asked.clear()
    report = erase()
    # THEN it finds her quarantined record again, asks the tool for it, and deletes our copy
    # (and by her address: her customer is gone, so the request matches nobody now)
    assert sorted(tool.asked) == ["email#ann@example.com", "source#crm:contact:7"], tool.asked
    assert report.counts["quarantined"] == 1
    assert erasure.quarantined_items("crm") == []


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
