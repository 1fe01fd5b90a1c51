"""attack31r: the compiled paths on the vendors' own objects and on awkward real-world lines
(robustness: byte parity). All hold on main (promises that hold).

The parity tests of native/ feed the one call a record (native/src/norm_record*.rs) hypothesis
drafts and jsonl lines, and the one call a batch (native/src/batch*.rs) generated ``SourceRecord``s.
Here the drafts are what the seven connectors' own mappings make of their sandboxes' objects, the
objects of the vendors' published specs and mutated copies of both (profilesync.testing.fuzz's
``vendor_objects``, ``spec_objects``; children with owners, Stripe's epoch seconds, HubSpot's
property maps, Shopify's GraphQL ids...), and jsonl lines with values met in real exports: IDN and
quoted local parts, names in scripts with no case, money at 10^15 yen and 10^12 Kuwaiti dinars, three
places of Bahraini dinars, negative and zero orders and refunds, years 1 and 9999 at +14:00 and
-12:00, an offset of seconds, a leap second, consent decisions of one instant written in two zones
and decisions dated by their record, duplicated JSON keys, ids in other scripts and numbers written
as text. Each draft goes through ``profilesync_native.normalise_record`` and through
``core.normalise.normalise_record`` with none of the compiled pieces (the oracle): the same outcome,
pickled to the same bytes. The records then go through ``FreshRows.groups`` and core.ingest_fresh's
``_rows`` with the extension off, one record a group and three, on the scratch and the full store:
the same rows, and no group declined.

Checked able to fail: with core/normalise/_money.py's rule that a negative paid total is a refund
taken out of the Python oracle (lines 222 and 270), the line test fails (the compiled order reader
keeps its own rule); with ``_string_json`` of core/ingest_fresh.py writing ``json.dumps``'s ASCII
escapes, the line test fails on its rows (the compiled rows write the lines' ids in other scripts as
pydantic writes them).
"""

from __future__ import annotations

import json
import pickle
import random
from typing import Any

import pytest

from connectors.jsonl import line_outcome
from core.connector import RawPage
from core.ingest_native import Declined
from core.ingest_settings import IngestSettings
from core.schema import RecordDraft, SourceRecord
from core.testing.mutations import mutate
from profilesync.registry import get
from profilesync.testing.fuzz import vendor_objects
from profilesync.testing.spec_objects import spec_objects
from tests.native_support import needs_native
from tests.unit.test_native30g_batch_parity import AT, _both_ways
from tests.unit.test_native30w_record_parity import _both

pytestmark = needs_native

CONNECTORS = ("hubspot", "mailchimp", "shopify", "klaviyo", "stripe", "salesforce", "woocommerce")

EMAILS = [
    "josé@ñandú.es",
    '"john doe"@example.com',
    "user@[192.168.0.1]",
    "ÀNN@EXAMPLE.COM",
    "ann@example.com.",
    "ａｎｎ@example.com",
    "Ann@Bücher.DE",
    "ann\u200b@example.com",
    "ANN@XN--BCHER-KVA.DE",
    "o'brien@example.ie",
    "用户@例子.广告",
    "θσερ@εχαμπλε.ψομ",
    "ann@example.com\u00a0",
    "ANN+Shop@GMAIL.com",
    "ann.lee@googlemail.com",
    "İnan@example.com",
    "straße@example.de",
    "ǅemal@example.com",
]
PHONES = [
    "+81 3-1234-5678",
    "+965 2222 3333",
    "+973 1700 0000",
    "+1 (201) 200-2223",
    "０２０ ７９４６ ００１８",
    "+44 (0)20 7946 0018",
    "tel:+1-201-200-2223",
    "+1 201 200 2223 x12",
    "00442079460018",
]
NAMES = [
    "李",
    "สมชาย",
    "محمد",
    "ДМИТРИЙ",
    "ᲒᲘᲝᲠᲒᲘ",
    "ǆemal",
    "İSMAIL",
    "O'NEIL-SMITH",
    "de la CRUZ",
    "ΣΙΣΥΦΟΣ",
]
TIMES = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-12:00",
    "2026-03-29T01:30:00+05:45",
    "2026-03-29T01:30:00-00:30",
    "2026-01-01T00:00:00+05:30:15",
    "2026-01-01T00:00:00.000001+00:00",
    "2016-12-31T23:59:60Z",
    "2026-01-01T10:00:00+02:00",
    "2026-01-01T08:00:00Z",
    "1700000000",
    "2026-01-01",
    "2026-05-31T23:59:59.999999-23:59",
]
TOTALS = [
    ("999999999999999", "JPY"),
    ("999999999999.999", "KWD"),
    ("0.001", "BHD"),
    ("-0.000", "KWD"),
    ("0", "JPY"),
    ("-5", "JPY"),
    ("1E+3", "JPY"),
    ("12.345", "BHD"),
    ("12.3", "KWD"),
    ("0.00", "GBP"),
    ("-19.90", "EUR"),
    ("1,299.00", "USD"),
    (" 5.00 ", "GBP"),
    ("5.0000", "CLF"),
]
IDS = ["x{}", "顧客{}", "kunde-ø{}", "{}"]


def _line(rng: random.Random, i: int) -> str:
    """A jsonl line of a contact, a member or a shop customer with real-world values."""
    data: dict[str, Any] = {
        "source": rng.choice(["crm", "shop", "email"]),
        "id": rng.choice(IDS).format(i),
        "updated_at": rng.choice(TIMES),
    }
    if rng.random() < 0.8:
        data["email"] = rng.choice(EMAILS)
    if rng.random() < 0.5:
        data["phone"] = rng.choice(PHONES)
    for trait, share in (("first_name", 0.6), ("last_name", 0.4)):
        if rng.random() < share:
            data[trait] = rng.choice(NAMES)
    if rng.random() < 0.3:
        data["country"] = rng.choice(["JP", "KW", "BH", "GB", "Bahrain", "日本"])
    if rng.random() < 0.4:
        decisions = [True, False, {"granted": False, "changed_at": rng.choice(TIMES)}]
        decisions.append({"granted": True, "dated_by_record": True})
        data["consent"] = {rng.choice(["email", "sms", "Email"]): rng.choice(decisions) for _ in range(2)}
    if rng.random() < 0.4:
        data["orders"] = []
        for k in range(rng.randint(1, 3)):
            total, currency = rng.choice(TOTALS)
            order = {"id": rng.choice([f"o{i}-{k}", f"x{i}"]), "total": total, "currency": currency}
            order["created_at"] = rng.choice(TIMES)
            if rng.random() < 0.4:
                order["status"] = rng.choice(["paid", "refunded", "partially_refunded", "cancelled"])
            data["orders"].append(order)
    text = json.dumps(data, ensure_ascii=rng.random() < 0.5)
    if rng.random() < 0.1:  # a key written twice (json keeps the last)
        text = text[:-1] + ', "email": "dup@example.com"}'
    return text


def _lines(count: int, seed: int = 31) -> list[str]:
    rng = random.Random(seed)
    return [_line(rng, i) for i in range(count)]


def _vendor_drafts(name: str) -> list[RecordDraft]:
    plugin = get(name)
    samples = vendor_objects(plugin, people=15)
    objects = samples + spec_objects(name, samples)
    rng = random.Random(5)
    objects += [(kind, mutate(raw, rng)) for kind, raw in objects for _ in range(2)]
    assert plugin.sandbox is not None
    connector = plugin.build(plugin.sandbox(people=0).settings())
    drafts: list[RecordDraft] = []
    try:
        for kind, raw in objects:
            try:
                drafts.extend(connector.to_records(RawPage([raw], None, kind)))
            except Exception:  # a mapping that refuses a broken object is test_mapping_fuzz's
                continue
    finally:
        connector.close()
    return [draft for draft in drafts if not draft.deleted]


def _normalised_both_ways(drafts: list[Any]) -> tuple[list[SourceRecord], int, list[Any]]:
    """The Python path's records, how many drafts the compiled call took, and the drafts whose
    outcomes differ."""
    records: list[SourceRecord] = []
    taken = 0
    differ = []
    for draft in drafts:
        expected, got, took = _both(draft)
        taken += took
        if got != expected:
            differ.append(draft)
        outcome = pickle.loads(expected)
        if isinstance(outcome, SourceRecord):
            records.append(outcome)
    return records, taken, differ


def _assert_batches_agree(records: list[SourceRecord], monkeypatch: pytest.MonkeyPatch) -> None:
    distinct = list({record.key: record for record in records}.values())
    for size in (1, 3):
        groups = [distinct[at : at + size] for at in range(0, len(distinct), size)]
        for scratch in (True, False):
            expected, got, *_ = _both_ways(groups, IngestSettings(clock=lambda: AT), scratch, monkeypatch)
            assert Declined.DECLINED not in got
            assert got == expected


@pytest.mark.parametrize("name", CONNECTORS)
def test_the_vendors_objects_normalise_and_found_customers_as_the_python_path_does(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN what the connector's mapping makes of its sandbox's objects, the vendor's spec objects
    # and mutated copies of both
    drafts = _vendor_drafts(name)
    assert len(drafts) > 40
    # WHEN each is normalised by the compiled call and by the Python function, and the records
    # found new customers by the compiled batch and by _rows
    records, taken, differ = _normalised_both_ways(drafts)
    # THEN the same outcomes (the compiled call took some), and the same rows
    assert differ == []
    assert taken > 10
    assert len(records) > 30
    _assert_batches_agree(records, monkeypatch)


def test_awkward_real_world_lines_normalise_and_found_customers_as_the_python_path_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN 400 jsonl lines with values met in real exports
    drafts = [line_outcome(n, line, len(line), "jsonl") for n, line in enumerate(_lines(400), start=1)]
    # WHEN each is normalised both ways, and the records found new customers both ways
    records, taken, differ = _normalised_both_ways(drafts)
    # THEN the same outcomes (the compiled call took a quarter at least), and the same rows
    assert differ == []
    assert taken > 100
    assert len(records) > 200
    _assert_batches_agree(records, monkeypatch)
