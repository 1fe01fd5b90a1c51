"""The compiled profile of a new customer (native/src/profile.rs) is core.ingest_profile's, byte for byte.

core.ingest_native's ``new_profile`` writes the PROFILE item's JSON and hash in Rust for the common
case and returns None for anything else, which then takes the Python path. The oracle is the Python
``new_profile`` (itself held to ``build_profile``'s models by tests/unit/test_ingest_profile.py), on
that file's generated records: odd characters in every string, times in UTC and other zones (and
before the year 1000), microseconds or none, consent stamped ahead of a record's reading, orders and
summaries, children, several records competing for a trait under each rule. Where the compiled call
declines, it must be one of the cases it is documented to decline; everywhere else it must write.
"""

from __future__ import annotations

from datetime import UTC, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core.ingest_native import _NO_ORDERS_JSON, NativeRows, _remembered
from core.ingest_profile import new_profile
from core.merge import MergeRules
from core.normalise import normalise_record
from core.schema import SourceRecord
from core.testing.population import population
from tests.native_support import NATIVE, needs_native
from tests.unit.test_ingest_profile import _RULES, SETTINGS, _record

pytestmark = needs_native


def _compiled() -> NativeRows:
    assert NATIVE is not None
    return NativeRows(NATIVE)


def _offset_in_minutes(at: datetime) -> bool:
    offset = at.utcoffset()
    return offset is not None and offset.total_seconds() % 60 == 0


def _common(group: list[SourceRecord], rules: MergeRules) -> bool:
    """Whether the compiled profile is documented to write this group (profile.rs's module doc)."""
    times = [r.updated_at for r in group] + [s.changed_at for r in group for s in r.consent.values()]
    times += [r.read_at for r in group if r.read_at is not None]
    if not all(_offset_in_minutes(at) for at in times):
        return False
    for record in group:
        read = record.read_at
        if read is not None and (
            read < record.updated_at or any(s.changed_at > read for s in record.consent.values())
        ):
            return False
    givers: dict[str, int] = {}
    for record in group:
        for name, value in record.traits.items():
            givers[name] = givers.get(name, 0) + bool(value)
    return all(count < 2 or rules.rule_for(name).strategy == "most_recent" for name, count in givers.items())


@SETTINGS
@given(
    records=st.integers(1, 4).flatmap(lambda n: st.tuples(*[_record(i) for i in range(n)])),
    customer_id=st.one_of(st.just("cus_abc234"), st.text(min_size=1, max_size=12)),
    rules=_RULES,
)
def test_the_compiled_profile_is_the_python_one_or_declines(
    records: tuple[SourceRecord, ...], customer_id: str, rules: MergeRules
) -> None:
    # GIVEN a new customer's records (sorted by key, as core.ingest_fresh hands them over)
    group = sorted(records, key=lambda r: r.key)
    # WHEN the compiled path writes its profile
    built = _compiled().new_profile(customer_id, group, rules)
    # THEN it is the Python path's text and hash, and it declines only what it says it declines
    if _common(group, rules):
        assert built is not None
    if built is not None:
        assert built == new_profile(customer_id, group, rules)


def test_every_profile_of_the_bench_population_is_compiled_and_the_python_one() -> None:
    # GIVEN the bench's people across three tools, grouped by person (orders, consent, several tools)
    by_person: dict[str, list[SourceRecord]] = {}
    for _, flat in population(300, seed=4):
        record = normalise_record(draft_from_flat(flat))
        if isinstance(record, SourceRecord):
            by_person.setdefault(record.source_id[1:], []).append(record)
    groups = [sorted(g, key=lambda r: r.key) for g in by_person.values()]
    assert any(len(g) > 1 for g in groups)
    assert any(r.orders for g in groups for r in g)
    assert any(r.consent for g in groups for r in g)
    # WHEN each is written as a new customer by the compiled path THEN it is the Python one's
    for number, group in enumerate(groups):
        customer = f"cus_{number:04d}"
        assert _compiled().new_profile(customer, group, MergeRules()) == new_profile(
            customer, group, MergeRules()
        )


# A few instants, each in two zones: ties between records (the same time written two ways) are
# where the rules' tie-breaks decide (the key for a trait, an opt-out over a grant for consent).
_SHARED_TIMES = st.sampled_from(
    [
        datetime.fromisoformat(text)
        for text in [
            "2024-03-01T10:00:00+00:00",
            "2024-03-01T12:00:00+02:00",
            "2024-03-01T10:00:00.000500+00:00",
            "2024-03-01T04:30:00.000500-05:30",
            "2023-12-31T23:59:59+00:00",
        ]
    ]
)


@st.composite
def _tied_record(draw: st.DrawFn, number: int) -> SourceRecord:
    source = draw(st.sampled_from(["crm", "shop", "mail"]))
    return SourceRecord.model_validate(
        {
            "source": source,
            "object_type": "contact",
            "source_id": str(number),
            "updated_at": draw(_SHARED_TIMES),
            "identifiers": [{"kind": "source", "value": f"{source}:contact:{number}"}],
            "traits": draw(
                st.dictionaries(st.sampled_from(["first_name", "city"]), st.sampled_from(["", "A", "B"]))
            ),
            "consent": draw(
                st.dictionaries(
                    st.sampled_from(["email", "sms"]),
                    st.builds(lambda g, at: {"granted": g, "changed_at": at}, st.booleans(), _SHARED_TIMES),
                )
            ),
        }
    )


@SETTINGS
@given(records=st.integers(2, 5).flatmap(lambda n: st.tuples(*[_tied_record(i) for i in range(n)])))
def test_ties_in_time_are_broken_as_the_python_path_breaks_them(records: tuple[SourceRecord, ...]) -> None:
    # GIVEN records whose traits and consent decisions often share an instant (in two zones)
    group = sorted(records, key=lambda r: r.key)
    # WHEN the compiled path writes the profile THEN it is the Python path's, never declined
    assert _compiled().new_profile("cus_t", group, MergeRules()) == new_profile("cus_t", group, MergeRules())


_AMOUNTS = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), allow_nan=False).map(
    lambda amount: amount.quantize(Decimal(1).scaleb(-min(4, max(0, -int(amount.as_tuple().exponent)))))
) | st.sampled_from(
    [Decimal("0.001"), Decimal("-0.01"), Decimal("-0.00"), Decimal("1E+2"), Decimal("0.000005")]
)


@st.composite
def _buyer(draw: st.DrawFn, number: int) -> SourceRecord:
    source = draw(st.sampled_from(["shop", "stripe"]))
    orders = draw(
        st.lists(
            st.builds(
                lambda n, total, currency, at, status: {
                    "id": f"o{n}",
                    "total": total,
                    "currency": currency,
                    "created_at": at,
                    "status": status,
                },
                st.integers(1, 3),
                _AMOUNTS,
                st.sampled_from(["EUR", "GBP", "JPY"]),
                _SHARED_TIMES,
                st.sampled_from(["paid", "paid", "refunded"]),
            ),
            max_size=4,
        )
    )
    return SourceRecord.model_validate(
        {
            "source": source,
            "object_type": "customer",
            "source_id": str(number),
            "updated_at": draw(_SHARED_TIMES),
            "identifiers": [{"kind": "source", "value": f"{source}:customer:{number}"}],
            "orders": orders,
        }
    )


def _python_computed_not_called(records: list[SourceRecord]) -> str:
    raise AssertionError("the compiled sums declined a common group")


@SETTINGS
@given(
    records=st.integers(1, 4).flatmap(lambda n: st.tuples(*[_buyer(i) for i in range(n)])),
    rules=_RULES,
)
def test_the_computed_traits_are_summed_in_rust_as_decimal_sums_them(
    records: tuple[SourceRecord, ...], rules: MergeRules
) -> None:
    # GIVEN buyers whose paid orders repeat ids, mix currencies and amounts of 0 to 4 places (and
    # a few odd ones: -0.00, 1E+2, 0.000005), at instants they share
    group = sorted(records, key=lambda r: r.key)
    _, recent, default_recent, _, thresholds = _remembered(rules)
    # WHEN the extension writes the profile, the Python sums' callback failing if it is asked
    assert NATIVE is not None
    built = NATIVE.new_profile(
        "cus_o",
        group,
        recent,
        default_recent,
        UTC,
        timezone,
        _NO_ORDERS_JSON,
        _python_computed_not_called,
        thresholds,
    )
    # THEN the lifetime values, averages, counts, times, segment and currency are the Python path's
    assert tuple(built) == new_profile("cus_o", group, rules)


@pytest.mark.parametrize(
    ("text", "declined"),
    [
        ("2024-02-29T23:59:59.000001+00:00", False),
        ("0002-01-01T00:00:00-05:30", False),
        ("2024-01-01T00:00:00+00:00:30", True),
    ],
)
def test_a_time_is_written_as_pydantic_writes_it_or_declined(text: str, declined: bool) -> None:
    # GIVEN a record stamped at this time (an offset of seconds is not the common case)
    record = SourceRecord.model_validate(
        {
            "source": "crm",
            "object_type": "contact",
            "source_id": "1",
            "updated_at": datetime.fromisoformat(text),
            "identifiers": [{"kind": "source", "value": "crm:contact:1"}],
            "traits": {"first_name": "Ann"},
        }
    )
    # WHEN the compiled path writes its profile
    built = _compiled().new_profile("cus_a", [record], MergeRules())
    # THEN it is the Python path's, or it declines the offset of seconds
    assert (built is None) == declined
    if built is not None:
        assert built == new_profile("cus_a", [record], MergeRules())
