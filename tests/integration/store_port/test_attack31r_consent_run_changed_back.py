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

The same, with her decision changed and changed back: she opts out (2026-01-10), unticks the box
(2026-02-10), ticks it again (2026-03-10), nothing else edited, and subscribes at Klaviyo on
2026-02-20. Her last decision is the opt-out of 2026-03-10, after the Klaviyo opt-in: not subscribed.
Red on main: the orders that pull the opt-in version last (the 2026-03-10 version's copy of content A
is an echo of the stored 2026-01-10 one, a touch; the late opt-in then cuts the run and re-dates the
stored snapshot to 2026-03-10, core/ingest_runs.py ``redated``) keep the opt-out dated 2026-01-10:
``late_consents`` skips a version in ``runs.redate`` (core/ingest_plan.py line 128), so the opt-in
never cuts the decision's run, and the Klaviyo opt-in of 2026-02-20 wins: her profile says
subscribed, and the push sends it to every tool. Fix idea: fold the late version's decisions into
the re-dated copy as well (``late_consent`` on ``redated``'s snapshot).
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import permutations
from typing import Any

from connectors.klaviyo import PLUGIN as KLAVIYO_PLUGIN
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
KLAVIYO = KLAVIYO_PLUGIN.build(
    ConnectorSettings(credentials={"klaviyo_api_key": "pk_test"}, base_url="http://127.0.0.1:9")
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


def _contact(n: int, version: int, opted_out: bool = True) -> dict[str, Any]:
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
        "HasOptedOutOfEmail": opted_out,
    }


def _klaviyo_opt_in(n: int, at: str = "2026-02-20T10:00:00+00:00") -> dict[str, Any]:
    """Person ``n``'s Klaviyo profile after she subscribed on ``at`` (JSON:API, revision 2026-07-15)."""
    marketing = {"consent": "SUBSCRIBED", "consent_timestamp": at, "suppression": []}
    attributes = {"email": _email(n), "updated": at, "subscriptions": {"email": {"marketing": marketing}}}
    return {"type": "profile", "id": f"01JKLAVIYOLEA{n:012d}", "attributes": attributes}


def _pull(kit: StoreKit, raw: dict[str, Any], object_type: str = "contact") -> None:
    connector = SALESFORCE if object_type == "contact" else KLAVIYO
    drafts = connector.to_records(RawPage(records=[raw], cursor=None, object_type=object_type))
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


def test_her_versions_pulled_with_the_first_one_last_date_the_opt_out_by_its_first_version(
    kit: StoreKit,
) -> None:
    # GIVEN her three contact versions, opted out in each, the title changed and changed back
    # WHEN they are pulled one a call, the first version last
    # THEN her opt-out is dated by the first version holding it, as in every other order
    assert _pulled(kit, LATE_FIRST) == dict.fromkeys(LATE_FIRST, EXPECTED)


#: Her contact's decisions, version by version: opted out, opted in (the box unticked), out again;
#: the title the same in each (only the decision changes).
DECISIONS = [True, False, True]
#: The orders main dates otherwise: the opt-in version pulled last.
LATE_OPT_IN = [order for order in ORDERS if order[-1] == 1]


def _decided(kit: StoreKit, orders: list[tuple[int, ...]]) -> dict[tuple[int, ...], Any]:
    """Per order: her profile's email decision (granted, its date, its source's tool) after her
    Klaviyo opt-in of 2026-02-20 and her contact's versions pulled one a call in that order."""
    out = {}
    for n, order in enumerate(orders, start=100):
        _pull(kit, _klaviyo_opt_in(n), "profile")
        for version in order:
            contact = _contact(n, version, DECISIONS[version])
            contact["Title"] = "Acheteuse"
            _pull(kit, contact)
        (profile,) = [
            p for p in kit.profiles.iter_profiles() if _email(n) in {i.value for i in p.identifiers}
        ]
        email = profile.consent["email"]
        out[order] = (email.granted, email.changed_at, email.source.split(":")[0])
    return out


#: Her last decision: the opt-out of 2026-03-10, after her Klaviyo opt-in.
LAST_OPT_OUT = (False, datetime(2026, 3, 10, 8, tzinfo=UTC), "salesforce")


def test_her_opt_out_made_again_after_an_opt_in_is_her_last_decision(kit: StoreKit) -> None:
    # GIVEN her Klaviyo opt-in of 2026-02-20, and her contact opted out, in, and out again
    # WHEN the contact's versions are pulled one a call, the opt-in version before another
    orders = [order for order in ORDERS if order not in LATE_OPT_IN]
    # THEN her last decision wins: opted out on 2026-03-10
    assert _decided(kit, orders) == dict.fromkeys(orders, LAST_OPT_OUT)


def test_her_opt_out_made_again_is_her_last_decision_when_the_opt_in_version_comes_last(
    kit: StoreKit,
) -> None:
    # GIVEN her Klaviyo opt-in of 2026-02-20, and her contact opted out, in, and out again
    # WHEN the contact's versions are pulled one a call, the opt-in version last
    # THEN her last decision wins, as in every other order: opted out on 2026-03-10
    assert _decided(kit, LATE_OPT_IN) == dict.fromkeys(LATE_OPT_IN, LAST_OPT_OUT)
