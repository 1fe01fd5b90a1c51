"""attack3: after Ann is erased, Bob's history does not name her customer.

Ann and Bob shared a phone, so their records were one customer; Ann then dropped the phone and the
customer was split. Bob's history keeps the split event, which named Ann's customer. A customer id
is ``customer_id_for`` of the first record's key (an unkeyed BLAKE2b): anybody who holds Ann's CRM
id computes it, so after her erasure Bob's history still said "split from Ann's CRM record"."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from core.identity import IdentityPolicy, customer_id_for
from core.privacy import erase_person
from core.schema import Identifier
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import SALT, Stores, dynamodb_stores, sqlite_stores

STORES = pytest.mark.parametrize("stores_of", [sqlite_stores, dynamodb_stores], ids=["sqlite", "dynamodb"])


@STORES
def test_an_erased_persons_customer_id_is_not_left_in_another_customers_history(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    with stores_of() as stores:
        # GIVEN Ann and Bob joined by a shared phone, then split when Ann's record dropped it
        stores.ingest(
            [make_record("crm", "ann-1", email="ann@example.com", phone="+14155550123")], IdentityPolicy()
        )
        stores.ingest(
            [make_record("shop", "bob-1", email="bob@example.com", phone="+14155550123", day=1)],
            IdentityPolicy(),
        )
        stores.ingest([make_record("crm", "ann-1", email="ann@example.com", day=5)], IdentityPolicy())
        ann = customer_id_for("crm:contact:ann-1")
        assert any(
            ann in rest for pk, _, rest in stores.rows() if pk.startswith("CUSTOMER#") and ann not in pk
        )
        # WHEN Ann is erased
        report = erase_person(
            Identifier.assemble(kind="email", value="ann@example.com"),
            profiles=stores.profiles,
            erasure=stores.erasure,
            tools={},
            salt=SALT,
            request_id="req-ann",
            sync_state=stores.sync_state,
            suppression=stores.suppression,
            policy=IdentityPolicy(),
        )
        assert report.outcome == "erased"
        # THEN no item names her customer, her record or her address; Bob's split event stays
        rows = [(pk, sk, rest) for pk, sk, rest in stores.rows() if not pk.startswith(("SUPPRESS", "AUDIT#"))]
        assert [(pk, sk) for pk, sk, rest in rows if ann in f"{pk} {sk} {rest}"] == []
        assert [(pk, sk) for pk, sk, rest in rows if "ann-1" in f"{pk} {sk} {rest}" or "ann@" in rest] == []
        assert any(sk.startswith("HISTORY#") and "#split-" in sk for _, sk, _ in rows)
