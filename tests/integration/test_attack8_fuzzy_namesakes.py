"""attack8: fuzzy suppression fingerprints (core.suppression_fuzzy) and two erased people sharing a
look-up key.

Hana Sato's CRM record holds her name, birth date, address, city and work email; her shop record,
queued, holds her name, birth date and city (no street: the shop never asked) and a private email.
A store holding both makes them one customer (the model links them). Her namesake Hana Sato of
London, born the same day, another address and email, is another person (the model keeps her CRM
record apart from the namesake's, and the namesake's erasure leaves Hana's CRM record stored).

On the in-memory, SQLite and DynamoDB (moto) stores:

* erased alone, Hana's queued shop record is dropped at merge (her name + birth date fingerprint);
* the namesake's fingerprint suppresses no stranger: Hana's CRM record, merged after the
  namesake's erasure, is stored;
* erased after her namesake, Hana leaves her own fingerprint under her name and birth date beside
  the namesake's (one entry holds every erasure's fingerprints under its key, each tagged with its
  erasure: core.suppression_prints): her queued shop record is dropped;
* the namesake signs up again (her suppression lifted): her fingerprints go with her erasure, Hana's
  stay, and a record of Hana's holding her name and birth date alone is dropped still.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace

import pytest

from core.identity import IdentityPolicy
from core.pipeline import IngestSettings
from core.privacy import lift_suppression
from core.schema import Identifier
from core.suppression import SuppressionCheck
from tests.integration.identity_attack_records import HANA, Flat, flat, groups, ingest_settings, resolve_lines
from tests.integration.test_erasure_attacks import SALT, STORES, Stores

CRM = flat("crm", "1", **HANA, city="Manchester", email="hana.sato@corp.jp")
_NO_STREET = {k: v for k, v in HANA.items() if k not in ("address", "postcode")}
#: Her shop record: her name, birth date and city, a private email.
SHOP = flat("shop", "2", **_NO_STREET, city="Manchester", email="hanasato92@icloud.com")
#: A record of hers with her name and birth date alone.
BARE = flat("shop", "3", **_NO_STREET)
NAMESAKE = flat(
    "mail",
    "9",
    **{**HANA, "address": "12 Oak Road", "postcode": "E1 6AN"},
    city="London",
    email="hana.oak@example.com",
)
HER = Identifier.assemble(kind="email", value="hana.sato@corp.jp")
THE_NAMESAKE = Identifier.assemble(kind="email", value="hana.oak@example.com")

ON_EACH_STORE = pytest.mark.parametrize("stores_of", [STORES[n] for n in sorted(STORES)], ids=sorted(STORES))


def _settings(stores: Stores) -> IngestSettings:
    return replace(ingest_settings(), suppression=SuppressionCheck(stores.suppression, SALT))


def _import(stores: Stores, lines: list[Flat]) -> None:
    resolve_lines(lines, stores.profiles, settings=_settings(stores))


def _erase(stores: Stores, who: Identifier, request: str) -> None:
    report = stores.erase(who, request, IdentityPolicy(), _settings(stores))
    assert report.outcome == "erased", report


def _erase_both(stores: Stores) -> None:
    """The namesake stored and erased, then Hana's CRM record stored and Hana erased."""
    _import(stores, [NAMESAKE])
    _erase(stores, THE_NAMESAKE, "req-namesake")
    _import(stores, [CRM])
    _erase(stores, HER, "req-hana")


def test_her_shop_record_and_her_crm_record_are_one_customer() -> None:
    with STORES["memory"]() as stores, STORES["memory"]() as bare:
        _import(stores, [CRM, SHOP, NAMESAKE])
        assert groups(stores.profiles) == {frozenset({"crm:1", "shop:2"}), frozenset({"mail:9"})}
        _import(bare, [CRM, BARE])
        assert groups(bare.profiles) == {frozenset({"crm:1", "shop:3"})}


@ON_EACH_STORE
def test_erased_alone_her_queued_records_are_dropped_and_the_namesakes_erasure_spares_her(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    with stores_of() as alone, STORES["memory"]() as after_namesake:
        _import(alone, [CRM])
        _erase(alone, HER, "req-hana")
        _import(alone, [SHOP, BARE])
        assert groups(alone.profiles) == set()

        _import(after_namesake, [NAMESAKE])
        _erase(after_namesake, THE_NAMESAKE, "req-namesake")
        _import(after_namesake, [CRM])  # a stranger to the namesake's fingerprint
        assert groups(after_namesake.profiles) == {frozenset({"crm:1"})}


@ON_EACH_STORE
def test_erased_after_her_namesake_her_queued_shop_record_is_dropped(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN her namesake erased, then Hana's CRM record stored and Hana erased WHEN her queued
    shop record is merged THEN it is dropped, as when Hana alone was erased."""
    with stores_of() as stores:
        _erase_both(stores)
        _import(stores, [SHOP])
        assert groups(stores.profiles) == set()


@ON_EACH_STORE
def test_lifting_her_namesakes_suppression_leaves_hers(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN her namesake erased, then Hana erased, and a record of Hana's (name and birth date)
    dropped at merge WHEN the namesake signs up again (her suppression lifted) and Hana's record is
    delivered again THEN it is dropped still: Hana's erasure stands."""
    with stores_of() as stores:
        _erase_both(stores)
        _import(stores, [BARE])
        assert groups(stores.profiles) == set()
        lifted = lift_suppression(
            THE_NAMESAKE,
            suppression=stores.suppression,
            erasure=stores.erasure,
            salt=SALT,
            request_id="req-namesake-again",
            requested_by="dpo",
        )
        assert lifted > 0
        _import(stores, [BARE])
        assert groups(stores.profiles) == set()
