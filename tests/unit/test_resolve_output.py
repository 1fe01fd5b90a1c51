"""``resolve --out`` writes the same line whether it starts from a Profile or from its JSON document."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from connectors.jsonl import draft_from_flat
from core.merge import build_profile
from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import ConsentState, Order, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.population import population
from core.testing.records import make_record
from profilesync.resolve import document_line, profile_line, write_documents, write_profiles
from profilesync.resolve_output import _isoformat
from tests.hypothesis_profiles import examples


def test_every_profile_of_a_population_gives_the_same_line_from_its_document() -> None:
    # GIVEN the profiles of 300 people (names, countries, orders in three currencies, consent)
    records = [normalise_record(draft_from_flat(flat)) for _, flat in population(300, seed=9)]
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store)
    profiles = list(store.iter_profiles())
    assert any(p.consent for p in profiles)
    assert any(p.computed.order_count for p in profiles)
    # WHEN each is written from the model and from the JSON the SQLite store keeps
    documents = [json.loads(p.model_dump_json()) for p in profiles]
    from_models, from_documents = io.StringIO(), io.StringIO()
    assert write_profiles(iter(profiles), from_models) == 300
    assert write_documents(iter(documents), from_documents) == 300
    # THEN the files are identical byte for byte
    assert from_documents.getvalue() == from_models.getvalue()


def test_times_with_fractions_and_other_offsets_are_written_as_isoformat_writes_them() -> None:
    # GIVEN times with microseconds, in UTC and at another offset
    odd = datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    record = make_record(
        "crm",
        "1",
        email="ann@example.com",
        traits={"city": "Leeds"},
        consent={"email": ConsentState(granted=True, changed_at=odd)},
        orders=[
            Order(
                id="o1", total=Decimal("19.90"), currency="GBP", created_at=datetime(2026, 1, 1, tzinfo=UTC)
            )
        ],
    )
    record = record.model_copy(update={"updated_at": datetime(2026, 1, 5, 1, 2, 3, 456, tzinfo=UTC)})
    profile = build_profile("cus_x", [record], version=3)
    # WHEN written both ways THEN the lines are equal, times included
    line = document_line(json.loads(profile.model_dump_json()))
    assert line == profile_line(profile)
    assert line["provenance"]["city"]["updated_at"] == "2026-01-05T01:02:03.000456+00:00"
    assert line["consent"]["email"]["changed_at"] == "2026-02-03T04:05:06.789000+05:30"


@settings(max_examples=examples(ci=60, deep=300), deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.timezones()
    ),
    whole=st.booleans(),
)
def test_any_time_pydantic_writes_is_written_as_isoformat_writes_it(moment: datetime, whole: bool) -> None:
    # GIVEN any aware time (whole seconds often: the text-only path), as a profile's JSON holds it
    moment = moment.replace(microsecond=0) if whole else moment
    text = TypeAdapter(datetime).dump_json(moment).decode().strip('"')
    # WHEN it is written THEN it is what parsing it and isoformat give
    assert _isoformat(text) == datetime.fromisoformat(text).isoformat()


def test_resolve_keeps_counts_not_ids_and_names_what_the_guardrails_refused() -> None:
    from profilesync.resolve import resolve

    # GIVEN three people who share a no-reply address (blocklisted) and have phones of their own
    drafts = [
        draft_from_flat(
            {
                "source": "shop",
                "id": str(n),
                "updated_at": "2026-01-01T00:00:00Z",
                "email": "noreply@shop.example.com",
                "phone": f"+4420794600{n:02d}",
            }
        )
        for n in range(3)
    ]
    store = InMemoryProfileStore()
    # WHEN they are resolved one batch at a time
    report = resolve(drafts, store, batch_size=1)
    # THEN three people, the refused address named once in the summary, and no ids kept in memory
    assert len(list(store.iter_profiles())) == 3
    assert report.guardrail_keys == {"email#noreply@shop.example.com": 3}
    assert any("guardrails" in line and "email#noreply@shop.example.com" in line for line in report.lines())
    assert report.ingest.customers == set()
    assert report.ingest.guardrail_hits == []
    assert report.ingest.new_customers == 3
