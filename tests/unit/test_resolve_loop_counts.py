"""``profilesync.resolve.resolve`` counts and stores the same whatever form its items come in.

The normalising worker (profilesync.parallel_normalise) sends each record already normalised, and
``resolve`` takes such a record by its exact type before anything else, and looks at its dropped
values only when it has some. The report (records read, normalised, quarantined with their
reasons, future-dated, values dropped by field) and the stored profiles must be those of the same
drafts normalised by ``resolve`` itself, wherever the batches end and whichever records came
normalised: the drafts are a generated population with the malformed lines ``bench.resolve_scaling``
writes, and records stamped far ahead, with bad emails beside good phones, with consent stamped
ahead, or with no identifier at all.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from connectors.jsonl.batched import BATCH_END, BatchEnd
from core.normalise import NormaliseOptions, normalise_record
from core.schema import Quarantined, RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.population import malformed, people, records_for
from profilesync.resolve import ResolveReport, resolve

OPTIONS = NormaliseOptions(now=datetime(2026, 6, 1, 12, tzinfo=UTC))


def _flats() -> list[dict[str, Any]]:
    rng = random.Random(21)
    flats = [flat for person in people(40, seed=21) for flat in records_for(person, rng)]
    flats += [malformed(rng, index) for index in range(12)]
    flats += [
        # stamped years ahead: read as now, counted as future-dated, its time dropped
        {"source": "crm", "id": "ahead", "updated_at": "2099-01-01T00:00:00Z", "email": "far@x.org"},
        # a bad email beside a good phone: kept, the email dropped
        {
            "source": "shop",
            "id": "bad-mail",
            "updated_at": "2026-05-01T00:00:00Z",
            "email": "not an email",
            "phone": "+44 20 7946 0018",
        },
        # consent stamped ahead of the read
        {
            "source": "email",
            "id": "consent-ahead",
            "updated_at": "2026-05-02T00:00:00Z",
            "email": "ahead@x.org",
            "consent": {"email": {"granted": True, "changed_at": "2099-01-01T00:00:00Z"}},
        },
        # no identifier: quarantined
        {"source": "crm", "id": "nobody", "updated_at": "2026-05-03T00:00:00Z", "email": "@"},
    ]
    return flats


DRAFTS: list[RecordDraft] = [draft_from_flat(flat) for flat in _flats()]


def _report_and_profiles(items: list[Any]) -> tuple[ResolveReport, list[str]]:
    store = InMemoryProfileStore()
    quarantined: list[Quarantined] = []
    report = resolve(items, store, options=OPTIONS, batch_size=25, quarantine=quarantined.append)
    # (the batches may found a customer under another id, and update it more times)
    profiles = sorted(p.model_dump_json(exclude={"customer_id", "version"}) for p in store.iter_profiles())
    assert len(quarantined) == report.quarantined
    return report, profiles


def _counts(report: ResolveReport) -> tuple[object, ...]:
    return (
        report.read,
        report.normalised,
        report.quarantined,
        dict(report.quarantine_reasons),
        report.future_dated,
        dict(report.dropped_values),
    )


EXPECTED = _report_and_profiles(list(DRAFTS))


def test_the_drafts_exercise_every_count() -> None:
    # GIVEN the drafts, normalised by resolve itself
    report, profiles = EXPECTED
    # THEN every count the loop keeps is at work (a test of the others would prove nothing)
    assert report.future_dated >= 1
    assert report.dropped_values["email"] >= 1
    assert report.dropped_values["updated_at"] >= 1
    assert report.quarantined >= 13
    assert report.read == len(DRAFTS) == report.normalised + report.quarantined
    assert profiles


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    normalised_first=st.lists(st.booleans(), min_size=len(DRAFTS), max_size=len(DRAFTS)),
    ends=st.sets(st.integers(0, len(DRAFTS))),
)
def test_records_normalised_elsewhere_count_alike(normalised_first: list[bool], ends: set[int]) -> None:
    # GIVEN the same drafts, some normalised before resolve sees them (as the worker sends them:
    # SourceRecord or Quarantined), with batch ends anywhere
    items: list[RecordDraft | SourceRecord | Quarantined | BatchEnd] = []
    for index, (draft, done) in enumerate(zip(DRAFTS, normalised_first, strict=True)):
        if index in ends:
            items.append(BATCH_END)
        items.append(normalise_record(draft, OPTIONS) if done else draft)
    # WHEN resolve reads them
    report, profiles = _report_and_profiles(items)
    # THEN it counts and stores what it did with every draft normalised by itself
    assert _counts(report) == _counts(EXPECTED[0])
    assert profiles == EXPECTED[1]
