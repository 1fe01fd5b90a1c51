"""priv26: from her record pulled after the upgrade that folds addresses, her erasure reaches her record
stored under the key of before it.

``ottoline<U+FE0F>@example.org`` (stored before the upgrade, core/normalise/_email.py) and
``ottoline@example.org`` (pulled after it) are one address in two spellings, two customers of one
person. The folded key keeps nothing of the spelling it came from; a marker under the folded key
(``IDENT#email#ottoline@example.org`` / ``HOLDER#<customer>``, core.mailbox.marker_keys), written
with the old key by every writer and by the upgrade's backfill (core.privacy_spellings), leads her
erasure from the folded record to the other. In-memory, SQLite and DynamoDB (moto) stores.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.normalise import legacy_email_spelling
from core.pipeline import ingest
from core.privacy import identifier_for
from core.privacy_spellings import backfill
from core.privacy_store import DeleteItem, ItemKey
from core.testing.records import make_record
from profilesync.cli import main
from profilesync.stores import open_stores, store_path
from tests.integration.test_erasure_attacks import STORES, Stores

OLD = legacy_email_spelling("ottoline\ufe0f@example.org") or ""
FOLDED = "ottoline@example.org"
PHONE = "+442079460417"
STRANGER = "email#x.y@example.net"
CLI_TABLE = "profilesync-dev-profiles"


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def gone(stores: Stores, *keys: str) -> bool:
    return stores.profiles.get_owners(list(keys)) == {}


def outcome(report: object) -> object:
    return getattr(report, "outcome", None)


def test_the_old_spelling_is_one_of_its_own() -> None:
    assert OLD
    assert OLD != FOLDED


def test_an_erasure_by_a_phone_only_her_folded_record_holds_takes_her_old_spelling_too(
    stores: Stores,
) -> None:
    # GIVEN her record of before the upgrade (old key, no phone) and one pulled after it with her phone
    stores.ingest([make_record("shop", "1", email=OLD), make_record("crm", "2", email=FOLDED, phone=PHONE)])
    stores.ingest([make_record("crm", "3", email="x.y@example.net")])
    # WHEN she is erased by her phone, which only the folded record holds
    report = stores.erase(identifier_for(phone=PHONE), "req-phone")
    # THEN both customers go, the stranger stays
    assert outcome(report) == "erased"
    assert gone(stores, f"email#{OLD}", f"email#{FOLDED}", "source#shop:contact:1", f"phone#{PHONE}")
    assert STRANGER in stores.profiles.get_owners([STRANGER])


def test_the_old_record_delivered_late_to_a_store_holding_the_folded_one_is_reached(stores: Stores) -> None:
    # GIVEN the folded record stored first, the old key arriving in a later batch (a dead letter of
    # then sent again: the writer that stores it meets the folded customer, whose key it is not)
    stores.ingest([make_record("crm", "2", email=FOLDED)])
    stores.ingest([make_record("shop", "1", email=OLD)])
    # WHEN she is erased by the id of her folded record
    report = stores.erase(identifier_for(source="crm:contact:2"), "req-late")
    # THEN the old one goes with her, and so does the marker (its key holds her address)
    assert outcome(report) == "erased"
    assert gone(stores, f"email#{OLD}", f"email#{FOLDED}", "source#shop:contact:1")
    assert stores.erasure.holders([f"email#{FOLDED}"]) == {}


def test_a_re_pull_of_the_old_spelling_after_her_erasure_by_the_folded_record_stays_refused(
    stores: Stores,
) -> None:
    stores.ingest([make_record("shop", "1", email=OLD), make_record("crm", "2", email=FOLDED)])
    assert outcome(stores.erase(identifier_for(source="crm:contact:2"), "req-id")) == "erased"
    # WHEN both come back: her old record sent again, a new record of the old spelling, and the folded one
    result = stores.ingest(
        [
            make_record("shop", "1", email=OLD, day=1),
            make_record("shop", "7", email=OLD),
            make_record("crm", "8", email=FOLDED),
        ]
    )
    # THEN every one is refused
    assert result.suppressed == 3
    assert gone(stores, f"email#{OLD}", f"email#{FOLDED}", "source#shop:contact:1", "source#shop:contact:7")


def test_an_erasure_before_either_record_refuses_both_spellings_when_they_arrive(stores: Stores) -> None:
    # GIVEN her erasure by her phone before anything of hers is stored (it names nobody)
    assert outcome(stores.erase(identifier_for(phone=PHONE), "req-before")) == "not_found"
    # WHEN her records arrive, one in each spelling, her phone in the folded one only, and then alone
    first = stores.ingest([make_record("crm", "2", email=FOLDED, phone=PHONE)])
    # THEN the folded one is refused by her phone; the old one, which holds nothing suppressed, is
    # stored: nothing of it was known to be hers (her address was never named)
    assert first.suppressed == 1
    second = stores.ingest([make_record("shop", "1", email=OLD)])
    assert second.suppressed == 0
    # and once she is erased by that record's id, the folded spelling is refused with it
    assert outcome(stores.erase(identifier_for(source="shop:contact:1"), "req-after")) == "erased"
    assert stores.ingest([make_record("crm", "9", email=FOLDED)]).suppressed == 1


def test_the_backfill_marks_a_customer_stored_before_the_markers(stores: Stores) -> None:
    # GIVEN a store written before this version: her old-key customer without its marker
    stores.ingest([make_record("shop", "1", email=OLD)])
    old_owner = stores.owner(f"email#{OLD}")
    assert old_owner is not None
    marker = ItemKey(f"IDENT#email#{FOLDED}", f"HOLDER#{old_owner}")
    stores.erasure.apply([DeleteItem(marker)])
    assert stores.erasure.holders([f"email#{FOLDED}"]).get(f"email#{FOLDED}", set()) == set()
    stores.ingest([make_record("crm", "2", email=FOLDED), make_record("crm", "3", email="x.y@example.net")])
    # WHEN the upgrade's backfill runs (profilesync privacy index-refused)
    assert backfill(stores.profiles, stores.erasure) == 1
    assert stores.erasure.holders([f"email#{FOLDED}"])[f"email#{FOLDED}"] == {old_owner}
    # THEN her erasure by her folded record's id takes the old one, and nobody else
    assert outcome(stores.erase(identifier_for(source="crm:contact:2"), "req-backfilled")) == "erased"
    assert gone(stores, f"email#{OLD}", f"email#{FOLDED}", "source#shop:contact:1")
    assert stores.erasure.holders([f"email#{FOLDED}"]) == {}
    assert STRANGER in stores.profiles.get_owners([STRANGER])


def test_the_index_refused_command_writes_the_markers_and_her_erasure_by_the_cli_follows_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "priv26-salt")
    path = store_path(tmp_path, CLI_TABLE)
    where = ("--state-dir", str(tmp_path))
    # GIVEN the embedded store of a version before the markers: her old-key customer has none
    with open_stores(endpoint_url=None, table=CLI_TABLE, path=path) as opened:
        ingest([make_record("shop", "1", email=OLD), make_record("crm", "2", email=FOLDED)], opened.profiles)
        old_owner = opened.profiles.get_owners([f"email#{OLD}"])[f"email#{OLD}"].customer_id
        opened.erasure.apply([DeleteItem(ItemKey(f"IDENT#email#{FOLDED}", f"HOLDER#{old_owner}"))])
    # WHEN the upgrade's command runs, then her erasure by the id of her folded record
    assert main(["privacy", "index-refused", *where]) == 0
    assert json.loads(capsys.readouterr().out)["spelling_markers"] == 1
    assert main(["privacy", "erase", "--source", "crm:contact:2", *where]) == 0
    capsys.readouterr()
    # THEN neither spelling is held any more
    with open_stores(endpoint_url=None, table=CLI_TABLE, path=path) as opened:
        assert opened.profiles.get_owners([f"email#{OLD}", f"email#{FOLDED}"]) == {}
