"""A merge racing her erasure, for a record of hers whose address was refused (her email field
``Zéphyrine Quillfeather <address>``) and whose other identifier is a household's phone another
customer holds.

The merge checks suppression when it plans (core.suppression ``split``, which reads the addresses
written whole in refused email values), and an erasure can run between that check and the write. The
write's own conditions (``Unsuppressed`` guards) covered the emails and phones it creates IDENT items
for, never the refused addresses: her erasure (nobody stored by her address: ``not_found``, her
address suppressed) landing between the two let the record be written under the household's
customer, her name and address with it. Red before pfix22 on the three stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.identity import IdentityPolicy
from core.pipeline import IngestSettings, ingest
from core.schema import DroppedValue
from core.suppression import SuppressionCheck
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import SALT, STORES, CheckedJustBefore, Stores, email

HOUSEHOLD = "+442079460555"
HER = "zephyrine.quillfeather@example.com"


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def test_her_refused_address_written_after_her_erasure_checked_just_before_is_dropped(stores: Stores) -> None:
    stores.ingest([make_record("crm", "1", email="olu@example.com", phone=HOUSEHOLD)], IdentityPolicy())
    olu = stores.owner("email#olu@example.com")
    before = stores.profiles.get_customers([olu])[olu].profile
    # GIVEN a merge of her record (her address refused, the household's phone) that checked the
    # suppression just before her erasure ran to its end (nobody found by her address, suppressed)
    refused = DroppedValue(field="email", value=f"Zéphyrine Quillfeather <{HER}>", reason="not an address")
    hers = make_record("shop", "2", phone=HOUSEHOLD, day=1).model_copy(update={"dropped": (refused,)})
    erased: list[Any] = []
    racing = CheckedJustBefore(stores.suppression, lambda: erased.append(stores.erase(email(HER), "req-1")))
    # WHEN the merge commits after it
    result = ingest(
        [hers],
        stores.profiles,
        IngestSettings(
            policy=IdentityPolicy(),
            suppression=SuppressionCheck(racing, SALT),
            sleep=lambda _: None,  # type: ignore[arg-type]
        ),
    )
    # THEN the write's own check of her suppression drops the record: counted as suppressed, stored
    # nowhere, and the household's customer is as it was
    assert [e.outcome for e in erased] == ["not_found"]
    assert (result.suppressed, result.written) == (1, 0)
    assert stores.owner("source#shop:contact:2") is None
    after = stores.profiles.get_customers([olu])[olu]
    assert sorted(after.snapshots) == ["crm:contact:1"]
    assert after.profile == before
