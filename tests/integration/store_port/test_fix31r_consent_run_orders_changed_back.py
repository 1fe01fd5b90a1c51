"""fix31r: left30's property (a decision dated by its record is dated the same whatever order its
versions arrive in) extended to a content that changes back and to three decisions.

Her contact is opted out (2025-01-10, title "Acheteuse"), unticks the box (2025-06-01, an opt-in),
ticks it again (2026-01-10: the content of 2025-01-10 again), is retitled (2026-03-10) and retitled
back (2026-10-05: that content a third time); she subscribed at Klaviyo on 2025-09-01. Pulled one a
call in each of the 120 orders, on the three stores, every order gives what time order gives: the
opt-out's run starts after the opt-in, on 2026-01-10, and wins over the Klaviyo opt-in.

Red before fix31r (attack31r's findings): the orders that pull the 2026-01-10 version after both
later ones judged it unchanged (an older copy of the stored content, cut off its run) and dated the
opt-out 2026-03-10; those that pull the opt-in last re-dated the stored snapshot without cutting the
decision's run, so the opt-out kept 2025-01-10 and the Klaviyo opt-in won.
"""

from __future__ import annotations

from itertools import permutations
from typing import Any

import pytest

from tests.hypothesis_profiles import examples
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_left30_consent_run_orders_on_every_store import (
    _at,
    _email,
    _klaviyo_opt_in,
    _outcome,
    _pull,
)

#: Her contact's versions: (SystemModstamp, opted out, title): out, in, out again; retitled and back.
VERSIONS = [
    ("2025-01-10T08:00:00.000+0000", True, "Acheteuse"),
    ("2025-06-01T08:00:00.000+0000", False, "Acheteuse"),
    ("2026-01-10T08:00:00.000+0000", True, "Acheteuse"),
    ("2026-03-10T08:00:00.000+0000", True, "Directrice achats"),
    ("2026-10-05T02:00:00.000+0000", True, "Acheteuse"),
]
#: Every order in the deep profile; every third in ci (40: each part of the old code's 18 failed on
#: them too, checked against the code before fix31r's third fix).
_ALL = list(permutations(range(len(VERSIONS))))
ORDERS = _ALL[:: len(_ALL) // examples(ci=40, deep=len(_ALL))]
PARTS = 6


def _contact(n: int, version: int) -> dict[str, Any]:
    """Person ``n``'s Salesforce contact (SOQL query result, API v66.0) at ``VERSIONS[version]``."""
    stamp, opted_out, title = VERSIONS[version]
    contact_id = f"0035g00000Lm{n:03d}AAF"
    return {
        "attributes": {"type": "Contact", "url": f"/services/data/v66.0/sobjects/Contact/{contact_id}"},
        "Id": contact_id,
        "IsDeleted": False,
        "SystemModstamp": stamp,
        "Email": _email(n),
        "FirstName": "Léa",
        "LastName": "Martin",
        "Title": title,
        "HasOptedOutOfEmail": opted_out,
    }


@pytest.mark.parametrize("part", range(PARTS))
def test_every_order_of_her_changed_back_versions_gives_one_consent_and_one_run(
    kit: StoreKit, part: int
) -> None:
    # a part of the 120 orders a test (each person in its own, one store), so no test runs long
    orders = ORDERS[part::PARTS]
    for n, order in enumerate(orders):
        # GIVEN her Klaviyo opt-in of 2025-09-01
        _pull(kit, _klaviyo_opt_in(n), "profile")
        # WHEN her contact's five versions are pulled one a call, in this order
        for version in order:
            _pull(kit, _contact(n, version), "contact")
    # THEN every order gives what the versions give pulled in time order: the opt-out's run starts
    # after her 2025 opt-in, on 2026-01-10, and wins over the Klaviyo opt-in
    expected = (
        False,
        _at("2026-01-10T08:00:00"),
        _at("2026-01-10T08:00:00"),
        _at("2025-06-01T08:00:00"),
        (_at("2026-03-10T08:00:00"), _at("2026-10-05T02:00:00")),
    )
    assert {order: _outcome(kit, n) for n, order in enumerate(orders)} == dict.fromkeys(orders, expected)
