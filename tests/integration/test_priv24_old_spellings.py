"""priv24: an erasure takes her records under every spelling her address was stored under.

Before the upgrade that folds fullwidth letters and removes every default-ignorable character from an
address (core/normalise/_email.py), ``ottoline<U+FE0F>@example.org`` was a key of its own; a record
stored then keeps it until its tool's record is pulled again. Beside it, a record pulled after the
upgrade holds the folded key ``ottoline@example.org``: two customers of one person. Her erasure, named
by either spelling, by a phone both hold, or by the id of the record stored under the old key, takes
both; whatever spelling comes back after it (a re-pull, a record normalised before the upgrade and
delivered late) is refused. In-memory, SQLite and DynamoDB (moto) stores.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.normalise import legacy_email_spelling, normalise_email
from core.privacy import erase_person, identifier_for, stored_spellings
from core.schema import Identifier
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import APART, SALT, STORES, Stores

SELECTOR = "ottoline\ufe0f@example.org"
FULLWIDTH = "".join(chr(ord(c) + 0xFEE0) for c in "ottoline") + "@example.org"
FOLDED = "ottoline@example.org"
PHONE = "+442079460417"
STRANGER = "email#x.y@example.net"


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def old_of(spelt: str) -> str:
    old = legacy_email_spelling(spelt)
    assert old is not None
    assert old != normalise_email(spelt) == FOLDED
    return old


def erase(stores: Stores, named: list[Identifier], request_id: str) -> object:
    """``erase_person`` as the CLI and the function call it: the first spelling, and the others."""
    return erase_person(
        named[0],
        spellings=named[1:],
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={},
        salt=SALT,
        request_id=request_id,
        sync_state=stores.sync_state,
        suppression=stores.suppression,
        policy=APART,
    )


def by_email(stores: Stores, spelt: str) -> list[Identifier]:
    return stored_spellings(identifier_for(email=spelt), spelt, stores.profiles)


def gone(stores: Stores, *keys: str) -> bool:
    return stores.profiles.get_owners(list(keys)) == {}


@pytest.mark.parametrize("spelt", [SELECTOR, FULLWIDTH], ids=["variation selector", "fullwidth"])
def test_both_spellings_are_named_when_both_are_held(stores: Stores, spelt: str) -> None:
    old = old_of(spelt)
    stores.ingest([make_record("shop", "1", email=old), make_record("crm", "2", email=FOLDED)])
    # the held spelling first (the folded one, as before), the old one beside it
    assert [i.value for i in by_email(stores, spelt)] == [FOLDED, old]


@pytest.mark.parametrize("spelt", [SELECTOR, FULLWIDTH], ids=["variation selector", "fullwidth"])
def test_an_erasure_by_her_phone_takes_her_customers_under_both_spellings(stores: Stores, spelt: str) -> None:
    # GIVEN her record stored before the upgrade under the old key with her phone, one pulled after it
    # under the folded key with the same phone (two customers: a shared value stops matching), and a
    # stranger
    old = old_of(spelt)
    stores.ingest(
        [
            make_record("shop", "1", email=old, phone=PHONE),
            make_record("crm", "2", email=FOLDED, phone=PHONE),
            make_record("crm", "3", email="x.y@example.net"),
        ]
    )
    # WHEN she is erased by her phone, written as she writes it
    report = erase(stores, [identifier_for(phone="+44\u202f20\u202f7946\u202f0417")], "req-phone")
    # THEN it is no household phone: both customers are hers (one address in two spellings), both go
    assert getattr(report, "outcome", None) == "erased"
    assert gone(stores, f"email#{old}", f"email#{FOLDED}", f"phone#{PHONE}")
    assert STRANGER in stores.profiles.get_owners([STRANGER])


def test_an_erasure_by_the_id_of_her_record_under_the_old_key_takes_the_folded_one_too(
    stores: Stores,
) -> None:
    old = old_of(SELECTOR)
    stores.ingest(
        [
            make_record("shop", "1", email=old),
            make_record("crm", "2", email=FOLDED),
            make_record("crm", "3", email="x.y@example.net"),
        ]
    )
    report = erase(stores, [identifier_for(source="shop:contact:1")], "req-id")
    assert getattr(report, "outcome", None) == "erased"
    assert gone(stores, f"email#{old}", f"email#{FOLDED}", "source#crm:contact:2")
    assert STRANGER in stores.profiles.get_owners([STRANGER])


def test_an_erasure_by_the_id_of_her_record_under_the_folded_key_takes_the_old_one_too(
    stores: Stores,
) -> None:
    old = old_of(SELECTOR)
    stores.ingest([make_record("shop", "1", email=old), make_record("crm", "2", email=FOLDED)])
    erase(stores, [identifier_for(source="crm:contact:2")], "req-id")
    assert gone(stores, f"email#{old}", f"email#{FOLDED}")


def test_a_pull_after_her_erasure_by_the_old_spelling_is_refused(stores: Stores) -> None:
    # GIVEN only her record of before the upgrade, under the old key, erased by her address
    old = old_of(SELECTOR)
    stores.ingest([make_record("shop", "1", email=old)])
    assert getattr(erase(stores, by_email(stores, SELECTOR), "req-old"), "outcome", None) == "erased"
    # WHEN her contact, at another tool, is pulled after it (normalised now: the folded key)
    result = stores.ingest([make_record("crm", "9", email=FOLDED)])
    # THEN it is refused: no customer holds her address in either spelling
    assert result.suppressed == 1
    assert gone(stores, f"email#{old}", f"email#{FOLDED}")


def test_a_pull_after_her_erasure_by_her_record_id_under_the_old_key_is_refused(stores: Stores) -> None:
    old = old_of(SELECTOR)
    stores.ingest([make_record("shop", "1", email=old)])
    erase(stores, [identifier_for(source="shop:contact:1")], "req-old-id")
    result = stores.ingest([make_record("crm", "9", email=FOLDED)])
    assert result.suppressed == 1
    assert gone(stores, f"email#{FOLDED}")


@pytest.mark.parametrize("named", [SELECTOR, FOLDED], ids=["named by the old spelling", "named folded"])
def test_a_record_under_the_old_key_delivered_after_her_erasure_is_refused(
    stores: Stores, named: str
) -> None:
    # GIVEN her erasure before any record of hers is stored (nobody holds her address)
    report = erase(stores, by_email(stores, named), "req-before")
    assert getattr(report, "outcome", None) == "not_found"
    # WHEN a record normalised before the upgrade is delivered late (a dead letter sent again),
    # under the key of then
    result = stores.ingest([make_record("shop", "1", email=old_of(SELECTOR))])
    # THEN it is refused
    assert result.suppressed == 1
    assert gone(stores, f"email#{old_of(SELECTOR)}")


def test_a_re_pull_of_the_old_spelling_after_an_erasure_of_both_stays_refused(stores: Stores) -> None:
    old = old_of(SELECTOR)
    stores.ingest([make_record("shop", "1", email=old), make_record("crm", "2", email=FOLDED)])
    assert getattr(erase(stores, by_email(stores, SELECTOR), "req-both"), "outcome", None) == "erased"
    # her records come back, one under each spelling (a late delivery of then, a pull of now)
    result = stores.ingest([make_record("shop", "7", email=old), make_record("crm", "8", email=FOLDED)])
    assert result.suppressed == 2
    assert gone(stores, f"email#{old}", f"email#{FOLDED}")


def test_a_stranger_holding_the_old_spelling_with_values_of_his_own_makes_it_ambiguous(
    stores: Stores,
) -> None:
    # GIVEN two customers under the old spelling (a family inbox of then) and hers under the folded one
    old = old_of(SELECTOR)
    stores.ingest(
        [
            make_record("shop", "1", email=old, phone="+12025550100"),
            make_record("shop", "2", email=old, phone="+12025550199"),
            make_record("crm", "3", email=FOLDED),
        ]
    )
    # WHEN the address is named in the spelling of then
    report = erase(stores, by_email(stores, SELECTOR), "req-family")
    # THEN nobody is erased: the old spelling names two people
    assert getattr(report, "outcome", None) == "ambiguous"
    assert len(stores.profiles.get_owners([f"email#{old}", f"email#{FOLDED}"])) == 2
