"""Poison records: every part of a normalised record is bounded, and a bad record is quarantined
alone with a reason, never failing what it travels with (issue 11).

A normalised record is stored whole in one DynamoDB item (400 KB, sort key 1,024 bytes), travels in
one SQS message (256 KB) and is written in one transaction (100 items). These tests feed the
records that broke those limits on main and check what normalisation makes of them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.merge import build_profile, record_hash
from core.normalise import (
    MAX_DROPPED,
    MAX_IDENTIFIERS,
    MAX_INLINE_ORDERS,
    MAX_KEY_BYTES,
    MAX_RECORD_BYTES,
    MAX_TRAIT_CHARS,
    MAX_TRAITS_BYTES,
    NormaliseOptions,
    is_future_dated,
    normalise_record,
)
from core.schema import Identifier, Quarantined, RecordDraft, SourceRecord
from core.time_bound import read_before

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
AT_NOW = NormaliseOptions(now=NOW)
SQS_MAX_MESSAGE_BYTES = 256 * 1024
DYNAMODB_MAX_ITEM_BYTES = 400 * 1024


def draft(**changes: Any) -> RecordDraft:
    fields: dict[str, Any] = {
        "source": "crm",
        "source_id": "c1",
        "updated_at": "2026-11-05T10:00:00Z",
        "emails": ["ann@example.com"],
    }
    fields.update(changes)
    return RecordDraft(**fields)


def record_of(result: SourceRecord | Quarantined) -> SourceRecord:
    assert isinstance(result, SourceRecord), result
    return result


def quarantined(result: SourceRecord | Quarantined) -> Quarantined:
    assert isinstance(result, Quarantined), result
    return result


def stored_bytes(record: SourceRecord) -> int:
    """What the snapshot item holds: the record's JSON, UTF-8 (raises on invalid Unicode)."""
    return len(record.model_dump_json().encode("utf-8"))


# --- ids --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_id", "reason"),
    [
        (["a", "b"], "source id must be a string or an integer, not a list"),
        ({"id": 1}, "source id must be a string or an integer, not an object"),
        (1.5, "source id must be a string or an integer, not a number"),
        (True, "source id must be a string or an integer, not a boolean"),
        ("", "missing source id"),
        ("c\ud800", "source id holds invalid Unicode (a lone surrogate, U+D800)"),
    ],
)
def test_an_id_that_is_not_a_string_or_an_integer_is_quarantined_with_the_reason(
    source_id: object, reason: str
) -> None:
    # GIVEN a record whose id is a list, an object, a float, a boolean, blank or invalid Unicode
    # WHEN it is normalised THEN it is quarantined, the reason naming what is wrong
    assert quarantined(normalise_record(draft(source_id=source_id))).reason.startswith(reason)


def test_integer_ids_are_text_and_a_key_too_long_to_store_is_quarantined() -> None:
    # GIVEN an integer id, and an id that makes the key longer than a DynamoDB sort key holds
    assert record_of(normalise_record(draft(source_id=123))).source_id == "123"
    long_id = "x" * MAX_KEY_BYTES
    # WHEN normalised THEN the long one is quarantined before it can fail a transaction
    result = quarantined(normalise_record(draft(source_id=long_id)))
    assert "bytes, over the 1,000 a stored key holds" in result.reason
    # AND the quarantine entry itself stays small (its id is cut for display)
    assert len(result.source_id) <= 200
    # AND 1,000 bytes of multi-byte characters count as bytes, not characters
    assert isinstance(normalise_record(draft(source_id="é" * 500)), Quarantined)
    assert isinstance(normalise_record(draft(source_id="é" * 400)), SourceRecord)


# --- invalid Unicode --------------------------------------------------------------------------------


def test_lone_surrogates_are_refused_value_by_value_and_the_record_stays_writable() -> None:
    # GIVEN a record with a lone surrogate in a trait, in one of two emails, and in a consent channel
    result = normalise_record(
        draft(
            emails=["a\ud800@example.com", "ann@example.com"],
            traits={"first_name": "Ann\ud800", "city": "Leeds"},
            consent={"e\udfffmail": True},
        )
    )
    # WHEN normalised THEN the bad values are dropped with a reason and the rest is kept
    record = record_of(result)
    assert [i.value for i in record.identifiers if i.kind == "email"] == ["ann@example.com"]
    assert record.traits == {"city": "Leeds"}
    assert record.consent == {}
    reasons = {d.field: d.reason for d in record.dropped}
    assert reasons["traits.first_name"] == "invalid Unicode (a lone surrogate, U+D800)"
    # AND the record, its hash and its profile serialise to UTF-8 (what DynamoDB and SQS take)
    assert stored_bytes(record) > 0
    record_hash(record)
    build_profile("cus_1", [record]).model_dump_json().encode("utf-8")


def test_a_quarantined_record_with_lone_surrogates_can_be_written_out() -> None:
    # GIVEN a record with nothing usable but lone surrogates everywhere
    raw = {"id": "\ud800", "email": "\udc00", "name\ud83d": ["\ud800"]}
    result = quarantined(normalise_record(draft(source_id="\ud800", emails=["\udc00"], raw=raw)))
    # WHEN the quarantine entry is written as UTF-8 JSON (as resolve's quarantine file is)
    text = json.dumps(result.model_dump(mode="json"), ensure_ascii=False)
    # THEN it encodes, the surrogates shown as U+FFFD
    assert "\ufffd" in text.encode("utf-8").decode("utf-8")


# --- identifiers per record -------------------------------------------------------------------------


def test_more_identifiers_than_one_transaction_holds_are_trimmed_and_the_drop_recorded() -> None:
    # GIVEN a contact with 100 extra emails and 60 phones (main failed its whole SQS message)
    emails = [f"ann{i}@example.com" for i in range(100)]
    phones = [f"+1201555{i:04d}" for i in range(60)]
    record = record_of(normalise_record(draft(emails=emails, phones=phones), AT_NOW))
    # WHEN normalised THEN the first MAX_IDENTIFIERS are kept, in the vendor's order
    kept = [i.value for i in record.identifiers if i.kind != "source"]
    assert len(kept) == MAX_IDENTIFIERS
    assert {f"ann{i}@example.com" for i in range(MAX_IDENTIFIERS)} == set(kept)
    # AND the drops are recorded: the first ones listed, the rest counted in one entry
    assert len(record.dropped) == MAX_DROPPED + 1
    assert record.dropped[0].reason.startswith(f"more than {MAX_IDENTIFIERS} emails and phones")
    assert record.dropped[-1].value == str(100 + 60 - MAX_IDENTIFIERS - MAX_DROPPED)


# --- size: traits and orders ------------------------------------------------------------------------


def test_a_trait_too_large_for_an_item_is_dropped_and_the_record_kept() -> None:
    # GIVEN a 420 KB trait (main failed the batch: the item was over DynamoDB's 400 KB)
    record = record_of(normalise_record(draft(traits={"notes": "x" * 420_000, "city": "Leeds"})))
    # WHEN normalised THEN the trait is dropped with the limit in the reason, the record kept
    assert record.traits == {"city": "Leeds"}
    assert record.dropped[0].reason == f"longer than {MAX_TRAIT_CHARS} characters"


def test_traits_over_their_budget_leave_out_the_largest_first() -> None:
    # GIVEN 20 traits of 4,000 characters each (80 KB together) and a first name
    traits: dict[str, Any] = {f"note_{i:02d}": chr(65 + i) * 4000 for i in range(20)}
    traits["first_name"] = "ann"
    record = record_of(normalise_record(draft(traits=traits)))
    # WHEN normalised THEN the traits kept fit the budget, the name among them
    size = sum(len(k) + len(v.encode()) for k, v in record.traits.items())
    assert size <= MAX_TRAITS_BYTES
    assert record.traits["first_name"] == "Ann"
    left_out = [d for d in record.dropped if "were left out" in d.reason or "was left out" in d.reason]
    assert len(left_out) == 21 - len(record.traits)


def test_orders_beyond_what_one_item_holds_are_summed_up_and_count_in_lifetime_value() -> None:
    # GIVEN a record with 10,000 orders of 1.00 GBP, one of them refunded and one cancelled
    orders = [
        {"id": f"o{i}", "total": "1.00", "currency": "GBP", "created_at": f"2026-01-01T00:00:{i % 60:02d}Z"}
        for i in range(10_000)
    ]
    orders[5]["status"] = "refunded"
    orders[6]["status"] = "cancelled"
    record = record_of(normalise_record(draft(orders=orders)))
    # WHEN normalised THEN the newest orders are inline, the rest summed up
    assert len(record.orders) == MAX_INLINE_ORDERS
    assert record.order_summary is not None
    assert record.order_summary.orders == 10_000 - MAX_INLINE_ORDERS
    # AND the record fits one item, and its profile's lifetime value counts every paid order
    assert stored_bytes(record) < MAX_RECORD_BYTES
    computed = build_profile("cus_1", [record]).computed
    assert computed.lifetime_value == {"GBP": Decimal("9998.00")}
    assert computed.order_count == 9998


def test_negative_totals_are_refunds() -> None:
    # GIVEN a "paid" order of -500 GBP and a paid one of 20 GBP
    orders = [
        {"id": "o1", "total": "-500", "currency": "GBP", "created_at": "2026-01-01T00:00:00Z"},
        {
            "id": "o2",
            "total": "20",
            "currency": "GBP",
            "created_at": "2026-01-02T00:00:00Z",
            "status": "paid",
        },
    ]
    record = record_of(normalise_record(draft(orders=orders)))
    # WHEN normalised THEN the negative one is a refund, and lifetime value counts the sale only
    assert [o.status for o in record.orders] == ["refunded", "paid"]
    computed = build_profile("cus_1", [record]).computed
    assert (computed.lifetime_value, computed.segment) == ({"GBP": Decimal("20.00")}, "customer")


def test_the_largest_record_the_limits_allow_fits_an_item_and_a_message() -> None:
    # GIVEN a draft at every limit at once: the longest key, 40 of the longest emails and more,
    # traits over budget, long consent channels, 10,000 orders with the longest ids, hundreds of
    # dropped values with long texts
    long_local = "a" * 60
    emails = [f"{long_local}.{i:03d}@{'b' * 57}.{'c' * 57}.{'d' * 57}.example.com" for i in range(300)]
    traits: dict[str, Any] = {f"{'t' * 120}{i:03d}": "é" * 4000 for i in range(40)}
    traits.update({f"bad{i}": {"x": i} for i in range(300)})
    orders = [
        {"id": f"{'o' * 250}{i:05d}", "total": "123456.78", "currency": "GBP", "created_at": "2026-01-01"}
        for i in range(10_000)
    ]
    consent = {f"{'c' * 60}{i:03d}": {"granted": True, "changed_at": "2026-01-01"} for i in range(30)}
    big = draft(
        source_id="é" * 300,
        object_type="contact",
        emails=emails,
        phones=["not a phone " * 20] * 200,
        traits=traits,
        consent=consent,
        orders=orders,
    )
    # WHEN normalised
    record = record_of(normalise_record(big, AT_NOW))
    assert len(max(i.value for i in record.identifiers if i.kind == "email")) >= 250
    # THEN its JSON is within the record budget: one DynamoDB item, one SQS message on its own
    size = stored_bytes(record)
    assert size <= MAX_RECORD_BYTES < SQS_MAX_MESSAGE_BYTES < DYNAMODB_MAX_ITEM_BYTES
    # AND so is the profile built from it alone
    assert len(build_profile("cus_1", [record]).model_dump_json().encode()) < DYNAMODB_MAX_ITEM_BYTES


# --- future times -----------------------------------------------------------------------------------


def test_a_record_dated_2099_is_kept_read_as_now_and_flagged() -> None:
    # GIVEN a record stamped 2099 (more than the default skew of 1 day ahead)
    result = normalise_record(draft(updated_at="2099-01-01T00:00:00Z"), AT_NOW)
    # WHEN normalised THEN it is kept, its time read as now (just before the second it was read in:
    # core.time_bound.read_before), and it says so
    record = record_of(result)
    assert record.updated_at == read_before(NOW)
    assert is_future_dated(record)
    assert record.dropped[0].field == "updated_at"
    assert (
        record.dropped[0].reason
        == "more than 1 day in the future (a clock ahead?); read as the time it was read"
    )


def test_a_clock_a_little_ahead_is_left_alone_and_the_skew_is_configurable() -> None:
    # GIVEN a record 6 hours ahead of now
    ahead = (NOW + timedelta(hours=6)).isoformat()
    # WHEN normalised with the default skew (1 day) THEN its time is kept as given
    assert record_of(normalise_record(draft(updated_at=ahead), AT_NOW)).updated_at == NOW + timedelta(hours=6)
    # AND with a skew of 1 hour it is read as now
    strict = NormaliseOptions(now=NOW, max_future_skew=timedelta(hours=1))
    record = record_of(normalise_record(draft(updated_at=ahead), strict))
    assert (record.updated_at, is_future_dated(record)) == (read_before(NOW), True)
    assert record.dropped[0].reason.startswith("more than 1 hour in the future")


def test_a_future_consent_time_is_read_as_the_record_time_so_the_record_hash_is_stable() -> None:
    # GIVEN a consent decision stamped 2099 on a record of November
    raw = draft(consent={"email": {"granted": False, "changed_at": "2099-05-05T00:00:00Z"}})
    # WHEN normalised at two different times
    first = record_of(normalise_record(raw, AT_NOW))
    later = record_of(normalise_record(raw, NormaliseOptions(now=NOW + timedelta(days=3))))
    # THEN the decision is kept at the record's own time, and both reads hash the same
    assert first.consent["email"].changed_at == first.updated_at
    assert first.consent["email"].granted is False
    assert record_hash(first) == record_hash(later)
    # AND a future-dated record read twice hashes the same too (its time is left out of the hash)
    future = draft(updated_at="2099-01-01T00:00:00Z")
    a = record_of(normalise_record(future, AT_NOW))
    b = record_of(normalise_record(future, NormaliseOptions(now=NOW + timedelta(hours=5))))
    assert a.updated_at != b.updated_at
    assert record_hash(a) == record_hash(b)


# --- phones in the record's own region --------------------------------------------------------------


@pytest.mark.parametrize("phone", ["020 7946 0018", "0044 20 7946 0018", "+44 20 7946 0018"])
def test_a_uk_record_reads_its_national_numbers_as_uk_numbers(phone: str) -> None:
    # GIVEN a record of a UK customer (country GB) whose only identifier is a national UK number,
    # read with the default region US
    result = normalise_record(draft(emails=[], phones=[phone], traits={"country": "United Kingdom"}))
    # WHEN normalised THEN the number is read in the record's own country
    assert record_of(result).identifiers[0] == Identifier(kind="phone", value="+442079460018")


def test_without_a_country_the_configured_region_reads_national_numbers() -> None:
    # GIVEN a national UK number in a record naming no country (or a country without phone numbers)
    for traits in ({}, {"country": "AQ"}):
        raw = draft(emails=[], phones=["020 7946 0018"], traits=traits)
        # WHEN normalised with the default US, and with the instance's configured GB
        # THEN US finds no valid number (quarantined), GB reads it
        assert isinstance(normalise_record(raw), Quarantined)
        gb = record_of(normalise_record(raw, NormaliseOptions(default_region="GB")))
        assert gb.identifiers[0].value == "+442079460018"


# --- arbitrary input --------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec=None), max_size=40),  # lone surrogates included
    st.sampled_from(["ann@example.com", "+442079460018", "2099-01-01T00:00:00Z", "GB", "-5", "1e9999"]),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source_id=_json,
    updated_at=_json,
    emails=st.lists(_json, max_size=5),
    phones=st.lists(_json, max_size=5),
    traits=st.dictionaries(st.text(max_size=10), _json, max_size=6),
    consent=st.dictionaries(st.text(max_size=10), _json, max_size=3),
    orders=st.lists(_json, max_size=4),
    owner_id=_json,
    object_type=st.sampled_from(["contact", "order", "charge"]),
)
def test_arbitrary_json_values_give_a_record_or_a_quarantine_and_either_can_be_written(
    source_id: Any,
    updated_at: Any,
    emails: list[Any],
    phones: list[Any],
    traits: dict[str, Any],
    consent: dict[str, Any],
    orders: list[Any],
    owner_id: Any,
    object_type: str,
) -> None:
    # GIVEN a draft of arbitrary JSON values in every field
    raw = RecordDraft(
        source="crm",
        object_type=object_type,
        source_id=source_id,
        updated_at=updated_at,
        emails=emails,
        phones=phones,
        traits=traits,
        consent=consent,
        orders=orders,
        owner_type="customer" if object_type != "contact" else None,
        owner_id=owner_id,
    )
    # WHEN normalised
    result = normalise_record(raw, AT_NOW)
    # THEN it is a record that serialises to UTF-8 within its budget, or a quarantine that can be written
    if isinstance(result, SourceRecord):
        assert stored_bytes(result) <= MAX_RECORD_BYTES
        assert result.updated_at <= NOW + timedelta(days=1)
        record_hash(result)
    else:
        assert result.reason
        json.dumps(result.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")
