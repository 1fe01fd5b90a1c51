"""attack31r: her opt-out's date depends on the order her contact's versions arrive in, when the
contact was edited and edited back (robustness: odd orders).

Salesforce's ``HasOptedOutOfEmail`` has no time of its own: the connector dates it by the contact's
``SystemModstamp`` and marks it ``dated_by_record``, and the decision keeps the time of the first
version seen holding it (core.consent_carry: "every order ends with the same state, within the
bound"). left30's property (tests/integration/store_port/test_left30_consent_run_orders_on_every_store.py)
pulls four versions of four different contents. Here the contact's title is changed and changed back
(content A, B, A: what docs/architecture.md's content runs call "the tool changed the record and
changed it back"), and she stays opted out in all three versions: three observations of one
decision, no contrary one, so her opt-out is dated 2026-01-10 whatever the order.

Red on main: pulled one a call, the orders that pull the first version (A, 2026-01-10) last, after
the other two, date it 2026-02-10 (the run B's version started). The late first version hashes as
the stored content A (a decision's time dated by its record is left out of the hash), so
core/ingest_runs.py's ``RunDecisions.decide`` (line 203) judges it ``unchanged`` (``done``), and
core/ingest_plan.py (line 124) hands only a ``stale`` version to ``late_consents``: its
observation of the opt-out at 2026-01-10 never reaches core.consent_carry.late_consent, which would
move the run's start back. (In time order the first version founds the run, and
``carry_consent_times`` carries its date through B to the last.) Fix idea: a version judged
unchanged but older than the stored run's start, holding a decision dated by its record, goes to
``late`` too, as a stale one does. The other four orders are the control (they pass).
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import permutations
from typing import Any

import pytest

from connectors.salesforce import SalesforceConnector
from core.connector import ConnectorSettings, RawPage
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from tests.integration.store_port.conftest import StoreKit

NO_SLEEP = IngestSettings(sleep=lambda _: None)
SALESFORCE = SalesforceConnector(
    ConnectorSettings(
        credentials={"salesforce_client_id": "id", "salesforce_client_secret": "secret"},
        base_url="https://acme.my.salesforce.com",
    )
)
#: Her contact's versions: (SystemModstamp, title). Opted out in each.
VERSIONS = [
    ("2026-01-10T08:00:00.000+0000", "Acheteuse"),
    ("2026-02-10T08:00:00.000+0000", "Directrice achats"),
    ("2026-03-10T08:00:00.000+0000", "Acheteuse"),  # changed back
]
ORDERS = list(permutations(range(len(VERSIONS))))
#: The orders main dates otherwise: the first version pulled last.
LATE_FIRST = [order for order in ORDERS if order[-1] == 0]


def _email(n: int) -> str:
    return f"lea.martin.{n}@example.fr"


def _contact(n: int, version: int) -> dict[str, Any]:
    """Person ``n``'s Salesforce contact (SOQL query result, API v66.0) at ``VERSIONS[version]``."""
    stamp, title = VERSIONS[version]
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
        "HasOptedOutOfEmail": True,
    }


def _pull(kit: StoreKit, raw: dict[str, Any]) -> None:
    drafts = SALESFORCE.to_records(RawPage(records=[raw], cursor=None, object_type="contact"))
    records = [normalise_record(d) for d in drafts]
    assert all(isinstance(r, SourceRecord) for r in records), records
    ingest(records, kit.profiles, NO_SLEEP)  # type: ignore[arg-type]


def _opt_out(kit: StoreKit, n: int) -> tuple[bool, datetime, str, datetime]:
    """Person ``n``'s profile email decision (granted, its date), and her title with its time."""
    (profile,) = [p for p in kit.profiles.iter_profiles() if _email(n) in {i.value for i in p.identifiers}]
    title = profile.traits["job_title"]
    email = profile.consent["email"]
    return email.granted, email.changed_at, title.value, title.updated_at


def _pulled(kit: StoreKit, orders: list[tuple[int, ...]]) -> dict[tuple[int, ...], Any]:
    for n, order in enumerate(orders):
        for version in order:
            _pull(kit, _contact(n, version))
    return {order: _opt_out(kit, n) for n, order in enumerate(orders)}


#: Opted out since her first version; the title of her newest, as of its run's start (B cut A's run).
EXPECTED = (False, datetime(2026, 1, 10, 8, tzinfo=UTC), "Acheteuse", datetime(2026, 3, 10, 8, tzinfo=UTC))


def test_her_versions_pulled_with_the_first_one_before_the_last_date_the_opt_out_by_its_first_version(
    kit: StoreKit,
) -> None:
    # GIVEN her three contact versions, opted out in each, the title changed and changed back
    # WHEN they are pulled one a call, the first of them before the last (time order among them)
    orders = [order for order in ORDERS if order not in LATE_FIRST]
    # THEN her opt-out is dated by the first version holding it, her title the newest version's
    assert _pulled(kit, orders) == dict.fromkeys(orders, EXPECTED)


@pytest.mark.xfail(
    strict=True,
    reason="attack31r: core/ingest_runs.py:203 judges the late first version (same hash as the stored "
    "content A) unchanged, and core/ingest_plan.py:124 gives late_consents only stale versions: the "
    "opt-out keeps 2026-02-10. Fix idea: a version judged unchanged but older than the stored run, "
    "with a decision dated by its record, goes to late_consents as a stale one does",
)
def test_her_versions_pulled_with_the_first_one_last_date_the_opt_out_by_its_first_version(
    kit: StoreKit,
) -> None:
    # GIVEN her three contact versions, opted out in each, the title changed and changed back
    # WHEN they are pulled one a call, the first version last
    # THEN her opt-out is dated by the first version holding it, as in every other order
    assert _pulled(kit, LATE_FIRST) == dict.fromkeys(LATE_FIRST, EXPECTED)
