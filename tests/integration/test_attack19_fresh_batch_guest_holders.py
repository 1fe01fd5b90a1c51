"""attack19: the embedded store's batch path counts guest orders under the guardrail differently.

``profilesync resolve`` (and every ingest on the embedded store through ``core.batch_ingest.ingest_batch``)
founds a batch's new customers together: a group of records sharing keys with nothing stored is
built straight into its rows by ``core.ingest_fresh``, which checks the guardrail limits itself.
``core/batch_ingest.py`` promises "Same rows as ``ingest`` of the same batch".

Last round (attack17) made guest children count under the limits: a guest order (a child with no
owner) counts as the person its billing name names (``core.identity.limit_holder``), so twelve
strangers' guest orders keyed in on the shop's own address are twelve holders, past the email limit
of 8, and stay apart (docs/connectors.md, "Child objects"). ``core/ingest_fresh.py:196`` still counts
only ``record.level == "person"`` records, so in the batch path those twelve strangers hold the
shop's address zero times, the group is founded as one customer, and ``profilesync resolve`` makes
them one profile (their names, phones, orders and lifetime value under one customer id), while
``core.pipeline.ingest`` (a sync, the merge function) of the same records keeps them twelve.

The reverse holds too: one shopper in six tools with three spellings of her name on guest orders
(tests/integration/test_attack19_one_person_in_every_tool.py) is one profile through the batch path
and nine through ``ingest``. Either way the two paths disagree on the same records.

Objects: WooCommerce orders as attack17 builds them from the WooCommerce REST API's order shape
(``customer_id: 0``, ``billing``), mapped by ``connectors/woocommerce/_mapping.py`` ``order_draft``.

Fixed (fix19b): ``core.ingest_fresh`` counts a key's holders with ``core.identity.limit_holder``, the
distinct people ``group_records`` counts, so both paths make the same customers of these records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.jsonl import draft_from_flat
from connectors.woocommerce._mapping import order_draft
from core.batch_ingest import ingest_batch
from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import SourceRecord
from profilesync.cli import main
from tests.integration.test_attack3_resolve_counts import _summary
from tests.integration.test_attack17_guest_orders_shared_address import PEOPLE, SHOP, _guest_order
from tests.integration.test_attack19_one_person_in_every_tool import (
    GUEST_NAMES,
    _her_guest_orders,
    _her_tool_records,
)
from tests.integration.test_erasure_attacks import sqlite_stores


def _strangers() -> list[SourceRecord]:
    records = [normalise_record(order_draft(_guest_order(i, SHOP))) for i in range(len(PEOPLE))]
    assert all(isinstance(r, SourceRecord) for r in records)
    return [r for r in records if isinstance(r, SourceRecord)]


def _one_shopper() -> list[SourceRecord]:
    lines = [*_her_tool_records(phone=False), *_her_guest_orders(GUEST_NAMES)]
    records = [normalise_record(draft_from_flat(line)) for line in lines]
    assert all(isinstance(r, SourceRecord) for r in records)
    return [r for r in records if isinstance(r, SourceRecord)]


CASES = {"twelve strangers on the shop's address": _strangers, "one shopper in six tools": _one_shopper}


def _customers(records: list[SourceRecord], ingesting: Any) -> set[frozenset[str]]:
    with sqlite_stores() as stores:
        ingesting(records, stores.profiles)
        return {frozenset(r.key for r in p.sources) for p in stores.profiles.iter_profiles()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_batch_path_founds_the_customers_ingest_makes_of_the_same_records(case: str) -> None:
    # GIVEN one batch of records sharing an email, past its limit when guest orders count
    records = CASES[case]()
    # WHEN the embedded store ingests it through the batch path and, afresh, through ingest
    # THEN both make the same customers (on main: 1 and 12 for the strangers, 1 and 9 for her)
    assert _customers(records, ingest_batch) == _customers(records, ingest)


def test_resolve_keeps_strangers_guest_orders_on_the_shops_address_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN twelve people's guest orders (each its buyer's name and phone), all with the shop's own
    # address as billing email, as a file of flat records
    lines = [
        {
            "source": "woocommerce",
            "object_type": "order",
            "id": str(r.source_id),
            "updated_at": r.updated_at.isoformat(),
            "email": SHOP,
            "phone": next(i.value for i in r.identifiers if i.kind == "phone"),
            "first_name": r.traits["first_name"],
            "last_name": r.traits["last_name"],
            "orders": [o.model_dump(mode="json") for o in r.orders],
        }
        for r in _strangers()
    ]
    source, out = tmp_path / "orders.jsonl", tmp_path / "profiles.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    # WHEN the file is resolved (exact mode, the embedded store: the batch path)
    assert main(["resolve", str(source), "--out", str(out), "--quiet"]) == 0
    assert _summary(capsys.readouterr().out)["quarantined"] == 0
    # THEN no profile holds two strangers (on main: one profile holds all twelve)
    profiles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(len(p["sources"]) for p in profiles) == [1] * len(PEOPLE)
