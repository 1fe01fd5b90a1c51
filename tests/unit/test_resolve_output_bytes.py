"""``resolve --out`` writes, byte for byte, what ``json.dumps(profile_line(profile))`` writes.

The writer of the embedded store's documents (``write_documents``) keeps each time's output form by
its text and encodes every line with one encoder; ``write_profiles`` from the models does neither.
Arbitrary profiles (any text, times at any offset with or without microseconds, repeated times, the
same time written twice) must come out identical both ways, and identical to ``json.dumps``.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.schema import (
    ComputedTraits,
    ConsentValue,
    Identifier,
    Profile,
    SourceRef,
    TraitValue,
)
from profilesync.resolve import profile_line, write_documents, write_profiles
from tests.hypothesis_profiles import examples

# Text as a tool may hold it: any character but lone surrogates (no stored profile holds one:
# normalisation refuses them), quotes, backslashes, controls and line separators included.
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.builds(
    lambda base, micro, tz: base.replace(microsecond=micro).astimezone(tz),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 12, 30), timezones=st.just(UTC)),
    st.sampled_from([0, 0, 1, 456, 789000, 999999]),
    st.just(UTC) | offsets,
)


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    few = draw(st.lists(moments, min_size=1, max_size=3))  # times shared by traits, as records do
    when = st.sampled_from(few) | moments
    traits = draw(
        st.dictionaries(text, st.builds(TraitValue, value=text, source=text, updated_at=when), max_size=4)
    )
    consent = draw(
        st.dictionaries(
            text, st.builds(ConsentValue, granted=st.booleans(), changed_at=when, source=text), max_size=3
        )
    )
    money = st.dictionaries(
        st.sampled_from(["GBP", "EUR", "JPY"]),
        st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False),
        max_size=2,
    )
    computed = ComputedTraits(
        lifetime_value=draw(money),
        order_count=draw(st.integers(0, 500)),
        first_order_at=draw(st.none() | when),
        last_order_at=draw(st.none() | when),
        average_order_value=draw(money),
        segment=draw(st.sampled_from(["prospect", "customer", "repeat"])),
    )
    kinds = st.sampled_from(["email", "phone", "source"])
    return Profile(
        customer_id=draw(text),
        identifiers=tuple(draw(st.lists(st.builds(Identifier, kind=kinds, value=text), max_size=5))),
        traits=traits,
        computed=computed,
        consent=consent,
        sources=tuple(
            draw(
                st.lists(
                    st.builds(SourceRef, source=text, object_type=text, id=text, updated_at=when), max_size=3
                )
            )
        ),
        version=draw(st.integers(0, 10**6)),
    )


@settings(max_examples=examples(ci=30, deep=120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(profiles(), min_size=1, max_size=4))
def test_documents_and_models_write_the_same_bytes_as_json_dumps(batch: list[Profile]) -> None:
    # GIVEN profiles, and the JSON documents the SQLite store keeps of them
    documents = [json.loads(profile.model_dump_json()) for profile in batch]
    # WHEN written from the documents (twice: the second time every time's form is kept already)
    # and from the models
    first, second, from_models = io.StringIO(), io.StringIO(), io.StringIO()
    write_documents(iter(documents), first)
    write_documents(iter(documents), second)
    write_profiles(iter(batch), from_models)
    # THEN all three are json.dumps of profile_line, line for line, byte for byte
    expected = "".join(json.dumps(profile_line(p), ensure_ascii=False) + "\n" for p in batch)
    assert first.getvalue() == expected
    assert second.getvalue() == expected
    assert from_models.getvalue() == expected


def test_a_time_kept_for_one_offset_is_not_given_to_another() -> None:
    # GIVEN one instant written at two offsets, and a time with microseconds beside one without
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    times = [at, at.astimezone(timezone(timedelta(hours=-3))), at.replace(microsecond=10)]
    profile = Profile(
        customer_id="cus_1",
        identifiers=(Identifier(kind="email", value="ann@example.com"),),
        traits={
            f"t{n}": TraitValue(value="x", source="crm:contact:1", updated_at=t) for n, t in enumerate(times)
        },
        computed=ComputedTraits(lifetime_value={"GBP": Decimal("1.50")}),
    )
    # WHEN its document is written twice
    out = io.StringIO()
    write_documents(iter([json.loads(profile.model_dump_json())] * 2), out)
    # THEN each trait keeps its own time, in isoformat's form
    for line in out.getvalue().splitlines():
        written = [v["updated_at"] for v in json.loads(line)["provenance"].values()]
        assert written == [
            "2026-03-04T05:06:07+00:00",
            "2026-03-04T02:06:07-03:00",
            "2026-03-04T05:06:07.000010+00:00",
        ]
