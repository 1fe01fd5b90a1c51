"""fix14: an erasure after the upgrade finds a record stored under the spelling the address had before.

The email normaliser now folds fullwidth letters (NFKC) and removes every default-ignorable character
(core/normalise/_email.py). A record stored before the upgrade keeps the identifier its address
normalised to then (``ｏｔｔｏｌｉｎｅ@example.org``, ``ottoline<U+FE0F>@example.org``) until its tool's
record is pulled again; a request naming the address in that spelling normalises to the folded
address now, which names no record. ``stored_spelling`` (core/privacy_request.py) reads it as the store
keeps it, on the in-memory, SQLite and DynamoDB (moto) stores.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from core.normalise import legacy_email_spelling, normalise_email
from core.ports import QuarantineEntry
from core.privacy import erase_person, identifier_for, stored_spelling
from core.schema import Identifier
from core.suppression import SuppressionCheck, SuppressionEntry, keyed_hash
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import SALT, Stores, stores

__all__ = ["stores"]  # the fixture (every store of test_erasure_attacks), imported for pytest

FULLWIDTH = "".join(chr(ord(c) + 0xFEE0) for c in "ottoline") + "@example.org"
SELECTOR = "ottoline\ufe0f@example.org"
FOLDED = "ottoline@example.org"


@pytest.mark.parametrize("spelt", [FULLWIDTH, SELECTOR], ids=["fullwidth", "variation selector"])
def test_an_erasure_by_the_old_spelling_finds_her_record_stored_before_the_upgrade(
    stores: Stores, spelt: str
) -> None:
    # GIVEN her record stored before the upgrade, under the key her address normalised to then, and a
    # stranger's record
    old = legacy_email_spelling(spelt)
    assert old is not None
    assert old != normalise_email(spelt) == FOLDED
    stores.ingest([make_record("crm", "1", email=old), make_record("crm", "2", email="x.y@example.net")])
    # WHEN she asks for her erasure naming her address as she wrote it
    identifier = stored_spelling(identifier_for(email=spelt), spelt, stores.profiles)
    report = stores.erase(identifier, "req-upgrade")
    # THEN her record is found and erased; the stranger's stays
    assert (report.found, report.outcome) == (True, "erased")
    assert stores.profiles.get_owners([f"email#{old}"]) == {}
    assert "email#x.y@example.net" in stores.profiles.get_owners(["email#x.y@example.net"])


def test_a_record_stored_under_the_folded_address_is_the_one_named(stores: Stores) -> None:
    # GIVEN her record stored after the upgrade (the folded key) WHEN the old spelling is named
    stores.ingest([make_record("crm", "1", email=FOLDED)])
    # THEN the folded key is the identifier: it names a record
    assert stored_spelling(identifier_for(email=FULLWIDTH), FULLWIDTH, stores.profiles).value == FOLDED


def test_an_address_spelt_alike_in_both_versions_has_no_old_spelling() -> None:
    for same in ("ottoline@example.org", "Ottoline@Bücher.example", "می\u200cخواهم@example.com"):
        assert legacy_email_spelling(same) is None


def test_a_proton_mailbox_erased_before_the_upgrade_stays_suppressed(stores: Stores) -> None:
    # GIVEN her Proton mailbox suppressed by an erasure before the upgrade: its entry is under the
    # mailbox key of then, the dots of her user name kept
    old = keyed_hash(SALT, "mailbox#ottoline.vanterpool@proton.me")
    before = datetime(2026, 1, 1, tzinfo=UTC)
    stores.suppression.suppress([SuppressionEntry(old, "email", "req-before", before)])
    check = SuppressionCheck(stores.suppression, SALT)
    # WHEN spellings of her mailbox are checked, the one of then and the ones Proton folds now
    spellings = [
        "email#ottoline.vanterpool+shop@pm.me",
        "email#ottoline_vanterpool@protonmail.com",
        "email#ottolinevanterpool@proton.me",
    ]
    # THEN those of then are suppressed still (a +tag, another Proton domain); the ones Proton's
    # transparent separators make hers were never named by the old entry, and a stranger is not
    hit = check.suppressed_keys([*spellings, "email#x.y@example.net"])
    assert hit == {"email#ottoline.vanterpool+shop@pm.me"}
    # and a commit writing that spelling is guarded by the old entry too
    assert check.guards(["email#ottoline.vanterpool+shop@pm.me"]).count(old) == 1


PAT = "+12079460417"


@pytest.mark.parametrize(
    ("phone", "kept"),
    [("+44\u2009 20 7946 0417", True), ("+44 | 20 7946 0417", True), ("+1 207 946 0417 (mobile)", False)],
    ids=["thin space after +44", "bar after +44", "hers in a note"],
)
def test_an_item_quarantined_before_under_a_misread_number_is_not_taken_by_its_erasure(
    stores: Stores, phone: str, kept: bool
) -> None:
    # GIVEN Pat stored with her American number, and a contact quarantined before the upgrade with the
    # keys the matcher of then read in its phone: the British number's tail, Pat's number
    stores.ingest([make_record("crm", "1", email="pat@example.com", phone=PAT)])
    raw = json.dumps({"phones": [phone], "traits": {"first_name": "Ottoline", "last_name": "Vanterpool"}})
    subjects = tuple(keyed_hash(SALT, k) for k in ("source#hubspot:contact:115", f"phone#{PAT}"))
    at = datetime(2026, 3, 1, tzinfo=UTC)
    entry = QuarantineEntry("hubspot", "hubspot:contact:115", "bad date", raw, at, subjects)
    stores.sync_state.put_quarantined([entry])
    # WHEN Pat is erased by her number
    report = erase_person(
        Identifier(kind="phone", value=PAT),
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={},
        salt=SALT,
        request_id="req-pat",
        sync_state=stores.sync_state,
        suppression=stores.suppression,
        quarantine_of=("hubspot",),
    )
    # THEN the British person's record stays (Pat's own note goes with her)
    assert report.outcome == "erased"
    left = [i.raw for i in stores.erasure.quarantined_items("hubspot")]
    assert (left == [raw]) is kept, left
    assert report.counts.get("quarantined", 0) == (0 if kept else 1)
