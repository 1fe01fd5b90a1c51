"""revF23: an erasure after the upgrade missed her record stored under the old spelling when a record
under the folded address exists too (fixed by priv24: tests/integration/test_priv24_old_spellings.py
for the neighbouring cases).

``stored_spelling`` (core/privacy_request.py) picks one identifier: the folded address when it names a
record, the spelling of the previous release only when the folded one names none. A person with a
record stored before the upgrade under ``ottoline<U+FE0F>@example.org`` (her old key) and another
pulled after it under ``ottoline@example.org`` (the folded key: a second tool, or the customer the
matcher could not join to the old key) is two customers; her erasure naming her address in either
spelling of then took the folded one and left the old-keyed customer with her data in the store.
Now ``stored_spellings`` names both and the erasure takes the customer of each.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.normalise import legacy_email_spelling
from core.privacy import erase_person, identifier_for, stored_spellings
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import APART, SALT, STORES, Stores

SELECTOR = "ottoline\ufe0f@example.org"
FOLDED = "ottoline@example.org"


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def test_her_records_under_both_spellings_go_with_an_erasure_naming_the_old_one(stores: Stores) -> None:
    # GIVEN her record stored before the upgrade under the spelling of then, and one pulled after it
    # under the folded address, and a stranger
    old = legacy_email_spelling(SELECTOR)
    assert old is not None
    assert old != FOLDED
    stores.ingest(
        [
            make_record("shop", "1", email=old),
            make_record("crm", "2", email=FOLDED),
            make_record("crm", "3", email="x.y@example.net"),
        ]
    )
    # WHEN she asks for her erasure naming her address as the old record holds it (docs/identity.md:
    # "an erasure or export naming the address as it was stored finds it")
    # (every spelling a record may hold: stored_spellings, core/privacy_request.py)
    first, *others = stored_spellings(identifier_for(email=SELECTOR), SELECTOR, stores.profiles)
    report = erase_person(
        first,
        spellings=others,
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={},
        salt=SALT,
        request_id="req-both",
        sync_state=stores.sync_state,
        suppression=stores.suppression,
        policy=APART,
    )
    # THEN both of her records are gone; the stranger's stays
    assert report.outcome == "erased"
    assert stores.profiles.get_owners([f"email#{old}", f"email#{FOLDED}"]) == {}
    assert "email#x.y@example.net" in stores.profiles.get_owners(["email#x.y@example.net"])
