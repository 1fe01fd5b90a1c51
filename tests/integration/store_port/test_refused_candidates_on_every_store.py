"""Which customers her erasure reads for records naming her in a refused value (core.privacy_refused),
on the three stores: only those holding a record with refused values, named by the store in one pass
over its records (``customers_with_refused_values``), not every customer a page at a time. Before, the
erasure read every live customer: on DynamoDB a Scan of the profiles and then a Query a customer, so
an erasure's cost grew with the whole table (a million customers, a million Queries, past the privacy
function's time).
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from core.privacy import identifier_for
from core.schema import DroppedValue, SourceRecord
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_household_refused_orders_on_every_store import HER, HOUSEHOLD, OLU
from tests.integration.store_port.test_privacy22_on_every_store import _erase, _erasure, _stored


def _hers() -> SourceRecord:
    record = make_record("crm", "2", phone=HOUSEHOLD, traits={"first_name": "Zéphyrine"}, day=1)
    refused = DroppedValue(field="email", value=f"Zéphyrine Quillfeather <{HER}>", reason="not an email")
    return record.model_copy(update={"dropped": (refused,)})


def _refused_elsewhere() -> SourceRecord:
    record = make_record("shop", "9", email="ayo@example.net", day=1)
    refused = DroppedValue(field="phone", value="call after six", reason="not a phone")
    return record.model_copy(update={"dropped": (refused,)})


def test_her_erasure_reads_only_the_customers_holding_refused_values(kit: StoreKit) -> None:
    # GIVEN twelve people with nothing refused, a third person with a refused phone that is not hers,
    # and her record under the household member's customer by their shared phone, her address refused
    strangers = [make_record("shop", f"s{n}", email=f"s{n}@example.com", day=1) for n in range(12)]
    _stored(kit, *strangers, _refused_elsewhere(), OLU, _hers())
    read: list[str] = []
    inner = kit.profiles.get_customers

    def counting(ids: Any) -> Any:
        read.extend(ids)
        return inner(ids)

    # WHEN she is erased by her address
    with patch.object(kit.profiles, "get_customers", counting):
        _erase(kit, _erasure(kit), identifier_for(email=HER), "req-candidates")
    # THEN her record left the household's customer, the strangers' customers were never read
    held = {ref.id for p in kit.profiles.iter_profiles() for ref in p.sources}
    assert "2" not in held
    assert OLU.source_id in held
    by_record = {ref.id: p.customer_id for p in kit.profiles.iter_profiles() for ref in p.sources}
    assert not {by_record[s.source_id] for s in strangers} & set(read)
    assert by_record["9"] in read  # the customer with a refused value is read, and judged not hers
