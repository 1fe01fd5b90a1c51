"""attack19: one shopper in every tool the product connects, resolved in exact mode (the default).

The product's case: one person, one profile across the tools a business already uses. Giulia Ferri
has a HubSpot contact, a Mailchimp member, a Klaviyo profile, a Shopify customer, a Stripe customer
and a WooCommerce customer, each with her email, her mobile and her name as she typed it once. Before
she registered at the shop she bought three times as a guest; a guest order's billing name is typed
at each checkout, so it comes as ``Giulia Ferri``, ``G. Ferri`` and ``Giulia M. Ferri`` (Stripe's
``billing_details.name`` is the name on the card, WooCommerce's ``billing.first_name``/``last_name``
what the form got). She also signed up for SMS at checkout: Klaviyo keeps an SMS subscriber who gave
no email as a profile with only ``phone_number`` (https://developers.klaviyo.com/en/reference/profiles).

Exact mode counts holders of a value with ``core.identity.limit_holder``: each people-level record
is a holder by its *source key*, and a guest child by its folded billing name
(``core/identity.py:189``; limits ``DEFAULT_LIMITS`` ``{"email": 8, "phone": 5}`` at
``core/identity.py:74``). So one person's six tool records are six holders, her phone is past its
limit of 5 as soon as six tools hold it, and her email past 8 with three spellings of her name on
guest orders. ``group_records`` (``core/identity.py:316``) then refuses the value to every record of
the batch that does not already use it: in one batch (``profilesync resolve`` of a file: 20,000
records a batch on the embedded store) nothing joins on it at all.

Promise: one person, one profile (DESIGN.md: "Guardrails count people, not records"). The records
here agree on everything (one email, one phone, one first and last name, no birth dates): no
conflict evidence exists, and ``identity.mode: probabilistic`` makes them one profile.
docs/architecture.md ("Crossing a guardrail limit") said exact mode counts records and that its
answer past a limit depends on batches; it did not say that one person in the six tools the product
ships is past the limit.

Fixed (fix19b): ``limit_holder`` counts people: records that name one person in full (the same folded
name, and the same birth date and national id where given) are one holder, so her tool records are one
holder and her three spellings three, within both limits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.jsonl import draft_from_flat
from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from profilesync.cli import main
from tests.integration.test_attack3_resolve_counts import _summary
from tests.integration.test_erasure_attacks import STORES

EMAIL = "giulia.ferri@example.it"
PHONE = "+39 320 555 7788"
WHEN = "2026-03-01T10:00:00Z"

#: The people-level records of the six tools (source, object type) as their connectors key them.
TOOLS = (
    ("hubspot", "contact"),
    ("mailchimp", "member"),
    ("klaviyo", "profile"),
    ("shopify", "customer"),
    ("stripe", "customer"),
    ("woocommerce", "customer"),
)
#: Her name on three guest checkouts (folded by ``limit_holder``: case, accents, dots, spaces).
GUEST_NAMES = ("Giulia Ferri", "G. Ferri", "Giulia M. Ferri")


def _her_tool_records(phone: bool) -> list[dict[str, Any]]:
    return [
        {
            "source": source,
            "object_type": object_type,
            "id": f"{source}-1",
            "updated_at": WHEN,
            "email": EMAIL,
            **({"phone": PHONE} if phone else {}),
            "first_name": "Giulia",
            "last_name": "Ferri",
            "country": "IT",
        }
        for source, object_type in TOOLS
    ]


def _her_guest_orders(names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            "source": "woocommerce",
            "object_type": "order",
            "id": f"90{i}",
            "updated_at": WHEN,
            "email": EMAIL,
            "full_name": name,
            "country": "IT",
            "orders": [
                {"id": f"90{i}", "total": "49.00", "currency": "EUR", "created_at": WHEN, "status": "paid"}
            ],
        }
        for i, name in enumerate(names)
    ]


def _resolved(tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[dict[str, Any]]) -> list[Any]:
    source, out = tmp_path / "records.jsonl", tmp_path / "profiles.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    assert main(["resolve", str(source), "--out", str(out), "--quiet"]) == 0
    counts = _summary(capsys.readouterr().out)
    assert (counts["records read"], counts["quarantined"]) == (len(lines), 0)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_her_tools_and_guest_orders_all_in_one_spelling_are_one_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The guard (green before and after): one spelling on the guest orders is one holder."""
    profiles = _resolved(
        tmp_path, capsys, [*_her_tool_records(phone=False), *_her_guest_orders(("Giulia Ferri",) * 3)]
    )
    assert len(profiles) == 1


def test_a_file_of_them_resolved_by_the_cli_is_one_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``profilesync resolve`` (the embedded store founds a batch's new customers together,
    core/ingest_fresh.py) makes her one profile: the answer the sync path below does not give.
    Green before and after; it covers the three spellings, which no test did."""
    profiles = _resolved(tmp_path, capsys, [*_her_tool_records(phone=False), *_her_guest_orders(GUEST_NAMES)])
    assert [len(p["sources"]) for p in profiles] == [9]


@pytest.mark.parametrize("store", sorted(STORES))
def test_one_shopper_in_six_tools_with_three_guest_spellings_is_one_profile_when_synced(store: str) -> None:
    # GIVEN her records in six tools, each with her email and her name, and three guest orders with
    # her email and her name as typed at three checkouts, mapped as the JSON-lines connector maps them
    records = _records([*_her_tool_records(phone=False), *_her_guest_orders(GUEST_NAMES)])
    with STORES[store]() as stores:
        # WHEN they are ingested in one batch (exact mode, the default), as a sync ingests a page
        ingest(records, stores.profiles)
        profiles = list(stores.profiles.iter_profiles())
    # THEN she is one profile holding all nine records (on main: nine profiles, one record each)
    assert [len(p.sources) for p in profiles] == [9]


def _records(lines: list[dict[str, Any]]) -> list[SourceRecord]:
    records = [normalise_record(draft_from_flat(line)) for line in lines]
    assert all(isinstance(r, SourceRecord) for r in records)
    return [r for r in records if isinstance(r, SourceRecord)]


def _sms_only() -> dict[str, Any]:
    """Her Klaviyo SMS subscription: a profile with her mobile and first name, no email."""
    return {
        "source": "klaviyo",
        "object_type": "profile",
        "id": "sms-1",
        "updated_at": WHEN,
        "phone": PHONE,
        "first_name": "Giulia",
        "country": "IT",
    }


def _profiles_of(lines: list[dict[str, Any]]) -> list[set[str]]:
    store = InMemoryProfileStore()
    ingest(_records(lines), store)
    return [{r.key for r in p.sources} for p in store.iter_profiles()]


def test_her_sms_profile_joins_her_phone_held_in_four_tools() -> None:
    """The guard (green before and after): four tool records and the SMS profile, five holders."""
    lines = [*_her_tool_records(phone=True)[:4], _sms_only()]
    assert [len(keys) for keys in _profiles_of(lines)] == [5]


def test_her_sms_profile_joins_her_phone_held_in_six_tools() -> None:
    # GIVEN her six tool records, each with her email and mobile, and her SMS-only Klaviyo profile
    lines = [*_her_tool_records(phone=True), _sms_only()]
    # WHEN they are resolved in one batch
    profiles = _profiles_of(lines)
    # THEN she is one profile of seven records (on main: the SMS profile stays apart)
    assert [len(keys) for keys in profiles] == [7]


#: One person in all seven built-in connectors' people-level records: a member in two Mailchimp
#: audiences (two instances), and the Salesforce lead who became a contact (Salesforce keeps both).
EVERY_TOOL = (
    ("hubspot", "contact"),
    ("mailchimp", "member"),
    ("mailchimp", "member"),
    ("klaviyo", "profile"),
    ("shopify", "customer"),
    ("stripe", "customer"),
    ("woocommerce", "customer"),
    ("salesforce", "contact"),
    ("salesforce", "lead"),
)


def test_one_person_in_every_connector_is_one_profile() -> None:
    # GIVEN nine records of one person, one in each tool (two Mailchimp audiences, a Salesforce lead
    # and contact), each with her email and her name
    lines = [
        {
            "source": source,
            "object_type": object_type,
            "id": f"{source}-{i}",
            "updated_at": WHEN,
            "email": EMAIL,
            "first_name": "Giulia",
            "last_name": "Ferri",
        }
        for i, (source, object_type) in enumerate(EVERY_TOOL)
    ]
    # WHEN they are resolved in one batch (exact mode, the default)
    profiles = _profiles_of(lines)
    # THEN she is one profile of nine records (on main: nine profiles)
    assert [len(keys) for keys in profiles] == [9]
